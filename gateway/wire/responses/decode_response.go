package responses

import (
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// DecodeResponse decodes a complete Response object from OpenAI. A
// response whose status is "failed" is returned as its *llm.Error.
func (Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var r inResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, llm.Errorf(llm.ErrServer, "the provider's answer is not a Responses object: %v", err)
	}
	if r.Status == "failed" || r.Status == "cancelled" {
		if r.Error == nil {
			return nil, llm.Errorf(llm.ErrServer, "the provider's response %s ended with status %q and no error", r.ID, r.Status)
		}
		return nil, streamError(r.Error.Code, r.Error.Type, r.Error.Message, r.Error.Param)
	}
	resp := &llm.Response{ID: r.ID, Model: r.Model, Parts: []llm.Part{}, Usage: canonicalUsage(r.Usage)}
	var toolCall, refusal bool
	for _, raw := range r.Output {
		var it inItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, llm.Errorf(llm.ErrServer, "the provider's answer has a malformed output item: %v", err)
		}
		var parts []llm.Part
		parts, refusal = outputParts(parts, &it, refusal)
		for _, p := range parts {
			toolCall = toolCall || p.Type == llm.PartToolCall
		}
		resp.Parts = append(resp.Parts, parts...)
	}
	reason := ""
	if r.IncompleteDetails != nil {
		reason = r.IncompleteDetails.Reason
	}
	resp.StopReason = stopReason(r.Status, reason, toolCall, refusal)
	return resp, nil
}

// outputParts appends the canonical parts of output item it; refusal is
// set if the item holds a refusal. Items of hosted tools, which the
// gateway never asks for, are skipped.
func outputParts(parts []llm.Part, it *inItem, refusal bool) ([]llm.Part, bool) {
	switch it.Type {
	case "message":
		for _, c := range it.Content {
			switch c.Type {
			case "output_text":
				if c.Text != "" {
					parts = append(parts, llm.Part{Type: llm.PartText, Text: c.Text})
				}
			case "refusal":
				refusal = true
				if c.Refusal != "" {
					parts = append(parts, llm.Part{Type: llm.PartText, Text: c.Refusal})
				}
			}
		}
	case "reasoning":
		text := reasoningItemText(it)
		if text != "" || it.EncryptedContent != "" {
			parts = append(parts, llm.Part{Type: llm.PartThinking, Text: text,
				Signature: it.EncryptedContent, Data: reasoningData(it.ID)})
		}
	case "function_call":
		parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCallID: it.CallID,
			ToolName: canonicalName(it.Name, it.Namespace), Arguments: toolArguments(it.Arguments)})
	case "custom_tool_call":
		parts = append(parts, llm.Part{Type: llm.PartToolCall, ToolCallID: it.CallID,
			ToolName: canonicalName(it.Name, it.Namespace), Arguments: customArguments(it.Input)})
	}
	return parts, refusal
}

// reasoningItemText is a reasoning item's summary texts joined with a
// blank line, or its reasoning_text content if it has no summary.
func reasoningItemText(it *inItem) string {
	var texts []string
	for _, s := range it.Summary {
		if s.Text != "" {
			texts = append(texts, s.Text)
		}
	}
	if len(texts) > 0 {
		return strings.Join(texts, "\n\n")
	}
	var b strings.Builder
	for _, c := range it.Content {
		if c.Type == "reasoning_text" {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

func stopReason(status, incompleteReason string, toolCall, refusal bool) llm.StopReason {
	switch {
	case status == "incomplete" && incompleteReason == "content_filter":
		return llm.StopContentFilter
	case status == "incomplete":
		return llm.StopMaxTokens
	case toolCall:
		return llm.StopToolUse
	case refusal:
		return llm.StopRefusal
	}
	return llm.StopEndTurn
}

func canonicalUsage(u *usage) llm.Usage {
	if u == nil {
		return llm.Usage{}
	}
	cached := min(u.InputTokensDetails.CachedTokens, u.InputTokens)
	return llm.Usage{
		InputTokens:     u.InputTokens - cached,
		CacheReadTokens: cached,
		OutputTokens:    u.OutputTokens,
		ReasoningTokens: u.OutputTokensDetails.ReasoningTokens,
	}
}
