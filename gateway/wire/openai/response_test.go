package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

func TestCompletionID(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"kept", "chatcmpl-abc", "chatcmpl-abc"},
		{"prefixed", "msg_01X", "chatcmpl-msg_01X"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := completionID(tc.in); got != tc.want {
				t.Fatalf("completionID(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("generated", func(t *testing.T) {
		a, b := completionID(""), completionID("")
		if !regexp.MustCompile(`^chatcmpl-[0-9a-f]{24}$`).MatchString(a) || a == b {
			t.Fatalf("generated IDs %q and %q", a, b)
		}
	})
}

func TestEncodeError(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		err                    *llm.Error
		wantType, wantCode     string
		wantParam, wantMessage any
	}{
		{"invalid request", &llm.Error{Kind: llm.ErrInvalidRequest, Message: "messages[2].role: unknown role", Param: "messages[2].role"}, "invalid_request_error", "", "messages[2].role", "messages[2].role: unknown role"},
		{"bad key", llm.Errorf(llm.ErrAuthentication, "Incorrect API key provided"), "invalid_request_error", "invalid_api_key", nil, "Incorrect API key provided"},
		{"model not allowed", llm.Errorf(llm.ErrPermission, "key may not use gpt-5"), "invalid_request_error", "permission_denied", nil, "key may not use gpt-5"},
		{"unknown model", llm.Errorf(llm.ErrNotFound, "The model `gpt-9` does not exist"), "invalid_request_error", "model_not_found", nil, "The model `gpt-9` does not exist"},
		{"rate limit", llm.Errorf(llm.ErrRateLimit, "slow down"), "requests", "rate_limit_exceeded", nil, "slow down"},
		{"budget", llm.Errorf(llm.ErrBudget, "team budget of $50.00 per day is spent"), "insufficient_quota", "insufficient_quota", nil, "team budget of $50.00 per day is spent"},
		{"server", llm.Errorf(llm.ErrServer, "upstream 500"), "server_error", "", nil, "upstream 500"},
		{"overloaded", llm.Errorf(llm.ErrOverloaded, "busy"), "server_error", "overloaded", nil, "busy"},
		{"timeout", llm.Errorf(llm.ErrTimeout, "slow"), "server_error", "timeout", nil, "slow"},
		{"no message", &llm.Error{Kind: llm.ErrInternal}, "server_error", "internal_error", nil, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := Chat{}.EncodeError(tc.err)
			var got struct {
				Error map[string]any `json:"error"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("invalid JSON %s: %v", body, err)
			}
			var wantCode any
			if tc.wantCode != "" {
				wantCode = tc.wantCode
			}
			want := map[string]any{"message": tc.wantMessage, "type": tc.wantType, "param": tc.wantParam, "code": wantCode}
			if !reflect.DeepEqual(got.Error, want) {
				t.Fatalf("got %v, want %v", got.Error, want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantKind  llm.ErrorKind
		wantMsg   string
		wantParam string
	}{
		{"openai 401", 401, `{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, llm.ErrAuthentication, "Incorrect API key provided: sk-abc***xyz.", ""},
		{"openai 400 with param", 400, `{"error":{"message":"Invalid 'messages[1].content': string too long.","type":"invalid_request_error","param":"messages[1].content","code":"string_above_max_length"}}`, llm.ErrInvalidRequest, "Invalid 'messages[1].content': string too long.", "messages[1].content"},
		{"openai 429 quota", 429, `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, llm.ErrRateLimit, "You exceeded your current quota, please check your plan and billing details.", ""},
		{"openai 403 model", 403, `{"error":{"message":"Project proj_x does not have access to model gpt-4o","type":"invalid_request_error","param":null,"code":"model_not_found"}}`, llm.ErrPermission, "Project proj_x does not have access to model gpt-4o", ""},
		{"overloaded 500", 500, `{"error":{"message":"busy","type":"overloaded_error"}}`, llm.ErrOverloaded, "busy", ""},
		{"ollama string error", 404, `{"error":"model \"llama9\" not found, try pulling it first"}`, llm.ErrNotFound, `model "llama9" not found, try pulling it first`, ""},
		{"vllm flat", 400, `{"object":"error","message":"This model's maximum context length is 32768 tokens.","type":"BadRequestError","param":null,"code":400}`, llm.ErrInvalidRequest, "This model's maximum context length is 32768 tokens.", ""},
		{"fastapi detail", 422, `{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}`, llm.ErrInvalidRequest, "body.messages: field required", ""},
		{"detail string", 401, `{"detail":"Not authenticated"}`, llm.ErrAuthentication, "Not authenticated", ""},
		{"array wrapped", 429, `[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]`, llm.ErrRateLimit, "Resource exhausted", ""},
		{"html", 502, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>", llm.ErrServer, "<html> <head><title>502 Bad Gateway</title></head> <body>nginx</body></html>", ""},
		{"empty", 503, "", llm.ErrOverloaded, "the provider answered status 503 with no error message", ""},
		{"long text cut", 500, strings.Repeat("x", 600), llm.ErrServer, strings.Repeat("x", 500) + "...", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Chat{}.DecodeError(tc.status, []byte(tc.body))
			if e.Kind != tc.wantKind || e.Message != tc.wantMsg || e.Param != tc.wantParam {
				t.Fatalf("got kind %s message %q param %q\nwant kind %s message %q param %q", e.Kind, e.Message, e.Param, tc.wantKind, tc.wantMsg, tc.wantParam)
			}
			if e.Status != llm.StatusOf(tc.wantKind) {
				t.Fatalf("status %d, want %d", e.Status, llm.StatusOf(tc.wantKind))
			}
		})
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantKind   llm.ErrorKind
		wantMsg    string
	}{
		{"not json", `<html>`, llm.ErrServer, "decode chat completion"},
		{"no choices", `{"id":"x","choices":[]}`, llm.ErrServer, "the answer has no choices"},
		{"error in a 200", `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, llm.ErrRateLimit, "Rate limit reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Chat{}.DecodeResponse([]byte(tc.body))
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != tc.wantKind || !strings.Contains(le.Message, tc.wantMsg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.wantKind, tc.wantMsg)
			}
		})
	}
}

func TestRoundTripRequest(t *testing.T) {
	temp := 0.2
	req := &llm.Request{
		Model:  "m",
		System: []llm.Part{{Type: llm.PartText, Text: "be brief"}},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "look"},
				{Type: llm.PartImage, MediaType: "image/jpeg", Data: "/9j/4AAQ"},
				{Type: llm.PartImage, URL: "https://example.org/a.png"},
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				{Type: llm.PartText, Text: "calling"},
				{Type: llm.PartToolCall, ToolCallID: "c1", ToolName: "f", Arguments: `{"x":1}`},
				{Type: llm.PartToolCall, ToolCallID: "c2", ToolName: "g", Arguments: `{}`},
			}},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolCallID: "c1", ToolName: "f", Result: []llm.Part{{Type: llm.PartText, Text: "one"}}},
				{Type: llm.PartToolResult, ToolCallID: "c2", ToolName: "g"},
			}},
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "thanks"}}},
			{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "late"}}},
		},
		Tools: []llm.Tool{
			{Name: "f", Description: "F.", Parameters: json.RawMessage(`{"type":"object"}`)},
			{Name: "g"},
		},
		ToolChoice:     &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "g", DisableParallel: true},
		Thinking:       &llm.Thinking{Effort: "medium"},
		MaxTokens:      100,
		Temperature:    &temp,
		Stop:           []string{"x", "y"},
		Stream:         true,
		ResponseFormat: json.RawMessage(`{"type":"json_object"}`),
		User:           "u",
	}
	body, err := Chat{}.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Chat{}.DecodeRequest(body)
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if !reflect.DeepEqual(got, req) {
		a, _ := json.Marshal(req)
		b, _ := json.Marshal(got)
		t.Fatalf("round trip changed the request\nwant %s\n got %s", a, b)
	}
	if !IncludeUsage(body) {
		t.Fatal("a streaming request does not ask for usage")
	}
}

func TestRoundTripResponse(t *testing.T) {
	resp := &llm.Response{
		ID:    "chatcmpl-1",
		Model: "m",
		Parts: []llm.Part{
			{Type: llm.PartThinking, Text: "hmm"},
			{Type: llm.PartText, Text: "ok <b> & \u2028 \x01"},
			{Type: llm.PartToolCall, ToolCallID: "c1", ToolName: "f", Arguments: `{"a":"b"}`},
		},
		StopReason: llm.StopToolUse,
		Usage:      llm.Usage{InputTokens: 10, CacheReadTokens: 90, OutputTokens: 30, ReasoningTokens: 20},
	}
	body, err := fixed.EncodeResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Chat{}.DecodeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, resp) {
		t.Fatalf("round trip changed the response\nwant %+v\n got %+v", resp, got)
	}
}

// streamEvents is a canonical stream with every kind of part.
func streamEvents() []llm.StreamEvent {
	return []llm.StreamEvent{
		{Type: llm.EventStart, ID: "chatcmpl-x", Model: "m"},
		{Type: llm.EventPartStart, Index: 0, Part: &llm.Part{Type: llm.PartThinking}},
		{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaThinking, Delta: "think"},
		{Type: llm.EventPartStop, Index: 0},
		{Type: llm.EventPartStart, Index: 1, Part: &llm.Part{Type: llm.PartText}},
		{Type: llm.EventDelta, Index: 1, Kind: llm.DeltaText, Delta: "Hello, "},
		{Type: llm.EventDelta, Index: 1, Kind: llm.DeltaText, Delta: "\"world\"\n"},
		{Type: llm.EventPartStop, Index: 1},
		{Type: llm.EventPartStart, Index: 2, Part: &llm.Part{Type: llm.PartToolCall, ToolCallID: "c1", ToolName: "f"}},
		{Type: llm.EventDelta, Index: 2, Kind: llm.DeltaArguments, Delta: `{"a":`},
		{Type: llm.EventDelta, Index: 2, Kind: llm.DeltaArguments, Delta: `1}`},
		{Type: llm.EventPartStop, Index: 2},
		{Type: llm.EventPartStart, Index: 3, Part: &llm.Part{Type: llm.PartToolCall, ToolCallID: "c2", ToolName: "g"}},
		{Type: llm.EventDelta, Index: 3, Kind: llm.DeltaArguments, Delta: `{}`},
		{Type: llm.EventPartStop, Index: 3},
		{Type: llm.EventStop, StopReason: llm.StopToolUse, Usage: &llm.Usage{InputTokens: 5, CacheReadTokens: 7, OutputTokens: 9, ReasoningTokens: 3}},
	}
}

func TestRoundTripStream(t *testing.T) {
	want := streamEvents()
	var buf bytes.Buffer
	enc := fixed.NewStreamEncoder(&buf)
	for _, ev := range want {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	got, finished, done := decodeAll(t, buf.Bytes())
	if !done || len(finished) != 0 {
		t.Fatalf("done %v, Finish added %v", done, finished)
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		t.Fatalf("round trip changed the stream\nwant %s\n got %s", a, b)
	}
}

func TestStreamEncoder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []llm.StreamEvent
		usage  bool
		want   string
	}{
		{"error before start", []llm.StreamEvent{
			{Type: llm.EventError, Err: llm.Errorf(llm.ErrRateLimit, "slow down")},
			{Type: llm.EventStop},
		}, true, "data: {\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}\n\n"},
		{"nothing after stop", []llm.StreamEvent{
			{Type: llm.EventStart, ID: "chatcmpl-1", Model: "m"},
			{Type: llm.EventStop, StopReason: llm.StopMaxTokens},
			{Type: llm.EventPartStart, Index: 0, Part: &llm.Part{Type: llm.PartText}},
			{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaText, Delta: "late"},
		}, false, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
			"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n" +
			"data: [DONE]\n\n"},
		{"usage from a usage event", []llm.StreamEvent{
			{Type: llm.EventStart, ID: "chatcmpl-1", Model: "m"},
			{Type: llm.EventUsage, Usage: &llm.Usage{InputTokens: 3, OutputTokens: 4}},
			{Type: llm.EventStop, StopReason: llm.StopEndTurn},
		}, true, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
			"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
			"data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n" +
			"data: [DONE]\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := fixed.NewChatStreamEncoder(&buf, tc.usage)
			for _, ev := range tc.events {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			if buf.String() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", buf.String(), tc.want)
			}
		})
	}
	t.Run("arguments for an unknown part", func(t *testing.T) {
		enc := fixed.NewStreamEncoder(io.Discard)
		err := enc.Encode(llm.StreamEvent{Type: llm.EventDelta, Index: 4, Kind: llm.DeltaArguments, Delta: "{}"})
		if err == nil || !strings.Contains(err.Error(), "part 4 is not a tool call") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("write error", func(t *testing.T) {
		enc := fixed.NewStreamEncoder(failWriter{})
		err := enc.Encode(llm.StreamEvent{Type: llm.EventStart})
		if !errors.Is(err, errBroken) {
			t.Fatalf("err = %v, want it to wrap the writer's error", err)
		}
	})
}

var errBroken = errors.New("broken pipe")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

// chunk builds one SSE event of a Chat Completions stream.
func chunk(data string) sse.Event { return sse.Event{Data: []byte(data)} }

func TestStreamDecoderTolerance(t *testing.T) {
	start := `{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`
	for _, tc := range []struct {
		name     string
		events   []sse.Event
		want     string // the events as JSON lines
		wantDone bool
	}{
		{"ids and names only on the first delta", []sse.Event{
			chunk(start),
			chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`),
			chunk(`[DONE]`),
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"part_start","index":0,"part":{"type":"tool_call","tool_call_id":"call_a","tool_name":"f"}}
{"type":"delta","index":0,"kind":"arguments","delta":"{}"}
{"type":"part_stop","index":0}
{"type":"stop","index":0,"stop_reason":"tool_use"}
`, true},
		{"tool calls without index", []sse.Event{
			chunk(start),
			chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_a","function":{"name":"f","arguments":"{}"}},{"id":"call_b","function":{"name":"g","arguments":"{\"x\":"}}]}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"1}"}}]}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`),
			chunk(`[DONE]`),
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"part_start","index":0,"part":{"type":"tool_call","tool_call_id":"call_a","tool_name":"f"}}
{"type":"delta","index":0,"kind":"arguments","delta":"{}"}
{"type":"part_stop","index":0}
{"type":"part_start","index":1,"part":{"type":"tool_call","tool_call_id":"call_b","tool_name":"g"}}
{"type":"delta","index":1,"kind":"arguments","delta":"{\"x\":"}
{"type":"delta","index":1,"kind":"arguments","delta":"1}"}
{"type":"part_stop","index":1}
{"type":"stop","index":0,"stop_reason":"tool_use"}
`, true},
		{"finish_reason on a content chunk, usage there too (Groq)", []sse.Event{
			chunk(start),
			chunk(`{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":7,"completion_tokens":1}}}`),
			chunk(`[DONE]`),
			chunk(`{"choices":[{"index":0,"delta":{"content":"after done"}}]}`),
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"part_start","index":0,"part":{"type":"text"}}
{"type":"delta","index":0,"kind":"text","delta":"hi"}
{"type":"usage","index":0,"usage":{"input_tokens":7,"output_tokens":1}}
{"type":"part_stop","index":0}
{"type":"stop","index":0,"stop_reason":"end_turn","usage":{"input_tokens":7,"output_tokens":1}}
`, true},
		{"refusal", []sse.Event{
			chunk(`{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":"I can't help with that."}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`),
			chunk(`[DONE]`),
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"part_start","index":0,"part":{"type":"text"}}
{"type":"delta","index":0,"kind":"text","delta":"I can't help with that."}
{"type":"part_stop","index":0}
{"type":"stop","index":0,"stop_reason":"refusal"}
`, true},
		{"text after a tool call opens a new text part", []sse.Event{
			chunk(`{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{}"}}]}}]}`),
			chunk(`{"choices":[{"index":0,"delta":{"content":"b"}}]}`),
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"part_start","index":0,"part":{"type":"text"}}
{"type":"delta","index":0,"kind":"text","delta":"a"}
{"type":"part_stop","index":0}
{"type":"part_start","index":1,"part":{"type":"tool_call","tool_call_id":"t","tool_name":"f"}}
{"type":"delta","index":1,"kind":"arguments","delta":"{}"}
{"type":"part_stop","index":1}
{"type":"part_start","index":2,"part":{"type":"text"}}
{"type":"delta","index":2,"kind":"text","delta":"b"}
`, false},
		{"event: error", []sse.Event{
			chunk(start),
			{Name: "error", Data: []byte(`{"message":"upstream overloaded","type":"overloaded_error"}`)},
		}, `{"type":"start","id":"c","model":"m","index":0}
{"type":"error","index":0,"error":{"kind":"overloaded","status":503,"message":"upstream overloaded"}}
`, false},
		{"error as a string", []sse.Event{
			chunk(`{"error":"model crashed"}`),
		}, `{"type":"error","index":0,"error":{"kind":"server","status":502,"message":"model crashed"}}
`, false},
		{"done without chunks", []sse.Event{chunk(`[DONE]`)}, `{"type":"start","index":0}
{"type":"stop","index":0,"stop_reason":"end_turn"}
`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := Chat{}.NewStreamDecoder()
			var evs []llm.StreamEvent
			var err error
			for _, ev := range tc.events {
				if evs, err = dec.Decode(ev, evs); err != nil {
					t.Fatal(err)
				}
			}
			var got strings.Builder
			for _, ev := range evs {
				b, _ := json.Marshal(ev)
				got.Write(b)
				got.WriteByte('\n')
			}
			if got.String() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got.String(), tc.want)
			}
			if dec.Done() != tc.wantDone {
				t.Fatalf("Done() = %v, want %v", dec.Done(), tc.wantDone)
			}
		})
	}
	t.Run("malformed chunk", func(t *testing.T) {
		_, err := Chat{}.NewStreamDecoder().Decode(chunk(`{"choices":[`), nil)
		var le *llm.Error
		if !errors.As(err, &le) || le.Kind != llm.ErrServer {
			t.Fatalf("err = %v, want a server *llm.Error", err)
		}
	})
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" back \\ slash", "\n\r\t\b\f\x00\x1f\x7f", "<html> & é 日本 \u2028\u2029", "bad \xff utf8 \xe2\x82", "emoji 🎉"} {
		t.Run(s, func(t *testing.T) {
			want, err := marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString(nil, s); string(got) != string(want) {
				t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\n\x00\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83c\udf89"`, `"\ud800x"`, `"\udc00\ud800\ud800"`, "\"bad \xff\"", `"\u12"`, `"\q"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := unquote(b)
		var want string
		err := json.Unmarshal(b, &want)
		if ok && err == nil && got != want {
			t.Fatalf("unquote(%q) = %q, json.Unmarshal gives %q", b, got, want)
		}
		// UnmarshalJSON gets literals without surrounding space.
		if !ok && err == nil && len(b) > 1 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
			t.Fatalf("unquote refused %q, which json.Unmarshal reads", b)
		}
	})
}

// FuzzStreamDecode feeds arbitrary chunks to the decoder: it must not
// panic, its errors are *llm.Error, and its events follow the grammar.
func FuzzStreamDecode(f *testing.F) {
	for _, name := range []string{"openai_parallel_tools", "vllm_reasoning", "ollama_no_usage", "midstream_error"} {
		b, err := os.ReadFile("testdata/outbound_stream/" + name + ".sse")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := Chat{}.NewStreamDecoder().(*StreamDecoder)
		var evs []llm.StreamEvent
		for _, data := range bytes.Split(body, []byte("\n\n")) {
			data = bytes.TrimPrefix(data, []byte("data: "))
			var err error
			if evs, err = dec.Decode(sse.Event{Data: data}, evs); err != nil {
				var le *llm.Error
				if !errors.As(err, &le) {
					t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
				}
				return
			}
		}
		evs = dec.Finish(evs)
		checkGrammar(t, evs, dec.Done())
	})
}
