package responses

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// outRequest is a request to OpenAI's /v1/responses.
type outRequest struct {
	Model             string          `json:"model"`
	Instructions      string          `json:"instructions,omitempty"`
	Input             []any           `json:"input"`
	Tools             []any           `json:"tools,omitempty"`
	ToolChoice        json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	Reasoning         *outReasoning   `json:"reasoning,omitempty"`
	MaxOutputTokens   int             `json:"max_output_tokens,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	Text              *outText        `json:"text,omitempty"`
	User              string          `json:"user,omitempty"`
	Store             bool            `json:"store"`
	Stream            bool            `json:"stream,omitempty"`
	Include           []string        `json:"include,omitempty"`
}

type outReasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

type outText struct {
	Format json.RawMessage `json:"format"`
}

// Input items sent to OpenAI.

type outMessage struct {
	Type    string `json:"type"` // "message"
	Role    string `json:"role"`
	Content []any  `json:"content"`
}

type outTextContent struct {
	Type string `json:"type"` // "input_text" or "output_text"
	Text string `json:"text"`
}

type outImageContent struct {
	Type     string `json:"type"` // "input_image"
	ImageURL string `json:"image_url"`
	Detail   string `json:"detail"`
}

type outFunctionCall struct {
	Type      string `json:"type"` // "function_call"
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Arguments string `json:"arguments"`
}

type outCustomToolCall struct {
	Type      string `json:"type"` // "custom_tool_call"
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	Input     string `json:"input"`
}

type outToolOutput struct {
	Type   string `json:"type"` // "function_call_output" or "custom_tool_call_output"
	CallID string `json:"call_id"`
	Output any    `json:"output"` // a string, or content parts when there are images
}

type outReasoningItem struct {
	Type             string        `json:"type"` // "reasoning"
	ID               string        `json:"id,omitempty"`
	Summary          []summaryText `json:"summary"`
	EncryptedContent string        `json:"encrypted_content"`
}

// EncodeRequest encodes req for OpenAI's /v1/responses, with store=false
// and the whole conversation in input.
//
// System parts become instructions and RoleSystem messages developer
// messages. Thinking parts are sent as reasoning items only if they carry
// a signature (OpenAI's encrypted_content); include asks for encrypted
// reasoning whenever reasoning is requested or present, so that the next
// turn can send it back. Request.Stop has no Responses equivalent and is
// dropped, as are tool results' IsError flags. Thinking.BudgetTokens
// without an Effort becomes an effort: under 4096 tokens low, under 16384
// medium, else high.
func (Codec) EncodeRequest(req *llm.Request) ([]byte, error) {
	marks := toolMarks(req.Tools)
	out := outRequest{
		Model:           req.Model,
		Instructions:    systemText(req.System),
		Input:           []any{},
		MaxOutputTokens: req.MaxTokens,
		Temperature:     req.Temperature,
		TopP:            req.TopP,
		User:            req.User,
		Stream:          req.Stream,
	}
	out.Tools = wireTools(req.Tools, marks)
	if tc := req.ToolChoice; tc != nil {
		out.ToolChoice = wireToolChoice(tc, marks)
		if tc.DisableParallel {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	if t := req.Thinking; t != nil {
		r := outReasoning{Effort: t.Effort, Summary: t.Summary}
		if r.Effort == "" && t.BudgetTokens > 0 {
			r.Effort = effortOfBudget(t.BudgetTokens)
		}
		if r != (outReasoning{}) {
			out.Reasoning = &r
		}
	}
	if f := responsesFormat(req.ResponseFormat); f != nil {
		out.Text = &outText{Format: f}
	}
	customCalls := customCallIDs(req.Messages, marks)
	encrypted := req.Thinking != nil
	for _, m := range req.Messages {
		var sig bool
		out.Input, sig = appendItems(out.Input, m, marks, customCalls)
		encrypted = encrypted || sig
	}
	if encrypted {
		out.Include = []string{"reasoning.encrypted_content"}
	}
	return marshal(out)
}

func effortOfBudget(budget int) string {
	switch {
	case budget < 4096:
		return "low"
	case budget < 16384:
		return "medium"
	}
	return "high"
}

// customCallIDs returns the ids of the calls of custom tools in msgs, so
// that their results go out as custom_tool_call_output items.
func customCallIDs(msgs []llm.Message, marks map[string]toolMark) map[string]bool {
	if len(marks) == 0 {
		return nil
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Type == llm.PartToolCall && marks[p.ToolName].Type == markCustom {
				ids[p.ToolCallID] = true
			}
		}
	}
	return ids
}

// appendItems appends the input items of message m and reports whether
// it sent encrypted reasoning. marks holds the tools' markers and
// customCalls the ids of custom tools' calls.
func appendItems(items []any, m llm.Message, marks map[string]toolMark, customCalls map[string]bool) ([]any, bool) {
	var msg *outMessage // the message item being filled, if any
	role := string(m.Role)
	contentType := "input_text"
	switch m.Role {
	case llm.RoleSystem:
		role = "developer"
	case llm.RoleAssistant:
		contentType = "output_text"
	}
	add := func(c any) {
		if msg == nil {
			msg = &outMessage{Type: "message", Role: role}
			items = append(items, msg)
		}
		msg.Content = append(msg.Content, c)
	}
	encrypted := false
	for _, p := range m.Parts {
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				add(outTextContent{Type: contentType, Text: p.Text})
			}
			continue
		case llm.PartImage:
			if m.Role != llm.RoleAssistant {
				add(outImageContent{Type: "input_image", ImageURL: imageURL(p), Detail: "auto"})
			}
			continue
		case llm.PartThinking:
			if p.Signature == "" {
				continue // OpenAI cannot use reasoning it cannot decrypt
			}
			summary := []summaryText{}
			if p.Text != "" {
				summary = append(summary, summaryText{Type: "summary_text", Text: p.Text})
			}
			items = append(items, outReasoningItem{Type: "reasoning", ID: reasoningID(p.Data),
				Summary: summary, EncryptedContent: p.Signature})
			encrypted = true
		case llm.PartToolCall:
			mark := marks[p.ToolName]
			name := wireName(p.ToolName, mark)
			if mark.Type == markCustom {
				items = append(items, outCustomToolCall{Type: "custom_tool_call", CallID: p.ToolCallID,
					Name: name, Namespace: mark.Namespace, Input: customInput(p.Arguments)})
			} else {
				items = append(items, outFunctionCall{Type: "function_call", CallID: p.ToolCallID,
					Name: name, Namespace: mark.Namespace, Arguments: toolArguments(p.Arguments)})
			}
		case llm.PartToolResult:
			typ := "function_call_output"
			if customCalls[p.ToolCallID] {
				typ = "custom_tool_call_output"
			}
			items = append(items, outToolOutput{Type: typ, CallID: p.ToolCallID, Output: toolOutput(p.Result)})
		default:
			continue // redacted thinking is Anthropic's own
		}
		msg = nil // later content starts a new message item, after this one
	}
	return items, encrypted
}

func imageURL(p llm.Part) string {
	if p.Data != "" {
		return "data:" + p.MediaType + ";base64," + p.Data
	}
	return p.URL
}

// toolOutput is a tool result's output: its text, or content parts when
// it holds images.
func toolOutput(result []llm.Part) any {
	hasImage := false
	var text strings.Builder
	for _, p := range result {
		switch p.Type {
		case llm.PartImage:
			hasImage = true
		case llm.PartText:
			if text.Len() > 0 {
				text.WriteString("\n")
			}
			text.WriteString(p.Text)
		}
	}
	if !hasImage {
		return text.String()
	}
	parts := []any{}
	for _, p := range result {
		switch p.Type {
		case llm.PartText:
			parts = append(parts, outTextContent{Type: "input_text", Text: p.Text})
		case llm.PartImage:
			parts = append(parts, outImageContent{Type: "input_image", ImageURL: imageURL(p), Detail: "auto"})
		}
	}
	return parts
}

// systemText joins the text of system parts into instructions.
func systemText(parts []llm.Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type != llm.PartText || p.Text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// wireTools is the Responses form of tools: tools declared in a
// namespace are grouped into it again (where its first tool was), custom
// tools are custom tools, and everything else, the client's tool search
// included, is a function tool. Function tools are sent with
// strict=false, since the Responses API would otherwise make them strict
// and refuse most clients' schemas.
func wireTools(tools []llm.Tool, marks map[string]toolMark) []any {
	out := []any{}
	namespaces := map[string]*wireNamespace{}
	for _, t := range tools {
		m := marks[t.Name]
		wt := wireTool{Type: "function", Name: wireName(t.Name, m), Description: t.Description}
		if m.Type == markCustom {
			wt.Type, wt.Format = "custom", m.Format
		} else {
			strict := false
			wt.Parameters, wt.Strict = unmarked(t.Parameters), &strict
			if len(wt.Parameters) == 0 {
				wt.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
			}
		}
		if m.Namespace == "" {
			out = append(out, wt)
			continue
		}
		ns := namespaces[m.Namespace]
		if ns == nil {
			ns = &wireNamespace{Type: "namespace", Name: m.Namespace, Description: m.NamespaceDescription}
			namespaces[m.Namespace] = ns
			out = append(out, ns)
		}
		ns.Tools = append(ns.Tools, wt)
	}
	return out
}

// unmarked is params without the x-openai-tool member. marked puts it
// first, so it is cut out of the bytes and the rest keeps its order.
func unmarked(params json.RawMessage) json.RawMessage {
	if !bytes.Contains(params, []byte(`"`+toolMarker+`"`)) {
		return params
	}
	cut := -1
	_ = wire.TopLevel(params, func(key string, _, end int) bool {
		if key == toolMarker {
			cut = end
		}
		return false // only the first member
	})
	if cut < 0 {
		var schema map[string]json.RawMessage
		if json.Unmarshal(params, &schema) != nil {
			return params
		}
		delete(schema, toolMarker)
		b, _ := marshal(schema)
		return b
	}
	rest := bytes.TrimLeft(params[cut:], " \t\r\n")
	rest = bytes.TrimPrefix(rest, []byte(","))
	out := make([]byte, 0, len(rest)+1)
	return append(append(out, '{'), rest...)
}

// wireToolChoice is the Responses tool_choice of tc.
func wireToolChoice(tc *llm.ToolChoice, marks map[string]toolMark) json.RawMessage {
	switch tc.Mode {
	case llm.ToolChoiceNone:
		return json.RawMessage(`"none"`)
	case llm.ToolChoiceRequired:
		return json.RawMessage(`"required"`)
	case llm.ToolChoiceTool:
		m := marks[tc.Name]
		typ := "function"
		if m.Type == markCustom {
			typ = "custom"
		}
		b, _ := json.Marshal(struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}{typ, wireName(tc.Name, m)})
		return b
	}
	return json.RawMessage(`"auto"`)
}

// responsesFormat converts the canonical ResponseFormat (Chat
// Completions' response_format shape, or already the Responses shape)
// into a Responses text.format; nil if there is none.
func responsesFormat(f json.RawMessage) json.RawMessage {
	if isNull(f) {
		return nil
	}
	var v map[string]json.RawMessage
	if json.Unmarshal(f, &v) != nil {
		return nil
	}
	inner, ok := v["json_schema"]
	if !ok || !strings.Contains(string(v["type"]), "json_schema") {
		return f
	}
	var flat map[string]json.RawMessage
	if json.Unmarshal(inner, &flat) != nil {
		return f
	}
	flat["type"] = json.RawMessage(`"json_schema"`)
	b, _ := json.Marshal(flat)
	return b
}
