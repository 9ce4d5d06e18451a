package openai

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// The request as sent to a provider. Field order is the usual one.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []messageIn     `json:"messages"`
	Tools               []toolIn        `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	User                string          `json:"user,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type messageIn struct {
	Role       string        `json:"role"`
	Content    any           `json:"content"` // string or []partIn
	ToolCalls  []toolCallOut `json:"tool_calls,omitempty"`
	ToolCallID string        `json:"tool_call_id,omitempty"`
}

type partIn struct {
	Type     string      `json:"type"`
	Text     *string     `json:"text,omitempty"`
	ImageURL *imageURLIn `json:"image_url,omitempty"`
}

type imageURLIn struct {
	URL string `json:"url"`
}

type toolIn struct {
	Type     string     `json:"type"`
	Function functionIn `json:"function"`
}

type functionIn struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type namedChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

// EncodeRequest implements wire.Outbound.
func (Chat) EncodeRequest(req *llm.Request) ([]byte, error) {
	if req.Model == "" {
		return nil, errors.New("encode chat completions request: the model is empty; set the provider's model name")
	}
	out := chatRequest{
		Model:          req.Model,
		Temperature:    req.Temperature,
		TopP:           req.TopP,
		Stop:           req.Stop,
		ResponseFormat: req.ResponseFormat,
		User:           req.User,
		Stream:         req.Stream,
	}
	if req.Stream {
		out.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	if req.Thinking != nil && req.Thinking.Effort != "" {
		out.ReasoningEffort = req.Thinking.Effort
		out.MaxCompletionTokens = req.MaxTokens
	} else {
		out.MaxTokens = req.MaxTokens
	}
	for _, t := range req.Tools {
		out.Tools = append(out.Tools, toolIn{Type: "function", Function: functionIn{
			Name: t.Name, Description: t.Description, Parameters: t.Parameters,
		}})
	}
	if c := req.ToolChoice; c != nil && len(req.Tools) > 0 {
		switch c.Mode {
		case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
			out.ToolChoice = string(c.Mode)
		case llm.ToolChoiceTool:
			var n namedChoice
			n.Type, n.Function.Name = "function", c.Name
			out.ToolChoice = n
		}
		if c.DisableParallel {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	if sys := joinText(req.System, "\n\n"); len(req.System) > 0 {
		out.Messages = append(out.Messages, messageIn{Role: "system", Content: sys})
	}
	for _, m := range req.Messages {
		out.Messages = appendMessage(out.Messages, m)
	}
	return marshal(out)
}

// joinText joins the text of the text parts of parts.
func joinText(parts []llm.Part, sep string) string {
	var b strings.Builder
	n := 0
	for _, p := range parts {
		if p.Type != llm.PartText {
			continue
		}
		if n > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p.Text)
		n++
	}
	return b.String()
}

func appendMessage(out []messageIn, m llm.Message) []messageIn {
	switch m.Role {
	case llm.RoleSystem:
		return append(out, messageIn{Role: "system", Content: joinText(m.Parts, "\n\n")})
	case llm.RoleAssistant:
		msg := messageIn{Role: "assistant"}
		var text []llm.Part
		for _, p := range m.Parts {
			switch p.Type {
			case llm.PartText:
				text = append(text, p)
			case llm.PartToolCall:
				msg.ToolCalls = append(msg.ToolCalls, toolCallOut{
					ID: p.ToolCallID, Type: "function",
					Function: functionOut{Name: p.ToolName, Arguments: argumentsOrEmpty(p.Arguments)},
				})
			}
			// Thinking is dropped: there is no input field for it.
		}
		msg.Content = joinText(text, "")
		return append(out, msg)
	}
	// A user message: tool results first, as tool messages, then the rest.
	var rest []partIn
	for _, p := range m.Parts {
		switch p.Type {
		case llm.PartToolResult:
			out = append(out, messageIn{Role: "tool", ToolCallID: p.ToolCallID, Content: joinText(p.Result, "\n")})
			for _, r := range p.Result {
				if r.Type == llm.PartImage {
					rest = append(rest, imagePart(r))
				}
			}
		case llm.PartText:
			t := p.Text
			rest = append(rest, partIn{Type: "text", Text: &t})
		case llm.PartImage:
			rest = append(rest, imagePart(p))
		}
	}
	switch {
	case len(rest) == 0:
		return out
	case len(rest) == 1 && rest[0].Type == "text":
		return append(out, messageIn{Role: "user", Content: *rest[0].Text})
	}
	return append(out, messageIn{Role: "user", Content: rest})
}

func imagePart(p llm.Part) partIn {
	url := p.URL
	if p.Data != "" {
		url = "data:" + p.MediaType + ";base64," + p.Data
	}
	return partIn{Type: "image_url", ImageURL: &imageURLIn{URL: url}}
}
