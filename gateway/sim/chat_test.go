package sim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// chatOutcome is a chat completion, streamed or not, reduced to what the
// tests compare.
type chatOutcome struct {
	content  string
	isNull   bool // content was null (a tool call)
	tool     string
	toolID   string
	args     string
	finish   string
	usage    map[string]any
	chunkIDs map[string]bool
}

func chatResult(t *testing.T, res result, stream bool) chatOutcome {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var o chatOutcome
	if !stream {
		v := decodeJSON(t, res.body)
		if str(v["object"]) != "chat.completion" {
			t.Fatalf("object = %v", v["object"])
		}
		msg := path(v, "choices", 0, "message")
		o.content, o.isNull = str(path(msg, "content")), path(msg, "content") == nil
		o.tool = str(path(msg, "tool_calls", 0, "function", "name"))
		o.toolID = str(path(msg, "tool_calls", 0, "id"))
		o.args = str(path(msg, "tool_calls", 0, "function", "arguments"))
		o.finish = str(path(v, "choices", 0, "finish_reason"))
		o.usage, _ = v["usage"].(map[string]any)
		return o
	}
	evs := readEvents(t, res.body)
	if len(evs) < 3 || evs[len(evs)-1].raw != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", res.body)
	}
	o.chunkIDs = map[string]bool{}
	var content strings.Builder
	for i, e := range evs[:len(evs)-1] {
		if str(e.data["object"]) != "chat.completion.chunk" {
			t.Fatalf("event %d object = %v", i, e.data["object"])
		}
		o.chunkIDs[str(e.data["id"])] = true
		if u, ok := e.data["usage"].(map[string]any); ok {
			o.usage = u
		}
		delta := path(e.data, "choices", 0, "delta")
		if i == 0 {
			if str(path(delta, "role")) != "assistant" {
				t.Fatalf("first chunk has no assistant role: %s", e.raw)
			}
			o.isNull = path(delta, "content") == nil
		}
		content.WriteString(str(path(delta, "content")))
		if tc := path(delta, "tool_calls", 0); tc != nil {
			if name := str(path(tc, "function", "name")); name != "" {
				o.tool, o.toolID = name, str(path(tc, "id"))
			}
			o.args += str(path(tc, "function", "arguments"))
		}
		if f := str(path(e.data, "choices", 0, "finish_reason")); f != "" {
			o.finish = f
		}
	}
	o.content = content.String()
	return o
}

func TestChatCompletions(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	bashTool := `[{"type":"function","function":{"name":"bash","description":"Run a shell command","parameters":` + shellSchema + `}}]`
	prompt := func(text string) string {
		return `[{"role":"system","content":"Be brief."},{"role":"user","content":` + jsonString(text) + `}]`
	}
	for _, tc := range []struct {
		name, model, messages, tools, extra string

		content   string // exact, or a prefix when words > 0
		words     int    // expected word count of a generated answer
		tool      string
		args      string
		finish    string
		completes int // completion_tokens
		reasoning int
		cached    int
		promptLen int // bytes of prompt text, to check prompt_tokens; 0 skips
	}{
		{name: "exact text", model: "sim-small", messages: prompt(`Say hi [[sim text="Hello there, friend."]]`),
			content: "Hello there, friend.", finish: "stop", completes: 3, promptLen: len("Be brief.") + len(`Say hi [[sim text="Hello there, friend."]]`)},
		{name: "default answer", model: "sim-small", messages: prompt("What is the capital of France, and why is it Paris?"),
			content: "Simulated answer to What is the capital of France, and why:", words: 24, finish: "stop", completes: 24},
		{name: "words directive", model: "sim-large", messages: prompt("Say hi [[sim words=5]]"),
			content: "Simulated answer to Say hi.", words: 5, finish: "stop", completes: 5},
		{name: "unknown model behaves like sim-small", model: "gpt-5", messages: prompt("hello"),
			content: "Simulated answer to hello:", words: 24, finish: "stop", completes: 24},
		{name: "max tokens cuts the answer", model: "sim-small", messages: prompt("Count [[sim words=10]]"), extra: `,"max_tokens":4`,
			content: "Simulated answer to Count:", finish: "length", completes: 4},
		{name: "reasoning model", model: "sim-reasoning", messages: prompt("Think [[sim words=3]]"),
			content: "Simulated answer to.", words: 3, finish: "stop", completes: 3 + 64, reasoning: 64, cached: -1},
		{name: "reasoning and cache directives", model: "sim-small", messages: prompt("Think [[sim words=2 reasoning=7 cached=3]]"),
			content: "Simulated answer.", words: 2, finish: "stop", completes: 9, reasoning: 7, cached: 3},
		{name: "tool call", model: "sim-small", messages: prompt(`List [[sim tool=shell cmd="echo hi"]]`), tools: bashTool,
			tool: "bash", args: `{"command":"echo hi","description":"Run a command"}`, finish: "tool_calls", completes: 7},
		{name: "named tool with arguments", model: "sim-small", messages: prompt(`Go [[sim tool=bash args='{"command":"pwd"}']]`), tools: bashTool,
			tool: "bash", args: `{"command":"pwd"}`, finish: "tool_calls", completes: 3},
		{name: "tool result", model: "sim-small", tools: bashTool,
			messages: `[{"role":"user","content":"List [[sim tool=shell cmd=ls]]"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"bash","arguments":"{\"command\":\"ls\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"a.txt\nb.txt"}]`,
			content:  "Tool result: a.txt\nb.txt", finish: "stop", completes: 4},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				t.Parallel()
				body := `{"model":"` + tc.model + `","messages":` + tc.messages + tc.extra
				if tc.tools != "" {
					body += `,"tools":` + tc.tools
				}
				if stream {
					body += `,"stream":true,"stream_options":{"include_usage":true}`
				}
				o := chatResult(t, post(t, ts, "/v1/chat/completions", body+"}"), stream)
				switch {
				case tc.tool != "":
					if !o.isNull || o.content != "" {
						t.Errorf("content = %q (null %v), want null for a tool call", o.content, o.isNull)
					}
					if o.tool != tc.tool || o.args != tc.args {
						t.Errorf("tool call %s(%s), want %s(%s)", o.tool, o.args, tc.tool, tc.args)
					}
					if !strings.HasPrefix(o.toolID, "call_") || len(o.toolID) != 29 {
						t.Errorf("tool call id %q is not call_ and 24 characters", o.toolID)
					}
				case tc.words > 0:
					if !strings.HasPrefix(o.content, strings.TrimSuffix(tc.content, ".")) || len(strings.Fields(o.content)) != tc.words || !strings.HasSuffix(o.content, ".") {
						t.Errorf("content = %q, want %d words starting %q and ending with a full stop", o.content, tc.words, tc.content)
					}
				default:
					if o.content != tc.content {
						t.Errorf("content = %q, want %q", o.content, tc.content)
					}
				}
				if o.finish != tc.finish {
					t.Errorf("finish_reason = %q, want %q", o.finish, tc.finish)
				}
				if got := num(o.usage["completion_tokens"]); got != tc.completes {
					t.Errorf("completion_tokens = %d, want %d", got, tc.completes)
				}
				if got := num(path(o.usage, "completion_tokens_details", "reasoning_tokens")); got != tc.reasoning {
					t.Errorf("reasoning_tokens = %d, want %d", got, tc.reasoning)
				}
				in := num(o.usage["prompt_tokens"])
				if tc.promptLen > 0 && in != (tc.promptLen+3)/4 {
					t.Errorf("prompt_tokens = %d, want ceil(%d/4)", in, tc.promptLen)
				}
				wantCached := tc.cached
				if wantCached < 0 {
					wantCached = in / 2
				}
				if got := num(path(o.usage, "prompt_tokens_details", "cached_tokens")); got != wantCached {
					t.Errorf("cached_tokens = %d, want %d", got, wantCached)
				}
				if num(o.usage["total_tokens"]) != in+tc.completes {
					t.Errorf("total_tokens = %v, want %d", o.usage["total_tokens"], in+tc.completes)
				}
				if stream && len(o.chunkIDs) != 1 {
					t.Errorf("chunks carry %d ids, want 1", len(o.chunkIDs))
				}
			})
		}
	}
}

func TestChatStreamShape(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		name, extra string
		usage       bool
	}{
		{"without usage", ``, false},
		{"with include_usage", `,"stream_options":{"include_usage":true}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := post(t, ts, "/v1/chat/completions", `{"model":"sim-small","stream":true,"messages":[{"role":"user","content":"hi [[sim words=3]]"}]`+tc.extra+`}`)
			if ct := res.header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			evs := readEvents(t, res.body)
			// role, 3 words, finish, [usage], [DONE]
			want := 6
			if tc.usage {
				want = 7
			}
			if len(evs) != want {
				t.Fatalf("%d events, want %d:\n%s", len(evs), want, res.body)
			}
			for i, e := range evs[:len(evs)-1] {
				_, has := e.data["usage"]
				if has != tc.usage {
					t.Errorf("event %d has usage member: %v, want %v", i, has, tc.usage)
				}
			}
			if tc.usage {
				u := evs[len(evs)-2]
				if n := len(path(u.data, "choices").([]any)); n != 0 || u.data["usage"] == nil {
					t.Errorf("usage chunk has %d choices and usage %v; want none and usage", n, u.data["usage"])
				}
			}
			if e := evs[len(evs)-1]; e.raw != "[DONE]" || e.name != "" {
				t.Errorf("last event %q %q, want data: [DONE]", e.name, e.raw)
			}
		})
	}
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string { return string(appendString(nil, s)) }
