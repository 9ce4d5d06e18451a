package anthropic

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
)

// wrap builds a valid request around one message's content.
func wrap(content string) string {
	return `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"ok"},{"role":"user","content":` + content + `}]}`
}

func TestDecodeRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, param, msg string
	}{
		{"not JSON", `{"model":`, "", "request body is not valid JSON"},
		{"not an object", `[1,2]`, "", "request body: expected an object, got an array"},
		{"model missing", `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "model", "model: field required"},
		{"model not a string", `{"model":7,"max_tokens":10,"messages":[]}`, "model", "model: expected a string, got a number"},
		{"max_tokens missing", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "max_tokens", "max_tokens: field required"},
		{"max_tokens zero", `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens", "max_tokens: must be at least 1, got 0"},
		{"max_tokens fraction", `{"model":"m","max_tokens":10.5,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens", "max_tokens: expected an integer, got 10.5"},
		{"max_tokens string", `{"model":"m","max_tokens":"10","messages":[{"role":"user","content":"hi"}]}`, "max_tokens", "max_tokens: expected an integer, got a string"},
		{"max_tokens huge", `{"model":"m","max_tokens":99999999999,"messages":[{"role":"user","content":"hi"}]}`, "max_tokens", "max_tokens: 99999999999 is out of range"},
		{"messages missing", `{"model":"m","max_tokens":10}`, "messages", "messages: field required"},
		{"messages empty", `{"model":"m","max_tokens":10,"messages":[]}`, "messages", "messages: at least one message is required"},
		{"messages not an array", `{"model":"m","max_tokens":10,"messages":{}}`, "messages", "messages: expected an array, got an object"},
		{"message not an object", `{"model":"m","max_tokens":10,"messages":["hi"]}`, "messages.0", "messages.0: expected an object, got a string"},
		{"role missing", `{"model":"m","max_tokens":10,"messages":[{"content":"hi"}]}`, "messages.0.role", "messages.0.role: field required"},
		{"role system", `{"model":"m","max_tokens":10,"messages":[{"role":"system","content":"hi"}]}`, "messages.0.role", `messages.0.role: unknown role "system"; expected user or assistant`},
		{"content missing", `{"model":"m","max_tokens":10,"messages":[{"role":"user"}]}`, "messages.0.content", "messages.0.content: field required"},
		{"content number", wrap(`5`), "messages.2.content", "messages.2.content: expected a string or an array of content blocks, got a number"},
		{"block type unknown", wrap(`[{"type":"text","text":"a"},{"type":"foo"}]`), "messages.2.content.1.type", `messages.2.content.1.type: unknown content block type "foo"; expected one of text, image, tool_use, tool_result, thinking, redacted_thinking`},
		{"block type missing", wrap(`[{"text":"a"}]`), "messages.2.content.0.type", "messages.2.content.0.type: field required"},
		{"block not an object", wrap(`["a"]`), "messages.2.content.0", "messages.2.content.0: expected an object, got a string"},
		{"text missing", wrap(`[{"type":"text"}]`), "messages.2.content.0.text", "messages.2.content.0.text: field required"},
		{"text wrong type", wrap(`[{"type":"text","text":["a"]}]`), "messages.2.content.0.text", "messages.2.content.0.text: expected a string, got an array"},
		{"is_error not a boolean", wrap(`[{"type":"tool_result","tool_use_id":"t","is_error":"no"}]`), "messages.2.content.0.is_error", "messages.2.content.0.is_error: expected a boolean, got a string"},
		{"cache_control not an object", wrap(`[{"type":"text","text":"a","cache_control":"ephemeral"}]`), "messages.2.content.0.cache_control", "messages.2.content.0.cache_control: expected an object, got a string"},
		{"duplicate member, last wins", wrap(`[{"type":"text","type":"foo","text":"a"}]`), "messages.2.content.0.type", `unknown content block type "foo"`},
		{"escaped key", `{"mod\u0065l":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tex\u0074"}]}]}`, "messages.0.content.0.text", "messages.0.content.0.text: field required"},
		{"trailing data", `{"model":"m"} {}`, "", "request body is not valid JSON: data after the top-level value at byte 14"},
		{"bad escape", `{"model":"\x"}`, "", "request body is not valid JSON: invalid character 'x' in string escape code at byte 11"},
		{"image without source", wrap(`[{"type":"image"}]`), "messages.2.content.0.source", "messages.2.content.0.source: field required"},
		{"image base64 without data", wrap(`[{"type":"image","source":{"type":"base64","media_type":"image/png"}}]`), "messages.2.content.0.source.data", "messages.2.content.0.source.data: field required"},
		{"image source unknown", wrap(`[{"type":"image","source":{"type":"s3"}}]`), "messages.2.content.0.source.type", `unknown image source type "s3"; expected base64 or url`},
		{"image file source", wrap(`[{"type":"image","source":{"type":"file","file_id":"file_011"}}]`), "messages.2.content.0.source", `messages.2.content.0.source: image source type "file" cannot be translated`},
		{"tool_use without id", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`, "messages.0.content.0.id", "messages.0.content.0.id: field required"},
		{"tool_use input not object", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"x"}]}]}`, "messages.0.content.0.input", "messages.0.content.0.input: expected an object, got a string"},
		{"tool_use input missing", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f"}]}]}`, "messages.0.content.0.input", "messages.0.content.0.input: field required"},
		{"tool_result without id", wrap(`[{"type":"tool_result","content":"x"}]`), "messages.2.content.0.tool_use_id", "messages.2.content.0.tool_use_id: field required"},
		{"tool_result nested unknown", wrap(`[{"type":"tool_result","tool_use_id":"t","content":[{"type":"tool_use"}]}]`), "messages.2.content.0.content.0.type", `content block type "tool_use" is not allowed in tool_result content`},
		{"tool_result nested document", wrap(`[{"type":"tool_result","tool_use_id":"t","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]`), "messages.2.content.0.content.0", `content block type "document" cannot be translated`},
		{"tool_result content number", wrap(`[{"type":"tool_result","tool_use_id":"t","content":3}]`), "messages.2.content.0.content", "messages.2.content.0.content: expected a string or an array of content blocks, got a number"},
		{"thinking without text", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"thinking","signature":"s"}]}]}`, "messages.0.content.0.thinking", "messages.0.content.0.thinking: field required"},
		{"redacted without data", `{"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":[{"type":"redacted_thinking"}]}]}`, "messages.0.content.0.data", "messages.0.content.0.data: field required"},
		{"document block", wrap(`[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]`), "messages.2.content.0", `messages.2.content.0: content block type "document" cannot be translated to another provider's format; send this request to an Anthropic model`},
		{"search_result with string source", wrap(`[{"type":"search_result","source":"https://x","title":"t","content":[{"type":"text","text":"a"}]}]`), "messages.2.content.0", `content block type "search_result" cannot be translated`},
		{"container_upload", wrap(`[{"type":"container_upload","file_id":"file_1"}]`), "messages.2.content.0", `content block type "container_upload" cannot be translated`},
		{"server_tool_use in history", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}}]}]}`, "messages.1.content.0", `content block type "server_tool_use" cannot be translated`},
		{"system wrong block", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"system":[{"type":"image"}]}`, "system.0.type", `system.0.type: system blocks must be of type text, got "image"`},
		{"system number", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"system":1}`, "system", "system: expected a string or an array of text blocks, got a number"},
		{"server tool", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search","max_uses":5}]}`, "tools.1", `tools.1: tool type "web_search_20250305" cannot be translated to another provider's format`},
		{"server tool with odd member", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"bash_20250124","name":"bash","description":{"x":1}}]}`, "tools.0", `tool type "bash_20250124" cannot be translated`},
		{"tool without name", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"input_schema":{"type":"object"}}]}`, "tools.0.name", "tools.0.name: field required"},
		{"tool without schema", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f"}]}`, "tools.0.input_schema", "tools.0.input_schema: field required"},
		{"tool schema array", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":[]}]}`, "tools.0.input_schema", "tools.0.input_schema: expected an object, got an array"},
		{"tool_choice unknown", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"required"}}`, "tool_choice.type", `tool_choice.type: unknown type "required"; expected auto, any, tool or none`},
		{"tool_choice tool without name", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"tool"}}`, "tool_choice.name", "tool_choice.name: field required"},
		{"tool_choice parallel not bool", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tool_choice":{"type":"auto","disable_parallel_tool_use":"yes"}}`, "tool_choice.disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use: expected a boolean, got a string"},
		{"thinking unknown", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"on"}}`, "thinking.type", `thinking.type: unknown type "on"; expected enabled, adaptive or disabled`},
		{"thinking without budget", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled"}}`, "thinking.budget_tokens", "thinking.budget_tokens: field required"},
		{"thinking negative budget", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"thinking":{"type":"enabled","budget_tokens":-5}}`, "thinking.budget_tokens", "thinking.budget_tokens: must be at least 1, got -5"},
		{"temperature string", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}`, "temperature", "temperature: expected a number, got a string"},
		{"stream string", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stream":"true"}`, "stream", "stream: expected a boolean, got a string"},
		{"user_id object", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":{"session_id":"x"}}}`, "metadata.user_id", "metadata.user_id: expected a string, got an object"},
		{"stop_sequences not strings", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stop_sequences":["a",1]}`, "stop_sequences.1", "stop_sequences.1: expected a string, got a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Codec{}.DecodeRequest([]byte(tc.body))
			if err == nil {
				t.Fatalf("no error; decoded %+v", req)
			}
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not *llm.Error: %v", err, err)
			}
			if le.Kind != llm.ErrInvalidRequest || le.Status != 400 {
				t.Errorf("kind %s status %d, want invalid_request 400", le.Kind, le.Status)
			}
			if le.Param != tc.param {
				t.Errorf("param %q, want %q (message %q)", le.Param, tc.param, le.Message)
			}
			if !strings.Contains(le.Message, tc.msg) {
				t.Errorf("message %q\ndoes not contain %q", le.Message, tc.msg)
			}
		})
	}
}

// TestDecodeRequestIgnoresUnknownMembers: members the canonical form has no
// place for, at the top level and inside blocks, are not errors.
func TestDecodeRequestIgnoresUnknownMembers(t *testing.T) {
	body := `{"model":"m","max_tokens":10,"top_k":5,"service_tier":"auto","container":"c_1","mcp_servers":[{"type":"url","url":"https://x"}],
		"context_management":{"edits":[]},"output_config":{"effort":"high"},"thinking":{"type":"disabled"},
		"messages":[{"role":"user","content":[{"type":"text","text":"hi","citations":[{"type":"char_location"}]}]}]}`
	req, err := Codec{}.DecodeRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if req.Thinking != nil || len(req.Messages) != 1 || req.Messages[0].Parts[0].Text != "hi" {
		t.Errorf("decoded %+v", req)
	}
}
