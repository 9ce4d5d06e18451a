package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// geminiOutcome is a Gemini answer, streamed or not, reduced to what the
// tests compare.
type geminiOutcome struct {
	text, thought string
	calls         []any
	finish        string
	usage         map[string]any
}

func geminiResult(t *testing.T, res result, stream bool) geminiOutcome {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var chunks []map[string]any
	if stream {
		if !bytes.HasSuffix(res.body, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(res.body, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("events are not separated by CRLF CRLF as Google's are:\n%q", res.body)
		}
		ids := map[string]bool{}
		for _, e := range readEvents(t, res.body) {
			if e.name != "" {
				t.Errorf("event has a name %q; Gemini's have none", e.name)
			}
			chunks = append(chunks, e.data)
			ids[str(e.data["responseId"])] = true
		}
		if len(ids) != 1 {
			t.Errorf("chunks carry %d response ids, want 1", len(ids))
		}
	} else {
		chunks = append(chunks, decodeJSON(t, res.body))
	}
	var o geminiOutcome
	for i, c := range chunks {
		cand := path(c, "candidates", 0)
		if str(path(cand, "content", "role")) != "model" {
			t.Fatalf("chunk %d role %v", i, path(cand, "content", "role"))
		}
		for _, p := range path(cand, "content", "parts").([]any) {
			switch {
			case path(p, "functionCall") != nil:
				o.calls = append(o.calls, path(p, "functionCall"))
			case path(p, "thought") == true:
				o.thought += str(path(p, "text"))
			default:
				o.text += str(path(p, "text"))
			}
		}
		if f := str(path(cand, "finishReason")); f != "" {
			if i != len(chunks)-1 {
				t.Errorf("chunk %d of %d has finishReason %s", i, len(chunks), f)
			}
			o.finish = f
		}
		o.usage, _ = c["usageMetadata"].(map[string]any)
		if str(c["modelVersion"]) == "" || str(c["responseId"]) == "" {
			t.Errorf("chunk %d lacks modelVersion or responseId", i)
		}
	}
	return o
}

func TestGemini(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	shell := `[{"functionDeclarations":[{"name":"run_shell_command","description":"Run a command","parameters":` + string(readTestdata(t, "tools/gemini_run_shell_command.json")) + `}]}]`
	user := func(text string) string { return `[{"role":"user","parts":[{"text":` + jsonString(text) + `}]}]` }
	for _, tc := range []struct {
		name, model, contents, extra string

		text      string
		words     int
		thought   int // words of thought
		calls     []any
		finish    string
		output    int // candidatesTokenCount
		thoughts  int
		cached    int
		promptLen int
	}{
		{name: "exact text with system instruction", model: "sim-small", contents: user(`Hi [[sim text="Hello from Gemini."]]`),
			extra: `,"systemInstruction":{"parts":[{"text":"Be kind."}]}`, text: "Hello from Gemini.", finish: "STOP", output: 3,
			promptLen: len("Be kind.") + len(`Hi [[sim text="Hello from Gemini."]]`)},
		{name: "snake case fields", model: "sim-small", contents: user(`Hi [[sim words=8]]`),
			extra: `,"system_instruction":{"parts":[{"text":"Be kind."}]},"generation_config":{"maxOutputTokens":2}`, text: "Simulated answer", finish: "MAX_TOKENS", output: 2,
			promptLen: len("Be kind.") + len(`Hi [[sim words=8]]`)},
		{name: "default answer", model: "gemini-2.5-flash", contents: user("Describe a river"), words: 24, finish: "STOP", output: 24},
		{name: "thoughts", model: "sim-reasoning", contents: user("Solve [[sim words=4 reasoning=3]]"),
			extra: `,"generationConfig":{"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}}`,
			words: 4, thought: 3, finish: "STOP", output: 4, thoughts: 3, cached: -1},
		{name: "hidden thoughts", model: "sim-reasoning", contents: user("Solve [[sim words=4]]"),
			words: 4, finish: "STOP", output: 4, thoughts: 64, cached: -1},
		{name: "function call", model: "sim-small", contents: user(`Run [[sim tool=shell cmd="ls -la"]]`), extra: `,"tools":` + shell,
			calls: []any{map[string]any{"name": "run_shell_command", "args": map[string]any{"command": "ls -la"}}}, finish: "STOP", output: 3},
		{name: "function response", model: "sim-small", extra: `,"tools":` + shell,
			contents: `[{"role":"user","parts":[{"text":"Run [[sim tool=shell cmd=ls]]"}]},{"role":"model","parts":[{"functionCall":{"name":"run_shell_command","args":{"command":"ls"}}}]},
				{"role":"user","parts":[{"functionResponse":{"name":"run_shell_command","response":{"output":"main.go"}}}]}]`,
			text: "Tool result: main.go", finish: "STOP", output: 3},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				t.Parallel()
				url := "/v1beta/models/" + tc.model + ":generateContent"
				if stream {
					url = "/v1beta/models/" + tc.model + ":streamGenerateContent?alt=sse"
				}
				res := post(t, ts, url, `{"contents":`+tc.contents+tc.extra+`}`)
				o := geminiResult(t, res, stream)
				switch {
				case tc.calls != nil:
					if !reflect.DeepEqual(o.calls, tc.calls) {
						t.Errorf("function calls %v, want %v", o.calls, tc.calls)
					}
				case tc.text != "":
					if o.text != tc.text {
						t.Errorf("text %q, want %q", o.text, tc.text)
					}
				default:
					if n := len(strings.Fields(o.text)); n != tc.words {
						t.Errorf("text %q has %d words, want %d", o.text, n, tc.words)
					}
				}
				if n := len(strings.Fields(o.thought)); n != tc.thought {
					t.Errorf("thought %q has %d words, want %d", o.thought, n, tc.thought)
				}
				if o.finish != tc.finish {
					t.Errorf("finishReason %q, want %q", o.finish, tc.finish)
				}
				u := o.usage
				in := num(u["promptTokenCount"])
				if got := num(u["candidatesTokenCount"]); got != tc.output {
					t.Errorf("candidatesTokenCount %d, want %d", got, tc.output)
				}
				if got := num(u["thoughtsTokenCount"]); got != tc.thoughts {
					t.Errorf("thoughtsTokenCount %d, want %d", got, tc.thoughts)
				}
				if got := num(u["totalTokenCount"]); got != in+tc.output+tc.thoughts {
					t.Errorf("totalTokenCount %d, want %d", got, in+tc.output+tc.thoughts)
				}
				if tc.promptLen > 0 && in != (tc.promptLen+3)/4 {
					t.Errorf("promptTokenCount %d, want ceil(%d/4)", in, tc.promptLen)
				}
				if want := tc.cached; want < 0 && num(u["cachedContentTokenCount"]) != in/2 || want >= 0 && num(u["cachedContentTokenCount"]) != want {
					t.Errorf("cachedContentTokenCount %v of %d", u["cachedContentTokenCount"], in)
				}
			})
		}
	}
}

// Without alt=sse, streamGenerateContent answers a JSON array of
// responses, as Google does.
func TestGeminiStreamWithoutSSEIsAJSONArray(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	res := post(t, ts, "/v1beta/models/sim-small:streamGenerateContent", `{"contents":[{"parts":[{"text":"hi [[sim words=3]]"}]}]}`)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var chunks []map[string]any
	if err := json.Unmarshal(res.body, &chunks); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, res.body)
	}
	if len(chunks) != 3 {
		t.Fatalf("%d chunks, want one a word", len(chunks))
	}
	if f := path(chunks[2], "candidates", 0, "finishReason"); f != "STOP" {
		t.Errorf("last chunk finishReason %v", f)
	}
}
