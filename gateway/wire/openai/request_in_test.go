package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

func TestRegistered(t *testing.T) {
	in, ok := wire.InboundFor(llm.APIOpenAIChat)
	if !ok {
		t.Fatal("no inbound codec registered for openai.chat")
	}
	if _, ok := in.(Chat); !ok {
		t.Fatalf("inbound codec is %T, want Chat", in)
	}
	out, ok := wire.OutboundFor(llm.APIOpenAIChat)
	if !ok {
		t.Fatal("no outbound codec registered for openai.chat")
	}
	if _, ok := out.(Chat); !ok {
		t.Fatalf("outbound codec is %T, want Chat", out)
	}
}

func TestPeek(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       wire.Peek
		wantErr    string
	}{
		{"minimal", `{"model":"gpt-4o","messages":[]}`, wire.Peek{Model: "gpt-4o"}, ""},
		{"all", `{"stream":true,"user":"u1","tools":[ {"type":"function"} ],"model":"m"}`,
			wire.Peek{Model: "m", Stream: true, User: "u1", HasTools: true}, ""},
		{"empty tools", `{"model":"m","tools":[ ]}`, wire.Peek{Model: "m"}, ""},
		{"legacy functions", `{"model":"m","functions":[{"name":"f"}]}`, wire.Peek{Model: "m", HasTools: true}, ""},
		{"null stream", `{"model":"m","stream":null}`, wire.Peek{Model: "m"}, ""},
		{"no model", `{"messages":[]}`, wire.Peek{}, "model: required"},
		{"empty model", `{"model":""}`, wire.Peek{}, "model: must not be empty"},
		{"model not a string", `{"model":4}`, wire.Peek{}, "model: expected a string, got a number"},
		{"stream not a bool", `{"model":"m","stream":"yes"}`, wire.Peek{}, "stream: expected a boolean, got a string"},
		{"duplicate model", `{"model":"cheap","model":"expensive"}`, wire.Peek{}, "model: the member appears twice"},
		{"escaped member name", `{"model":"cheap","mod\u0065l":"expensive"}`, wire.Peek{}, "has escape sequences"},
		{"not an object", `[1]`, wire.Peek{}, "request body:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Chat{}.Peek([]byte(tc.body))
			if tc.wantErr != "" {
				checkInvalid(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// checkInvalid checks that err is an invalid-request *llm.Error whose
// message contains want.
func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	var le *llm.Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if le.Kind != llm.ErrInvalidRequest || le.Status != 400 {
		t.Fatalf("kind %s status %d, want invalid_request 400", le.Kind, le.Status)
	}
	if !strings.Contains(le.Message, want) {
		t.Fatalf("message %q does not contain %q", le.Message, want)
	}
}

// request builds a request body from a base with members replaced:
// a nil value removes the member.
func request(t *testing.T, members map[string]any) string {
	t.Helper()
	body := map[string]any{
		"model":    "gpt-4o",
		"messages": []any{map[string]any{"role": "user", "content": "hi"}},
	}
	for k, v := range members {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type obj = map[string]any
type arr = []any

var weatherTool = obj{"type": "function", "function": obj{"name": "get_weather", "parameters": obj{"type": "object"}}}

func call(id string) obj {
	return obj{"id": id, "type": "function", "function": obj{"name": "get_weather", "arguments": "{}"}}
}

func TestDecodeRequestErrors(t *testing.T) {
	user := obj{"role": "user", "content": "hi"}
	for _, tc := range []struct {
		name      string
		members   map[string]any
		raw       string // used instead of members if set
		wantParam string
		wantMsg   string
	}{
		{name: "malformed json", raw: `{"model":"m",`, wantMsg: "not valid JSON"},
		{name: "no messages", members: obj{"messages": nil}, wantParam: "messages", wantMsg: "required"},
		{name: "messages not an array", members: obj{"messages": "hi"}, wantParam: "messages", wantMsg: "expected an array, got a string"},
		{name: "empty messages", members: obj{"messages": arr{}}, wantParam: "messages", wantMsg: "at least one message"},
		{name: "message not an object", members: obj{"messages": arr{"hi"}}, wantParam: "messages[0]", wantMsg: "expected an object"},
		{name: "no role", members: obj{"messages": arr{obj{"content": "hi"}}}, wantParam: "messages[0].role", wantMsg: "required"},
		{name: "unknown role", members: obj{"messages": arr{user, obj{"role": "bot", "content": "x"}}}, wantParam: "messages[1].role", wantMsg: `unknown role "bot"`},
		{name: "user content missing", members: obj{"messages": arr{obj{"role": "user"}}}, wantParam: "messages[0].content", wantMsg: "required for a user message"},
		{name: "user content number", members: obj{"messages": arr{obj{"role": "user", "content": 4}}}, wantParam: "messages[0].content", wantMsg: "expected a string or an array of content parts, got a number"},
		{name: "empty parts", members: obj{"messages": arr{obj{"role": "user", "content": arr{}}}}, wantParam: "messages[0].content", wantMsg: "the array is empty"},
		{name: "unknown part type", members: obj{"messages": arr{obj{"role": "user", "content": arr{obj{"type": "video"}}}}}, wantParam: "messages[0].content[0].type", wantMsg: `"video" parts are not allowed in a user message`},
		{name: "audio part", members: obj{"messages": arr{obj{"role": "user", "content": arr{obj{"type": "input_audio", "input_audio": obj{}}}}}}, wantParam: "messages[0].content[0].type", wantMsg: "input_audio parts are not supported"},
		{name: "image in system", members: obj{"messages": arr{obj{"role": "system", "content": arr{obj{"type": "image_url", "image_url": obj{"url": "https://x"}}}}}}, wantParam: "messages[0].content[0].type", wantMsg: "send text parts"},
		{name: "text part without text", members: obj{"messages": arr{obj{"role": "user", "content": arr{obj{"type": "text"}}}}}, wantParam: "messages[0].content[0].text", wantMsg: "expected a string, got nothing"},
		{name: "empty image url", members: obj{"messages": arr{obj{"role": "user", "content": arr{obj{"type": "image_url", "image_url": obj{"url": ""}}}}}}, wantParam: "messages[0].content[0].image_url.url", wantMsg: "must not be empty"},
		{name: "data url not base64", members: obj{"messages": arr{obj{"role": "user", "content": arr{obj{"type": "image_url", "image_url": obj{"url": "data:image/svg+xml,<svg/>"}}}}}}, wantParam: "messages[0].content[0].image_url.url", wantMsg: "must be base64"},
		{name: "empty assistant", members: obj{"messages": arr{user, obj{"role": "assistant"}}}, wantParam: "messages[1].content", wantMsg: "needs content or tool_calls"},
		{name: "tool call without id", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{obj{"type": "function", "function": obj{"name": "f", "arguments": "{}"}}}}}}, wantParam: "messages[1].tool_calls[0].id", wantMsg: "required"},
		{name: "custom tool call", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{obj{"id": "c", "type": "custom", "custom": obj{}}}}}}, wantParam: "messages[1].tool_calls[0].type", wantMsg: `type "custom" are not supported`},
		{name: "duplicate tool call id", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1"), call("c1")}}}}, wantParam: "messages[1].tool_calls[1].id", wantMsg: "used twice"},
		{name: "tool message first", members: obj{"messages": arr{obj{"role": "tool", "tool_call_id": "c1", "content": "x"}}}, wantParam: "messages[0].role", wantMsg: "must answer the tool_calls"},
		{name: "tool message after user", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1")}}, obj{"role": "tool", "tool_call_id": "c1", "content": "x"}, user, obj{"role": "tool", "tool_call_id": "c1", "content": "x"}}}, wantParam: "messages[4].role", wantMsg: "must answer the tool_calls"},
		{name: "tool message without id", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1")}}, obj{"role": "tool", "content": "x"}}}, wantParam: "messages[2].tool_call_id", wantMsg: "required"},
		{name: "tool message unknown id", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1")}}, obj{"role": "tool", "tool_call_id": "c9", "content": "x"}}}, wantParam: "messages[2].tool_call_id", wantMsg: `"c9" is not the id of a tool call in messages[1]; use one of c1`},
		{name: "unanswered tool call", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1"), call("c2")}}, obj{"role": "tool", "tool_call_id": "c1", "content": "x"}, user}}, wantParam: "messages[1].tool_calls", wantMsg: "no tool message answers c2"},
		{name: "unanswered tool call at end", members: obj{"messages": arr{user, obj{"role": "assistant", "tool_calls": arr{call("c1")}}}}, wantParam: "messages[1].tool_calls", wantMsg: "no tool message answers c1"},
		{name: "function message without call", members: obj{"messages": arr{user, obj{"role": "function", "name": "f", "content": "x"}}}, wantParam: "messages[1].role", wantMsg: "must answer the function_call"},
		{name: "n above one", members: obj{"n": 2}, wantParam: "n", wantMsg: "only one choice per request is supported"},
		{name: "n zero", members: obj{"n": 0}, wantParam: "n", wantMsg: "out of range"},
		{name: "stream not bool", members: obj{"stream": 1}, wantParam: "stream", wantMsg: "expected a boolean"},
		{name: "stream_options without stream", members: obj{"stream_options": obj{"include_usage": true}}, wantParam: "stream_options", wantMsg: "only allowed when stream is true"},
		{name: "include_usage not bool", members: obj{"stream": true, "stream_options": obj{"include_usage": "yes"}}, wantParam: "stream_options.include_usage", wantMsg: "expected a boolean"},
		{name: "max_tokens zero", members: obj{"max_tokens": 0}, wantParam: "max_tokens", wantMsg: "out of range"},
		{name: "max_completion_tokens fraction", members: obj{"max_completion_tokens": 1.5}, wantParam: "max_completion_tokens", wantMsg: "expected an integer"},
		{name: "temperature too high", members: obj{"temperature": 2.5}, wantParam: "temperature", wantMsg: "2.5 is out of range; use a number from 0 to 2"},
		{name: "top_p string", members: obj{"top_p": "1"}, wantParam: "top_p", wantMsg: "expected a number, got a string"},
		{name: "too many stops", members: obj{"stop": arr{"a", "b", "c", "d", "e"}}, wantParam: "stop", wantMsg: "use at most 4"},
		{name: "stop not strings", members: obj{"stop": arr{"a", 1}}, wantParam: "stop[1]", wantMsg: "expected a string"},
		{name: "stop object", members: obj{"stop": obj{}}, wantParam: "stop", wantMsg: "expected a string or an array of strings"},
		{name: "empty reasoning effort", members: obj{"reasoning_effort": ""}, wantParam: "reasoning_effort", wantMsg: "must not be empty"},
		{name: "unknown response format", members: obj{"response_format": obj{"type": "xml"}}, wantParam: "response_format.type", wantMsg: `unknown type "xml"`},
		{name: "tools not array", members: obj{"tools": obj{}}, wantParam: "tools", wantMsg: "expected an array"},
		{name: "web search tool", members: obj{"tools": arr{obj{"type": "web_search_preview"}}}, wantParam: "tools[0].type", wantMsg: `tools of type "web_search_preview" are not supported`},
		{name: "tool without function", members: obj{"tools": arr{obj{"type": "function"}}}, wantParam: "tools[0].function", wantMsg: "required"},
		{name: "tool name with dot", members: obj{"tools": arr{obj{"type": "function", "function": obj{"name": "fs.read"}}}}, wantParam: "tools[0].function.name", wantMsg: "only letters, digits"},
		{name: "tool name too long", members: obj{"tools": arr{obj{"type": "function", "function": obj{"name": strings.Repeat("a", 65)}}}}, wantParam: "tools[0].function.name", wantMsg: "1 to 64 characters"},
		{name: "duplicate tool name", members: obj{"tools": arr{weatherTool, weatherTool}}, wantParam: "tools[1].function.name", wantMsg: "already the name of tools[0].function"},
		{name: "parameters not object", members: obj{"tools": arr{obj{"type": "function", "function": obj{"name": "f", "parameters": "{}"}}}}, wantParam: "tools[0].function.parameters", wantMsg: "expected a JSON Schema object"},
		{name: "unknown tool_choice", members: obj{"tools": arr{weatherTool}, "tool_choice": "any"}, wantParam: "tool_choice", wantMsg: `unknown value "any"`},
		{name: "required without tools", members: obj{"tool_choice": "required"}, wantParam: "tool_choice", wantMsg: "needs tools"},
		{name: "tool_choice unknown tool", members: obj{"tools": arr{weatherTool}, "tool_choice": obj{"type": "function", "function": obj{"name": "get_time"}}}, wantParam: "tool_choice.function.name", wantMsg: `no tool is named "get_time"`},
		{name: "allowed_tools choice", members: obj{"tools": arr{weatherTool}, "tool_choice": obj{"type": "allowed_tools"}}, wantParam: "tool_choice.type", wantMsg: "not supported"},
		{name: "legacy function_call unknown", members: obj{"functions": arr{obj{"name": "f"}}, "function_call": obj{"name": "g"}}, wantParam: "function_call.name", wantMsg: `no tool is named "g"`},
		{name: "parallel_tool_calls not bool", members: obj{"tools": arr{weatherTool}, "parallel_tool_calls": "no"}, wantParam: "parallel_tool_calls", wantMsg: "expected a boolean"},
		{name: "user not a string", members: obj{"user": 7}, wantParam: "user", wantMsg: "expected a string"},
		{name: "duplicate member", raw: `{"model":"m","messages":[],"messages":[]}`, wantParam: "messages", wantMsg: "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.raw
			if body == "" {
				body = request(t, tc.members)
			}
			_, err := Chat{}.DecodeRequest([]byte(body))
			checkInvalid(t, err, tc.wantMsg)
			var le *llm.Error
			errors.As(err, &le)
			if le.Param != tc.wantParam {
				t.Errorf("param %q, want %q", le.Param, tc.wantParam)
			}
			if tc.wantParam != "" && !strings.HasPrefix(le.Message, tc.wantParam+": ") {
				t.Errorf("message %q does not start with the field path", le.Message)
			}
		})
	}
}

func TestDecodeRequestRules(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name    string
		members map[string]any
		check   func(t *testing.T, r *llm.Request)
	}{
		{"max_completion_tokens wins", obj{"max_tokens": 10, "max_completion_tokens": 20}, func(t *testing.T, r *llm.Request) {
			if r.MaxTokens != 20 {
				t.Fatalf("MaxTokens = %d, want 20", r.MaxTokens)
			}
		}},
		{"stop string", obj{"stop": "END"}, func(t *testing.T, r *llm.Request) {
			if !reflect.DeepEqual(r.Stop, []string{"END"}) {
				t.Fatalf("Stop = %q", r.Stop)
			}
		}},
		{"sampling", obj{"temperature": 0, "top_p": 0.5}, func(t *testing.T, r *llm.Request) {
			if !reflect.DeepEqual(r.Temperature, f(0)) || !reflect.DeepEqual(r.TopP, f(0.5)) {
				t.Fatalf("Temperature %v TopP %v", r.Temperature, r.TopP)
			}
		}},
		{"parallel off without choice", obj{"tools": arr{weatherTool}, "parallel_tool_calls": false}, func(t *testing.T, r *llm.Request) {
			want := &llm.ToolChoice{Mode: llm.ToolChoiceAuto, DisableParallel: true}
			if !reflect.DeepEqual(r.ToolChoice, want) {
				t.Fatalf("ToolChoice = %+v, want %+v", r.ToolChoice, want)
			}
		}},
		{"choice without tools dropped", obj{"tool_choice": "none", "parallel_tool_calls": false}, func(t *testing.T, r *llm.Request) {
			if r.ToolChoice != nil {
				t.Fatalf("ToolChoice = %+v, want nil", r.ToolChoice)
			}
		}},
		{"required", obj{"tools": arr{weatherTool}, "tool_choice": "required"}, func(t *testing.T, r *llm.Request) {
			if r.ToolChoice == nil || r.ToolChoice.Mode != llm.ToolChoiceRequired {
				t.Fatalf("ToolChoice = %+v", r.ToolChoice)
			}
		}},
		{"unknown members ignored", obj{"seed": 1, "logit_bias": obj{}, "chat_template_kwargs": obj{"enable_thinking": false}}, func(t *testing.T, r *llm.Request) {
			if r.Model != "gpt-4o" || len(r.Messages) != 1 {
				t.Fatalf("got %+v", r)
			}
		}},
		{"system after the start stays in place", obj{"messages": arr{
			obj{"role": "developer", "content": "a"},
			obj{"role": "user", "content": "b"},
			obj{"role": "system", "content": "c"},
		}}, func(t *testing.T, r *llm.Request) {
			if len(r.System) != 1 || r.System[0].Text != "a" {
				t.Fatalf("System = %+v", r.System)
			}
			if len(r.Messages) != 2 || r.Messages[1].Role != llm.RoleSystem || r.Messages[1].Parts[0].Text != "c" {
				t.Fatalf("Messages = %+v", r.Messages)
			}
		}},
		{"empty tool result", obj{"messages": arr{
			obj{"role": "user", "content": "b"},
			obj{"role": "assistant", "content": nil, "tool_calls": arr{call("c1")}},
			obj{"role": "tool", "tool_call_id": "c1", "content": ""},
		}}, func(t *testing.T, r *llm.Request) {
			got := r.Messages[2].Parts
			want := []llm.Part{{Type: llm.PartToolResult, ToolCallID: "c1", ToolName: "get_weather"}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parts = %+v, want %+v", got, want)
			}
		}},
		{"arguments as object", obj{"messages": arr{
			obj{"role": "user", "content": "b"},
			obj{"role": "assistant", "tool_calls": arr{obj{"id": "c1", "type": "function", "function": obj{"name": "f", "arguments": obj{"a": 1}}}}},
			obj{"role": "tool", "tool_call_id": "c1", "content": "ok"},
		}}, func(t *testing.T, r *llm.Request) {
			if got := r.Messages[1].Parts[0].Arguments; got != `{"a":1}` {
				t.Fatalf("Arguments = %q", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Chat{}.DecodeRequest([]byte(request(t, tc.members)))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

func TestIncludeUsage(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"asked", `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, true},
		{"off", `{"stream_options":{"include_usage":false}}`, false},
		{"null", `{"stream_options":null}`, false},
		{"absent", `{"model":"m"}`, false},
		{"nested elsewhere", `{"metadata":{"stream_options":{"include_usage":true}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IncludeUsage([]byte(tc.body)); got != tc.want {
				t.Fatalf("IncludeUsage = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRewriteModel(t *testing.T) {
	got, err := Chat{}.RewriteModel([]byte(`{"model":"alias","messages":[{"role":"user","content":"model"}]}`), "gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"model":"gpt-4o","messages":[{"role":"user","content":"model"}]}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	_, err = Chat{}.RewriteModel([]byte(`{"model":"a","model":"b"}`), "c")
	checkInvalid(t, err, "appears twice")
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"s"}]},{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","parallel_tool_calls":false,"stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"stop":"x","reasoning_effort":"low"}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"w"},{"role":"assistant","function_call":{"name":"f","arguments":"{}"}},{"role":"function","name":"f","content":"r"}],"functions":[{"name":"f"}],"function_call":{"name":"f"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Chat{}.DecodeRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || le.Message == "" {
				t.Fatalf("error %v (%T) is not an invalid-request *llm.Error", err, err)
			}
			return
		}
		if _, err := (Chat{}).Peek(body); err != nil {
			t.Fatalf("DecodeRequest accepts what Peek refuses: %v", err)
		}
		// What decodes re-encodes, and decodes again to the same request,
		// less the thinking that cannot be sent.
		wire, err := Chat{}.EncodeRequest(req)
		if err != nil {
			t.Fatalf("encode decoded request: %v", err)
		}
		again, err := Chat{}.DecodeRequest(wire)
		if err != nil {
			t.Fatalf("decode re-encoded request %s: %v", wire, err)
		}
		want := withoutThinking(req)
		if req.Stream {
			want.Stream = true
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("round trip changed the request\n was: %s\n now: %s", a, b)
		}
	})
}

// withoutThinking returns a copy of r without thinking parts.
func withoutThinking(r *llm.Request) *llm.Request {
	c := *r
	c.Messages = nil
	for _, m := range r.Messages {
		var parts []llm.Part
		for _, p := range m.Parts {
			if p.Type != llm.PartThinking {
				parts = append(parts, p)
			}
		}
		if parts == nil {
			parts = []llm.Part{}
		}
		c.Messages = append(c.Messages, llm.Message{Role: m.Role, Parts: parts})
	}
	return &c
}
