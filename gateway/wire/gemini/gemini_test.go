package gemini

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	c, ok := wire.OutboundFor(llm.APIGemini)
	if !ok {
		t.Fatal("no outbound codec registered for gemini")
	}
	if _, isGemini := c.(Codec); !isGemini || c.API() != llm.APIGemini {
		t.Fatalf("registered %T with API %q", c, c.API())
	}
}

// encodeMap encodes req and decodes the body generically.
func encodeMap(t *testing.T, req *llm.Request) map[string]any {
	t.Helper()
	body, err := Codec{}.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return m
}

// at walks m along path (object keys and array indexes as ints).
func at(t *testing.T, m any, path ...any) any {
	t.Helper()
	cur := m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			obj, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("path %v: %v is not an object", path, cur)
			}
			cur = obj[k]
		case int:
			arr, ok := cur.([]any)
			if !ok || k >= len(arr) {
				t.Fatalf("path %v: %v has no index %d", path, cur, k)
			}
			cur = arr[k]
		}
	}
	return cur
}

func TestEncodeToolTurn(t *testing.T) {
	t.Parallel()
	m := encodeMap(t, readRequest(t, "testdata/request/tool_turn.in.json"))
	for _, tc := range []struct {
		name string
		path []any
		want any
	}{
		{"model is not in the body", []any{"model"}, nil},
		{"system instruction", []any{"systemInstruction", "parts", 0, "text"}, "Use the tools."},
		{"roles alternate", []any{"contents", 1, "role"}, "model"},
		{"thinking sent as thought", []any{"contents", 1, "parts", 0, "thought"}, true},
		{"signature kept on its call", []any{"contents", 1, "parts", 2, "thoughtSignature"}, "CiQBcsjafFz1"},
		{"arguments compacted into args", []any{"contents", 1, "parts", 2, "functionCall", "args", "unit"}, "celsius"},
		{"call id sent", []any{"contents", 1, "parts", 3, "functionCall", "id"}, "call_abc_1"},
		{"redacted thinking dropped", []any{"contents", 1, "parts"}, 4},
		{"result finds its function name", []any{"contents", 2, "parts", 1, "functionResponse", "name"}, "get_weather"},
		{"result id", []any{"contents", 2, "parts", 1, "functionResponse", "id"}, "call_abc_1"},
		{"success as output", []any{"contents", 2, "parts", 0, "functionResponse", "response", "output"}, "18°C, cloudy"},
		{"failure as error", []any{"contents", 2, "parts", 1, "functionResponse", "response", "error"}, "weather service timed out"},
		{"empty arguments are an empty object", []any{"contents", 3, "parts", 0, "functionCall", "args"}, map[string]any{}},
		{"image of a result follows it", []any{"contents", 4, "parts", 1, "inlineData", "mimeType"}, "image/jpeg"},
		{"text after results", []any{"contents", 4, "parts", 2, "text"}, "Summarise it."},
		{"no-argument tool has no parameters", []any{"tools", 0, "functionDeclarations", 1, "parameters"}, nil},
		{"named tool choice", []any{"toolConfig", "functionCallingConfig", "allowedFunctionNames", 0}, "get_weather"},
		{"named tool choice mode", []any{"toolConfig", "functionCallingConfig", "mode"}, "ANY"},
		{"thinking budget", []any{"generationConfig", "thinkingConfig", "thinkingBudget"}, 2048.0},
		{"thoughts included", []any{"generationConfig", "thinkingConfig", "includeThoughts"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := at(t, m, tc.path...)
			if n, ok := tc.want.(int); ok {
				if arr, _ := got.([]any); len(arr) != n {
					t.Fatalf("%v has %d elements, want %d", tc.path, len(arr), n)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%v = %#v, want %#v", tc.path, got, tc.want)
			}
		})
	}
	if got := at(t, m, "contents"); len(got.([]any)) != 5 {
		t.Fatalf("contents has %d entries, want 5", len(got.([]any)))
	}
}

// forbidden are JSON Schema keywords the Gemini API rejects.
var forbidden = []string{"$schema", "$ref", "$defs", "additionalProperties", "uniqueItems", "exclusiveMinimum", "const", "oneOf", "allOf"}

func walkKeys(v any, fn func(key string, val any)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			fn(k, val)
			walkKeys(val, fn)
		}
	case []any:
		for _, val := range x {
			walkKeys(val, fn)
		}
	}
}

func TestSchemaConversion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"keeps supported keywords",
			`{"type":"string","title":"T","description":"D","minLength":1,"maxLength":9,"pattern":"^a","default":"a","example":"ab"}`,
			`{"default":"a","description":"D","example":"ab","maxLength":9,"minLength":1,"pattern":"^a","title":"T","type":"string"}`},
		{"drops unsupported keywords",
			`{"$schema":"x","$id":"y","type":"object","additionalProperties":false,"properties":{"a":{"type":"number","exclusiveMinimum":0,"multipleOf":2}},"patternProperties":{"^x":{}}}`,
			`{"properties":{"a":{"type":"number"}},"type":"object"}`},
		{"type list with null", `{"type":["integer","null"]}`, `{"nullable":true,"type":"integer"}`},
		{"type list of several", `{"type":["string","array"]}`, `{"anyOf":[{"type":"string"},{"items":{},"type":"array"}]}`},
		{"anyOf with null branch", `{"anyOf":[{"type":"string","maxLength":3},{"type":"null"}]}`, `{"maxLength":3,"nullable":true,"type":"string"}`},
		{"oneOf becomes anyOf", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `{"anyOf":[{"type":"string"},{"type":"integer"}]}`},
		{"allOf merged", `{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"integer"}},"required":["b"]}]}`,
			`{"properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a","b"],"type":"object"}`},
		{"$ref inlined, siblings win", `{"type":"object","properties":{"p":{"$ref":"#/definitions/P","description":"mine"}},"definitions":{"P":{"type":"object","description":"theirs","properties":{"n":{"type":"string"}}}}}`,
			`{"properties":{"p":{"description":"mine","properties":{"n":{"type":"string"}},"type":"object"}},"type":"object"}`},
		{"recursive $ref stops", `{"$ref":"#/$defs/N","$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}}}`, ""},
		{"const becomes enum", `{"const":"fast"}`, `{"enum":["fast"],"type":"string"}`},
		{"string enum keeps type", `{"type":"string","enum":["a","b"]}`, `{"enum":["a","b"],"type":"string"}`},
		{"integer enum moves to the description", `{"type":"integer","enum":[1,3],"description":"Days."}`, `{"description":"Days. Allowed values: 1, 3.","type":"integer"}`},
		{"unsupported string format dropped", `{"type":"string","format":"uri"}`, `{"type":"string"}`},
		{"date-time format kept", `{"type":"string","format":"date-time"}`, `{"format":"date-time","type":"string"}`},
		{"number format kept", `{"type":"number","format":"double"}`, `{"format":"double","type":"number"}`},
		{"integer format on a string dropped", `{"type":"string","format":"int64"}`, `{"type":"string"}`},
		{"required without property dropped", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","ghost","a"]}`, `{"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}`},
		{"array gets items", `{"type":"array"}`, `{"items":{},"type":"array"}`},
		{"tuple items become anyOf", `{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`, `{"items":{"anyOf":[{"type":"string"},{"type":"integer"}]},"type":"array"}`},
		{"empty nested object loses properties", `{"type":"object","properties":{"o":{"type":"object","properties":{}}}}`, `{"properties":{"o":{"type":"object"}},"type":"object"}`},
		{"boolean subschema is unconstrained", `{"type":"object","properties":{"any":true}}`, `{"properties":{"any":{}},"type":"object"}`},
		{"numbers kept exactly", `{"type":"number","minimum":0.1,"maximum":12345678901234567890}`, `{"maximum":12345678901234567890,"minimum":0.1,"type":"number"}`},
		{"object default keeps its key order", `{"type":"object","properties":{"a":{"type":"string"}},"default":{"z":1,"a":2}}`, `{"default":{"z":1,"a":2},"properties":{"a":{"type":"string"}},"type":"object"}`},
		{"no ordering added for tools", `{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}}}`, `{"properties":{"a":{"type":"string"},"z":{"type":"string"}},"type":"object"}`},
		{"given ordering repaired", `{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}},"propertyOrdering":["ghost","a"]}`,
			`{"properties":{"a":{"type":"string"},"z":{"type":"string"}},"propertyOrdering":["a","z"],"type":"object"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSchema(json.RawMessage(tc.in), false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatal(err)
			}
			walkKeys(v, func(key string, _ any) {
				for _, f := range forbidden {
					if key == f {
						t.Errorf("forbidden keyword %q survived: %s", key, got)
					}
				}
			})
			if tc.want != "" && string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestResponseSchemaOrdering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"schema order kept", `{"type":"object","properties":{"reasoning":{"type":"string"},"answer":{"type":"string"}}}`,
			`{"properties":{"answer":{"type":"string"},"reasoning":{"type":"string"}},"propertyOrdering":["reasoning","answer"],"type":"object"}`},
		{"nested objects too", `{"type":"object","properties":{"o":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}}}}}`,
			`{"properties":{"o":{"properties":{"a":{"type":"string"},"b":{"type":"string"}},"propertyOrdering":["b","a"],"type":"object"}},"type":"object"}`},
		{"inherited properties first", `{"allOf":[{"$ref":"#/$defs/B"}],"properties":{"z":{"type":"string"}},"$defs":{"B":{"type":"object","properties":{"y":{"type":"string"},"x":{"type":"string"}}}}}`,
			`{"properties":{"x":{"type":"string"},"y":{"type":"string"},"z":{"type":"string"}},"propertyOrdering":["y","x","z"],"type":"object"}`},
		{"one property needs no ordering", `{"type":"object","properties":{"a":{"type":"string"}}}`, `{"properties":{"a":{"type":"string"}},"type":"object"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convertSchema(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestToolParametersOmittedWhenEmpty(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `null`, `{"type":"object"}`, `{"type":"object","properties":{},"additionalProperties":false}`} {
		got, err := toolParameters(json.RawMessage(in))
		if err != nil || got != nil {
			t.Errorf("toolParameters(%q) = %s, %v; want nothing", in, got, err)
		}
	}
}

func TestToolChoiceAndThinking(t *testing.T) {
	t.Parallel()
	base := func() *llm.Request {
		return &llm.Request{Model: "gemini-2.5-flash", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}}}
	}
	for _, tc := range []struct {
		name string
		edit func(*llm.Request)
		path []any
		want any
	}{
		{"auto", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto} }, []any{"toolConfig", "functionCallingConfig", "mode"}, "AUTO"},
		{"none", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceNone} }, []any{"toolConfig", "functionCallingConfig", "mode"}, "NONE"},
		{"required", func(r *llm.Request) { r.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired} }, []any{"toolConfig", "functionCallingConfig", "mode"}, "ANY"},
		{"no tool choice, no toolConfig", func(*llm.Request) {}, []any{"toolConfig"}, nil},
		{"no settings, no generationConfig", func(*llm.Request) {}, []any{"generationConfig"}, nil},
		{"effort high", func(r *llm.Request) { r.Thinking = &llm.Thinking{Effort: "high"} }, []any{"generationConfig", "thinkingConfig", "thinkingBudget"}, 24576.0},
		{"effort none", func(r *llm.Request) { r.Thinking = &llm.Thinking{Effort: "none"} }, []any{"generationConfig", "thinkingConfig"}, map[string]any{"thinkingBudget": 0.0}},
		{"budget wins over effort", func(r *llm.Request) { r.Thinking = &llm.Thinking{BudgetTokens: 500, Effort: "high"} }, []any{"generationConfig", "thinkingConfig", "thinkingBudget"}, 500.0},
		{"thinking without budget", func(r *llm.Request) { r.Thinking = &llm.Thinking{} }, []any{"generationConfig", "thinkingConfig"}, map[string]any{"includeThoughts": true}},
		{"json_object", func(r *llm.Request) { r.ResponseFormat = json.RawMessage(`{"type":"json_object"}`) }, []any{"generationConfig", "responseMimeType"}, "application/json"},
		{"responses text.format schema", func(r *llm.Request) {
			r.ResponseFormat = json.RawMessage(`{"type":"json_schema","name":"x","schema":{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}}`)
		}, []any{"generationConfig", "responseSchema"}, map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "string"}}}},
		{"text format ignored", func(r *llm.Request) { r.ResponseFormat = json.RawMessage(`{"type":"text"}`) }, []any{"generationConfig"}, nil},
		{"system message mid-conversation is user text", func(r *llm.Request) {
			r.Messages = append(r.Messages, llm.Message{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "be brief"}}})
		}, []any{"contents", 0, "parts", 1, "text"}, "be brief"},
		{"image URL as fileData", func(r *llm.Request) {
			r.Messages[0].Parts = append(r.Messages[0].Parts, llm.Part{Type: llm.PartImage, URL: "https://example.com/cat.png?x=1"})
		}, []any{"contents", 0, "parts", 1, "fileData"}, map[string]any{"mimeType": "image/png", "fileUri": "https://example.com/cat.png?x=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base()
			tc.edit(req)
			if got := at(t, encodeMap(t, req), tc.path...); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%v = %#v, want %#v", tc.path, got, tc.want)
			}
		})
	}
}

func TestGemini3Signatures(t *testing.T) {
	t.Parallel()
	m := encodeMap(t, readRequest(t, "testdata/request/gemini3_history.in.json"))
	for _, tc := range []struct {
		name string
		path []any
		want any
	}{
		{"unsigned turn: first call gets the skip signature", []any{"contents", 1, "parts", 1, "thoughtSignature"}, skipSignature},
		{"only the first call", []any{"contents", 1, "parts", 2, "thoughtSignature"}, nil},
		{"a signed call keeps its own", []any{"contents", 3, "parts", 0, "thoughtSignature"}, "EqUCCqICAb4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := at(t, m, tc.path...); got != tc.want {
				t.Fatalf("%v = %#v, want %#v", tc.path, got, tc.want)
			}
		})
	}
	t.Run("not on Gemini 2.5", func(t *testing.T) {
		req := readRequest(t, "testdata/request/gemini3_history.in.json")
		req.Model = "gemini-2.5-pro"
		if got := at(t, encodeMap(t, req), "contents", 1, "parts", 1, "thoughtSignature"); got != nil {
			t.Fatalf("signature %v added for gemini-2.5", got)
		}
	})
}

func TestEncodeRequestErrors(t *testing.T) {
	t.Parallel()
	user := func(parts ...llm.Part) llm.Message { return llm.Message{Role: llm.RoleUser, Parts: parts} }
	for _, tc := range []struct {
		name string
		req  llm.Request
		want string
	}{
		{"result without call", llm.Request{Messages: []llm.Message{user(llm.Part{Type: llm.PartToolResult, ToolCallID: "call_9"})}}, `tool result "call_9" answers no earlier tool call`},
		{"arguments not an object", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "a", ToolName: "f", Arguments: `[1]`}}}}}, "arguments must be a JSON object"},
		{"arguments not JSON", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "a", ToolName: "f", Arguments: `{"a":`}}}}}, "messages[0].parts[0]"},
		{"call without name", llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartToolCall, ToolCallID: "a"}}}}}, "has no tool name"},
		{"unknown part type", llm.Request{Messages: []llm.Message{user(llm.Part{Type: "audio"})}}, `unknown part type "audio"`},
		{"image without media type", llm.Request{Messages: []llm.Message{user(llm.Part{Type: llm.PartImage, Data: "AAAA"})}}, "no media_type"},
		{"bad data URL", llm.Request{Messages: []llm.Message{user(llm.Part{Type: llm.PartImage, URL: "data:image/png,raw"})}}, "data:<media type>;base64"},
		{"named choice without name", llm.Request{ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool}}, "needs the name"},
		{"unknown choice", llm.Request{ToolChoice: &llm.ToolChoice{Mode: "sometimes"}}, `unknown mode "sometimes"`},
		{"unknown effort", llm.Request{Thinking: &llm.Thinking{Effort: "extreme"}}, `unknown effort "extreme"`},
		{"tool without name", llm.Request{Tools: []llm.Tool{{Description: "x"}}}, "has no name"},
		{"parameters not JSON", llm.Request{Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{`)}}}, `tool "f": parameters: not valid JSON`},
		{"parameters not an object", llm.Request{Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`[]`)}}}, "must be an object"},
		{"response schema not an object", llm.Request{ResponseFormat: json.RawMessage(`{"type":"json_schema","json_schema":{"schema":"x"}}`)}, "response_format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Codec{}.EncodeRequest(&tc.req)
			var le *llm.Error
			if err == nil || !asLLMError(err, &le) {
				t.Fatalf("err = %v, want an *llm.Error", err)
			}
			if le.Kind != llm.ErrInvalidRequest || le.Status != 400 || !strings.Contains(le.Message, tc.want) {
				t.Fatalf("err = %v (%s), want invalid_request mentioning %q", le, le.Kind, tc.want)
			}
		})
	}
}

func asLLMError(err error, target **llm.Error) bool {
	le, ok := err.(*llm.Error)
	*target = le
	return ok
}

func TestDecodeResponseDetails(t *testing.T) {
	t.Parallel()
	decode := func(t *testing.T, path string) *llm.Response {
		t.Helper()
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := Codec{}.DecodeResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("cached tokens leave input", func(t *testing.T) {
		r := decode(t, "testdata/response/text.json")
		want := llm.Usage{InputTokens: 8, CacheReadTokens: 2048, OutputTokens: 45, ReasoningTokens: 37}
		if r.Usage != want || r.StopReason != llm.StopEndTurn || r.Parts[0].Text != "The capital of France is Paris." {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("tool calls", func(t *testing.T) {
		r := decode(t, "testdata/response/tool_call.json")
		if r.StopReason != llm.StopToolUse || len(r.Parts) != 4 {
			t.Fatalf("stop %s, %d parts", r.StopReason, len(r.Parts))
		}
		if p := r.Parts[0]; p.Type != llm.PartThinking || !strings.HasPrefix(p.Text, "**Planning") {
			t.Fatalf("part 0 = %+v", p)
		}
		call := r.Parts[2]
		if call.ToolCallID != "call_b36LacjwM668nsEP2tbsgQQ_0" || call.ToolName != "get_weather" ||
			call.Arguments != `{"city":"Paris"}` || call.Signature != "CtgBAVSoXO5nX3KvyuWKOiS1bqhw6eYHbxNoLlpm+Gq5JvWh" {
			t.Fatalf("call = %+v", call)
		}
		if r.Parts[3].ToolCallID != "call_b36LacjwM668nsEP2tbsgQQ_1" || r.Parts[3].Signature != "" {
			t.Fatalf("second call = %+v", r.Parts[3])
		}
	})
	t.Run("Gemini's ids are kept", func(t *testing.T) {
		r := decode(t, "testdata/response/gemini3_call_ids.json")
		if r.Parts[0].ToolCallID != "fc_8a1c" || r.Parts[1].ToolCallID != "fc_8a1d" || r.Parts[1].Arguments != "{}" {
			t.Fatalf("parts = %+v", r.Parts)
		}
	})
	t.Run("empty signature part joins the text", func(t *testing.T) {
		r := decode(t, "testdata/response/signature_text.json")
		if len(r.Parts) != 1 || r.Parts[0].Text != "4" || r.Parts[0].Signature != "EpcCCpQCARFNMg9GpVP+YGO3zJob" {
			t.Fatalf("parts = %+v", r.Parts)
		}
	})
	for _, tc := range []struct {
		file string
		want llm.StopReason
	}{
		{"max_tokens", llm.StopMaxTokens},
		{"safety", llm.StopContentFilter},
		{"prompt_blocked", llm.StopContentFilter},
	} {
		t.Run("stop "+tc.file, func(t *testing.T) {
			if r := decode(t, "testdata/response/"+tc.file+".json"); r.StopReason != tc.want {
				t.Fatalf("stop = %s, want %s", r.StopReason, tc.want)
			}
		})
	}
	t.Run("unsafe response id", func(t *testing.T) {
		ids := callIDs{responseID: "a/b+c"}
		if got := ids.next(""); got != "call_0" {
			t.Fatalf("id = %q", got)
		}
	})
	t.Run("error body", func(t *testing.T) {
		_, err := Codec{}.DecodeResponse([]byte(`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`))
		if le, ok := err.(*llm.Error); !ok || le.Kind != llm.ErrRateLimit {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		_, err := Codec{}.DecodeResponse([]byte(`<html>`))
		if le, ok := err.(*llm.Error); !ok || le.Kind != llm.ErrServer {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStopReasons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		finish  string
		sawCall bool
		want    llm.StopReason
	}{
		{"STOP", false, llm.StopEndTurn},
		{"STOP", true, llm.StopToolUse},
		{"MAX_TOKENS", true, llm.StopMaxTokens},
		{"SAFETY", false, llm.StopContentFilter},
		{"RECITATION", false, llm.StopContentFilter},
		{"PROHIBITED_CONTENT", false, llm.StopContentFilter},
		{"BLOCKLIST", false, llm.StopContentFilter},
		{"SPII", false, llm.StopContentFilter},
		{"IMAGE_SAFETY", false, llm.StopContentFilter},
		{"MALFORMED_FUNCTION_CALL", false, llm.StopEndTurn},
		{"OTHER", false, llm.StopEndTurn},
	} {
		t.Run(tc.finish, func(t *testing.T) {
			if got := stopReason(tc.finish, tc.sawCall); got != tc.want {
				t.Fatalf("stopReason(%s, %v) = %s, want %s", tc.finish, tc.sawCall, got, tc.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		kind      llm.ErrorKind
		message   string
		retryWait time.Duration
	}{
		{"rate limit with retry info", 429, `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"34.4s"}]}}`,
			llm.ErrRateLimit, "You exceeded your current quota, please check your plan.", 34400 * time.Millisecond},
		{"overloaded", 503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`, llm.ErrOverloaded, "The model is overloaded. Please try again later.", 0},
		{"deadline", 504, `{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}`, llm.ErrTimeout, "Deadline expired before operation could complete.", 0},
		{"invalid argument", 400, `{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified\n","status":"INVALID_ARGUMENT"}}`, llm.ErrInvalidRequest, "* GenerateContentRequest.contents: contents is not specified\n", 0},
		{"bad API key", 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`, llm.ErrAuthentication, "API key not valid. Please pass a valid API key.", 0},
		{"permission", 403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`, llm.ErrPermission, "Method doesn't allow unregistered callers.", 0},
		{"not found", 404, `{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}`, llm.ErrNotFound, "models/gemini-9 is not found for API version v1beta", 0},
		{"internal", 500, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`, llm.ErrServer, "An internal error has occurred.", 0},
		{"failed precondition", 400, `{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`, llm.ErrInvalidRequest, "User location is not supported for the API use.", 0},
		{"array form", 429, `[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}]`, llm.ErrRateLimit, "Resource exhausted", 0},
		{"unknown status falls back to HTTP", 502, `{"error":{"code":502,"message":"bad gateway","status":"SOMETHING_NEW"}}`, llm.ErrServer, "bad gateway", 0},
		{"not JSON", 503, `<html>Service Unavailable</html>`, llm.ErrOverloaded, "<html>Service Unavailable</html>", 0},
		{"empty body", 429, ``, llm.ErrRateLimit, "Too Many Requests", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Codec{}.DecodeError(tc.status, []byte(tc.body))
			if got.Kind != tc.kind || got.Message != tc.message || got.RetryAfter != tc.retryWait || got.Status != llm.StatusOf(tc.kind) {
				t.Fatalf("got %+v\nwant kind %s, message %q, retry %v", got, tc.kind, tc.message, tc.retryWait)
			}
		})
	}
}

// TestRoundTrip checks that what the codec decodes from Gemini, sent back
// as history, reaches Gemini as Gemini sent it: same calls, ids,
// arguments and signatures; and that the stream of an answer accumulates
// to the same response as its non-streamed form.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/response/tool_call.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Codec{}.DecodeResponse(body)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("stream accumulates to the response", func(t *testing.T) {
		events, _ := decodeStreamFile(t, "testdata/stream/tool_call.sse")
		got := accumulate(events)
		if !reflect.DeepEqual(got, resp) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(resp)
			t.Fatalf("stream accumulates to\n%s\nresponse decodes to\n%s", g, w)
		}
	})

	t.Run("history goes back unchanged", func(t *testing.T) {
		req := &llm.Request{Model: "gemini-2.5-pro", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Weather in Paris and Rome?"}}},
			{Role: llm.RoleAssistant, Parts: resp.Parts},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartToolResult, ToolCallID: resp.Parts[2].ToolCallID, Result: []llm.Part{{Type: llm.PartText, Text: "18°C"}}},
				{Type: llm.PartToolResult, ToolCallID: resp.Parts[3].ToolCallID, Result: []llm.Part{{Type: llm.PartText, Text: "24°C"}}},
			}},
		}}
		m := encodeMap(t, req)
		var original map[string]any
		if err := json.Unmarshal(body, &original); err != nil {
			t.Fatal(err)
		}
		sent := at(t, m, "contents", 1, "parts").([]any)
		received := at(t, original, "candidates", 0, "content", "parts").([]any)
		if len(sent) != len(received) {
			t.Fatalf("sent %d parts back, received %d", len(sent), len(received))
		}
		for i := range received {
			r, s := received[i].(map[string]any), sent[i].(map[string]any)
			for _, key := range []string{"text", "thought", "thoughtSignature"} {
				if !reflect.DeepEqual(r[key], s[key]) {
					t.Errorf("part %d %s: received %v, sent back %v", i, key, r[key], s[key])
				}
			}
			if rc, ok := r["functionCall"].(map[string]any); ok {
				sc := s["functionCall"].(map[string]any)
				if !reflect.DeepEqual(rc["args"], sc["args"]) || rc["name"] != sc["name"] {
					t.Errorf("part %d call: received %v, sent back %v", i, rc, sc)
				}
			}
		}
		for i, want := range []string{"get_weather", "get_weather"} {
			fr := at(t, m, "contents", 2, "parts", i, "functionResponse").(map[string]any)
			if fr["name"] != want || fr["id"] != resp.Parts[2+i].ToolCallID {
				t.Errorf("result %d = %v", i, fr)
			}
		}
	})
}

func TestStreamEdges(t *testing.T) {
	t.Parallel()
	ev := func(data string) sse.Event { return sse.Event{Data: []byte(data)} }
	t.Run("malformed chunk", func(t *testing.T) {
		_, err := Codec{}.NewStreamDecoder().Decode(ev(`{"candidates":`), nil)
		if le, ok := err.(*llm.Error); !ok || le.Kind != llm.ErrServer {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty data ignored", func(t *testing.T) {
		out, err := Codec{}.NewStreamDecoder().Decode(ev(""), nil)
		if err != nil || len(out) != 0 {
			t.Fatalf("out %v, err %v", out, err)
		}
	})
	t.Run("no end without finishReason", func(t *testing.T) {
		d := Codec{}.NewStreamDecoder()
		out, _ := d.Decode(ev(`{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"}}],"responseId":"r"}`), nil)
		if d.Done() || len(out) != 3 {
			t.Fatalf("done %v, events %+v", d.Done(), out)
		}
	})
	t.Run("chunks after the end ignored", func(t *testing.T) {
		d := Codec{}.NewStreamDecoder()
		out, _ := d.Decode(ev(`{"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"},"finishReason":"STOP"}]}`), nil)
		n := len(out)
		out, _ = d.Decode(ev(`{"candidates":[{"content":{"parts":[{"text":"b"}],"role":"model"}}]}`), out)
		if !d.Done() || len(out) != n {
			t.Fatalf("done %v, %d events after the end", d.Done(), len(out)-n)
		}
	})
	t.Run("thought then text switches parts", func(t *testing.T) {
		d := Codec{}.NewStreamDecoder()
		out, _ := d.Decode(ev(`{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true},{"text":"yes"}],"role":"model"}}]}`), nil)
		kinds := []llm.EventType{}
		for _, e := range out {
			kinds = append(kinds, e.Type)
		}
		want := []llm.EventType{llm.EventStart, llm.EventPartStart, llm.EventDelta, llm.EventPartStop, llm.EventPartStart, llm.EventDelta}
		if !reflect.DeepEqual(kinds, want) || out[1].Part.Type != llm.PartThinking || out[4].Part.Type != llm.PartText || out[5].Index != 1 {
			t.Fatalf("events %+v", out)
		}
	})
}
