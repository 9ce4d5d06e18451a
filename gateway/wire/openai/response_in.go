package openai

import (
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// The answer as the API writes it. Field order follows OpenAI's.
type chatCompletion struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []choiceOut     `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
}

type choiceOut struct {
	Index        int        `json:"index"`
	Message      messageOut `json:"message"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason string     `json:"finish_reason"`
}

type messageOut struct {
	Role             string        `json:"role"`
	Content          *string       `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallOut `json:"tool_calls,omitempty"`
	Refusal          *string       `json:"refusal"`
	Annotations      []struct{}    `json:"annotations"`
}

type toolCallOut struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Function functionOut `json:"function"`
}

type functionOut struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// EncodeResponse implements wire.Inbound.
func (c Chat) EncodeResponse(resp *llm.Response) ([]byte, error) {
	msg := messageOut{Role: "assistant", Annotations: []struct{}{}}
	var text, reasoning strings.Builder
	hasText := false
	for _, p := range resp.Parts {
		switch p.Type {
		case llm.PartText:
			text.WriteString(p.Text)
			hasText = true
		case llm.PartThinking:
			reasoning.WriteString(p.Text)
		case llm.PartToolCall:
			msg.ToolCalls = append(msg.ToolCalls, toolCallOut{
				ID: p.ToolCallID, Type: "function",
				Function: functionOut{Name: p.ToolName, Arguments: argumentsOrEmpty(p.Arguments)},
			})
		}
	}
	if hasText {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = reasoning.String()
	return marshal(chatCompletion{
		ID:      completionID(resp.ID),
		Object:  "chat.completion",
		Created: c.created(),
		Model:   resp.Model,
		Choices: []choiceOut{{Message: msg, FinishReason: finishReason(resp.StopReason)}},
		Usage:   appendUsage(nil, resp.Usage),
	})
}

// argumentsOrEmpty gives a call with no argument text the empty object,
// which is what clients parse.
func argumentsOrEmpty(args string) string {
	if args == "" {
		return "{}"
	}
	return args
}

// appendUsage appends u as OpenAI's usage object: prompt_tokens counts
// every input token, cached or not; completion_tokens includes reasoning.
func appendUsage(b []byte, u llm.Usage) []byte {
	prompt := u.TotalInput()
	b = append(b, `{"prompt_tokens":`...)
	b = appendInt(b, prompt)
	b = append(b, `,"completion_tokens":`...)
	b = appendInt(b, u.OutputTokens)
	b = append(b, `,"total_tokens":`...)
	b = appendInt(b, prompt+u.OutputTokens)
	b = append(b, `,"prompt_tokens_details":{"cached_tokens":`...)
	b = appendInt(b, u.CacheReadTokens)
	b = append(b, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	b = appendInt(b, u.ReasoningTokens)
	b = append(b, `,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
	return b
}

// errorType gives OpenAI's error type and code for kind. Codes that
// OpenAI has no word for are the gateway's own.
func errorType(kind llm.ErrorKind) (typ, code string) {
	switch kind {
	case llm.ErrInvalidRequest:
		return "invalid_request_error", ""
	case llm.ErrAuthentication:
		return "invalid_request_error", "invalid_api_key"
	case llm.ErrPermission:
		return "invalid_request_error", "permission_denied"
	case llm.ErrNotFound:
		return "invalid_request_error", "model_not_found"
	case llm.ErrTooLarge:
		return "invalid_request_error", "request_too_large"
	case llm.ErrRateLimit:
		return "requests", "rate_limit_exceeded"
	case llm.ErrBudget:
		return "insufficient_quota", "insufficient_quota"
	case llm.ErrOverloaded:
		return "server_error", "overloaded"
	case llm.ErrTimeout:
		return "server_error", "timeout"
	case llm.ErrConnection:
		return "server_error", "connection_error"
	case llm.ErrStreamCut:
		return "server_error", "stream_cut"
	case llm.ErrInternal:
		return "server_error", "internal_error"
	}
	return "server_error", ""
}

// appendError appends e as OpenAI's error object.
func appendError(b []byte, e *llm.Error) []byte {
	typ, code := errorType(e.Kind)
	msg := e.Message
	if msg == "" {
		msg = string(e.Kind)
	}
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"param":`...)
	b = appendNullable(b, e.Param)
	b = append(b, `,"code":`...)
	b = appendNullable(b, code)
	return append(b, "}}"...)
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// EncodeError implements wire.Inbound.
func (Chat) EncodeError(e *llm.Error) []byte { return appendError(nil, e) }

// RewriteModel implements wire.Inbound.
func (Chat) RewriteModel(body []byte, model string) ([]byte, error) {
	out, err := wire.SetString(body, "model", model)
	if err != nil {
		return nil, llm.Errorf(llm.ErrInvalidRequest, "request body: %v; send a JSON object with one model member", err)
	}
	return out, nil
}
