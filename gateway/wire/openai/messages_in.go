package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

type inMessage struct {
	Role             json.RawMessage `json:"role"`
	Content          json.RawMessage `json:"content"`
	Name             json.RawMessage `json:"name"`
	ToolCalls        json.RawMessage `json:"tool_calls"`
	ToolCallID       json.RawMessage `json:"tool_call_id"`
	FunctionCall     json.RawMessage `json:"function_call"`
	Refusal          json.RawMessage `json:"refusal"`
	ReasoningContent json.RawMessage `json:"reasoning_content"`
	Reasoning        json.RawMessage `json:"reasoning"`
}

type inPart struct {
	Type     json.RawMessage `json:"type"`
	Text     json.RawMessage `json:"text"`
	ImageURL json.RawMessage `json:"image_url"`
	Refusal  json.RawMessage `json:"refusal"`
}

// messageDecoder turns messages into canonical form, one at a time, and
// checks that tool messages answer the tool calls before them.
type messageDecoder struct {
	req     *llm.Request
	leading bool // no message but system/developer ones yet

	// callsAt is the index of the assistant message whose tool calls are
	// being answered (-1: none); calls are their IDs, in order, and
	// answered those answered so far.
	callsAt  int
	calls    []string
	answered map[string]bool
	// legacy is the ID given to that message's legacy function_call.
	legacy string
	// results is the user message collecting consecutive tool messages.
	results *llm.Message
	// names maps a tool call ID to its tool's name.
	names map[string]string
}

func (d *messageDecoder) message(i int, raw json.RawMessage) error {
	param := fmt.Sprintf("messages[%d]", i)
	var m inMessage
	if err := object(raw, param, &m); err != nil {
		return err
	}
	if absent(m.Role) {
		return invalid(param+".role", "required; use system, developer, user, assistant or tool")
	}
	role, err := str(m.Role, param+".role")
	if err != nil {
		return err
	}
	if role != "tool" && role != "function" {
		if err := d.checkAnswered(); err != nil {
			return err
		}
	}
	switch role {
	case "system", "developer":
		parts, err := content(m.Content, param+".content", role, true)
		if err != nil {
			return err
		}
		if d.leading {
			d.req.System = append(d.req.System, parts...)
		} else {
			d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleSystem, Parts: parts})
		}
	case "user":
		d.leading = false
		parts, err := content(m.Content, param+".content", role, true)
		if err != nil {
			return err
		}
		d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleUser, Parts: parts})
	case "assistant":
		d.leading = false
		return d.assistant(i, param, &m)
	case "tool":
		d.leading = false
		return d.tool(i, param, &m)
	case "function":
		d.leading = false
		return d.function(param, &m)
	default:
		return invalid(param+".role", "unknown role %q; use system, developer, user, assistant or tool", role)
	}
	return nil
}

// checkAnswered refuses to go on while tool calls are unanswered, as
// OpenAI does, and ends the current run of tool messages.
func (d *messageDecoder) checkAnswered() error {
	var missing []string
	for _, id := range d.calls {
		if !d.answered[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return invalid(fmt.Sprintf("messages[%d].tool_calls", d.callsAt),
			"no tool message answers %s; add a message with role \"tool\" and the tool_call_id for each tool call, right after this assistant message",
			strings.Join(missing, ", "))
	}
	d.callsAt, d.calls, d.answered, d.legacy, d.results = -1, nil, nil, "", nil
	return nil
}

func (d *messageDecoder) assistant(i int, param string, m *inMessage) error {
	var parts []llm.Part
	for _, r := range []struct {
		raw  json.RawMessage
		name string
	}{{m.ReasoningContent, "reasoning_content"}, {m.Reasoning, "reasoning"}} {
		if absent(r.raw) {
			continue
		}
		s, err := str(r.raw, param+"."+r.name)
		if err != nil {
			return err
		}
		if s != "" {
			parts = append(parts, llm.Part{Type: llm.PartThinking, Text: s})
			break // both present: the same reasoning twice
		}
	}
	hasCalls := !absent(m.ToolCalls) || !absent(m.FunctionCall)
	if !absent(m.Content) {
		c, err := content(m.Content, param+".content", "assistant", false)
		if err != nil {
			return err
		}
		for _, p := range c {
			if p.Text != "" || !hasCalls {
				parts = append(parts, p)
			}
		}
	}
	if !absent(m.Refusal) {
		s, err := str(m.Refusal, param+".refusal")
		if err != nil {
			return err
		}
		if s != "" {
			parts = append(parts, llm.Part{Type: llm.PartText, Text: s})
		}
	}
	if !absent(m.ToolCalls) {
		calls, err := array(m.ToolCalls, param+".tool_calls")
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for j, raw := range calls {
			p, err := toolCall(raw, fmt.Sprintf("%s.tool_calls[%d]", param, j))
			if err != nil {
				return err
			}
			if seen[p.ToolCallID] {
				return invalid(fmt.Sprintf("%s.tool_calls[%d].id", param, j), "%q is used twice in this message; give each tool call its own id", p.ToolCallID)
			}
			seen[p.ToolCallID] = true
			parts = append(parts, p)
			d.calls = append(d.calls, p.ToolCallID)
			d.names[p.ToolCallID] = p.ToolName
		}
	}
	if !absent(m.FunctionCall) {
		var fc struct {
			Name      json.RawMessage `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		fp := param + ".function_call"
		if err := object(m.FunctionCall, fp, &fc); err != nil {
			return err
		}
		p, err := functionCall(fc.Name, fc.Arguments, fp)
		if err != nil {
			return err
		}
		p.ToolCallID = fmt.Sprintf("call_legacy_%d", i)
		parts = append(parts, p)
		d.legacy = p.ToolCallID
		d.calls = append(d.calls, p.ToolCallID)
		d.names[p.ToolCallID] = p.ToolName
	}
	if len(parts) == 0 && absent(m.Content) {
		return invalid(param+".content", "an assistant message needs content or tool_calls")
	}
	if len(d.calls) > 0 {
		d.callsAt, d.answered = i, map[string]bool{}
	}
	if parts == nil {
		parts = []llm.Part{}
	}
	d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleAssistant, Parts: parts})
	return nil
}

// toolCall reads one entry of an assistant's tool_calls.
func toolCall(raw json.RawMessage, param string) (llm.Part, error) {
	var c struct {
		ID       json.RawMessage `json:"id"`
		Type     json.RawMessage `json:"type"`
		Function json.RawMessage `json:"function"`
	}
	if err := object(raw, param, &c); err != nil {
		return llm.Part{}, err
	}
	if !absent(c.Type) {
		typ, err := str(c.Type, param+".type")
		if err != nil {
			return llm.Part{}, err
		}
		if typ != "function" {
			return llm.Part{}, invalid(param+".type", "tool calls of type %q are not supported by this gateway; use \"function\"", typ)
		}
	}
	if absent(c.ID) {
		return llm.Part{}, invalid(param+".id", "required; send the id the model gave the call")
	}
	id, err := str(c.ID, param+".id")
	if err != nil {
		return llm.Part{}, err
	}
	if id == "" {
		return llm.Part{}, invalid(param+".id", "must not be empty; send the id the model gave the call")
	}
	var f struct {
		Name      json.RawMessage `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if absent(c.Function) {
		return llm.Part{}, invalid(param+".function", "required; send the function name and arguments")
	}
	if err := object(c.Function, param+".function", &f); err != nil {
		return llm.Part{}, err
	}
	p, err := functionCall(f.Name, f.Arguments, param+".function")
	p.ToolCallID = id
	return p, err
}

// functionCall reads a function's name and arguments. Arguments are a
// JSON text in a string; an object given directly is taken as its text.
func functionCall(name, args json.RawMessage, param string) (llm.Part, error) {
	p := llm.Part{Type: llm.PartToolCall}
	if absent(name) {
		return p, invalid(param+".name", "required; send the name of the function called")
	}
	var err error
	if p.ToolName, err = str(name, param+".name"); err != nil {
		return p, err
	}
	switch {
	case absent(args):
		p.Arguments = "{}"
	case args[0] == '{':
		p.Arguments = string(args)
	default:
		if p.Arguments, err = str(args, param+".arguments"); err != nil {
			return p, err
		}
	}
	p.Arguments = argumentsOrEmpty(p.Arguments)
	return p, nil
}

func (d *messageDecoder) tool(i int, param string, m *inMessage) error {
	if d.callsAt < 0 {
		return invalid(param+".role", "a tool message must answer the tool_calls of the assistant message before it; put it right after that message")
	}
	if absent(m.ToolCallID) {
		return invalid(param+".tool_call_id", "required; send the id of the tool call this message answers")
	}
	id, err := str(m.ToolCallID, param+".tool_call_id")
	if err != nil {
		return err
	}
	known := false
	for _, c := range d.calls {
		known = known || c == id
	}
	if !known {
		return invalid(param+".tool_call_id", "%q is not the id of a tool call in messages[%d]; use one of %s", id, d.callsAt, strings.Join(d.calls, ", "))
	}
	result, err := content(m.Content, param+".content", "tool", true)
	if err != nil {
		return err
	}
	d.answer(id, result)
	return nil
}

// function reads a legacy role "function" message.
func (d *messageDecoder) function(param string, m *inMessage) error {
	if d.legacy == "" {
		return invalid(param+".role", "a function message must answer the function_call of the assistant message before it; put it right after that message")
	}
	result, err := content(m.Content, param+".content", "function", true)
	if err != nil {
		return err
	}
	d.answer(d.legacy, result)
	return nil
}

// answer adds a tool result to the user message collecting them.
func (d *messageDecoder) answer(id string, result []llm.Part) {
	if len(result) == 1 && result[0].Text == "" {
		result = nil
	}
	d.answered[id] = true
	if d.results == nil {
		d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleUser})
		d.results = &d.req.Messages[len(d.req.Messages)-1]
	}
	d.results.Parts = append(d.results.Parts, llm.Part{
		Type: llm.PartToolResult, ToolCallID: id, ToolName: d.names[id], Result: result,
	})
}

// content reads a message's content: a string or an array of parts of
// the types role may send. required refuses a missing or null content.
func content(raw json.RawMessage, param, role string, required bool) ([]llm.Part, error) {
	if absent(raw) {
		if required {
			return nil, invalid(param, "required for a %s message; send a string or an array of content parts", role)
		}
		return nil, nil
	}
	if isString(raw) {
		s, err := str(raw, param)
		if err != nil {
			return nil, err
		}
		return []llm.Part{{Type: llm.PartText, Text: s}}, nil
	}
	if raw[0] != '[' {
		return nil, invalid(param, "expected a string or an array of content parts, got %s", jsonKind(raw))
	}
	items, err := array(raw, param)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, invalid(param, "the array is empty; send at least one content part, or a string")
	}
	parts := make([]llm.Part, 0, len(items))
	for j, item := range items {
		p, err := contentPart(item, fmt.Sprintf("%s[%d]", param, j), role)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func contentPart(raw json.RawMessage, param, role string) (llm.Part, error) {
	var p inPart
	if err := object(raw, param, &p); err != nil {
		return llm.Part{}, err
	}
	typ, err := str(p.Type, param+".type")
	if err != nil {
		return llm.Part{}, err
	}
	allowed := "text"
	switch role {
	case "user":
		allowed = "text or image_url"
	case "assistant":
		allowed = "text or refusal"
	}
	switch {
	case typ == "text":
		s, err := str(p.Text, param+".text")
		return llm.Part{Type: llm.PartText, Text: s}, err
	case typ == "refusal" && role == "assistant":
		s, err := str(p.Refusal, param+".refusal")
		return llm.Part{Type: llm.PartText, Text: s}, err
	case typ == "image_url" && role == "user":
		return imageURL(p.ImageURL, param+".image_url")
	case typ == "input_audio" || typ == "file":
		return llm.Part{}, invalid(param+".type", "%s parts are not supported by this gateway; send %s parts", typ, allowed)
	}
	return llm.Part{}, invalid(param+".type", "%q parts are not allowed in a %s message; send %s parts", typ, role, allowed)
}

// imageURL reads {"url": ..., "detail": ...} (or a bare URL string). A
// base64 data: URL becomes MediaType and Data.
func imageURL(raw json.RawMessage, param string) (llm.Part, error) {
	var url string
	var err error
	if isString(raw) {
		url, err = str(raw, param)
	} else {
		var o struct {
			URL json.RawMessage `json:"url"`
		}
		if err := object(raw, param, &o); err != nil {
			return llm.Part{}, err
		}
		url, err = str(o.URL, param+".url")
		param += ".url"
	}
	if err != nil {
		return llm.Part{}, err
	}
	if url == "" {
		return llm.Part{}, invalid(param, "must not be empty; send an http(s) URL or a data: URL")
	}
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return llm.Part{}, invalid(param, "a data: URL must be base64 encoded (data:image/png;base64,...)")
		}
		media := strings.TrimSuffix(meta, ";base64")
		if !strings.HasPrefix(media, "image/") || data == "" {
			return llm.Part{}, invalid(param, "a data: URL must hold a base64 image (data:image/png;base64,...)")
		}
		return llm.Part{Type: llm.PartImage, MediaType: media, Data: data}, nil
	}
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return llm.Part{}, invalid(param, "send an http(s) URL or a base64 data: URL")
	}
	return llm.Part{Type: llm.PartImage, URL: url}, nil
}
