package responses

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

func init() {
	wire.RegisterInbound(Codec{})
	wire.RegisterOutbound(Codec{})
}

var (
	_ wire.Inbound       = Codec{}
	_ wire.Outbound      = Codec{}
	_ wire.StreamEncoder = (*streamEncoder)(nil)
	_ wire.StreamDecoder = (*streamDecoder)(nil)
)

// Codec is the Responses API codec. The zero value is ready to use and is
// what init registers. It is stateless and safe for concurrent use.
type Codec struct {
	// Now is the clock behind created_at; nil means time.Now.
	Now func() time.Time

	// echo holds the settings of the request being answered, set by
	// ForRequest; nil means the API's defaults.
	echo *echo
}

// API returns llm.APIOpenAIResponses.
func (Codec) API() llm.API { return llm.APIOpenAIResponses }

// ForRequest returns a codec that answers req: its Response objects echo
// req's settings (tools, tool_choice, instructions, reasoning, ...) as the
// API does, and it answers calls of req's custom, namespaced and tool
// search tools with the items their clients expect (custom_tool_call,
// function_call with a namespace, tool_search_call) rather than plain
// function_call items. req is read once, here; the gateway should use the
// returned codec to encode the answer to a request it translated.
func (c Codec) ForRequest(req *llm.Request) wire.Inbound {
	c.echo = newEcho(req)
	return c
}

func (c Codec) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Peek reads the model, stream flag, user and whether tools are present
// without decoding the rest of the body.
func (Codec) Peek(body []byte) (wire.Peek, error) {
	var p wire.Peek
	var perr *llm.Error
	haveModel := false
	err := wire.TopLevel(body, func(key string, start, end int) bool {
		v := body[start:end]
		switch key {
		case "model":
			if err := json.Unmarshal(v, &p.Model); err != nil {
				perr = invalidf("model", "expected a string naming the model, got %s", kindOf(v))
				return false
			}
			haveModel = true
		case "stream":
			switch string(v) {
			case "true":
				p.Stream = true
			case "false", "null":
				p.Stream = false
			default:
				perr = invalidf("stream", "expected true or false, got %s", kindOf(v))
				return false
			}
		case "user":
			if v[0] == '"' {
				_ = json.Unmarshal(v, &p.User)
			}
		case "safety_identifier":
			if p.User == "" && v[0] == '"' {
				_ = json.Unmarshal(v, &p.User)
			}
		case "tools":
			p.HasTools = v[0] == '[' && len(bytes.TrimSpace(v[1:len(v)-1])) > 0
		}
		return true
	})
	if err != nil {
		return wire.Peek{}, invalidf("", "the body is not a valid JSON object (%v); send a JSON Responses request", err)
	}
	if perr != nil {
		return wire.Peek{}, perr
	}
	if !haveModel || p.Model == "" {
		return wire.Peek{}, invalidf("model", "required; name the model to use")
	}
	return p, nil
}

// RewriteModel returns body with its model set to model, the rest kept
// byte for byte.
func (Codec) RewriteModel(body []byte, model string) ([]byte, error) {
	out, err := wire.SetString(body, "model", model)
	if err != nil {
		return nil, invalidf("model", "cannot rewrite the model of this body: %v", err)
	}
	return out, nil
}

// NewStreamEncoder returns an encoder that writes one answer to w as
// Responses stream events.
func (c Codec) NewStreamEncoder(w io.Writer) wire.StreamEncoder {
	return newStreamEncoder(c, w)
}

// NewStreamDecoder returns a decoder for one streamed Responses answer.
func (Codec) NewStreamDecoder() wire.StreamDecoder {
	return newStreamDecoder()
}

// invalidf is a request validation error about the field at path param.
func invalidf(param, format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.ErrInvalidRequest, format, args...)
	if param != "" {
		e.Message = param + ": " + e.Message
		e.Param = param
	}
	return e
}

// kindOf names the JSON type of v for error messages.
func kindOf(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
