package openai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// maxStop is OpenAI's limit on stop sequences.
const maxStop = 4

// topLevel calls fn with each top-level member of body. It refuses
// malformed bodies, duplicate members and member names with escapes
// (which one parser would read as "model" and another would not).
func topLevel(body []byte, fn func(key string, raw []byte)) error {
	seen := make(map[string]bool, 16)
	var bad error
	err := wire.TopLevel(body, func(key string, s, e int) bool {
		switch {
		case strings.IndexByte(key, '\\') >= 0:
			bad = llm.Errorf(llm.ErrInvalidRequest, "request body: member name %q has escape sequences; write member names as plain text", key)
		case seen[key]:
			bad = invalid(key, "the member appears twice; send it once")
		default:
			seen[key] = true
			fn(key, body[s:e])
			return true
		}
		return false
	})
	if err != nil {
		return llm.Errorf(llm.ErrInvalidRequest, "request body: %v; send a JSON object", err)
	}
	return bad
}

// Peek implements wire.Inbound.
func (Chat) Peek(body []byte) (wire.Peek, error) {
	var p wire.Peek
	var model, stream, user []byte
	err := topLevel(body, func(key string, raw []byte) {
		switch key {
		case "model":
			model = raw
		case "stream":
			stream = raw
		case "user":
			user = raw
		case "tools", "functions":
			p.HasTools = p.HasTools || nonEmptyArray(raw)
		}
	})
	if err != nil {
		return p, err
	}
	if p.Model, err = modelOf(model); err != nil {
		return p, err
	}
	if !absent(stream) {
		if p.Stream, err = boolean(stream, "stream"); err != nil {
			return p, err
		}
	}
	if !absent(user) {
		if p.User, err = str(user, "user"); err != nil {
			return p, err
		}
	}
	return p, nil
}

// nonEmptyArray reports whether raw is an array with an element.
func nonEmptyArray(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '[' {
		return false
	}
	for _, c := range raw[1:] {
		switch c {
		case ' ', '\t', '\r', '\n':
		case ']':
			return false
		default:
			return true
		}
	}
	return false
}

func modelOf(raw []byte) (string, error) {
	if absent(raw) {
		return "", invalid("model", "required; name the model to use")
	}
	m, err := str(raw, "model")
	if err != nil {
		return "", err
	}
	if m == "" {
		return "", invalid("model", "must not be empty; name the model to use")
	}
	return m, nil
}

// DecodeRequest implements wire.Inbound.
func (Chat) DecodeRequest(body []byte) (*llm.Request, error) {
	if !json.Valid(body) {
		return nil, llm.Errorf(llm.ErrInvalidRequest, "request body: not valid JSON; send a JSON object")
	}
	m := make(map[string][]byte, 16)
	if err := topLevel(body, func(key string, raw []byte) { m[key] = raw }); err != nil {
		return nil, err
	}
	req := &llm.Request{}
	var err error
	if req.Model, err = modelOf(m["model"]); err != nil {
		return nil, err
	}
	if raw := m["n"]; !absent(raw) {
		n, err := integer(raw, "n")
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, invalid("n", "%d is out of range; use 1", n)
		}
		if n > 1 {
			return nil, invalid("n", "only one choice per request is supported by this gateway; remove n or set it to 1")
		}
	}
	if raw := m["stream"]; !absent(raw) {
		if req.Stream, err = boolean(raw, "stream"); err != nil {
			return nil, err
		}
	}
	if raw := m["stream_options"]; !absent(raw) {
		if !req.Stream {
			return nil, invalid("stream_options", "only allowed when stream is true; remove it or set stream to true")
		}
		var so struct {
			IncludeUsage json.RawMessage `json:"include_usage"`
		}
		if err := object(raw, "stream_options", &so); err != nil {
			return nil, err
		}
		if !absent(so.IncludeUsage) {
			if _, err := boolean(so.IncludeUsage, "stream_options.include_usage"); err != nil {
				return nil, err
			}
		}
	}
	if raw := m["user"]; !absent(raw) {
		if req.User, err = str(raw, "user"); err != nil {
			return nil, err
		}
	}
	if err := decodeSampling(req, m); err != nil {
		return nil, err
	}
	if err := decodeTools(req, m); err != nil {
		return nil, err
	}
	if absent(m["messages"]) {
		return nil, invalid("messages", "required; send the conversation as an array of messages")
	}
	msgs, err := array(m["messages"], "messages")
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, invalid("messages", "must contain at least one message")
	}
	d := messageDecoder{req: req, leading: true, callsAt: -1, names: map[string]string{}}
	for i, raw := range msgs {
		if err := d.message(i, raw); err != nil {
			return nil, err
		}
	}
	if err := d.checkAnswered(); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeSampling reads the generation settings.
func decodeSampling(req *llm.Request, m map[string][]byte) error {
	var err error
	for _, key := range []string{"max_tokens", "max_completion_tokens"} {
		raw := m[key]
		if absent(raw) {
			continue
		}
		n, err := integer(raw, key)
		if err != nil {
			return err
		}
		if n < 1 {
			return invalid(key, "%d is out of range; use a positive number of tokens", n)
		}
		req.MaxTokens = n // max_completion_tokens, read last, wins
	}
	if raw := m["temperature"]; !absent(raw) {
		if req.Temperature, err = number(raw, "temperature", 0, 2); err != nil {
			return err
		}
	}
	if raw := m["top_p"]; !absent(raw) {
		if req.TopP, err = number(raw, "top_p", 0, 1); err != nil {
			return err
		}
	}
	if raw := m["stop"]; !absent(raw) {
		if isString(raw) {
			s, err := str(raw, "stop")
			if err != nil {
				return err
			}
			req.Stop = []string{s}
		} else {
			a, err := array(raw, "stop")
			if err != nil {
				return invalid("stop", "expected a string or an array of strings, got %s", jsonKind(raw))
			}
			if len(a) > maxStop {
				return invalid("stop", "%d stop sequences given; use at most %d", len(a), maxStop)
			}
			for i, r := range a {
				s, err := str(r, fmt.Sprintf("stop[%d]", i))
				if err != nil {
					return err
				}
				req.Stop = append(req.Stop, s)
			}
		}
	}
	if raw := m["reasoning_effort"]; !absent(raw) {
		effort, err := str(raw, "reasoning_effort")
		if err != nil {
			return err
		}
		if effort == "" {
			return invalid("reasoning_effort", "must not be empty; use low, medium or high, or leave it out")
		}
		req.Thinking = &llm.Thinking{Effort: effort}
	}
	if raw := m["response_format"]; !absent(raw) {
		var rf struct {
			Type json.RawMessage `json:"type"`
		}
		if err := object(raw, "response_format", &rf); err != nil {
			return err
		}
		t, err := str(rf.Type, "response_format.type")
		if err != nil {
			return err
		}
		switch t {
		case "text", "json_object", "json_schema":
		default:
			return invalid("response_format.type", "unknown type %q; use text, json_object or json_schema", t)
		}
		req.ResponseFormat = json.RawMessage(raw)
	}
	return nil
}

type inFunction struct {
	Name        json.RawMessage `json:"name"`
	Description json.RawMessage `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// decodeTools reads tools (or legacy functions), tool_choice (or legacy
// function_call) and parallel_tool_calls.
func decodeTools(req *llm.Request, m map[string][]byte) error {
	index := map[string]string{} // name → param of its definition
	add := func(f inFunction, param string) error {
		name, err := str(f.Name, param+".name")
		if err != nil {
			return err
		}
		if err := checkToolName(name, param+".name"); err != nil {
			return err
		}
		if prev, dup := index[name]; dup {
			return invalid(param+".name", "%q is already the name of %s; tool names must be unique", name, prev)
		}
		index[name] = param
		t := llm.Tool{Name: name}
		if !absent(f.Description) {
			if t.Description, err = str(f.Description, param+".description"); err != nil {
				return err
			}
		}
		if !absent(f.Parameters) {
			if f.Parameters[0] != '{' {
				return invalid(param+".parameters", "expected a JSON Schema object, got %s", jsonKind(f.Parameters))
			}
			t.Parameters = f.Parameters
		}
		req.Tools = append(req.Tools, t)
		return nil
	}
	if raw := m["tools"]; !absent(raw) {
		tools, err := array(raw, "tools")
		if err != nil {
			return err
		}
		for i, r := range tools {
			param := fmt.Sprintf("tools[%d]", i)
			var t struct {
				Type     json.RawMessage `json:"type"`
				Function json.RawMessage `json:"function"`
			}
			if err := object(r, param, &t); err != nil {
				return err
			}
			typ, err := str(t.Type, param+".type")
			if err != nil {
				return err
			}
			if typ != "function" {
				return invalid(param+".type", "tools of type %q are not supported by this gateway; use type \"function\"", typ)
			}
			var f inFunction
			if absent(t.Function) {
				return invalid(param+".function", "required for a function tool")
			}
			if err := object(t.Function, param+".function", &f); err != nil {
				return err
			}
			if err := add(f, param+".function"); err != nil {
				return err
			}
		}
	}
	if raw := m["functions"]; !absent(raw) {
		fns, err := array(raw, "functions")
		if err != nil {
			return err
		}
		for i, r := range fns {
			param := fmt.Sprintf("functions[%d]", i)
			var f inFunction
			if err := object(r, param, &f); err != nil {
				return err
			}
			if err := add(f, param); err != nil {
				return err
			}
		}
	}

	var choice *llm.ToolChoice
	if raw := m["tool_choice"]; !absent(raw) {
		c, err := toolChoice(raw, "tool_choice", index, false)
		if err != nil {
			return err
		}
		choice = c
	} else if raw := m["function_call"]; !absent(raw) {
		c, err := toolChoice(raw, "function_call", index, true)
		if err != nil {
			return err
		}
		choice = c
	}
	if raw := m["parallel_tool_calls"]; !absent(raw) {
		parallel, err := boolean(raw, "parallel_tool_calls")
		if err != nil {
			return err
		}
		if !parallel && len(req.Tools) > 0 {
			if choice == nil {
				choice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
			}
			choice.DisableParallel = true
		}
	}
	if len(req.Tools) > 0 {
		req.ToolChoice = choice
	}
	return nil
}

// checkToolName applies OpenAI's rule for function names.
func checkToolName(name, param string) error {
	if name == "" || len(name) > 64 {
		return invalid(param, "%q must be 1 to 64 characters long", name)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return invalid(param, "%q may hold only letters, digits, '_' and '-'", name)
		}
	}
	return nil
}

// toolChoice reads tool_choice, or the legacy function_call when legacy.
func toolChoice(raw []byte, param string, tools map[string]string, legacy bool) (*llm.ToolChoice, error) {
	var c llm.ToolChoice
	if isString(raw) {
		s, err := str(raw, param)
		if err != nil {
			return nil, err
		}
		switch {
		case s == "auto":
			c.Mode = llm.ToolChoiceAuto
		case s == "none":
			c.Mode = llm.ToolChoiceNone
		case s == "required" && !legacy:
			c.Mode = llm.ToolChoiceRequired
		case legacy:
			return nil, invalid(param, "unknown value %q; use \"auto\", \"none\" or {\"name\": ...}", s)
		default:
			return nil, invalid(param, "unknown value %q; use \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", s)
		}
		if c.Mode == llm.ToolChoiceRequired && len(tools) == 0 {
			return nil, invalid(param, "\"required\" needs tools; add tools or remove %s", param)
		}
		return &c, nil
	}
	var name []byte
	namePath := param + ".name"
	if legacy {
		var o struct {
			Name json.RawMessage `json:"name"`
		}
		if err := object(raw, param, &o); err != nil {
			return nil, err
		}
		name = o.Name
	} else {
		var o struct {
			Type     json.RawMessage `json:"type"`
			Function json.RawMessage `json:"function"`
		}
		if err := object(raw, param, &o); err != nil {
			return nil, invalid(param, "expected a string or an object, got %s", jsonKind(raw))
		}
		typ, err := str(o.Type, param+".type")
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			return nil, invalid(param+".type", "%q is not supported by this gateway; use \"function\"", typ)
		}
		var f struct {
			Name json.RawMessage `json:"name"`
		}
		if err := object(o.Function, param+".function", &f); err != nil {
			return nil, err
		}
		name, namePath = f.Name, param+".function.name"
	}
	n, err := str(name, namePath)
	if err != nil {
		return nil, err
	}
	if _, ok := tools[n]; !ok {
		return nil, invalid(namePath, "no tool is named %q; name one of the tools given", n)
	}
	return &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: n}, nil
}
