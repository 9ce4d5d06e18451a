package anthropic

import (
	"encoding/json"
	"errors"

	"github.com/switchyard/switchyard/gateway/llm"
)

// outResponse is a Messages API response as EncodeResponse writes it.
type outResponse struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []outBlock `json:"content"`
	StopReason   string     `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        outUsage   `json:"usage"`
}

// outUsage is the API's usage object, members in the API's order.
type outUsage struct {
	InputTokens         int `json:"input_tokens"`
	CacheCreationTokens int `json:"cache_creation_input_tokens"`
	CacheReadTokens     int `json:"cache_read_input_tokens"`
	OutputTokens        int `json:"output_tokens"`
}

// wireResponse is a Messages API response as DecodeResponse reads it.
type wireResponse struct {
	Type         string            `json:"type"`
	ID           string            `json:"id"`
	Model        string            `json:"model"`
	Content      []json.RawMessage `json:"content"`
	StopReason   *string           `json:"stop_reason"`
	StopSequence *string           `json:"stop_sequence"`
	Usage        wireUsage         `json:"usage"`
	Error        *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// wireUsage is the API's usage object. Members are pointers because
// message_delta carries only those that changed in older API versions.
type wireUsage struct {
	InputTokens         *int `json:"input_tokens"`
	OutputTokens        *int `json:"output_tokens"`
	CacheCreationTokens *int `json:"cache_creation_input_tokens"`
	CacheReadTokens     *int `json:"cache_read_input_tokens"`
}

// apply sets the members of u that w carries.
func (w wireUsage) apply(u *llm.Usage) {
	if w.InputTokens != nil {
		u.InputTokens = *w.InputTokens
	}
	if w.OutputTokens != nil {
		u.OutputTokens = *w.OutputTokens
	}
	if w.CacheCreationTokens != nil {
		u.CacheWriteTokens = *w.CacheCreationTokens
	}
	if w.CacheReadTokens != nil {
		u.CacheReadTokens = *w.CacheReadTokens
	}
}

func usageOut(u llm.Usage) outUsage {
	return outUsage{
		InputTokens:         u.InputTokens,
		OutputTokens:        u.OutputTokens,
		CacheCreationTokens: u.CacheWriteTokens,
		CacheReadTokens:     u.CacheReadTokens,
	}
}

// stopReasonOut is the API's stop_reason for r.
func stopReasonOut(r llm.StopReason) string {
	switch r {
	case "":
		return string(llm.StopEndTurn)
	case llm.StopContentFilter:
		return string(llm.StopRefusal)
	}
	return string(r)
}

// stopReasonIn is the canonical stop reason for the API's s.
func stopReasonIn(s string) llm.StopReason {
	if s == "model_context_window_exceeded" {
		return llm.StopMaxTokens
	}
	return llm.StopReason(s)
}

// EncodeResponse implements wire.Inbound. Parts the API cannot show in an
// answer (images, tool results) are left out; a tool call whose arguments
// are not a JSON object is an ErrServer, since the API has no way to carry
// it.
func (Codec) EncodeResponse(resp *llm.Response) ([]byte, error) {
	out := outResponse{
		ID:         resp.ID,
		Type:       "message",
		Role:       "assistant",
		Model:      resp.Model,
		Content:    make([]outBlock, 0, len(resp.Parts)),
		StopReason: stopReasonOut(resp.StopReason),
		Usage:      usageOut(resp.Usage),
	}
	if resp.StopSequence != "" {
		out.StopSequence = ptr(resp.StopSequence)
	}
	for i, p := range resp.Parts {
		switch p.Type {
		case llm.PartText:
			out.Content = append(out.Content, outBlock{Type: "text", Text: ptr(p.Text)})
		case llm.PartThinking:
			out.Content = append(out.Content, outBlock{Type: "thinking", Thinking: ptr(p.Text), Signature: ptr(p.Signature)})
		case llm.PartRedactedThinking:
			out.Content = append(out.Content, outBlock{Type: "redacted_thinking", Data: ptr(p.Data)})
		case llm.PartToolCall:
			input, err := argumentsObject(p.Arguments)
			if err != nil {
				return nil, upstreamf("parts.%d: tool call %s (%s): %v", i, p.ToolCallID, p.ToolName, err)
			}
			out.Content = append(out.Content, outBlock{Type: "tool_use", ID: p.ToolCallID, Name: p.ToolName, Input: input})
		}
	}
	return marshal(out)
}

// DecodeResponse implements wire.Outbound. Content blocks other than
// text, thinking, redacted_thinking and tool_use are skipped. A body that
// is the API's error object is returned as that error.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var wr wireResponse
	if err := json.Unmarshal(body, &wr); err != nil {
		return nil, upstreamf("anthropic response: %v", err)
	}
	if wr.Type == "error" {
		return nil, streamError(&wireError{Type: wr.Type, Error: wr.Error})
	}
	if wr.Type != "message" {
		return nil, upstreamf("anthropic response: type is %q, expected message", wr.Type)
	}
	resp := &llm.Response{ID: wr.ID, Model: wr.Model, Parts: make([]llm.Part, 0, len(wr.Content))}
	for i, raw := range wr.Content {
		p, ok, err := responsePart(raw)
		if err != nil {
			return nil, upstreamf("anthropic response: content.%d: %v", i, err)
		}
		if ok {
			resp.Parts = append(resp.Parts, p)
		}
	}
	if wr.StopReason != nil {
		resp.StopReason = stopReasonIn(*wr.StopReason)
	}
	if wr.StopSequence != nil {
		resp.StopSequence = *wr.StopSequence
	}
	wr.Usage.apply(&resp.Usage)
	return resp, nil
}

// responsePart converts a content block of an answer, or of a
// content_block_start event; ok is false for a block type with no
// canonical form.
func responsePart(raw json.RawMessage) (p llm.Part, ok bool, err error) {
	var b wireBlock
	jerr := json.Unmarshal(raw, &b)
	var se *json.SyntaxError
	if errors.As(jerr, &se) {
		return llm.Part{}, false, jerr
	}
	if b.Type == nil {
		if jerr != nil {
			return llm.Part{}, false, jerr
		}
		return llm.Part{}, false, errors.New("content block without a type")
	}
	switch *b.Type {
	case "text", "thinking", "redacted_thinking", "tool_use":
	default:
		return llm.Part{}, false, nil
	}
	if jerr != nil {
		return llm.Part{}, false, jerr
	}
	switch *b.Type {
	case "text":
		p.Type = llm.PartText
		if b.Text != nil {
			p.Text = *b.Text
		}
	case "thinking":
		p.Type = llm.PartThinking
		if b.Thinking != nil {
			p.Text = *b.Thinking
		}
		if b.Signature != nil {
			p.Signature = *b.Signature
		}
	case "redacted_thinking":
		p.Type = llm.PartRedactedThinking
		if b.Data != nil {
			p.Data = *b.Data
		}
	case "tool_use":
		p.Type = llm.PartToolCall
		if b.ID != nil {
			p.ToolCallID = *b.ID
		}
		if b.Name != nil {
			p.ToolName = *b.Name
		}
		if !isNull(b.Input) {
			p.Arguments = string(compact(b.Input))
		}
	}
	return p, true, nil
}
