package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// wireRequest is a client's request. Every member is kept raw so that
// each can be checked with its own path in the error message.
type wireRequest struct {
	Model              json.RawMessage `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       json.RawMessage `json:"instructions"`
	Tools              json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	ParallelToolCalls  json.RawMessage `json:"parallel_tool_calls"`
	Reasoning          json.RawMessage `json:"reasoning"`
	Text               json.RawMessage `json:"text"`
	MaxOutputTokens    json.RawMessage `json:"max_output_tokens"`
	Temperature        json.RawMessage `json:"temperature"`
	TopP               json.RawMessage `json:"top_p"`
	Stream             json.RawMessage `json:"stream"`
	User               json.RawMessage `json:"user"`
	SafetyIdentifier   json.RawMessage `json:"safety_identifier"`
	PreviousResponseID json.RawMessage `json:"previous_response_id"`
	Conversation       json.RawMessage `json:"conversation"`
	Prompt             json.RawMessage `json:"prompt"`
	Background         json.RawMessage `json:"background"`
}

// wireItem is one element of "input", members kept raw as above.
type wireItem struct {
	Type             json.RawMessage `json:"type"`
	Role             json.RawMessage `json:"role"`
	Content          json.RawMessage `json:"content"`
	ID               json.RawMessage `json:"id"`
	CallID           json.RawMessage `json:"call_id"`
	Name             json.RawMessage `json:"name"`
	Arguments        json.RawMessage `json:"arguments"`
	Input            json.RawMessage `json:"input"`
	Output           json.RawMessage `json:"output"`
	Summary          json.RawMessage `json:"summary"`
	EncryptedContent json.RawMessage `json:"encrypted_content"`
	Namespace        json.RawMessage `json:"namespace"`
	Execution        json.RawMessage `json:"execution"`
	Tools            json.RawMessage `json:"tools"`
}

// DecodeRequest decodes a client's request into canonical form. Errors
// are *llm.Error of kind ErrInvalidRequest naming the offending field.
func (Codec) DecodeRequest(body []byte) (*llm.Request, error) {
	req, err := decodeRequest(body)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func decodeRequest(body []byte) (*llm.Request, *llm.Error) {
	var w wireRequest
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, invalidf("", "the body is not a valid JSON object (%v); send a JSON Responses request", err)
	}
	req := &llm.Request{}
	var e *llm.Error
	if req.Model, e = str(w.Model, "model"); e != nil {
		return nil, e
	}
	if req.Model == "" {
		return nil, invalidf("model", "required; name the model to use")
	}
	if !isNull(w.PreviousResponseID) {
		return nil, invalidf("previous_response_id", "not supported: this gateway stores no responses; "+
			"send store=false and the whole conversation in input instead")
	}
	if !isNull(w.Conversation) {
		return nil, invalidf("conversation", "not supported: this gateway keeps no conversations; "+
			"send the whole conversation in input instead")
	}
	if !isNull(w.Prompt) {
		return nil, invalidf("prompt", "stored prompt templates are not supported; send instructions and input instead")
	}
	if bg, _, e := boolean(w.Background, "background"); e != nil {
		return nil, e
	} else if bg {
		return nil, invalidf("background", "background responses are not supported; send background=false and stream instead")
	}
	if req.Stream, _, e = boolean(w.Stream, "stream"); e != nil {
		return nil, e
	}
	if e = decodeSettings(&w, req); e != nil {
		return nil, e
	}
	if e = decodeTools(w.Tools, w.ToolChoice, w.ParallelToolCalls, req); e != nil {
		return nil, e
	}
	instructions, e := str(w.Instructions, "instructions")
	if e != nil {
		return nil, e
	}
	if instructions != "" {
		req.System = append(req.System, llm.Part{Type: llm.PartText, Text: instructions})
	}
	if e = decodeInput(w.Input, req); e != nil {
		return nil, e
	}
	return req, nil
}

// decodeSettings reads the sampling, reasoning and output settings.
func decodeSettings(w *wireRequest, req *llm.Request) *llm.Error {
	var e *llm.Error
	if !isNull(w.MaxOutputTokens) {
		if err := json.Unmarshal(w.MaxOutputTokens, &req.MaxTokens); err != nil || req.MaxTokens < 1 {
			return invalidf("max_output_tokens", "expected a positive integer, got %s", describe(w.MaxOutputTokens))
		}
	}
	if req.Temperature, e = number(w.Temperature, "temperature", 0, 2); e != nil {
		return e
	}
	if req.TopP, e = number(w.TopP, "top_p", 0, 1); e != nil {
		return e
	}
	if req.User, e = str(w.User, "user"); e != nil {
		return e
	}
	if req.User == "" {
		if req.User, e = str(w.SafetyIdentifier, "safety_identifier"); e != nil {
			return e
		}
	}
	if !isNull(w.Reasoning) {
		var r struct {
			Effort          json.RawMessage `json:"effort"`
			Summary         json.RawMessage `json:"summary"`
			GenerateSummary json.RawMessage `json:"generate_summary"`
		}
		if json.Unmarshal(w.Reasoning, &r) != nil {
			return invalidf("reasoning", "expected an object like {\"effort\":\"medium\"}, got %s", kindOf(w.Reasoning))
		}
		var t llm.Thinking
		if t.Effort, e = str(r.Effort, "reasoning.effort"); e != nil {
			return e
		}
		if t.Summary, e = str(r.Summary, "reasoning.summary"); e != nil {
			return e
		}
		if t.Summary == "" {
			if t.Summary, e = str(r.GenerateSummary, "reasoning.generate_summary"); e != nil {
				return e
			}
		}
		if t != (llm.Thinking{}) {
			req.Thinking = &t
		}
	}
	if !isNull(w.Text) {
		var t struct {
			Format json.RawMessage `json:"format"`
		}
		if json.Unmarshal(w.Text, &t) != nil {
			return invalidf("text", "expected an object like {\"format\":{\"type\":\"text\"}}, got %s", kindOf(w.Text))
		}
		if !isNull(t.Format) {
			f, e := chatFormat(t.Format)
			if e != nil {
				return e
			}
			req.ResponseFormat = f
		}
	}
	return nil
}

// chatFormat converts a Responses text.format into the canonical
// ResponseFormat, which has Chat Completions' response_format shape
// ({"type":"json_schema","json_schema":{...}}); nil for plain text.
func chatFormat(format json.RawMessage) (json.RawMessage, *llm.Error) {
	var f map[string]json.RawMessage
	if json.Unmarshal(format, &f) != nil {
		return nil, invalidf("text.format", "expected an object like {\"type\":\"json_schema\",...}, got %s", kindOf(format))
	}
	typ, e := str(f["type"], "text.format.type")
	if e != nil {
		return nil, e
	}
	switch typ {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if isNull(f["schema"]) {
			return nil, invalidf("text.format.schema", "required for a json_schema format; give the JSON Schema of the answer")
		}
		inner := map[string]json.RawMessage{}
		for k, v := range f {
			if k != "type" {
				inner[k] = v
			}
		}
		b, _ := json.Marshal(struct {
			Type       string                     `json:"type"`
			JSONSchema map[string]json.RawMessage `json:"json_schema"`
		}{"json_schema", inner})
		return b, nil
	}
	return nil, invalidf("text.format.type", "expected text, json_object or json_schema, got %q", typ)
}

// decodeTools reads tools, tool_choice and parallel_tool_calls.
func decodeTools(rawTools, rawChoice, rawParallel json.RawMessage, req *llm.Request) *llm.Error {
	if !isNull(rawTools) {
		tools, e := decodeToolList(rawTools, "tools")
		if e != nil {
			return e
		}
		req.Tools = tools
	}
	if !isNull(rawChoice) {
		tc, e := decodeToolChoice(rawChoice, req.Tools)
		if e != nil {
			return e
		}
		req.ToolChoice = tc
	}
	parallel, present, e := boolean(rawParallel, "parallel_tool_calls")
	if e != nil {
		return e
	}
	if present && !parallel {
		if req.ToolChoice == nil {
			req.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
		}
		req.ToolChoice.DisableParallel = true
	}
	return nil
}

// toolFields is one element of "tools", members kept raw.
type toolFields struct {
	Type        json.RawMessage `json:"type"`
	Name        json.RawMessage `json:"name"`
	Description json.RawMessage `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Format      json.RawMessage `json:"format"`
	Execution   json.RawMessage `json:"execution"`
	Tools       json.RawMessage `json:"tools"` // of a namespace
}

// decodeToolList reads an array of tools at path (the request's tools,
// or those a tool search loaded), flattening namespaces. A name declared
// twice is an error.
func decodeToolList(raw json.RawMessage, path string) ([]llm.Tool, *llm.Error) {
	elems, e := objects[toolFields](raw, path, "a tool object", "tools")
	if e != nil {
		return nil, e
	}
	var tools []llm.Tool
	seen := map[string]bool{}
	add := func(t llm.Tool, p string) *llm.Error {
		if seen[t.Name] {
			return invalidf(p+".name", "%q is declared twice; give each tool a distinct name", t.Name)
		}
		seen[t.Name] = true
		tools = append(tools, t)
		return nil
	}
	for i := range elems {
		p := fmt.Sprintf("%s[%d]", path, i)
		typ, e := str(elems[i].Type, p+".type")
		if e != nil {
			return nil, e
		}
		if typ != "namespace" {
			t, e := decodeTool(&elems[i], p, typ, toolMark{})
			if e == nil {
				e = add(t, p)
			}
			if e != nil {
				return nil, e
			}
			continue
		}
		var ns toolMark
		if ns.Namespace, e = str(elems[i].Name, p+".name"); e != nil {
			return nil, e
		}
		if ns.Namespace == "" {
			return nil, invalidf(p+".name", "required; name the namespace")
		}
		if ns.NamespaceDescription, e = str(elems[i].Description, p+".description"); e != nil {
			return nil, e
		}
		if isNull(elems[i].Tools) {
			return nil, invalidf(p+".tools", "required; list the namespace's function and custom tools")
		}
		members, e := objects[toolFields](elems[i].Tools, p+".tools", "a tool object", "tools")
		if e != nil {
			return nil, e
		}
		for j := range members {
			mp := fmt.Sprintf("%s.tools[%d]", p, j)
			mtyp, e := str(members[j].Type, mp+".type")
			if e != nil {
				return nil, e
			}
			if mtyp != "function" && mtyp != "custom" {
				return nil, invalidf(mp+".type", "expected function or custom, got %q", mtyp)
			}
			t, e := decodeTool(&members[j], mp, mtyp, ns)
			if e == nil {
				e = add(t, mp)
			}
			if e != nil {
				return nil, e
			}
		}
	}
	return tools, nil
}

// decodeTool reads a function, custom or client tool_search tool of
// type typ, declared in namespace ns if ns.Namespace is set.
func decodeTool(w *toolFields, path, typ string, ns toolMark) (llm.Tool, *llm.Error) {
	var t llm.Tool
	var e *llm.Error
	switch typ {
	case "function", "custom":
		var name string
		if name, e = str(w.Name, path+".name"); e != nil {
			return llm.Tool{}, e
		}
		if name == "" {
			return llm.Tool{}, invalidf(path+".name", "required; name the tool")
		}
		t.Name = canonicalName(name, ns.Namespace)
	case "tool_search":
		execution, e := str(w.Execution, path+".execution")
		if e != nil {
			return llm.Tool{}, e
		}
		if execution != "client" {
			return llm.Tool{}, invalidf(path+".execution", "only a client-executed tool search can be translated; "+
				"send execution \"client\" or leave the tool out")
		}
		t.Name = toolSearchName
	case "":
		return llm.Tool{}, invalidf(path+".type", "required; use function, custom or namespace")
	default:
		return llm.Tool{}, invalidf(path+".type", "%q is a tool that only OpenAI's own models can run and the selected "+
			"model cannot; send only function, custom and namespace tools (in Codex, turn the tool off, "+
			"e.g. -c web_search=\"disabled\")", typ)
	}
	if t.Description, e = str(w.Description, path+".description"); e != nil {
		return llm.Tool{}, e
	}
	mark := ns
	switch typ {
	case "custom":
		format, e := customFormat(w.Format, path+".format")
		if e != nil {
			return llm.Tool{}, e
		}
		mark.Type, mark.Format = markCustom, format
		t.Parameters = marked(customSchema(format), mark)
		return t, nil
	case "tool_search":
		mark.Type = markToolSearch
	}
	params := json.RawMessage(`{"type":"object","properties":{}}`)
	if !isNull(w.Parameters) {
		if w.Parameters[0] != '{' {
			return llm.Tool{}, invalidf(path+".parameters", "expected a JSON Schema object, got %s", kindOf(w.Parameters))
		}
		params = w.Parameters
	}
	if mark.Type != "" || mark.Namespace != "" {
		params = marked(params, mark)
	}
	t.Parameters = params
	return t, nil
}

// customFormat checks a custom tool's format: absent, {"type":"text"} or
// a grammar.
func customFormat(raw json.RawMessage, path string) (json.RawMessage, *llm.Error) {
	if isNull(raw) {
		return nil, nil
	}
	var f struct {
		Type       json.RawMessage `json:"type"`
		Syntax     json.RawMessage `json:"syntax"`
		Definition json.RawMessage `json:"definition"`
	}
	if json.Unmarshal(raw, &f) != nil {
		return nil, invalidf(path, "expected an object like {\"type\":\"text\"}, got %s", kindOf(raw))
	}
	ft, e := str(f.Type, path+".type")
	if e != nil {
		return nil, e
	}
	switch ft {
	case "text":
	case "grammar":
		def, e := str(f.Definition, path+".definition")
		if e != nil {
			return nil, e
		}
		if def == "" {
			return nil, invalidf(path+".definition", "required for a grammar format; give the grammar")
		}
		if _, e := str(f.Syntax, path+".syntax"); e != nil {
			return nil, e
		}
	default:
		return nil, invalidf(path+".type", "expected text or grammar, got %q", ft)
	}
	return raw, nil
}

func decodeToolChoice(raw json.RawMessage, tools []llm.Tool) (*llm.ToolChoice, *llm.Error) {
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto":
			return &llm.ToolChoice{Mode: llm.ToolChoiceAuto}, nil
		case "none":
			return &llm.ToolChoice{Mode: llm.ToolChoiceNone}, nil
		case "required":
			return &llm.ToolChoice{Mode: llm.ToolChoiceRequired}, nil
		}
		return nil, invalidf("tool_choice", "expected auto, none, required or an object naming a tool, got %q", s)
	}
	var w struct {
		Type json.RawMessage `json:"type"`
		Name json.RawMessage `json:"name"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return nil, invalidf("tool_choice", "expected auto, none, required or an object naming a tool, got %s", kindOf(raw))
	}
	typ, e := str(w.Type, "tool_choice.type")
	if e != nil {
		return nil, e
	}
	if typ != "function" && typ != "custom" {
		return nil, invalidf("tool_choice.type", "%q cannot be forced here; force a function or custom tool, "+
			"or use auto, none or required", typ)
	}
	name, e := str(w.Name, "tool_choice.name")
	if e != nil {
		return nil, e
	}
	for _, t := range tools {
		if t.Name == name {
			return &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: name}, nil
		}
	}
	return nil, invalidf("tool_choice.name", "%q is not one of the request's tools; name a tool listed in tools", name)
}

// inputDecoder builds the canonical messages from the input items.
type inputDecoder struct {
	req *llm.Request
	// started is set by the first user, assistant or tool item; system
	// and developer messages before it go to Request.System.
	started bool
}

// decodeInput reads "input": a string, or an array of items.
func decodeInput(raw json.RawMessage, req *llm.Request) *llm.Error {
	if isNull(raw) {
		return invalidf("input", "required; send the conversation as a string or an array of items")
	}
	d := inputDecoder{req: req}
	switch raw[0] {
	case '"':
		s, e := str(raw, "input")
		if e != nil {
			return e
		}
		if s != "" {
			req.Messages = append(req.Messages, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: s}}})
		}
	case '[':
		items, e := objects[wireItem](raw, "input", "an item object", "items")
		if e != nil {
			return e
		}
		for i := range items {
			if e := d.item(&items[i], fmt.Sprintf("input[%d]", i)); e != nil {
				return e
			}
		}
	default:
		return invalidf("input", "expected a string or an array of items, got %s", kindOf(raw))
	}
	if len(req.Messages) == 0 {
		return invalidf("input", "holds no user, assistant or tool content; send at least one user message")
	}
	return nil
}

func (d *inputDecoder) item(it *wireItem, path string) *llm.Error {
	typ, e := str(it.Type, path+".type")
	if e != nil {
		return e
	}
	switch typ {
	case "", "message":
		if typ == "" && isNull(it.Role) {
			return invalidf(path+".type", "required; use message, function_call, function_call_output, reasoning, "+
				"custom_tool_call, custom_tool_call_output, tool_search_call or tool_search_output")
		}
		return d.message(it, path)
	case "function_call", "custom_tool_call":
		return d.toolCall(it, path, typ == "custom_tool_call")
	case "function_call_output", "custom_tool_call_output":
		return d.toolOutput(it, path)
	case "tool_search_call":
		return d.toolSearchCall(it, path)
	case "tool_search_output":
		return d.toolSearchOutput(it, path)
	case "reasoning":
		return d.reasoning(it, path)
	case "item_reference":
		return invalidf(path+".type", "item references are not supported: this gateway stores no items; send the items themselves")
	}
	return invalidf(path+".type", "%q items come from tools that only OpenAI's own models run and cannot be translated "+
		"for the selected model; leave them out of input", typ)
}

func (d *inputDecoder) message(it *wireItem, path string) *llm.Error {
	role, e := str(it.Role, path+".role")
	if e != nil {
		return e
	}
	textOnly := ""
	if role != "user" {
		textOnly = role
	}
	parts, e := contentParts(it.Content, path+".content", textOnly)
	if e != nil {
		return e
	}
	switch role {
	case "system", "developer":
		if !d.started {
			d.req.System = append(d.req.System, parts...)
			return nil
		}
		d.appendMessage(llm.RoleSystem, parts)
	case "user":
		d.appendMessage(llm.RoleUser, parts)
	case "assistant":
		m := d.assistant()
		m.Parts = append(m.Parts, parts...)
		d.dropEmpty()
	case "":
		return invalidf(path+".role", "required; use user, assistant, system or developer")
	default:
		return invalidf(path+".role", "expected user, assistant, system or developer, got %q", role)
	}
	return nil
}

// appendMessage adds a message of role, unless it has nothing in it.
func (d *inputDecoder) appendMessage(role llm.Role, parts []llm.Part) {
	d.started = true
	if len(parts) > 0 {
		d.req.Messages = append(d.req.Messages, llm.Message{Role: role, Parts: parts})
	}
}

// assistant returns the assistant message that the next assistant-side
// item joins: the last message if it is one, else a new one.
func (d *inputDecoder) assistant() *llm.Message {
	d.started = true
	if n := len(d.req.Messages); n > 0 && d.req.Messages[n-1].Role == llm.RoleAssistant {
		return &d.req.Messages[n-1]
	}
	d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleAssistant})
	return &d.req.Messages[len(d.req.Messages)-1]
}

// dropEmpty removes a trailing message that ended up with no parts.
func (d *inputDecoder) dropEmpty() {
	if n := len(d.req.Messages); n > 0 && len(d.req.Messages[n-1].Parts) == 0 {
		d.req.Messages = d.req.Messages[:n-1]
	}
}

func (d *inputDecoder) toolCall(it *wireItem, path string, custom bool) *llm.Error {
	callID, e := str(it.CallID, path+".call_id")
	if e != nil {
		return e
	}
	if callID == "" {
		return invalidf(path+".call_id", "required; give the id the tool output refers to")
	}
	name, e := str(it.Name, path+".name")
	if e != nil {
		return e
	}
	if name == "" {
		return invalidf(path+".name", "required; name the tool that was called")
	}
	namespace, e := str(it.Namespace, path+".namespace")
	if e != nil {
		return e
	}
	name = canonicalName(name, namespace)
	var args string
	if custom {
		input, e := str(it.Input, path+".input")
		if e != nil {
			return e
		}
		args = customArguments(input)
	} else {
		if args, e = str(it.Arguments, path+".arguments"); e != nil {
			return e
		}
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
	}
	m := d.assistant()
	m.Parts = append(m.Parts, llm.Part{Type: llm.PartToolCall, ToolCallID: callID, ToolName: name, Arguments: args})
	return nil
}

func (d *inputDecoder) toolOutput(it *wireItem, path string) *llm.Error {
	callID, e := d.callID(it, path)
	if e != nil {
		return e
	}
	if isNull(it.Output) {
		return invalidf(path+".output", "required; give the tool's output as a string or an array of content parts")
	}
	result, e := contentParts(it.Output, path+".output", "")
	if e != nil {
		return e
	}
	d.appendResult(llm.Part{Type: llm.PartToolResult, ToolCallID: callID, Result: result})
	return nil
}

// toolSearchCall reads a call of the client's tool search: a tool call
// of the canonical tool_search tool.
func (d *inputDecoder) toolSearchCall(it *wireItem, path string) *llm.Error {
	if e := clientExecution(it, path); e != nil {
		return e
	}
	callID, e := str(it.CallID, path+".call_id")
	if e != nil {
		return e
	}
	if callID == "" {
		return invalidf(path+".call_id", "required; give the id the tool search output refers to")
	}
	args := "{}"
	if !isNull(it.Arguments) {
		if args, e = str(it.Arguments, path+".arguments"); e != nil {
			// An object, as OpenAI sends it, rather than JSON text.
			var buf bytes.Buffer
			if it.Arguments[0] != '{' || json.Compact(&buf, it.Arguments) != nil {
				return invalidf(path+".arguments", "expected an object, got %s", kindOf(it.Arguments))
			}
			args, e = buf.String(), nil
		}
	}
	m := d.assistant()
	m.Parts = append(m.Parts, llm.Part{Type: llm.PartToolCall, ToolCallID: callID, ToolName: toolSearchName, Arguments: args})
	return nil
}

// toolSearchOutput reads the tools a tool search loaded: they join the
// request's tools (the model may call them from here on), and the
// search's result tells the model their names.
func (d *inputDecoder) toolSearchOutput(it *wireItem, path string) *llm.Error {
	if e := clientExecution(it, path); e != nil {
		return e
	}
	callID, e := d.callID(it, path)
	if e != nil {
		return e
	}
	var loaded []llm.Tool
	if !isNull(it.Tools) {
		if loaded, e = decodeToolList(it.Tools, path+".tools"); e != nil {
			return e
		}
	}
	names := []string{}
	have := map[string]bool{}
	for _, t := range d.req.Tools {
		have[t.Name] = true
	}
	for _, t := range loaded {
		names = append(names, t.Name)
		if !have[t.Name] {
			have[t.Name] = true
			d.req.Tools = append(d.req.Tools, t)
		}
	}
	text, _ := marshal(struct {
		LoadedTools []string `json:"loaded_tools"`
	}{names})
	d.appendResult(llm.Part{Type: llm.PartToolResult, ToolCallID: callID,
		Result: []llm.Part{{Type: llm.PartText, Text: string(text)}}})
	return nil
}

// clientExecution refuses a tool search the server ran: only OpenAI has
// its results.
func clientExecution(it *wireItem, path string) *llm.Error {
	execution, e := str(it.Execution, path+".execution")
	if e != nil {
		return e
	}
	if execution == "server" {
		return invalidf(path+".execution", "a tool search OpenAI ran cannot be translated for the selected model; "+
			"use a client-executed tool search")
	}
	return nil
}

// callID reads the call_id a tool output answers.
func (d *inputDecoder) callID(it *wireItem, path string) (string, *llm.Error) {
	callID, e := str(it.CallID, path+".call_id")
	if e != nil {
		return "", e
	}
	if callID == "" {
		return "", invalidf(path+".call_id", "required; give the call_id of the call this output answers")
	}
	return callID, nil
}

// appendResult adds a tool result to the user message of results that
// the last message is, or to a new one.
func (d *inputDecoder) appendResult(part llm.Part) {
	d.started = true
	if n := len(d.req.Messages); n > 0 {
		last := &d.req.Messages[n-1]
		if last.Role == llm.RoleUser && len(last.Parts) > 0 && last.Parts[len(last.Parts)-1].Type == llm.PartToolResult {
			last.Parts = append(last.Parts, part)
			return
		}
	}
	d.req.Messages = append(d.req.Messages, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{part}})
}

func (d *inputDecoder) reasoning(it *wireItem, path string) *llm.Error {
	id, e := str(it.ID, path+".id")
	if e != nil {
		return e
	}
	enc, e := str(it.EncryptedContent, path+".encrypted_content")
	if e != nil {
		return e
	}
	text, e := reasoningText(it.Summary, path+".summary", "summary_text", "\n\n")
	if e != nil {
		return e
	}
	if text == "" {
		if text, e = reasoningText(it.Content, path+".content", "reasoning_text", ""); e != nil {
			return e
		}
	}
	m := d.assistant()
	if text == "" && enc == "" {
		// Nothing a model could use; the item still opens the turn.
		d.dropEmpty()
		return nil
	}
	m.Parts = append(m.Parts, llm.Part{Type: llm.PartThinking, Text: text, Signature: enc, Data: reasoningData(id)})
	return nil
}

// reasoningText joins the texts of a reasoning item's summary or content
// entries, which must all be of type want.
func reasoningText(raw json.RawMessage, path, want, sep string) (string, *llm.Error) {
	if isNull(raw) {
		return "", nil
	}
	var entries []struct {
		Type json.RawMessage `json:"type"`
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal(raw, &entries) != nil {
		return "", invalidf(path, "expected an array of {\"type\":%q,\"text\":...}, got %s", want, describe(raw))
	}
	var b strings.Builder
	for i, en := range entries {
		p := fmt.Sprintf("%s[%d]", path, i)
		typ, e := str(en.Type, p+".type")
		if e != nil {
			return "", e
		}
		if typ != want {
			return "", invalidf(p+".type", "expected %q, got %q", want, typ)
		}
		text, e := str(en.Text, p+".text")
		if e != nil {
			return "", e
		}
		if text == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(text)
	}
	return b.String(), nil
}

// contentParts reads message content or tool output: a string or an
// array of content parts. Empty text is dropped. textOnly, if set, names
// the role of a message that may hold only text.
func contentParts(raw json.RawMessage, path string, textOnly string) ([]llm.Part, *llm.Error) {
	if isNull(raw) {
		return nil, invalidf(path, "required; give a string or an array of content parts")
	}
	switch raw[0] {
	case '"':
		s, e := str(raw, path)
		if e != nil || s == "" {
			return nil, e
		}
		return []llm.Part{{Type: llm.PartText, Text: s}}, nil
	case '[':
	default:
		return nil, invalidf(path, "expected a string or an array of content parts, got %s", kindOf(raw))
	}
	items, e := objects[contentFields](raw, path, "a content part object", "content parts")
	if e != nil {
		return nil, e
	}
	parts := make([]llm.Part, 0, len(items))
	for i := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		c := &items[i]
		typ, e := str(c.Type, p+".type")
		if e != nil {
			return nil, e
		}
		switch typ {
		case "input_text", "output_text", "text":
			text, e := str(c.Text, p+".text")
			if e != nil {
				return nil, e
			}
			if text != "" {
				parts = append(parts, llm.Part{Type: llm.PartText, Text: text})
			}
		case "refusal":
			text, e := str(c.Refusal, p+".refusal")
			if e != nil {
				return nil, e
			}
			if text != "" {
				parts = append(parts, llm.Part{Type: llm.PartText, Text: text})
			}
		case "input_image":
			if textOnly != "" {
				return nil, invalidf(p+".type", "%s messages may hold only text", textOnly)
			}
			if !isNull(c.FileID) {
				return nil, invalidf(p+".file_id", "uploaded files are not supported; send the image in image_url as a URL or a data: URL")
			}
			url, e := str(c.ImageURL, p+".image_url")
			if e != nil {
				return nil, e
			}
			img, e := imagePart(url, p+".image_url")
			if e != nil {
				return nil, e
			}
			parts = append(parts, img)
		case "":
			return nil, invalidf(p+".type", "required; use input_text or input_image")
		default:
			want := "input_text or input_image"
			if textOnly != "" {
				want = "input_text or output_text"
			}
			return nil, invalidf(p+".type", "%q content is not supported here; send %s", typ, want)
		}
	}
	return parts, nil
}

// contentFields is one content part, members kept raw.
type contentFields struct {
	Type     json.RawMessage `json:"type"`
	Text     json.RawMessage `json:"text"`
	Refusal  json.RawMessage `json:"refusal"`
	ImageURL json.RawMessage `json:"image_url"`
	FileID   json.RawMessage `json:"file_id"`
}

// objects decodes raw, an array of objects, into []T in one pass. Only
// if that fails does it look element by element for the one to blame.
// one and many name an element and the elements in messages.
func objects[T any](raw json.RawMessage, path, one, many string) ([]T, *llm.Error) {
	var out []T
	if json.Unmarshal(raw, &out) == nil {
		return out, nil
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil {
		return nil, invalidf(path, "expected an array of %s, got %s", many, kindOf(raw))
	}
	for i, el := range elems {
		var v T
		if len(el) == 0 || el[0] != '{' || json.Unmarshal(el, &v) != nil {
			return nil, invalidf(fmt.Sprintf("%s[%d]", path, i), "expected %s, got %s", one, kindOf(el))
		}
	}
	return nil, invalidf(path, "expected an array of %s", many)
}

// imagePart reads an image URL, splitting a base64 data: URL into its
// media type and data.
func imagePart(url, path string) (llm.Part, *llm.Error) {
	if url == "" {
		return llm.Part{}, invalidf(path, "required; give the image as a URL or a data: URL")
	}
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		return llm.Part{Type: llm.PartImage, URL: url}, nil
	}
	meta, data, ok := strings.Cut(rest, ",")
	media, isBase64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isBase64 || media == "" || data == "" {
		return llm.Part{}, invalidf(path, "a data: URL must look like data:image/png;base64,<data>")
	}
	return llm.Part{Type: llm.PartImage, MediaType: media, Data: data}, nil
}

// Field readers. Each accepts an absent or null member as the zero value.

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func str(raw json.RawMessage, path string) (string, *llm.Error) {
	if isNull(raw) {
		return "", nil
	}
	s, ok := unquote(raw)
	if !ok {
		return "", invalidf(path, "expected a string, got %s", kindOf(raw))
	}
	return s, nil
}

func boolean(raw json.RawMessage, path string) (v, present bool, err *llm.Error) {
	switch string(raw) {
	case "", "null":
		return false, false, nil
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, invalidf(path, "expected true or false, got %s", kindOf(raw))
}

func number(raw json.RawMessage, path string, lo, hi float64) (*float64, *llm.Error) {
	if isNull(raw) {
		return nil, nil
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		return nil, invalidf(path, "expected a number from %g to %g, got %s", lo, hi, kindOf(raw))
	}
	if f < lo || f > hi {
		return nil, invalidf(path, "expected a number from %g to %g, got %g", lo, hi, f)
	}
	return &f, nil
}

// describe shows a short value in an error message.
func describe(raw json.RawMessage) string {
	if len(raw) <= 20 {
		return string(raw)
	}
	return kindOf(raw)
}
