package responses

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// echo is what a Response object repeats of the request it answers.
type echo struct {
	instructions    *string
	maxOutputTokens *int
	parallel        bool
	reasoning       reasoningConfig
	temperature     *float64
	topP            *float64
	format          json.RawMessage
	toolChoice      json.RawMessage
	tools           []json.RawMessage
	user            *string
	// marks holds the markers of the request's tools, by canonical name.
	marks map[string]toolMark
}

var defaultEcho = &echo{
	parallel:   true,
	format:     json.RawMessage(`{"type":"text"}`),
	toolChoice: json.RawMessage(`"auto"`),
	tools:      []json.RawMessage{},
}

func newEcho(req *llm.Request) *echo {
	e := &echo{
		parallel:    req.ToolChoice == nil || !req.ToolChoice.DisableParallel,
		temperature: clone(req.Temperature),
		topP:        clone(req.TopP),
		marks:       toolMarks(req.Tools),
		format:      defaultEcho.format,
		toolChoice:  defaultEcho.toolChoice,
		tools:       []json.RawMessage{},
	}
	if s := systemText(req.System); s != "" {
		e.instructions = &s
	}
	if req.MaxTokens > 0 {
		e.maxOutputTokens = clone(&req.MaxTokens)
	}
	if t := req.Thinking; t != nil {
		if t.Effort != "" {
			e.reasoning.Effort = clone(&t.Effort)
		}
		if t.Summary != "" {
			e.reasoning.Summary = clone(&t.Summary)
		}
	}
	if f := responsesFormat(req.ResponseFormat); f != nil {
		e.format = f
	}
	if req.ToolChoice != nil {
		e.toolChoice = wireToolChoice(req.ToolChoice, e.marks)
	}
	for _, t := range wireTools(req.Tools, e.marks) {
		b, _ := marshal(t)
		e.tools = append(e.tools, b)
	}
	if req.User != "" {
		e.user = clone(&req.User)
	}
	return e
}

// clone copies *p, so the echo does not share memory with the request.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// newResponse starts the Response object of an answer.
func (c Codec) newResponse(id, model string, created time.Time) *responseObject {
	ec := c.echo
	if ec == nil {
		ec = defaultEcho
	}
	return &responseObject{
		ID:                responseID(id, created),
		Object:            "response",
		CreatedAt:         created.Unix(),
		Status:            "in_progress",
		Instructions:      ec.instructions,
		MaxOutputTokens:   ec.maxOutputTokens,
		Model:             model,
		Output:            []any{},
		ParallelToolCalls: ec.parallel,
		Reasoning:         ec.reasoning,
		Temperature:       ec.temperature,
		Text:              textConfig{Format: ec.format},
		ToolChoice:        ec.toolChoice,
		Tools:             ec.tools,
		TopP:              ec.topP,
		Truncation:        "disabled",
		User:              ec.user,
		Metadata:          map[string]string{},
	}
}

// responseID is the Response id for a canonical answer id: kept if it
// already is one, else prefixed.
func responseID(id string, created time.Time) string {
	switch {
	case strings.HasPrefix(id, "resp_"):
		return id
	case id == "":
		return "resp_" + strconv.FormatInt(created.UnixNano(), 36)
	}
	return "resp_" + id
}

// itemID is the id of the output item at index of the answer with
// Response id respID: deterministic, and distinct within the answer.
func itemID(prefix, respID string, index int) string {
	return prefix + strings.TrimPrefix(respID, "resp_") + "_" + strconv.Itoa(index)
}

// mark is the marker of the request's tool name, if the codec knows the
// request and the tool has one.
func (c Codec) mark(name string) toolMark {
	if c.echo == nil {
		return toolMark{}
	}
	return c.echo.marks[name]
}

// newItem starts the output item at index for a part of type p.Type, as
// output_item.added shows it: in progress, with no content yet. It
// returns the item and its id, or nil for parts a Responses answer cannot
// hold (images).
func (c Codec) newItem(respID string, index int, p *llm.Part) (any, string) {
	switch p.Type {
	case llm.PartText:
		id := itemID("msg_", respID, index)
		return &messageItem{ID: id, Type: "message", Status: "in_progress", Content: []outputText{}, Role: "assistant"}, id
	case llm.PartThinking, llm.PartRedactedThinking:
		id := reasoningID(p.Data)
		if id == "" || p.Type == llm.PartRedactedThinking {
			id = itemID("rs_", respID, index)
		}
		return &reasoningItem{ID: id, Type: "reasoning", Summary: []summaryText{}}, id
	case llm.PartToolCall:
		m := c.mark(p.ToolName)
		switch m.Type {
		case markCustom:
			id := itemID("ctc_", respID, index)
			return &customToolCallItem{ID: id, Type: "custom_tool_call", Status: "in_progress",
				CallID: p.ToolCallID, Name: wireName(p.ToolName, m), Namespace: m.Namespace}, id
		case markToolSearch:
			id := itemID("tsc_", respID, index)
			return &toolSearchCallItem{ID: id, Type: "tool_search_call", Status: "in_progress",
				CallID: p.ToolCallID, Execution: "client", Arguments: json.RawMessage("{}")}, id
		}
		id := itemID("fc_", respID, index)
		return &functionCallItem{ID: id, Type: "function_call", Status: "in_progress",
			CallID: p.ToolCallID, Name: wireName(p.ToolName, m), Namespace: m.Namespace}, id
	}
	return nil, ""
}

// completeItem fills item with the finished part p.
func completeItem(item any, p *llm.Part) {
	switch it := item.(type) {
	case *messageItem:
		it.Status = "completed"
		it.Content = []outputText{{Type: "output_text", Annotations: []any{}, Text: p.Text}}
	case *reasoningItem:
		if p.Type == llm.PartRedactedThinking {
			it.EncryptedContent = p.Data
			return
		}
		it.EncryptedContent = p.Signature
		if p.Text != "" {
			it.Summary = []summaryText{{Type: "summary_text", Text: p.Text}}
		}
	case *functionCallItem:
		it.Status = "completed"
		it.Arguments = toolArguments(p.Arguments)
	case *customToolCallItem:
		it.Status = "completed"
		it.Input = customInput(p.Arguments)
	case *toolSearchCallItem:
		it.Status = "completed"
		if args := []byte(strings.TrimSpace(p.Arguments)); len(args) > 0 && args[0] == '{' && json.Valid(args) {
			it.Arguments = args
		}
	}
}

// toolArguments is the arguments string of a function call: the
// canonical arguments, or "{}" for none, which clients cannot parse.
func toolArguments(args string) string {
	if strings.TrimSpace(args) == "" {
		return "{}"
	}
	return args
}

// markIncomplete sets the status of an item cut short.
func markIncomplete(item any) {
	switch it := item.(type) {
	case *messageItem:
		it.Status = "incomplete"
	case *functionCallItem:
		it.Status = "incomplete"
	case *customToolCallItem:
		it.Status = "incomplete"
	case *toolSearchCallItem:
		it.Status = "incomplete"
	}
}

// finishResponse sets the final status and usage of obj.
func finishResponse(obj *responseObject, stop llm.StopReason, u llm.Usage) {
	obj.Status = "completed"
	switch stop {
	case llm.StopMaxTokens:
		obj.Status = "incomplete"
		obj.IncompleteDetails = &incompleteDetails{Reason: "max_output_tokens"}
	case llm.StopContentFilter:
		obj.Status = "incomplete"
		obj.IncompleteDetails = &incompleteDetails{Reason: "content_filter"}
	}
	obj.Usage = wireUsage(u)
}

func wireUsage(u llm.Usage) *usage {
	in := u.TotalInput()
	return &usage{
		InputTokens:         in,
		InputTokensDetails:  inputTokensDetails{CachedTokens: u.CacheReadTokens},
		OutputTokens:        u.OutputTokens,
		OutputTokensDetails: outputTokensDetails{ReasoningTokens: u.ReasoningTokens},
		TotalTokens:         in + u.OutputTokens,
	}
}

// EncodeResponse encodes a complete answer as a Response object.
func (c Codec) EncodeResponse(resp *llm.Response) ([]byte, error) {
	obj := c.newResponse(resp.ID, resp.Model, c.now())
	for i := range resp.Parts {
		p := &resp.Parts[i]
		item, _ := c.newItem(obj.ID, len(obj.Output), p)
		if item == nil {
			continue
		}
		completeItem(item, p)
		obj.Output = append(obj.Output, item)
	}
	finishResponse(obj, resp.StopReason, resp.Usage)
	if obj.Status == "incomplete" && len(obj.Output) > 0 {
		markIncomplete(obj.Output[len(obj.Output)-1])
	}
	return marshal(obj)
}

// marshal is json.Marshal without HTML escaping, so code in answers
// stays readable and as short as OpenAI's own.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
