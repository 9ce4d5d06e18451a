package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

func TestRegistered(t *testing.T) {
	in, ok := wire.InboundFor(llm.APIOpenAIResponses)
	if _, isCodec := in.(Codec); !ok || !isCodec {
		t.Fatalf("inbound codec for %s = %T, %v", llm.APIOpenAIResponses, in, ok)
	}
	out, ok := wire.OutboundFor(llm.APIOpenAIResponses)
	if _, isCodec := out.(Codec); !ok || !isCodec {
		t.Fatalf("outbound codec for %s = %T, %v", llm.APIOpenAIResponses, out, ok)
	}
}

func TestPeek(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       wire.Peek
		wantParam  string // "" when no error is expected
	}{
		{"codex", `{"model":"gpt-5.1-codex","instructions":"x","input":[],"tools":[{"type":"function"}],"stream":true,"store":false}`,
			wire.Peek{Model: "gpt-5.1-codex", Stream: true, HasTools: true}, ""},
		{"no stream, empty tools, user", `{"tools":[ ],"model":"m","user":"u1","stream":false}`,
			wire.Peek{Model: "m", User: "u1"}, ""},
		{"safety_identifier as user", `{"model":"m","safety_identifier":"s1"}`, wire.Peek{Model: "m", User: "s1"}, ""},
		{"user wins over safety_identifier", `{"model":"m","safety_identifier":"s1","user":"u1"}`, wire.Peek{Model: "m", User: "u1"}, ""},
		{"escaped model", `{"model":"gpt-\u0035"}`, wire.Peek{Model: "gpt-5"}, ""},
		{"missing model", `{"input":"hi"}`, wire.Peek{}, "model"},
		{"model not a string", `{"model":5}`, wire.Peek{}, "model"},
		{"stream not a boolean", `{"model":"m","stream":"yes"}`, wire.Peek{}, "stream"},
		{"not JSON", `{"model":`, wire.Peek{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Codec{}.Peek([]byte(tc.body))
			wantErr := tc.wantParam != "" || tc.name == "not JSON"
			if wantErr {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || le.Param != tc.wantParam {
					t.Fatalf("err = %#v, want invalid_request on %q", err, tc.wantParam)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Peek = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, param, says string
	}{
		{"not an object", `[1]`, "", "not a valid JSON object"},
		{"no model", `{"input":"hi"}`, "model", "required"},
		{"model number", `{"model":1,"input":"hi"}`, "model", "expected a string"},
		{"no input", `{"model":"m"}`, "input", "required"},
		{"input number", `{"model":"m","input":3}`, "input", "string or an array"},
		{"only developer input", `{"model":"m","input":[{"role":"developer","content":"be brief"}]}`, "input", "at least one user message"},
		{"previous_response_id", `{"model":"m","input":"hi","previous_response_id":"resp_1"}`, "previous_response_id", "store=false"},
		{"conversation", `{"model":"m","input":"hi","conversation":"conv_1"}`, "conversation", "whole conversation"},
		{"prompt template", `{"model":"m","input":"hi","prompt":{"id":"pmpt_1"}}`, "prompt", "not supported"},
		{"background", `{"model":"m","input":"hi","background":true}`, "background", "background=false"},
		{"stream string", `{"model":"m","input":"hi","stream":"yes"}`, "stream", "true or false"},
		{"max_output_tokens zero", `{"model":"m","input":"hi","max_output_tokens":0}`, "max_output_tokens", "positive integer"},
		{"max_output_tokens float", `{"model":"m","input":"hi","max_output_tokens":1.5}`, "max_output_tokens", "positive integer"},
		{"temperature high", `{"model":"m","input":"hi","temperature":2.5}`, "temperature", "from 0 to 2"},
		{"top_p string", `{"model":"m","input":"hi","top_p":"1"}`, "top_p", "expected a number"},
		{"reasoning array", `{"model":"m","input":"hi","reasoning":[]}`, "reasoning", "expected an object"},
		{"reasoning effort number", `{"model":"m","input":"hi","reasoning":{"effort":3}}`, "reasoning.effort", "expected a string"},
		{"text format type", `{"model":"m","input":"hi","text":{"format":{"type":"xml"}}}`, "text.format.type", "json_schema"},
		{"json_schema without schema", `{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}`, "text.format.schema", "required"},
		{"tools object", `{"model":"m","input":"hi","tools":{}}`, "tools", "expected an array"},
		{"web_search tool", `{"model":"m","input":"hi","tools":[{"type":"function","name":"a"},{"type":"web_search"}]}`, "tools[1].type", `"web_search"`},
		{"local_shell tool", `{"model":"m","input":"hi","tools":[{"type":"local_shell"}]}`, "tools[0].type", `"local_shell"`},
		{"tool without type", `{"model":"m","input":"hi","tools":[{"name":"a"}]}`, "tools[0].type", "required"},
		{"tool without name", `{"model":"m","input":"hi","tools":[{"type":"function"}]}`, "tools[0].name", "required"},
		{"duplicate tool", `{"model":"m","input":"hi","tools":[{"type":"function","name":"a"},{"type":"custom","name":"a"}]}`, "tools[1].name", "twice"},
		{"parameters not object", `{"model":"m","input":"hi","tools":[{"type":"function","name":"a","parameters":"{}"}]}`, "tools[0].parameters", "JSON Schema object"},
		{"custom format type", `{"model":"m","input":"hi","tools":[{"type":"custom","name":"a","format":{"type":"regexp"}}]}`, "tools[0].format.type", "text or grammar"},
		{"grammar without definition", `{"model":"m","input":"hi","tools":[{"type":"custom","name":"a","format":{"type":"grammar","syntax":"lark"}}]}`, "tools[0].format.definition", "required"},
		{"tool_choice unknown", `{"model":"m","input":"hi","tool_choice":"any"}`, "tool_choice", `"any"`},
		{"tool_choice unknown tool", `{"model":"m","input":"hi","tools":[{"type":"function","name":"a"}],"tool_choice":{"type":"function","name":"b"}}`, "tool_choice.name", `"b"`},
		{"tool_choice hosted", `{"model":"m","input":"hi","tool_choice":{"type":"file_search"}}`, "tool_choice.type", `"file_search"`},
		{"parallel_tool_calls string", `{"model":"m","input":"hi","parallel_tool_calls":"no"}`, "parallel_tool_calls", "true or false"},
		{"item not object", `{"model":"m","input":["hi"]}`, "input[0]", "item object"},
		{"item without type or role", `{"model":"m","input":[{"content":"hi"}]}`, "input[0].type", "required"},
		{"bad role", `{"model":"m","input":[{"role":"tool","content":"hi"}]}`, "input[0].role", `"tool"`},
		{"content number", `{"model":"m","input":[{"role":"user","content":5}]}`, "input[0].content", "string or an array"},
		{"content missing", `{"model":"m","input":[{"role":"user"}]}`, "input[0].content", "required"},
		{"input_file", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, "input[0].content[0].type", `"input_file"`},
		{"image file_id", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}`, "input[0].content[0].file_id", "not supported"},
		{"image empty data url", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,"}]}]}`, "input[0].content[0].image_url", "base64"},
		{"image bad data url", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,abc"}]}]}`, "input[0].content[0].image_url", "base64"},
		{"image in developer message", `{"model":"m","input":[{"role":"developer","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}`, "input[0].content[0].type", "developer messages may hold only text"},
		{"image in assistant message", `{"model":"m","input":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"output_text","text":""},{"type":"input_image","image_url":"https://x/y.png"}]}]}`, "input[1].content[1].type", "assistant messages may hold only text"},
		{"function_call without call_id", `{"model":"m","input":[{"type":"function_call","name":"a","arguments":"{}"}]}`, "input[0].call_id", "required"},
		{"function_call without name", `{"model":"m","input":[{"type":"function_call","call_id":"c","arguments":"{}"}]}`, "input[0].name", "required"},
		{"function_call arguments object", `{"model":"m","input":[{"type":"function_call","call_id":"c","name":"a","arguments":{}}]}`, "input[0].arguments", "expected a string"},
		{"output without output", `{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}`, "input[0].output", "required"},
		{"output with input_file", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_file"}]}]}`, "input[0].output[0].type", "input_text or input_image"},
		{"reasoning summary string", `{"model":"m","input":[{"type":"reasoning","summary":"x"}]}`, "input[0].summary", "expected an array"},
		{"reasoning summary entry type", `{"model":"m","input":[{"type":"reasoning","summary":[{"type":"text","text":"x"}]}]}`, "input[0].summary[0].type", `"summary_text"`},
		{"local_shell_call item", `{"model":"m","input":[{"type":"local_shell_call","call_id":"c"}]}`, "input[0].type", `"local_shell_call"`},
		{"web_search_call item", `{"model":"m","input":["x"]}`, "input[0]", "item object"},
		{"item_reference", `{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}`, "input[0].type", "item references"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Codec{}.DecodeRequest([]byte(tc.body))
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("DecodeRequest = %+v, %v; want an *llm.Error", req, err)
			}
			if le.Kind != llm.ErrInvalidRequest || le.Status != 400 || le.Param != tc.param {
				t.Errorf("error kind %s status %d param %q, want invalid_request 400 %q", le.Kind, le.Status, le.Param, tc.param)
			}
			if !strings.Contains(le.Message, tc.says) || (tc.param != "" && !strings.HasPrefix(le.Message, tc.param+": ")) {
				t.Errorf("message %q: want it to start with the field and say %q", le.Message, tc.says)
			}
		})
	}
}

func TestDecodeRequestShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		check      func(t *testing.T, r *llm.Request)
	}{
		{"plain string input", `{"model":"m","input":"hi"}`, func(t *testing.T, r *llm.Request) {
			want := []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}
			if !reflect.DeepEqual(r.Messages, want) {
				t.Errorf("messages = %+v", r.Messages)
			}
		}},
		{"reasoning null, effort only", `{"model":"m","input":"hi","reasoning":null,"text":{"format":{"type":"text"}}}`, func(t *testing.T, r *llm.Request) {
			if r.Thinking != nil || r.ResponseFormat != nil {
				t.Errorf("thinking %+v, response format %s; want none", r.Thinking, r.ResponseFormat)
			}
		}},
		{"generate_summary alias", `{"model":"m","input":"hi","reasoning":{"generate_summary":"concise"}}`, func(t *testing.T, r *llm.Request) {
			if r.Thinking == nil || r.Thinking.Summary != "concise" {
				t.Errorf("thinking = %+v", r.Thinking)
			}
		}},
		{"json_object format", `{"model":"m","input":"hi","text":{"format":{"type":"json_object"}}}`, func(t *testing.T, r *llm.Request) {
			if string(r.ResponseFormat) != `{"type":"json_object"}` {
				t.Errorf("response format = %s", r.ResponseFormat)
			}
		}},
		{"function tool without parameters", `{"model":"m","input":"hi","tools":[{"type":"function","name":"now"}]}`, func(t *testing.T, r *llm.Request) {
			if string(r.Tools[0].Parameters) != `{"type":"object","properties":{}}` {
				t.Errorf("parameters = %s", r.Tools[0].Parameters)
			}
		}},
		{"custom tool without format", `{"model":"m","input":"hi","tools":[{"type":"custom","name":"notes"}]}`, func(t *testing.T, r *llm.Request) {
			m, ok := markOf(r.Tools[0])
			if !ok || m.Type != markCustom || m.Format != nil || strings.Contains(string(r.Tools[0].Parameters), "grammar") {
				t.Errorf("marker %+v, %v; parameters %s", m, ok, r.Tools[0].Parameters)
			}
		}},
		{"empty arguments become an empty object", `{"model":"m","input":[{"type":"function_call","call_id":"c","name":"a","arguments":""}]}`, func(t *testing.T, r *llm.Request) {
			if got := r.Messages[0].Parts[0].Arguments; got != "{}" {
				t.Errorf("arguments = %q", got)
			}
		}},
		{"late developer message stays in place", `{"model":"m","input":[{"role":"user","content":"a"},{"role":"developer","content":"b"}]}`, func(t *testing.T, r *llm.Request) {
			if len(r.System) != 0 || len(r.Messages) != 2 || r.Messages[1].Role != llm.RoleSystem {
				t.Errorf("system %+v, messages %+v", r.System, r.Messages)
			}
		}},
		{"reasoning content without summary", `{"model":"m","input":[{"role":"user","content":"a"},{"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"raw"}]}]}`, func(t *testing.T, r *llm.Request) {
			p := r.Messages[1].Parts[0]
			if p.Type != llm.PartThinking || p.Text != "raw" || reasoningID(p.Data) != "rs_1" {
				t.Errorf("part = %+v", p)
			}
		}},
		{"empty reasoning item is dropped", `{"model":"m","input":[{"role":"user","content":"a"},{"type":"reasoning","summary":[]},{"role":"user","content":"b"}]}`, func(t *testing.T, r *llm.Request) {
			if len(r.Messages) != 2 || r.Messages[1].Role != llm.RoleUser {
				t.Errorf("messages = %+v", r.Messages)
			}
		}},
		{"consecutive outputs share a user message", `{"model":"m","input":[{"type":"function_call","call_id":"a","name":"f","arguments":"{}"},{"type":"function_call","call_id":"b","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"a","output":"1"},{"type":"function_call_output","call_id":"b","output":""},{"role":"user","content":"next"}]}`, func(t *testing.T, r *llm.Request) {
			if len(r.Messages) != 3 || len(r.Messages[0].Parts) != 2 || len(r.Messages[1].Parts) != 2 || r.Messages[1].Parts[1].Result != nil {
				t.Errorf("messages = %+v", r.Messages)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Codec{}.DecodeRequest([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// TestRequestRoundTrip sends Codex's turn through the gateway the long
// way: decoded as a client request, encoded for OpenAI, decoded again.
// Nothing but the joining of system text may change.
func TestRequestRoundTrip(t *testing.T) {
	for _, name := range []string{"codex_turn", "sdk_images_and_tools", "sdk_structured_output"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile("testdata/inbound_request/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			c := Codec{}
			first, err := c.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			wireBody, err := c.EncodeRequest(first)
			if err != nil {
				t.Fatal(err)
			}
			second, err := c.DecodeRequest(wireBody)
			if err != nil {
				t.Fatalf("decode %s: %v", wireBody, err)
			}
			if st := systemText(first.System); st != "" {
				first.System = []llm.Part{{Type: llm.PartText, Text: st}}
			}
			// The tool search goes to OpenAI as a plain function tool.
			for i, tool := range first.Tools {
				if m, _ := markOf(tool); m.Type == markToolSearch {
					first.Tools[i].Parameters = unmarked(tool.Parameters)
				}
			}
			if a, b := normalJSON(t, first), normalJSON(t, second); !reflect.DeepEqual(a, b) {
				ja, _ := json.MarshalIndent(a, "", " ")
				jb, _ := json.MarshalIndent(b, "", " ")
				t.Errorf("round trip changed the request\nbefore: %s\nafter:  %s", ja, jb)
			}
		})
	}
}

// normalJSON is v as generic JSON, so raw members compare by value.
func normalJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// responseCases are answers as a provider's decoder would give them.
var responseCases = map[string]*llm.Response{
	"text": {ID: "msg_1", Model: "claude", StopReason: llm.StopEndTurn,
		Parts: []llm.Part{{Type: llm.PartText, Text: "Hello <world> & \"you\"\n" + strings.Repeat("é😀", 40)}},
		Usage: llm.Usage{InputTokens: 10, OutputTokens: 50, CacheReadTokens: 7, ReasoningTokens: 3}},
	"reasoning, text and calls": {ID: "resp_2", Model: "gpt-5", StopReason: llm.StopToolUse,
		Parts: []llm.Part{
			{Type: llm.PartThinking, Text: "think\n\nmore", Signature: "gAAAA-sig", Data: reasoningData("rs_keep")},
			{Type: llm.PartText, Text: "Calling."},
			{Type: llm.PartToolCall, ToolCallID: "call_1", ToolName: "exec_command", Arguments: `{"cmd":"ls -la \"a b\""}`},
			{Type: llm.PartToolCall, ToolCallID: "call_2", ToolName: "apply_patch", Arguments: customArguments("*** Begin Patch\n\"q\" \\ é\n*** End Patch\n")},
		},
		Usage: llm.Usage{InputTokens: 100, OutputTokens: 20}},
	"cut short": {ID: "x", Model: "m", StopReason: llm.StopMaxTokens,
		Parts: []llm.Part{{Type: llm.PartText, Text: "The answer is"}}, Usage: llm.Usage{InputTokens: 1, OutputTokens: 2}},
	"filtered": {ID: "y", Model: "m", StopReason: llm.StopContentFilter, Parts: []llm.Part{}},
}

// boundCodec answers a request with the custom tool apply_patch.
func boundCodec(t *testing.T) wire.Inbound {
	t.Helper()
	return codecFor(t, json.RawMessage(`{"model":"m","input":"hi","tools":[
		{"type":"function","name":"exec_command","parameters":{"type":"object"}},
		{"type":"custom","name":"apply_patch"}]}`))
}

// TestResponseRoundTrip encodes answers for a client, decodes them as if
// from OpenAI, and expects the same answer back. The stream path must
// give the same answer as the whole-body path.
func TestResponseRoundTrip(t *testing.T) {
	for name, resp := range responseCases {
		t.Run(name, func(t *testing.T) {
			c := boundCodec(t)
			body, err := c.EncodeResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Codec{}.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			want := *resp
			want.ID = responseID(resp.ID, testClock())
			if a, b := normalJSON(t, &want), normalJSON(t, got); !reflect.DeepEqual(a, b) {
				t.Errorf("whole body round trip\n got: %v\nwant: %v", b, a)
			}

			var sseBody bytes.Buffer
			enc := c.NewStreamEncoder(&sseBody)
			for _, ev := range streamOf(resp, 7) {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			checkStream(t, sseBody.Bytes())
			dec := Codec{}.NewStreamDecoder()
			events := decodeStream(t, dec, sseBody.Bytes())
			if !dec.Done() {
				t.Fatal("decoder not done after the whole stream")
			}
			streamed := assemble(t, events)
			if a, b := normalJSON(t, got), normalJSON(t, streamed); !reflect.DeepEqual(a, b) {
				t.Errorf("stream round trip differs from whole body\n stream: %v\n body:   %v", b, a)
			}
		})
	}
}

// streamOf is resp as a canonical stream, with every text cut into
// pieces of n bytes (on rune boundaries).
func streamOf(resp *llm.Response, n int) []llm.StreamEvent {
	chunks := func(s string) []string {
		var out []string
		for len(s) > 0 {
			k := min(n, len(s))
			for k < len(s) && !utf8RuneStart(s[k]) {
				k++
			}
			out = append(out, s[:k])
			s = s[k:]
		}
		return out
	}
	evs := []llm.StreamEvent{{Type: llm.EventStart, ID: resp.ID, Model: resp.Model}}
	for i, p := range resp.Parts {
		start := llm.Part{Type: p.Type, ToolCallID: p.ToolCallID, ToolName: p.ToolName, Data: p.Data}
		evs = append(evs, llm.StreamEvent{Type: llm.EventPartStart, Index: i, Part: &start})
		for _, d := range []struct {
			kind llm.DeltaKind
			s    string
		}{{llm.DeltaText, p.Text}, {llm.DeltaArguments, p.Arguments}, {llm.DeltaSignature, p.Signature}} {
			kind := d.kind
			if kind == llm.DeltaText && p.Type == llm.PartThinking {
				kind = llm.DeltaThinking
			}
			for _, c := range chunks(d.s) {
				evs = append(evs, llm.StreamEvent{Type: llm.EventDelta, Index: i, Kind: kind, Delta: c})
			}
		}
		evs = append(evs, llm.StreamEvent{Type: llm.EventPartStop, Index: i})
	}
	u := resp.Usage
	return append(evs, llm.StreamEvent{Type: llm.EventStop, StopReason: resp.StopReason, Usage: &u})
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// assemble builds the answer a well-formed canonical stream carries.
func assemble(t *testing.T, events []llm.StreamEvent) *llm.Response {
	t.Helper()
	resp := &llm.Response{Parts: []llm.Part{}}
	open := map[int]bool{}
	for _, ev := range events {
		switch ev.Type {
		case llm.EventStart:
			resp.ID, resp.Model = ev.ID, ev.Model
		case llm.EventPartStart:
			if ev.Index != len(resp.Parts) {
				t.Fatalf("part %d started after %d parts", ev.Index, len(resp.Parts))
			}
			resp.Parts = append(resp.Parts, *ev.Part)
			open[ev.Index] = true
		case llm.EventDelta:
			if !open[ev.Index] {
				t.Fatalf("delta for part %d, which is not open", ev.Index)
			}
			p := &resp.Parts[ev.Index]
			switch ev.Kind {
			case llm.DeltaText, llm.DeltaThinking:
				p.Text += ev.Delta
			case llm.DeltaArguments:
				p.Arguments += ev.Delta
			case llm.DeltaSignature:
				p.Signature += ev.Delta
			}
		case llm.EventPartStop:
			if !open[ev.Index] {
				t.Fatalf("stop for part %d, which is not open", ev.Index)
			}
			delete(open, ev.Index)
		case llm.EventStop:
			resp.StopReason, resp.Usage = ev.StopReason, *ev.Usage
		case llm.EventError:
			t.Fatalf("error event: %v", ev.Err)
		}
	}
	if len(open) > 0 {
		t.Fatalf("parts left open: %v", open)
	}
	return resp
}

func TestStreamEncoderRefusesMalformedStreams(t *testing.T) {
	text := &llm.Part{Type: llm.PartText}
	start := llm.StreamEvent{Type: llm.EventStart, ID: "a", Model: "m"}
	for _, tc := range []struct {
		name   string
		events []llm.StreamEvent
	}{
		{"delta before start", []llm.StreamEvent{{Type: llm.EventDelta, Kind: llm.DeltaText, Delta: "x"}}},
		{"two starts", []llm.StreamEvent{start, start}},
		{"delta of a part not open", []llm.StreamEvent{start, {Type: llm.EventDelta, Index: 2, Kind: llm.DeltaText, Delta: "x"}}},
		{"part started twice", []llm.StreamEvent{start, {Type: llm.EventPartStart, Part: text}, {Type: llm.EventPartStart, Part: text}}},
		{"wrong delta kind", []llm.StreamEvent{start, {Type: llm.EventPartStart, Part: text}, {Type: llm.EventDelta, Kind: llm.DeltaArguments, Delta: "{"}}},
		{"event after stop", []llm.StreamEvent{start, {Type: llm.EventStop, StopReason: llm.StopEndTurn}, {Type: llm.EventUsage, Usage: &llm.Usage{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := Codec{Now: testClock}.NewStreamEncoder(&bytes.Buffer{})
			var err error
			for _, ev := range tc.events {
				if err = enc.Encode(ev); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestRewriteModel(t *testing.T) {
	got, err := Codec{}.RewriteModel([]byte(`{"input":"hi", "model" : "a","stream":true}`), "gpt-5")
	if err != nil || string(got) != `{"input":"hi", "model" : "gpt-5","stream":true}` {
		t.Fatalf("RewriteModel = %s, %v", got, err)
	}
	if _, err := (Codec{}).RewriteModel([]byte(`{"model":"a","model":"b"}`), "c"); err == nil {
		t.Fatal("duplicate model: no error")
	}
}

func TestEncodeError(t *testing.T) {
	for _, tc := range []struct {
		err  *llm.Error
		want string
	}{
		{&llm.Error{Kind: llm.ErrInvalidRequest, Status: 400, Message: "input: required", Param: "input"},
			`{"error":{"message":"input: required","type":"invalid_request_error","param":"input","code":null}}`},
		{&llm.Error{Kind: llm.ErrAuthentication, Status: 401, Message: "bad key"},
			`{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`},
		{&llm.Error{Kind: llm.ErrBudget, Status: 429, Message: "team budget spent"},
			`{"error":{"message":"team budget spent","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{&llm.Error{Kind: llm.ErrOverloaded, Status: 503, Message: "busy"},
			`{"error":{"message":"busy","type":"service_unavailable_error","param":null,"code":"server_is_overloaded"}}`},
		{&llm.Error{Kind: "something_new", Status: 500, Message: "?"},
			`{"error":{"message":"?","type":"server_error","param":null,"code":"server_error"}}`},
	} {
		t.Run(string(tc.err.Kind), func(t *testing.T) {
			if got := string(Codec{}.EncodeError(tc.err)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   llm.ErrorKind
		msg    string
		param  string
		retry  time.Duration
	}{
		{"rate limit with delay", 429, `{"error":{"message":"Rate limit reached. Please try again in 1.5s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
			llm.ErrRateLimit, "Rate limit reached. Please try again in 1.5s.", "", 1500 * time.Millisecond},
		{"quota", 429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`,
			llm.ErrRateLimit, "You exceeded your current quota", "", 0},
		{"context length", 400, `{"error":{"message":"Your input exceeds the context window","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}`,
			llm.ErrTooLarge, "Your input exceeds the context window", "input", 0},
		{"server error body on 400 stays a client error", 400, `{"error":{"message":"odd","code":"server_error"}}`,
			llm.ErrInvalidRequest, "odd", "", 0},
		{"bad key", 401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`,
			llm.ErrAuthentication, "Incorrect API key provided", "", 0},
		{"overloaded", 503, `{"error":{"message":"overloaded","type":"service_unavailable_error","code":"server_is_overloaded"}}`,
			llm.ErrOverloaded, "overloaded", "", 0},
		{"bare message", 500, `{"message":"boom"}`, llm.ErrServer, "boom", "", 0},
		{"plain text", 502, "Bad Gateway", llm.ErrServer, "Bad Gateway", "", 0},
		{"empty", 504, "", llm.ErrTimeout, "upstream answered 504 with an empty body", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Codec{}.DecodeError(tc.status, []byte(tc.body))
			if e.Kind != tc.kind || e.Status != llm.StatusOf(tc.kind) || e.Message != tc.msg || e.Param != tc.param || e.RetryAfter != tc.retry {
				t.Errorf("got %+v; want kind %s message %q param %q retry %v", e, tc.kind, tc.msg, tc.param, tc.retry)
			}
		})
	}
}

func TestFailureCodes(t *testing.T) {
	for _, tc := range []struct {
		err      *llm.Error
		code     string
		message  string
		rtKind   llm.ErrorKind // the kind the stream decoder reads back
		rtParsed time.Duration
	}{
		{&llm.Error{Kind: llm.ErrRateLimit, Message: "Slow down", RetryAfter: 2500 * time.Millisecond},
			"rate_limit_exceeded", "Slow down. Please try again in 2.5s.", llm.ErrRateLimit, 2500 * time.Millisecond},
		{&llm.Error{Kind: llm.ErrRateLimit, Message: "Please try again in 3s.", RetryAfter: time.Second},
			"rate_limit_exceeded", "Please try again in 3s.", llm.ErrRateLimit, 3 * time.Second},
		{&llm.Error{Kind: llm.ErrBudget, Message: "spent"}, "insufficient_quota", "spent", llm.ErrRateLimit, 0},
		{&llm.Error{Kind: llm.ErrOverloaded, Message: "busy"}, "server_is_overloaded", "busy", llm.ErrOverloaded, 0},
		{&llm.Error{Kind: llm.ErrTooLarge, Message: "too long"}, "context_length_exceeded", "too long", llm.ErrTooLarge, 0},
		{&llm.Error{Kind: llm.ErrPermission, Message: "no"}, "invalid_prompt", "no", llm.ErrInvalidRequest, 0},
		{&llm.Error{Kind: llm.ErrStreamCut, Message: "cut"}, "server_error", "cut", llm.ErrServer, 0},
		{&llm.Error{Kind: llm.ErrInternal, Message: "bug"}, "server_error", "bug", llm.ErrServer, 0},
	} {
		t.Run(string(tc.err.Kind), func(t *testing.T) {
			if got := failureCode(tc.err.Kind); got != tc.code {
				t.Errorf("code = %q, want %q", got, tc.code)
			}
			msg := failureMessage(tc.err)
			if msg != tc.message {
				t.Errorf("message = %q, want %q", msg, tc.message)
			}
			back := streamError(tc.code, "", msg, nil)
			if back.Kind != tc.rtKind || back.RetryAfter != tc.rtParsed {
				t.Errorf("read back as %s after %v, want %s after %v", back.Kind, back.RetryAfter, tc.rtKind, tc.rtParsed)
			}
		})
	}
}

func TestTryAgainIn(t *testing.T) {
	for msg, want := range map[string]time.Duration{
		"Please try again in 1.5s.":      1500 * time.Millisecond,
		"please TRY AGAIN IN 20ms":       20 * time.Millisecond,
		"Try again in 2 seconds":         2 * time.Second,
		"try again in 1m30s":             time.Minute,
		"Please try again later.":        0,
		"no hint here":                   0,
		"try again in -3s":               0,
		"try again in s":                 0,
		"Rate limited; try again in 7s!": 7 * time.Second,
	} {
		if got := tryAgainIn(msg); got != want {
			t.Errorf("tryAgainIn(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestIsCustomTool(t *testing.T) {
	req, err := Codec{}.DecodeRequest([]byte(`{"model":"m","input":"hi","tools":[
		{"type":"custom","name":"apply_patch","format":{"type":"grammar","syntax":"lark","definition":"start: /.+/"}},
		{"type":"function","name":"f","parameters":{"type":"object","description":"mentions \"x-openai-tool\" in text"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !IsCustomTool(req.Tools[0]) || IsCustomTool(req.Tools[1]) {
		t.Fatalf("IsCustomTool = %v, %v; want true, false", IsCustomTool(req.Tools[0]), IsCustomTool(req.Tools[1]))
	}
	var schema struct {
		Properties struct {
			Input struct{ Description string } `json:"input"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(req.Tools[0].Parameters, &schema); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(schema.Properties.Input.Description, "lark grammar:\nstart: /.+/") {
		t.Errorf("input description %q does not carry the grammar", schema.Properties.Input.Description)
	}
	if in := customInput(customArguments("a\"b\n")); in != "a\"b\n" {
		t.Errorf("input round trip = %q", in)
	}
	if in := customInput("not json"); in != "not json" {
		t.Errorf("malformed arguments = %q, want them passed on", in)
	}
}
