package gemini

import (
	"bytes"
	"encoding/json"
	"mime"
	"path"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// Codec is the Gemini outbound codec. It is stateless and safe for
// concurrent use.
type Codec struct{}

var _ wire.Outbound = Codec{}

func init() { wire.RegisterOutbound(Codec{}) }

// API implements wire.Outbound.
func (Codec) API() llm.API { return llm.APIGemini }

// skipSignature is Google's documented stand-in for a thought signature
// the client does not have (https://ai.google.dev/gemini-api/docs/thought-signatures).
const skipSignature = "skip_thought_signature_validator"

// Reasoning budgets for an OpenAI-style effort without a budget.
var effortBudget = map[string]int{"none": 0, "minimal": 128, "low": 1024, "medium": 8192, "high": 24576}

// EncodeRequest implements wire.Outbound. Errors are *llm.Error of kind
// ErrInvalidRequest naming the message, part or tool that cannot be sent.
func (Codec) EncodeRequest(req *llm.Request) ([]byte, error) {
	out := request{Contents: []content{}}

	if sys := systemParts(req.System); len(sys) > 0 {
		out.SystemInstruction = &content{Parts: sys}
	}

	gemini3 := strings.HasPrefix(strings.TrimPrefix(req.Model, "models/"), "gemini-3")
	names := map[string]string{} // tool call id → function name, as seen so far
	for i, m := range req.Messages {
		role := "user"
		if m.Role == llm.RoleAssistant {
			role = "model"
		}
		parts, err := encodeParts(i, m, names)
		if err != nil {
			return nil, err
		}
		if role == "model" && gemini3 {
			signFirstCall(parts)
		}
		if len(parts) == 0 {
			continue
		}
		if n := len(out.Contents); n > 0 && out.Contents[n-1].Role == role {
			out.Contents[n-1].Parts = append(out.Contents[n-1].Parts, parts...)
			continue
		}
		out.Contents = append(out.Contents, content{Role: role, Parts: parts})
	}

	if len(req.Tools) > 0 {
		decls := make([]functionDeclaration, 0, len(req.Tools))
		for _, t := range req.Tools {
			if t.Name == "" {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "tools: a tool has no name; every function needs one")
			}
			params, err := toolParameters(t.Parameters)
			if err != nil {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "tool %q: parameters: %v", t.Name, err)
			}
			decls = append(decls, functionDeclaration{Name: t.Name, Description: t.Description, Parameters: params})
		}
		out.Tools = []tool{{FunctionDeclarations: decls}}
	}

	if tc := req.ToolChoice; tc != nil {
		cfg := functionCallingConfig{}
		switch tc.Mode {
		case llm.ToolChoiceAuto, "":
			cfg.Mode = "AUTO"
		case llm.ToolChoiceNone:
			cfg.Mode = "NONE"
		case llm.ToolChoiceRequired:
			cfg.Mode = "ANY"
		case llm.ToolChoiceTool:
			if tc.Name == "" {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "tool_choice: mode \"tool\" needs the name of the tool")
			}
			cfg.Mode, cfg.AllowedFunctionNames = "ANY", []string{tc.Name}
		default:
			return nil, llm.Errorf(llm.ErrInvalidRequest, "tool_choice: unknown mode %q; use auto, none, required or tool", tc.Mode)
		}
		out.ToolConfig = &toolConfig{FunctionCallingConfig: cfg}
	}

	gc := generationConfig{
		MaxOutputTokens: req.MaxTokens,
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		StopSequences:   req.Stop,
	}
	if len(req.ResponseFormat) > 0 {
		mimeType, schema, err := responseFormat(req.ResponseFormat)
		if err != nil {
			return nil, llm.Errorf(llm.ErrInvalidRequest, "response_format: %v", err)
		}
		gc.ResponseMimeType, gc.ResponseSchema = mimeType, schema
	}
	if th := req.Thinking; th != nil {
		tc := &thinkingConfig{IncludeThoughts: true}
		switch b, ok := effortBudget[th.Effort]; {
		case th.BudgetTokens > 0:
			tc.ThinkingBudget = &th.BudgetTokens
		case ok:
			tc.ThinkingBudget = &b
			tc.IncludeThoughts = b > 0
		case th.Effort != "":
			return nil, llm.Errorf(llm.ErrInvalidRequest, "thinking: unknown effort %q; use none, minimal, low, medium or high", th.Effort)
		}
		gc.ThinkingConfig = tc
	}
	if gc.MaxOutputTokens != 0 || gc.Temperature != nil || gc.TopP != nil || len(gc.StopSequences) > 0 ||
		gc.ResponseMimeType != "" || gc.ThinkingConfig != nil {
		out.GenerationConfig = &gc
	}

	body, err := json.Marshal(out)
	if err != nil {
		return nil, llm.Errorf(llm.ErrInternal, "encode gemini request: %v", err)
	}
	return body, nil
}

func systemParts(system []llm.Part) []part {
	var parts []part
	for _, p := range system {
		if p.Text != "" {
			parts = append(parts, part{Text: ptr(p.Text)})
		}
	}
	return parts
}

// encodeParts converts message i. names maps tool call ids to function
// names; calls are added as they are met, so a result finds the latest
// call with its id.
func encodeParts(i int, m llm.Message, names map[string]string) ([]part, error) {
	parts := make([]part, 0, len(m.Parts))
	for j, p := range m.Parts {
		switch p.Type {
		case llm.PartText:
			if p.Text == "" && p.Signature == "" {
				continue
			}
			parts = append(parts, part{Text: ptr(p.Text), ThoughtSignature: p.Signature})
		case llm.PartThinking:
			if p.Text == "" && p.Signature == "" {
				continue
			}
			parts = append(parts, part{Text: ptr(p.Text), Thought: true, ThoughtSignature: p.Signature})
		case llm.PartRedactedThinking:
			// Another provider's encrypted reasoning; Gemini cannot read it.
		case llm.PartImage:
			ip, err := imagePart(p)
			if err != nil {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "messages[%d].parts[%d]: %v", i, j, err)
			}
			parts = append(parts, ip)
		case llm.PartToolCall:
			if p.ToolName == "" {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "messages[%d].parts[%d]: tool call %q has no tool name", i, j, p.ToolCallID)
			}
			args, err := callArgs(p.Arguments)
			if err != nil {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "messages[%d].parts[%d]: tool call %q: %v", i, j, p.ToolName, err)
			}
			if p.ToolCallID != "" {
				names[p.ToolCallID] = p.ToolName
			}
			parts = append(parts, part{
				FunctionCall:     &functionCall{ID: p.ToolCallID, Name: p.ToolName, Args: args},
				ThoughtSignature: p.Signature,
			})
		case llm.PartToolResult:
			name := names[p.ToolCallID]
			if name == "" {
				name = p.ToolName
			}
			if name == "" {
				return nil, llm.Errorf(llm.ErrInvalidRequest,
					"messages[%d].parts[%d]: tool result %q answers no earlier tool call; Gemini needs the function name, so send the call before its result",
					i, j, p.ToolCallID)
			}
			rp, err := resultParts(p, name)
			if err != nil {
				return nil, llm.Errorf(llm.ErrInvalidRequest, "messages[%d].parts[%d]: tool result %q: %v", i, j, p.ToolCallID, err)
			}
			parts = append(parts, rp...)
		default:
			return nil, llm.Errorf(llm.ErrInvalidRequest, "messages[%d].parts[%d]: unknown part type %q", i, j, p.Type)
		}
	}
	return parts, nil
}

// signFirstCall gives the first function call of a Gemini 3 model turn the
// skip signature when none of the turn's calls is signed.
func signFirstCall(parts []part) {
	first := -1
	for k := range parts {
		if parts[k].FunctionCall == nil {
			continue
		}
		if parts[k].ThoughtSignature != "" {
			return
		}
		if first < 0 {
			first = k
		}
	}
	if first >= 0 {
		parts[first].ThoughtSignature = skipSignature
	}
}

func imagePart(p llm.Part) (part, error) {
	if p.Data != "" {
		if p.MediaType == "" {
			return part{}, errString("image data has no media_type")
		}
		return part{InlineData: &blob{MimeType: p.MediaType, Data: p.Data}}, nil
	}
	if p.URL == "" {
		return part{}, errString("image has neither data nor url")
	}
	if rest, ok := strings.CutPrefix(p.URL, "data:"); ok {
		meta, data, found := strings.Cut(rest, ",")
		mt, isBase64 := strings.CutSuffix(meta, ";base64")
		if !found || !isBase64 || mt == "" {
			return part{}, errString("image data URL must be data:<media type>;base64,<data>")
		}
		return part{InlineData: &blob{MimeType: mt, Data: data}}, nil
	}
	mt := p.MediaType
	if mt == "" {
		mt = mime.TypeByExtension(path.Ext(strings.SplitN(p.URL, "?", 2)[0]))
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
	}
	if mt == "" {
		mt = "image/jpeg" // fileData requires a MIME type; JPEG is the common case
	}
	return part{FileData: &fileData{MimeType: mt, FileURI: p.URL}}, nil
}

// callArgs returns a tool call's arguments as the JSON object Gemini's
// args (a protobuf Struct) must be.
func callArgs(args string) (json.RawMessage, error) {
	a := bytes.TrimSpace([]byte(args))
	if len(a) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if !json.Valid(a) || a[0] != '{' {
		return nil, errString("arguments must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, a); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func resultParts(p llm.Part, name string) ([]part, error) {
	var texts []string
	var media []part
	for _, r := range p.Result {
		switch r.Type {
		case llm.PartText:
			texts = append(texts, r.Text)
		case llm.PartImage:
			ip, err := imagePart(r)
			if err != nil {
				return nil, err
			}
			media = append(media, ip)
		default:
			return nil, errString("a tool result may hold text and images, not " + string(r.Type))
		}
	}
	text := strings.Join(texts, "\n")
	res := functionResult{Output: &text}
	if p.IsError {
		res = functionResult{Error: &text}
	}
	parts := append([]part{{FunctionResponse: &functionResponse{ID: p.ToolCallID, Name: name, Response: res}}}, media...)
	return parts, nil
}

// responseFormat maps OpenAI's response_format (Chat Completions) or
// text.format (Responses) to Gemini's MIME type and schema.
func responseFormat(raw json.RawMessage) (string, json.RawMessage, error) {
	var rf struct {
		Type       string          `json:"type"`
		Schema     json.RawMessage `json:"schema"` // Responses: text.format.schema
		JSONSchema *struct {
			Schema json.RawMessage `json:"schema"` // Chat: response_format.json_schema.schema
		} `json:"json_schema"`
	}
	if err := json.Unmarshal(raw, &rf); err != nil {
		return "", nil, errString("want an object with a type: " + err.Error())
	}
	switch rf.Type {
	case "json_object":
		return "application/json", nil, nil
	case "json_schema":
		schema := rf.Schema
		if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
			schema = rf.JSONSchema.Schema
		}
		if len(schema) == 0 || string(schema) == "null" {
			return "application/json", nil, nil
		}
		s, err := convertSchema(schema)
		if err != nil {
			return "", nil, err
		}
		return "application/json", s, nil
	}
	return "", nil, nil // "text" or a format Gemini cannot honour
}

type errString string

func (e errString) Error() string { return string(e) }

func ptr[T any](v T) *T { return &v }
