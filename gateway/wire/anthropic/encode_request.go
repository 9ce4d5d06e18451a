package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// outRequest is a Messages request as EncodeRequest writes it.
type outRequest struct {
	Model         string         `json:"model"`
	MaxTokens     int            `json:"max_tokens"`
	System        []outBlock     `json:"system,omitempty"`
	Messages      []outMessage   `json:"messages"`
	Tools         []outTool      `json:"tools,omitempty"`
	ToolChoice    *outToolChoice `json:"tool_choice,omitempty"`
	Thinking      *outThinking   `json:"thinking,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	StopSequences []string       `json:"stop_sequences,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	Metadata      *outMetadata   `json:"metadata,omitempty"`
}

type outMessage struct {
	Role    string     `json:"role"`
	Content []outBlock `json:"content"`
}

// outBlock is a content block of any type; each type sets its members.
type outBlock struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text,omitempty"`
	Source       *outSource      `json:"source,omitempty"`
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	ToolUseID    string          `json:"tool_use_id,omitempty"`
	Content      any             `json:"content,omitempty"` // string or []outBlock
	IsError      bool            `json:"is_error,omitempty"`
	Thinking     *string         `json:"thinking,omitempty"`
	Signature    *string         `json:"signature,omitempty"`
	Data         *string         `json:"data,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type outSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type outTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type outToolChoice struct {
	Type            string `json:"type"`
	Name            string `json:"name,omitempty"`
	DisableParallel bool   `json:"disable_parallel_tool_use,omitempty"`
}

type outThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type outMetadata struct {
	UserID string `json:"user_id"`
}

// Thinking budgets for an OpenAI reasoning effort, and the API's minimum.
const (
	minThinkingBudget = 1024
	// thinkingHeadroom is what a defaulted max_tokens leaves for the
	// answer after the thinking budget.
	thinkingHeadroom = 8192
)

var effortBudgets = map[string]int{
	"minimal": 1024,
	"low":     1024,
	"medium":  4096,
	"high":    16384,
	"xhigh":   32768,
	"max":     32768,
}

// emptySchema is sent for a tool without parameters: the API requires an
// input_schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// EncodeRequest implements wire.Outbound. See the package doc for how
// canonical requests that the API would refuse are adapted.
func (Codec) EncodeRequest(req *llm.Request) ([]byte, error) {
	if req.Model == "" {
		return nil, invalidf("model", "model: the request names no model")
	}
	out := outRequest{
		Model:         req.Model,
		MaxTokens:     req.MaxTokens,
		StopSequences: req.Stop,
		Stream:        req.Stream,
	}
	if out.MaxTokens <= 0 {
		out.MaxTokens = DefaultMaxTokens
	}
	for i, p := range req.System {
		if p.Type != llm.PartText && p.Type != "" {
			return nil, invalidf("system."+strconv.Itoa(i), "system.%d: system parts must be text, got %q", i, p.Type)
		}
		if p.Text == "" {
			continue
		}
		out.System = append(out.System, outBlock{Type: "text", Text: ptr(p.Text), CacheControl: rawOrNil(p.CacheControl)})
	}
	msgs, err := encodeMessages(req.Messages)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, invalidf("messages", "messages: no message has content the API accepts; send at least one non-empty message")
	}
	out.Messages = msgs
	for i, t := range req.Tools {
		if t.Name == "" {
			return nil, invalidf("tools."+strconv.Itoa(i)+".name", "tools.%d.name: a tool needs a name", i)
		}
		schema := rawOrNil(t.Parameters)
		if schema == nil {
			schema = emptySchema
		} else if !json.Valid(schema) {
			return nil, invalidf("tools."+strconv.Itoa(i)+".parameters", "tools.%d.parameters: not valid JSON", i)
		}
		out.Tools = append(out.Tools, outTool{Name: t.Name, Description: t.Description, InputSchema: schema, CacheControl: rawOrNil(t.CacheControl)})
	}
	forced := false
	if tc := req.ToolChoice; tc != nil {
		wc := &outToolChoice{}
		switch tc.Mode {
		case llm.ToolChoiceAuto, "":
			wc.Type = "auto"
		case llm.ToolChoiceRequired:
			wc.Type, forced = "any", true
		case llm.ToolChoiceNone:
			wc.Type = "none"
		case llm.ToolChoiceTool:
			if tc.Name == "" {
				return nil, invalidf("tool_choice.name", "tool_choice.name: mode tool needs the name of the tool")
			}
			wc.Type, wc.Name, forced = "tool", tc.Name, true
		default:
			return nil, invalidf("tool_choice.mode", "tool_choice.mode: unknown mode %q; expected auto, none, required or tool", tc.Mode)
		}
		// The API has no disable_parallel_tool_use for "none".
		wc.DisableParallel = tc.DisableParallel && tc.Mode != llm.ToolChoiceNone
		out.ToolChoice = wc
	}
	if req.Thinking != nil && !forced {
		out.Thinking = encodeThinking(req.Thinking, &out.MaxTokens, req.MaxTokens > 0)
	}
	if t := req.Temperature; t != nil {
		v := min(max(*t, 0), 1)
		if out.Thinking == nil || v == 1 {
			out.Temperature = &v
		}
	}
	if p := req.TopP; p != nil && (out.Thinking == nil || *p >= 0.95) {
		out.TopP = p
	}
	if req.User != "" {
		out.Metadata = &outMetadata{UserID: req.User}
	}
	return marshal(out)
}

// encodeThinking picks the thinking config and keeps the budget below
// max_tokens (which it may raise when it was defaulted).
func encodeThinking(t *llm.Thinking, maxTokens *int, explicitMax bool) *outThinking {
	budget := t.BudgetTokens
	if budget <= 0 {
		switch t.Effort {
		case "":
			return &outThinking{Type: "adaptive"}
		case "none":
			return nil
		}
		var ok bool
		if budget, ok = effortBudgets[t.Effort]; !ok {
			budget = effortBudgets["medium"]
		}
	}
	if budget >= *maxTokens {
		if !explicitMax {
			*maxTokens = budget + thinkingHeadroom
		} else {
			budget = *maxTokens - 1
			if budget < minThinkingBudget {
				return nil
			}
		}
	}
	return &outThinking{Type: "enabled", BudgetTokens: budget}
}

// encodeMessages converts the conversation: system messages become user
// text, empty messages go, same-role neighbours merge, and tool results
// lead their user message.
func encodeMessages(msgs []llm.Message) ([]outMessage, error) {
	out := make([]outMessage, 0, len(msgs))
	for i, m := range msgs {
		path := "messages." + strconv.Itoa(i)
		var role string
		var blocks []outBlock
		switch m.Role {
		case llm.RoleUser, llm.RoleAssistant:
			role = string(m.Role)
			for j, p := range m.Parts {
				b, ok, err := encodePart(path+".parts."+strconv.Itoa(j), p)
				if err != nil {
					return nil, err
				}
				if ok {
					blocks = append(blocks, b)
				}
			}
		case llm.RoleSystem:
			role = "user"
			var texts []string
			for _, p := range m.Parts {
				if p.Type == llm.PartText && p.Text != "" {
					texts = append(texts, p.Text)
				}
			}
			if len(texts) > 0 {
				blocks = []outBlock{{Type: "text", Text: ptr("System: " + strings.Join(texts, "\n\n"))}}
			}
		default:
			return nil, invalidf(path+".role", "%s.role: unknown role %q; expected user, assistant or system", path, m.Role)
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Role == role {
			out[n-1].Content = append(out[n-1].Content, blocks...)
			continue
		}
		out = append(out, outMessage{Role: role, Content: blocks})
	}
	for i := range out {
		if out[i].Role == "user" {
			toolResultsFirst(out[i].Content)
		}
	}
	return out, nil
}

// toolResultsFirst moves the tool_result blocks of c to its front, keeping
// the order within both groups.
func toolResultsFirst(c []outBlock) {
	var results, rest []outBlock
	for _, b := range c {
		if b.Type == "tool_result" {
			results = append(results, b)
		} else {
			rest = append(rest, b)
		}
	}
	if len(results) == 0 || len(rest) == 0 {
		return
	}
	copy(c, results)
	copy(c[len(results):], rest)
}

// encodePart converts one part; ok is false for a part that is dropped.
func encodePart(path string, p llm.Part) (b outBlock, ok bool, err error) {
	cc := rawOrNil(p.CacheControl)
	switch p.Type {
	case llm.PartText:
		if p.Text == "" {
			return outBlock{}, false, nil
		}
		return outBlock{Type: "text", Text: ptr(p.Text), CacheControl: cc}, true, nil
	case llm.PartImage:
		src, err := encodeImage(path, p)
		if err != nil {
			return outBlock{}, false, err
		}
		return outBlock{Type: "image", Source: src, CacheControl: cc}, true, nil
	case llm.PartThinking:
		if p.Signature == "" {
			return outBlock{}, false, nil
		}
		return outBlock{Type: "thinking", Thinking: ptr(p.Text), Signature: ptr(p.Signature), CacheControl: cc}, true, nil
	case llm.PartRedactedThinking:
		if p.Data == "" {
			return outBlock{}, false, nil
		}
		return outBlock{Type: "redacted_thinking", Data: ptr(p.Data), CacheControl: cc}, true, nil
	case llm.PartToolCall:
		if p.ToolCallID == "" || p.ToolName == "" {
			return outBlock{}, false, invalidf(path, "%s: a tool call needs tool_call_id and tool_name", path)
		}
		input, err := argumentsObject(p.Arguments)
		if err != nil {
			return outBlock{}, false, invalidf(path+".arguments", "%s.arguments: %v", path, err)
		}
		return outBlock{Type: "tool_use", ID: p.ToolCallID, Name: p.ToolName, Input: input, CacheControl: cc}, true, nil
	case llm.PartToolResult:
		if p.ToolCallID == "" {
			return outBlock{}, false, invalidf(path+".tool_call_id", "%s.tool_call_id: a tool result needs the id of its call", path)
		}
		b := outBlock{Type: "tool_result", ToolUseID: p.ToolCallID, IsError: p.IsError, CacheControl: cc}
		if len(p.Result) == 1 && p.Result[0].Type == llm.PartText && len(p.Result[0].CacheControl) == 0 {
			if p.Result[0].Text != "" {
				b.Content = p.Result[0].Text
			}
			return b, true, nil
		}
		var content []outBlock
		for k, r := range p.Result {
			rp := path + ".result." + strconv.Itoa(k)
			switch r.Type {
			case llm.PartText:
				if r.Text != "" {
					content = append(content, outBlock{Type: "text", Text: ptr(r.Text), CacheControl: rawOrNil(r.CacheControl)})
				}
			case llm.PartImage:
				src, err := encodeImage(rp, r)
				if err != nil {
					return outBlock{}, false, err
				}
				content = append(content, outBlock{Type: "image", Source: src, CacheControl: rawOrNil(r.CacheControl)})
			default:
				return outBlock{}, false, invalidf(rp+".type", "%s.type: a tool result may hold text and image parts, not %q", rp, r.Type)
			}
		}
		if len(content) > 0 {
			b.Content = content
		}
		return b, true, nil
	}
	return outBlock{}, false, invalidf(path+".type", "%s.type: unknown part type %q", path, p.Type)
}

func encodeImage(path string, p llm.Part) (*outSource, error) {
	switch {
	case p.Data != "":
		if p.MediaType == "" {
			return nil, invalidf(path+".media_type", "%s.media_type: an inline image needs its media type", path)
		}
		return &outSource{Type: "base64", MediaType: p.MediaType, Data: p.Data}, nil
	case strings.HasPrefix(p.URL, "data:"):
		// data:<media type>;base64,<data>
		meta, data, ok := strings.Cut(p.URL[len("data:"):], ",")
		mt, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 || mt == "" {
			return nil, invalidf(path+".url", "%s.url: a data URL image must be data:<media type>;base64,<data>", path)
		}
		return &outSource{Type: "base64", MediaType: mt, Data: data}, nil
	case p.URL != "":
		return &outSource{Type: "url", URL: p.URL}, nil
	}
	return nil, invalidf(path, "%s: an image part needs data or a URL", path)
}

// argumentsObject checks that args is a JSON object ({} when empty).
func argumentsObject(args string) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace([]byte(args))
	if len(trimmed) == 0 {
		return json.RawMessage("{}"), nil
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, errArgs
	}
	return trimmed, nil
}

var errArgs = errors.New("the tool call's arguments are not a JSON object")

func ptr[T any](v T) *T { return &v }
