package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

func TestRegistered(t *testing.T) {
	in, ok := wire.InboundFor(llm.APIAnthropicMessages)
	if !ok {
		t.Fatal("no inbound codec for anthropic.messages")
	}
	if _, ok := in.(Codec); !ok {
		t.Errorf("inbound codec is %T", in)
	}
	out, ok := wire.OutboundFor(llm.APIAnthropicMessages)
	if !ok {
		t.Fatal("no outbound codec for anthropic.messages")
	}
	if out.API() != llm.APIAnthropicMessages {
		t.Errorf("API() = %q", out.API())
	}
}

func TestPeek(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       wire.Peek
		errParam   string // non-empty: an error naming this member
	}{
		{"claude code", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"tools":[ {"name":"Bash"} ],"metadata":{"user_id":"{\"session_id\":\"s1\"}"},"stream":true}`,
			wire.Peek{Model: "claude-sonnet-4-5", Stream: true, User: `{"session_id":"s1"}`, HasTools: true}, ""},
		{"sdk non-streaming", `{"max_tokens":5,"model":"claude-haiku-4-5","messages":[]}`, wire.Peek{Model: "claude-haiku-4-5"}, ""},
		{"empty tools and nulls", `{"model":"m","tools":[ ],"stream":null,"metadata":null}`, wire.Peek{Model: "m"}, ""},
		{"escaped model", `{"model":"claude\u002dx","stream":false}`, wire.Peek{Model: "claude-x"}, ""},
		{"model missing", `{"messages":[]}`, wire.Peek{}, "model"},
		{"model empty", `{"model":""}`, wire.Peek{}, "model"},
		{"model number", `{"model":4}`, wire.Peek{}, "model"},
		{"model twice", `{"model":"a","model":"b"}`, wire.Peek{}, "model"},
		{"stream string", `{"model":"m","stream":"yes"}`, wire.Peek{}, "stream"},
		{"tools object", `{"model":"m","tools":{}}`, wire.Peek{}, "tools"},
		{"user_id number", `{"model":"m","metadata":{"user_id":5}}`, wire.Peek{}, "metadata.user_id"},
		{"not an object", `["model"]`, wire.Peek{}, ""},
		{"truncated", `{"model":"m","messages":[`, wire.Peek{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Codec{}.Peek([]byte(tc.body))
			wantErr := tc.errParam != "" || tc.want.Model == ""
			if !wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Errorf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest {
				t.Fatalf("error %v, want an invalid_request *llm.Error", err)
			}
			if le.Param != tc.errParam {
				t.Errorf("param %q, want %q (%s)", le.Param, tc.errParam, le.Message)
			}
		})
	}
}

func TestSessionID(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"json", `{"device_id":"d","account_uuid":"","session_id":"54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe"}`, "54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe"},
		{"legacy", "user_0a1b_account__session_57a121ec-f78c-48c3-a745-e3036a3ecc33", "57a121ec-f78c-48c3-a745-e3036a3ecc33"},
		{"json without session", `{"device_id":"d"}`, ""},
		{"broken json", `{"session_id":`, ""},
		{"plain user", "alice@example.com", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SessionID(tc.in); got != tc.want {
				t.Errorf("SessionID(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEncodeError(t *testing.T) {
	for _, tc := range []struct {
		kind llm.ErrorKind
		typ  string
	}{
		{llm.ErrInvalidRequest, "invalid_request_error"},
		{llm.ErrAuthentication, "authentication_error"},
		{llm.ErrPermission, "permission_error"},
		{llm.ErrNotFound, "not_found_error"},
		{llm.ErrTooLarge, "request_too_large"},
		{llm.ErrRateLimit, "rate_limit_error"},
		{llm.ErrBudget, "rate_limit_error"},
		{llm.ErrServer, "api_error"},
		{llm.ErrInternal, "api_error"},
		{llm.ErrConnection, "api_error"},
		{llm.ErrStreamCut, "api_error"},
		{llm.ErrOverloaded, "overloaded_error"},
		{llm.ErrTimeout, "timeout_error"},
		{"something_new", "api_error"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			got := Codec{}.EncodeError(&llm.Error{Kind: tc.kind, Message: `bad "x" <y>`})
			want := `{"type":"error","error":{"type":"` + tc.typ + `","message":"bad \"x\" <y>"}}`
			if string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	for _, tc := range []struct {
		name   string
		status int
		body   string
		kind   llm.ErrorKind
		msg    string
	}{
		{"overloaded 529", 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}`, llm.ErrOverloaded, "Overloaded"},
		{"rate limit", 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`, llm.ErrRateLimit, "per-minute rate limit"},
		{"body type wins over status", 500, `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}`, llm.ErrInvalidRequest, "prompt is too long"},
		{"api_error", 500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`, llm.ErrServer, "Internal server error"},
		{"timeout", 504, `{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}`, llm.ErrTimeout, "Request timed out"},
		{"billing", 402, `{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}`, llm.ErrPermission, "credit balance"},
		{"not found", 404, `{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`, llm.ErrNotFound, "model: claude-x"},
		{"unknown type uses status", 503, `{"type":"error","error":{"type":"brand_new_error","message":"m"}}`, llm.ErrOverloaded, "m"},
		{"html from a proxy", 502, `<html><body>Bad Gateway</body></html>`, llm.ErrServer, `upstream answered status 502: "<html><body>Bad Gateway</body></html>"`},
		{"529 not JSON", 529, `overloaded`, llm.ErrOverloaded, `"overloaded"`},
		{"empty body", 401, ``, llm.ErrAuthentication, "status 401 with an empty body"},
		{"long body quoted to 200 bytes", 500, long, llm.ErrServer, `"` + strings.Repeat("é", 100) + `"...`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Codec{}.DecodeError(tc.status, []byte(tc.body))
			if e.Kind != tc.kind {
				t.Errorf("kind %s, want %s", e.Kind, tc.kind)
			}
			if e.Status != llm.StatusOf(tc.kind) {
				t.Errorf("status %d, want %d", e.Status, llm.StatusOf(tc.kind))
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			if len(e.Message) > 260 {
				t.Errorf("message is %d bytes long", len(e.Message))
			}
		})
	}
}

func TestRewriteModel(t *testing.T) {
	body := []byte(`{"model":"claude-sonnet-4-5", "messages":[{"role":"user","content":"model"}],"stream":true}`)
	got, err := Codec{}.RewriteModel(body, "claude-sonnet-4-5-20250929")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"claude-sonnet-4-5-20250929", "messages":[{"role":"user","content":"model"}],"stream":true}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, err = Codec{}.RewriteModel([]byte(`{"model":"a","model":"b"}`), "c")
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest {
		t.Errorf("duplicate model: error %v, want invalid_request", err)
	}
}

func TestEncodeRequestThinking(t *testing.T) {
	msgs := []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}
	temp := 0.5
	for _, tc := range []struct {
		name     string
		req      llm.Request
		thinking string // JSON, "" for none
		max      int
		temp     bool
	}{
		{"none", llm.Request{}, "", 8192, true},
		{"adaptive", llm.Request{Thinking: &llm.Thinking{}}, `{"type":"adaptive"}`, 8192, false},
		{"budget", llm.Request{Thinking: &llm.Thinking{BudgetTokens: 2000}}, `{"type":"enabled","budget_tokens":2000}`, 8192, false},
		{"budget above default max", llm.Request{Thinking: &llm.Thinking{BudgetTokens: 10000}}, `{"type":"enabled","budget_tokens":10000}`, 18192, false},
		{"budget clamped by explicit max", llm.Request{MaxTokens: 3000, Thinking: &llm.Thinking{BudgetTokens: 5000}}, `{"type":"enabled","budget_tokens":2999}`, 3000, false},
		{"explicit max too small for thinking", llm.Request{MaxTokens: 1000, Thinking: &llm.Thinking{BudgetTokens: 5000}}, "", 1000, true},
		{"effort minimal", llm.Request{Thinking: &llm.Thinking{Effort: "minimal"}}, `{"type":"enabled","budget_tokens":1024}`, 8192, false},
		{"effort low", llm.Request{Thinking: &llm.Thinking{Effort: "low"}}, `{"type":"enabled","budget_tokens":1024}`, 8192, false},
		{"effort medium", llm.Request{Thinking: &llm.Thinking{Effort: "medium"}}, `{"type":"enabled","budget_tokens":4096}`, 8192, false},
		{"effort high", llm.Request{Thinking: &llm.Thinking{Effort: "high"}}, `{"type":"enabled","budget_tokens":16384}`, 24576, false},
		{"effort unknown", llm.Request{Thinking: &llm.Thinking{Effort: "turbo"}}, `{"type":"enabled","budget_tokens":4096}`, 8192, false},
		{"effort none", llm.Request{Thinking: &llm.Thinking{Effort: "none"}}, "", 8192, true},
		{"forced tool drops thinking", llm.Request{Thinking: &llm.Thinking{BudgetTokens: 2000}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceRequired}}, "", 8192, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Model, req.Messages, req.Temperature = "m", msgs, &temp
			body, err := Codec{}.EncodeRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				MaxTokens   int             `json:"max_tokens"`
				Thinking    json.RawMessage `json:"thinking"`
				Temperature *float64        `json:"temperature"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Thinking) != tc.thinking {
				t.Errorf("thinking %s, want %s", got.Thinking, tc.thinking)
			}
			if got.MaxTokens != tc.max {
				t.Errorf("max_tokens %d, want %d", got.MaxTokens, tc.max)
			}
			if (got.Temperature != nil) != tc.temp {
				t.Errorf("temperature sent: %v, want %v", got.Temperature != nil, tc.temp)
			}
		})
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	text := []llm.Part{{Type: llm.PartText, Text: "hi"}}
	for _, tc := range []struct {
		name, param string
		req         llm.Request
	}{
		{"no model", "model", llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: text}}}},
		{"only empty messages", "messages", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText}}}, {Role: llm.RoleAssistant}}}},
		{"bad arguments", "messages.0.parts.0.arguments", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "c", ToolName: "f", Arguments: `{"a":`}}}}}},
		{"arguments not an object", "messages.0.parts.0.arguments", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "c", ToolName: "f", Arguments: `[1]`}}}}}},
		{"unknown role", "messages.0.role", llm.Request{Model: "m", Messages: []llm.Message{{Role: "tool", Parts: text}}}},
		{"unknown part", "messages.0.parts.0.type", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: "audio"}}}}}},
		{"image without data", "messages.0.parts.0", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage}}}}}},
		{"bad data url", "messages.0.parts.0.url", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, URL: "data:image/png,abc"}}}}}},
		{"tool choice without name", "tool_choice.name", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: text}}, ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool}}},
		{"invalid tool schema", "tools.0.parameters", llm.Request{Model: "m", Messages: []llm.Message{{Role: llm.RoleUser, Parts: text}}, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{`)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Codec{}.EncodeRequest(&tc.req)
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest {
				t.Fatalf("error %v, want invalid_request", err)
			}
			if le.Param != tc.param {
				t.Errorf("param %q, want %q (%s)", le.Param, tc.param, le.Message)
			}
		})
	}
}

func TestEncodeResponseRejectsBadArguments(t *testing.T) {
	_, err := Codec{}.EncodeResponse(&llm.Response{Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "c", ToolName: "f", Arguments: `{"truncated":`}}})
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.ErrServer {
		t.Fatalf("error %v, want a server *llm.Error", err)
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		kind       llm.ErrorKind
	}{
		{"not JSON", `{"id":`, llm.ErrServer},
		{"error object", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, llm.ErrOverloaded},
		{"not a message", `{"type":"completion"}`, llm.ErrServer},
		{"block without type", `{"type":"message","content":[{"text":"x"}]}`, llm.ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Codec{}.DecodeResponse([]byte(tc.body))
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != tc.kind {
				t.Fatalf("error %v, want kind %s", err, tc.kind)
			}
		})
	}
}

// countingWriter records each Write.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestStreamEncoderDoesNotBuffer: every event that maps to SSE is written
// to w, whole, before Encode returns.
func TestStreamEncoderDoesNotBuffer(t *testing.T) {
	var w countingWriter
	enc := Codec{}.NewStreamEncoder(&w)
	for _, tc := range []struct {
		ev    llm.StreamEvent
		names []string
	}{
		{llm.StreamEvent{Type: llm.EventStart, ID: "msg_1", Model: "m"}, []string{"message_start"}},
		{llm.StreamEvent{Type: llm.EventPartStart, Index: 0, Part: &llm.Part{Type: llm.PartText}}, []string{"content_block_start"}},
		{llm.StreamEvent{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaText, Delta: "a"}, []string{"content_block_delta"}},
		{llm.StreamEvent{Type: llm.EventUsage, Usage: &llm.Usage{OutputTokens: 1}}, nil},
		{llm.StreamEvent{Type: llm.EventPartStop, Index: 0}, []string{"content_block_stop"}},
		{llm.StreamEvent{Type: llm.EventStop, StopReason: llm.StopEndTurn}, []string{"message_delta", "message_stop"}},
		{llm.StreamEvent{Type: llm.EventDelta, Index: 0, Delta: "late"}, nil},
	} {
		w.Reset()
		w.writes = 0
		if err := enc.Encode(tc.ev); err != nil {
			t.Fatalf("%s: %v", tc.ev.Type, err)
		}
		if w.writes != len(tc.names) {
			t.Errorf("%s: %d writes, want %d", tc.ev.Type, w.writes, len(tc.names))
		}
		r := sse.NewReader(bytes.NewReader(w.Bytes()))
		for _, name := range tc.names {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("%s: %v in %q", tc.ev.Type, err, w.Bytes())
			}
			if got.Name != name {
				t.Errorf("%s: wrote event %q, want %q", tc.ev.Type, got.Name, name)
			}
		}
	}
}

func TestStreamEncoderGrammarErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		evs  []llm.StreamEvent
	}{
		{"delta before part start", []llm.StreamEvent{{Type: llm.EventStart}, {Type: llm.EventDelta, Index: 0, Delta: "x"}}},
		{"part started twice", []llm.StreamEvent{{Type: llm.EventPartStart, Part: &llm.Part{Type: llm.PartText}}, {Type: llm.EventPartStart, Part: &llm.Part{Type: llm.PartText}}}},
		{"negative index", []llm.StreamEvent{{Type: llm.EventPartStart, Index: -1, Part: &llm.Part{Type: llm.PartText}}}},
		{"stop of unknown part", []llm.StreamEvent{{Type: llm.EventStart}, {Type: llm.EventPartStop, Index: 3}}},
		{"unknown delta kind", []llm.StreamEvent{{Type: llm.EventPartStart, Part: &llm.Part{Type: llm.PartText}}, {Type: llm.EventDelta, Kind: "audio", Delta: "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := Codec{}.NewStreamEncoder(&buf)
			var err error
			for _, ev := range tc.evs {
				if err = enc.Encode(ev); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatalf("no error; wrote %q", buf.Bytes())
			}
		})
	}
}

// TestStreamEncoderSynthesizesStart: a stream whose first event is not a
// Start still opens with message_start, which API clients require.
func TestStreamEncoderSynthesizesStart(t *testing.T) {
	var buf bytes.Buffer
	enc := Codec{}.NewStreamEncoder(&buf)
	for _, ev := range []llm.StreamEvent{
		{Type: llm.EventPartStart, Part: &llm.Part{Type: llm.PartToolCall, ToolCallID: "c1", ToolName: "f", Arguments: `{"a":1}`}},
		{Type: llm.EventStop, StopReason: llm.StopToolUse, Usage: &llm.Usage{InputTokens: 3, OutputTokens: 4}},
	} {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	want := "event: message_start\n" +
		`data: {"type":"message_start","message":{"id":"","type":"message","role":"assistant","model":"","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}` + "\n\n" +
		"event: content_block_start\n" +
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"c1","name":"f","input":{}}}` + "\n\n" +
		"event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}` + "\n\n" +
		"event: content_block_stop\n" +
		`data: {"type":"content_block_stop","index":0}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":4}}` + "\n\n" +
		"event: message_stop\n" +
		`data: {"type":"message_stop"}` + "\n\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestStreamDecoderErrors(t *testing.T) {
	start := sse.Event{Name: "message_start", Data: []byte(`{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":1}}}`)}
	for _, tc := range []struct {
		name string
		evs  []sse.Event
	}{
		{"malformed JSON", []sse.Event{{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta",`)}}},
		{"delta for unknown block", []sse.Event{start, {Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`)}}},
		{"stop for unknown block", []sse.Event{start, {Name: "content_block_stop", Data: []byte(`{"type":"content_block_stop","index":4}`)}}},
		{"start without message", []sse.Event{{Name: "message_start", Data: []byte(`{"type":"message_start"}`)}}},
		{"block start without index", []sse.Event{start, {Name: "content_block_start", Data: []byte(`{"type":"content_block_start","content_block":{"type":"text","text":""}}`)}}},
		{"block start with bad member", []sse.Event{start, {Name: "content_block_start", Data: []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":5}}`)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := Codec{}.NewStreamDecoder()
			var err error
			for _, ev := range tc.evs {
				if _, err = dec.Decode(ev, nil); err != nil {
					break
				}
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrServer {
				t.Fatalf("error %v, want a server *llm.Error", err)
			}
		})
	}
}

func TestStreamDecoderDone(t *testing.T) {
	dec := Codec{}.NewStreamDecoder()
	steps := []struct {
		data string
		done bool
		n    int
	}{
		{`{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":1}}}`, false, 1},
		{`{"type": "ping"}`, false, 0},
		{`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}`, false, 0},
		{`{"type":"message_stop"}`, true, 1},
		{`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, true, 0},
	}
	for i, s := range steps {
		out, err := dec.Decode(sse.Event{Data: []byte(s.data)}, nil)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(out) != s.n {
			t.Errorf("step %d: %d events, want %d", i, len(out), s.n)
		}
		if dec.Done() != s.done {
			t.Errorf("step %d: Done() = %v, want %v", i, dec.Done(), s.done)
		}
		if i == 3 {
			want := llm.StreamEvent{Type: llm.EventStop, StopReason: llm.StopEndTurn, Usage: &llm.Usage{InputTokens: 1, OutputTokens: 7}}
			sameJSON(t, "stop", out[0], want)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\ slash /", "\n\r\t\b\f\x00\x1f\x7f", "<html> & </html>", "é 日本 🎉", "\u2028\u2029", "bad \xff utf8 \xe2\x82", "\ufffd"} {
		t.Run(s, func(t *testing.T) {
			want, err := marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString(nil, s); string(got) != string(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}
