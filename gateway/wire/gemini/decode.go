package gemini

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/switchyard/switchyard/gateway/llm"
)

// DecodeResponse implements wire.Outbound. A body that is an error object
// returns that error; a body that is not a GenerateContentResponse
// returns an *llm.Error of kind ErrServer.
func (c Codec) DecodeResponse(body []byte) (*llm.Response, error) {
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, llm.Errorf(llm.ErrServer, "gemini answered with a body that is not a GenerateContentResponse: %v", err)
	}
	if r.Error != nil {
		return nil, apiErrorToLLM(0, r.Error)
	}
	resp := &llm.Response{ID: r.ResponseID, Model: r.ModelVersion, Parts: []llm.Part{}, Usage: usage(r.UsageMetadata)}
	ids := callIDs{responseID: r.ResponseID}
	sawCall := false
	if len(r.Candidates) == 0 {
		resp.StopReason = llm.StopEndTurn
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			resp.StopReason = llm.StopContentFilter
		}
		return resp, nil
	}
	cand := r.Candidates[0]
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				sawCall = true
				resp.Parts = append(resp.Parts, llm.Part{
					Type:       llm.PartToolCall,
					ToolCallID: ids.next(p.FunctionCall.ID),
					ToolName:   p.FunctionCall.Name,
					Arguments:  argsText(p.FunctionCall.Args),
					Signature:  p.ThoughtSignature,
				})
			case p.Text != nil && *p.Text == "":
				// An empty part that only carries a signature: it belongs
				// to the text before it.
				if n := len(resp.Parts); p.ThoughtSignature != "" && n > 0 && isText(resp.Parts[n-1].Type) && resp.Parts[n-1].Signature == "" {
					resp.Parts[n-1].Signature = p.ThoughtSignature
				}
			case p.Text != nil:
				typ := llm.PartText
				if p.Thought {
					typ = llm.PartThinking
				}
				resp.Parts = append(resp.Parts, llm.Part{Type: typ, Text: *p.Text, Signature: p.ThoughtSignature})
			case p.InlineData != nil:
				resp.Parts = append(resp.Parts, llm.Part{Type: llm.PartImage, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data})
			case p.FileData != nil:
				resp.Parts = append(resp.Parts, llm.Part{Type: llm.PartImage, MediaType: p.FileData.MimeType, URL: p.FileData.FileURI})
			}
		}
	}
	resp.StopReason = stopReason(cand.FinishReason, sawCall)
	return resp, nil
}

func isText(t llm.PartType) bool { return t == llm.PartText || t == llm.PartThinking }

// callIDs hands out tool call ids: Gemini's own when it sends one,
// otherwise "call_<responseId>_<n>".
type callIDs struct {
	responseID string
	n          int
}

func (c *callIDs) next(given string) string {
	n := c.n
	c.n++
	if given != "" {
		return given
	}
	if c.responseID != "" && safeID(c.responseID) {
		return "call_" + c.responseID + "_" + strconv.Itoa(n)
	}
	return "call_" + strconv.Itoa(n)
}

// safeID reports whether s fits the tool id patterns clients enforce
// (Anthropic: ^[a-zA-Z0-9_-]+$).
func safeID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return len(s) <= 64
}

// argsText renders functionCall.args as compact JSON text; absent args are
// the empty object.
func argsText(args json.RawMessage) string {
	a := bytes.TrimSpace(args)
	if len(a) == 0 || string(a) == "null" {
		return "{}"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, a) != nil {
		return string(a)
	}
	return buf.String()
}

// stopReason maps a finishReason; sawCall turns STOP into tool_use.
func stopReason(finish string, sawCall bool) llm.StopReason {
	switch finish {
	case "MAX_TOKENS":
		return llm.StopMaxTokens
	case "SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.StopContentFilter
	}
	if sawCall {
		return llm.StopToolUse
	}
	return llm.StopEndTurn
}

// usage converts usageMetadata; see the package doc.
func usage(m *usageMetadata) llm.Usage {
	if m == nil {
		return llm.Usage{}
	}
	return llm.Usage{
		InputTokens:     m.PromptTokenCount - m.CachedContentTokenCount + m.ToolUsePromptTokenCount,
		CacheReadTokens: m.CachedContentTokenCount,
		OutputTokens:    m.CandidatesTokenCount + m.ThoughtsTokenCount,
		ReasoningTokens: m.ThoughtsTokenCount,
	}
}
