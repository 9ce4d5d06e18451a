package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// responsesOutcome is a Responses answer, streamed or not, reduced to what
// the tests compare.
type responsesOutcome struct {
	resp  map[string]any // the final response object
	text  string         // output text (from the deltas when streamed)
	types []string       // output item types
	args  string         // function call arguments or custom tool input (from the deltas when streamed)
	sum   string         // reasoning summary (from the deltas when streamed)
}

func responsesResult(t *testing.T, res result, stream bool) responsesOutcome {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var o responsesOutcome
	if !stream {
		o.resp = decodeJSON(t, res.body)
	} else {
		evs := readEvents(t, res.body)
		var text, args, sum strings.Builder
		for i, e := range evs {
			if e.name != str(e.data["type"]) {
				t.Fatalf("event %d is named %q but its type is %q", i, e.name, e.data["type"])
			}
			if got := num(e.data["sequence_number"]); got != i {
				t.Fatalf("event %d (%s) has sequence_number %d", i, e.name, got)
			}
			switch e.name {
			case "response.output_text.delta":
				text.WriteString(str(e.data["delta"]))
			case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
				args.WriteString(str(e.data["delta"]))
			case "response.reasoning_summary_text.delta":
				sum.WriteString(str(e.data["delta"]))
			}
		}
		if len(evs) < 3 || evs[0].name != "response.created" || evs[1].name != "response.in_progress" {
			t.Fatalf("stream does not start with response.created, response.in_progress: %v", names(evs))
		}
		for _, e := range evs[:2] {
			if s := str(path(e.data, "response", "status")); s != "in_progress" {
				t.Errorf("%s status %q", e.name, s)
			}
		}
		last := evs[len(evs)-1]
		if last.name != "response.completed" && last.name != "response.incomplete" {
			t.Fatalf("stream ends with %s", last.name)
		}
		o.resp = last.data["response"].(map[string]any)
		o.text, o.args, o.sum = text.String(), args.String(), sum.String()
	}
	if str(o.resp["object"]) != "response" || !strings.HasPrefix(str(o.resp["id"]), "resp_") {
		t.Fatalf("not a response object: %v", o.resp)
	}
	out, _ := o.resp["output"].([]any)
	var text strings.Builder
	for _, it := range out {
		o.types = append(o.types, str(path(it, "type")))
		if str(path(it, "type")) == "message" {
			text.WriteString(str(path(it, "content", 0, "text")))
		}
	}
	if stream && text.String() != o.text {
		t.Errorf("deltas make %q but the final response says %q", o.text, text.String())
	}
	o.text = text.String()
	return o
}

func TestResponses(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	codexShell := `[{"type":"function","name":"shell","description":"Runs a shell command","strict":false,"parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}},"workdir":{"type":"string"},"timeout_ms":{"type":"number"}},"required":["command"],"additionalProperties":false}}]`
	userMsg := func(text string) string {
		return `[{"type":"message","role":"user","content":[{"type":"input_text","text":` + jsonString(text) + `}]}]`
	}
	for _, tc := range []struct {
		name, model, input, extra string

		status    string
		types     []string
		text      string // exact; "" skips
		words     int    // word count of a generated text
		item      map[string]any
		args      string
		summary   string
		output    int
		reasoning int
		cached    int
		promptLen int
	}{
		{name: "string input with instructions", model: "sim-small", input: `"Say hi [[sim text=\"Hi, you.\"]]"`, extra: `,"instructions":"Be brief."`,
			status: "completed", types: []string{"message"}, text: "Hi, you.", output: 2, promptLen: len("Be brief.") + len(`Say hi [[sim text="Hi, you."]]`)},
		{name: "default answer", model: "sim-small", input: userMsg("Explain the weather today"),
			status: "completed", types: []string{"message"}, words: 24, output: 24},
		{name: "reasoning with summary", model: "sim-reasoning", input: userMsg("Plan [[sim words=3 reasoning=4]]"),
			extra:  `,"reasoning":{"effort":"medium","summary":"auto"},"include":["reasoning.encrypted_content"]`,
			status: "completed", types: []string{"reasoning", "message"}, words: 3, summary: "Thinking about Plan: ",
			output: 7, reasoning: 4, cached: -1},
		{name: "reasoning without summary", model: "sim-reasoning", input: userMsg("Plan [[sim words=3 reasoning=4]]"),
			extra:  `,"reasoning":{"effort":"low"}`,
			status: "completed", types: []string{"reasoning", "message"}, words: 3, output: 7, reasoning: 4, cached: -1},
		{name: "reasoning model without reasoning param", model: "sim-reasoning", input: userMsg("Plan [[sim words=3]]"),
			status: "completed", types: []string{"message"}, words: 3, output: 3 + 64, reasoning: 64, cached: -1},
		{name: "function call", model: "sim-small", input: userMsg(`Go [[sim tool=shell cmd="ls -la"]]`), extra: `,"tools":` + codexShell,
			status: "completed", types: []string{"function_call"}, args: `{"command":["bash","-lc","ls -la"]}`,
			item: map[string]any{"type": "function_call", "status": "completed", "name": "shell", "arguments": `{"command":["bash","-lc","ls -la"]}`}, output: 5},
		{name: "custom tool call", model: "sim-small", input: userMsg(`Go [[sim tool=shell cmd="ls -la"]]`),
			extra:  `,"tools":[{"type":"custom","name":"exec_command","description":"Run a command"}]`,
			status: "completed", types: []string{"custom_tool_call"}, args: "ls -la",
			item: map[string]any{"type": "custom_tool_call", "status": "completed", "name": "exec_command", "input": "ls -la"}, output: 1},
		{name: "local shell call", model: "sim-small", input: userMsg(`Go [[sim tool=shell cmd="ls -la"]]`), extra: `,"tools":[{"type":"local_shell"}]`,
			status: "completed", types: []string{"local_shell_call"},
			item: map[string]any{"type": "local_shell_call", "status": "completed",
				"action": map[string]any{"type": "exec", "command": []any{"bash", "-lc", "ls -la"}, "env": map[string]any{}, "timeout_ms": nil, "user": nil, "working_directory": nil}},
			output: 3},
		{name: "tool result", model: "sim-small", extra: `,"tools":` + codexShell,
			input:  `[{"type":"message","role":"user","content":[{"type":"input_text","text":"Go [[sim tool=shell cmd=ls]]"}]},{"type":"function_call","call_id":"call_1","name":"shell","arguments":"{\"command\":[\"ls\"]}"},{"type":"function_call_output","call_id":"call_1","output":"README.md"}]`,
			status: "completed", types: []string{"message"}, text: "Tool result: README.md", output: 3},
		{name: "max output tokens", model: "sim-small", input: userMsg("Count [[sim words=10]]"), extra: `,"max_output_tokens":3`,
			status: "incomplete", types: []string{"message"}, text: "Simulated answer to", output: 3},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				t.Parallel()
				body := `{"model":"` + tc.model + `","input":` + tc.input + tc.extra
				if stream {
					body += `,"stream":true`
				}
				o := responsesResult(t, post(t, ts, "/v1/responses", body+"}"), stream)
				if got := str(o.resp["status"]); got != tc.status {
					t.Errorf("status = %q, want %q", got, tc.status)
				}
				if !reflect.DeepEqual(o.types, tc.types) {
					t.Errorf("output items %v, want %v", o.types, tc.types)
				}
				if tc.text != "" && o.text != tc.text {
					t.Errorf("text = %q, want %q", o.text, tc.text)
				}
				if tc.words > 0 && len(strings.Fields(o.text)) != tc.words {
					t.Errorf("text %q has %d words, want %d", o.text, len(strings.Fields(o.text)), tc.words)
				}
				if tc.item != nil {
					it := path(o.resp, "output", 0).(map[string]any)
					for k, want := range tc.item {
						if !reflect.DeepEqual(it[k], want) {
							t.Errorf("item %s = %#v, want %#v", k, it[k], want)
						}
					}
					if !strings.HasPrefix(str(it["call_id"]), "call_") {
						t.Errorf("call_id = %v", it["call_id"])
					}
					if stream && tc.args != "" && o.args != tc.args {
						t.Errorf("streamed arguments %q, want %q", o.args, tc.args)
					}
				}
				if len(tc.types) > 0 && tc.types[0] == "reasoning" {
					rs := path(o.resp, "output", 0).(map[string]any)
					gotSum := str(path(rs, "summary", 0, "text"))
					switch {
					case tc.summary == "" && gotSum != "":
						t.Errorf("summary %q, want none", gotSum)
					case tc.summary != "" && !strings.HasPrefix(gotSum, tc.summary):
						t.Errorf("summary %q, want it to start %q", gotSum, tc.summary)
					case stream && o.sum != gotSum:
						t.Errorf("streamed summary %q, final %q", o.sum, gotSum)
					}
					_, hasEnc := rs["encrypted_content"]
					if want := strings.Contains(tc.extra, "encrypted_content"); hasEnc != want {
						t.Errorf("encrypted_content present %v, want %v", hasEnc, want)
					}
				}
				u := o.resp["usage"]
				in := num(path(u, "input_tokens"))
				if got := num(path(u, "output_tokens")); got != tc.output {
					t.Errorf("output_tokens = %d, want %d", got, tc.output)
				}
				if got := num(path(u, "output_tokens_details", "reasoning_tokens")); got != tc.reasoning {
					t.Errorf("reasoning_tokens = %d, want %d", got, tc.reasoning)
				}
				if tc.promptLen > 0 && in != (tc.promptLen+3)/4 {
					t.Errorf("input_tokens = %d, want ceil(%d/4)", in, tc.promptLen)
				}
				wantCached := tc.cached
				if wantCached < 0 {
					wantCached = in / 2
				}
				if got := num(path(u, "input_tokens_details", "cached_tokens")); got != wantCached {
					t.Errorf("cached_tokens = %d, want %d", got, wantCached)
				}
				if got := num(path(u, "total_tokens")); got != in+tc.output {
					t.Errorf("total_tokens = %d, want %d", got, in+tc.output)
				}
			})
		}
	}
}

func TestResponsesEchoesRequest(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	tools := `[{"type":"function","name":"f","parameters":{"type":"object","properties":{}}}]`
	res := post(t, ts, "/v1/responses", `{"model":"sim-small","input":"hi","instructions":"Be nice.","store":false,"parallel_tool_calls":false,
		"tools": `+tools+`,"tool_choice":"required","temperature":0.2,"max_output_tokens":500,"metadata":{"k":"v"},"prompt_cache_key":"pck"}`)
	v := decodeJSON(t, res.body)
	var wantTools any
	if err := json.Unmarshal([]byte(tools), &wantTools); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"instructions": "Be nice.", "store": false, "parallel_tool_calls": false, "tool_choice": "required",
		"temperature": 0.2, "max_output_tokens": 500.0, "metadata": map[string]any{"k": "v"}, "tools": wantTools,
		"prompt_cache_key": "pck", "top_p": 1.0, "previous_response_id": nil, "error": nil,
	} {
		if !reflect.DeepEqual(v[k], want) {
			t.Errorf("%s = %#v, want %#v", k, v[k], want)
		}
	}
}
