package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// messagesResult returns the message of an answer: the body, or for a
// stream the message the events build, as the SDKs accumulate it. It
// checks the stream's event order on the way.
func messagesResult(t *testing.T, res result, stream bool) map[string]any {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	if !stream {
		return decodeJSON(t, res.body)
	}
	evs := readEvents(t, res.body)
	if len(evs) < 4 || evs[0].name != "message_start" || evs[len(evs)-2].name != "message_delta" || evs[len(evs)-1].name != "message_stop" {
		t.Fatalf("event order %v", names(evs))
	}
	msg := evs[0].data["message"].(map[string]any)
	var blocks []map[string]any
	var partial []strings.Builder
	open := -1
	for i, e := range evs {
		if e.name != str(e.data["type"]) {
			t.Fatalf("event %d is named %q but its type is %q", i, e.name, e.data["type"])
		}
		idx := num(e.data["index"])
		switch e.name {
		case "content_block_start":
			if open >= 0 || idx != len(blocks) {
				t.Fatalf("block %d starts while %d is open or out of order", idx, open)
			}
			open = idx
			blocks = append(blocks, e.data["content_block"].(map[string]any))
			partial = append(partial, strings.Builder{})
		case "content_block_delta":
			if idx != open {
				t.Fatalf("delta for block %d while %d is open", idx, open)
			}
			b := blocks[idx]
			switch d := e.data["delta"].(map[string]any); str(d["type"]) {
			case "text_delta":
				b["text"] = str(b["text"]) + str(d["text"])
			case "thinking_delta":
				b["thinking"] = str(b["thinking"]) + str(d["thinking"])
			case "signature_delta":
				b["signature"] = str(d["signature"])
			case "input_json_delta":
				partial[idx].WriteString(str(d["partial_json"]))
			default:
				t.Fatalf("unknown delta %v", d)
			}
		case "content_block_stop":
			if idx != open {
				t.Fatalf("stop for block %d while %d is open", idx, open)
			}
			if b := blocks[idx]; str(b["type"]) == "tool_use" {
				var input any
				if err := json.Unmarshal([]byte(partial[idx].String()), &input); err != nil {
					t.Fatalf("tool input %q: %v", partial[idx].String(), err)
				}
				b["input"] = input
			}
			open = -1
		case "message_delta":
			msg["stop_reason"] = path(e.data, "delta", "stop_reason")
			u := msg["usage"].(map[string]any)
			for k, v := range e.data["usage"].(map[string]any) {
				u[k] = v
			}
		case "ping", "message_start", "message_stop":
		default:
			t.Fatalf("unknown event %q", e.name)
		}
	}
	list := make([]any, len(blocks))
	for i, b := range blocks {
		list[i] = b
	}
	msg["content"] = list
	return msg
}

func TestMessages(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	bash := `[{"name":"Bash","description":"Run a command","input_schema":` + string(readTestdata(t, "tools/claude_code_bash.json")) + `}]`
	user := func(text string) string { return `[{"role":"user","content":` + jsonString(text) + `}]` }
	for _, tc := range []struct {
		name, model, messages, extra, query string

		blocks    []string
		text      string // exact text of the text block; "" skips
		words     int
		input     any
		stop      string
		output    int
		cached    int // -1: half the input
		promptLen int
	}{
		{name: "exact text with system", model: "sim-small", messages: user(`Hi [[sim text="Hello, human."]]`), extra: `,"system":"Be kind."`,
			blocks: []string{"text"}, text: "Hello, human.", stop: "end_turn", output: 2, promptLen: len("Be kind.") + len(`Hi [[sim text="Hello, human."]]`)},
		{name: "system blocks and beta query", model: "sim-small", messages: user(`Hi [[sim text="Yes."]]`), query: "?beta=true",
			extra:  `,"system":[{"type":"text","text":"Be kind.","cache_control":{"type":"ephemeral"}}]`,
			blocks: []string{"text"}, text: "Yes.", stop: "end_turn", output: 1, promptLen: len("Be kind.") + len(`Hi [[sim text="Yes."]]`)},
		{name: "default answer", model: "sim-large", messages: user("Tell me about the sea"),
			blocks: []string{"text"}, words: 24, stop: "end_turn", output: 24},
		{name: "thinking", model: "sim-reasoning", messages: user("Solve [[sim words=4 reasoning=3]]"), extra: `,"thinking":{"type":"enabled","budget_tokens":2048}`,
			blocks: []string{"thinking", "text"}, words: 4, stop: "end_turn", output: 7, cached: -1},
		{name: "adaptive thinking", model: "sim-reasoning", messages: user("Solve [[sim words=4 reasoning=3]]"), extra: `,"thinking":{"type":"adaptive"}`,
			blocks: []string{"thinking", "text"}, words: 4, stop: "end_turn", output: 7, cached: -1},
		{name: "reasoning without thinking", model: "sim-reasoning", messages: user("Solve [[sim words=4]]"),
			blocks: []string{"text"}, words: 4, stop: "end_turn", output: 4 + 64, cached: -1},
		{name: "tool use", model: "sim-small", messages: user(`Run [[sim tool=shell cmd="echo hi"]]`), extra: `,"tools":` + bash,
			blocks: []string{"tool_use"}, input: map[string]any{"command": "echo hi"}, stop: "tool_use", output: 3},
		{name: "tool result", model: "sim-small", extra: `,"tools":` + bash,
			messages: `[{"role":"user","content":[{"type":"text","text":"Run [[sim tool=shell cmd=\"echo hi\"]]"}]},
				{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"echo hi"}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"hi"}]}]`,
			blocks: []string{"text"}, text: "Tool result: hi", stop: "end_turn", output: 3},
		{name: "tool result in blocks", model: "sim-small", extra: `,"tools":` + bash,
			messages: `[{"role":"user","content":"Run [[sim tool=shell cmd=ls]]"},
				{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"go.mod"}]}]}]`,
			blocks: []string{"text"}, text: "Tool result: go.mod", stop: "end_turn", output: 3},
		{name: "max tokens", model: "sim-small", messages: user("Count [[sim words=9]]"), extra: `,"max_tokens":2`,
			blocks: []string{"text"}, text: "Simulated answer", stop: "max_tokens", output: 2},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				t.Parallel()
				body := `{"model":"` + tc.model + `","messages":` + tc.messages + tc.extra
				if !strings.Contains(tc.extra, "max_tokens") {
					body += `,"max_tokens":1024`
				}
				if stream {
					body += `,"stream":true`
				}
				res := post(t, ts, "/v1/messages"+tc.query, body+"}", "anthropic-version: 2023-06-01")
				if !strings.HasPrefix(res.header.Get("Request-Id"), "req_01") {
					t.Errorf("request-id header %q", res.header.Get("Request-Id"))
				}
				msg := messagesResult(t, res, stream)
				if str(msg["type"]) != "message" || str(msg["role"]) != "assistant" || !strings.HasPrefix(str(msg["id"]), "msg_01") || str(msg["model"]) != tc.model {
					t.Errorf("message head %v %v %v %v", msg["type"], msg["role"], msg["id"], msg["model"])
				}
				content := msg["content"].([]any)
				var types []string
				for _, b := range content {
					types = append(types, str(path(b, "type")))
				}
				if !reflect.DeepEqual(types, tc.blocks) {
					t.Fatalf("blocks %v, want %v", types, tc.blocks)
				}
				last := content[len(content)-1].(map[string]any)
				switch {
				case tc.input != nil:
					if !reflect.DeepEqual(last["input"], tc.input) || str(last["name"]) != "Bash" || !strings.HasPrefix(str(last["id"]), "toolu_01") {
						t.Errorf("tool_use %v", last)
					}
				case tc.text != "":
					if str(last["text"]) != tc.text {
						t.Errorf("text %q, want %q", last["text"], tc.text)
					}
				case tc.words > 0:
					if n := len(strings.Fields(str(last["text"]))); n != tc.words {
						t.Errorf("text %q has %d words, want %d", last["text"], n, tc.words)
					}
				}
				if tc.blocks[0] == "thinking" {
					th := content[0].(map[string]any)
					if n := len(strings.Fields(str(th["thinking"]))); n != 3 || str(th["signature"]) == "" {
						t.Errorf("thinking block %v: want 3 words and a signature", th)
					}
				}
				if got := str(msg["stop_reason"]); got != tc.stop {
					t.Errorf("stop_reason %q, want %q", got, tc.stop)
				}
				if msg["stop_sequence"] != nil {
					t.Errorf("stop_sequence %v, want null", msg["stop_sequence"])
				}
				u := msg["usage"].(map[string]any)
				if got := num(u["output_tokens"]); got != tc.output {
					t.Errorf("output_tokens %d, want %d", got, tc.output)
				}
				in, cached := num(u["input_tokens"]), num(u["cache_read_input_tokens"])
				total := in + cached
				if tc.promptLen > 0 && total != (tc.promptLen+3)/4 {
					t.Errorf("input %d + cache read %d, want ceil(%d/4)", in, cached, tc.promptLen)
				}
				if want := tc.cached; want >= 0 && cached != want || want < 0 && cached != total/2 {
					t.Errorf("cache_read_input_tokens %d of %d", cached, total)
				}
			})
		}
	}
}

func TestMessagesStreamPingAndStartUsage(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	res := post(t, ts, "/v1/messages", `{"model":"sim-small","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi [[sim words=2]]"}]}`)
	evs := readEvents(t, res.body)
	want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
	if got := names(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if got := num(path(evs[0].data, "message", "usage", "output_tokens")); got != 1 {
		t.Errorf("message_start output_tokens %d, want 1 as the API sends", got)
	}
	if got := num(path(evs[6].data, "usage", "output_tokens")); got != 2 {
		t.Errorf("message_delta output_tokens %d, want the cumulative 2", got)
	}
}

func TestMessagesCountTokens(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	body := `{"model":"sim-small","system":"abcd","messages":[{"role":"user","content":"efghijkl"}]}`
	res := post(t, ts, "/v1/messages/count_tokens?beta=true", body)
	if res.status != http.StatusOK || string(res.body) != `{"input_tokens":3}` {
		t.Fatalf("%d %s, want 200 {\"input_tokens\":3}", res.status, res.body)
	}
}
