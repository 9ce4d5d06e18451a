package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// Codec is the Anthropic Messages codec, client- and provider-facing. The
// zero value is ready to use; it is stateless and safe for concurrent use.
type Codec struct{}

var (
	_ wire.Inbound       = Codec{}
	_ wire.Outbound      = Codec{}
	_ wire.StreamEncoder = (*streamEncoder)(nil)
	_ wire.StreamDecoder = (*streamDecoder)(nil)
)

func init() {
	wire.RegisterInbound(Codec{})
	wire.RegisterOutbound(Codec{})
}

// API implements wire.Inbound and wire.Outbound.
func (Codec) API() llm.API { return llm.APIAnthropicMessages }

// DefaultMaxTokens is the max_tokens EncodeRequest sends for a request that
// sets none: the Messages API requires one.
const DefaultMaxTokens = 8192

// NewStreamEncoder implements wire.Inbound.
func (Codec) NewStreamEncoder(w io.Writer) wire.StreamEncoder {
	return &streamEncoder{w: w}
}

// NewStreamDecoder implements wire.Outbound.
func (Codec) NewStreamDecoder() wire.StreamDecoder {
	return &streamDecoder{}
}

// RewriteModel implements wire.Inbound: only the top-level "model" member
// changes, the rest of body is kept byte for byte.
func (Codec) RewriteModel(body []byte, model string) ([]byte, error) {
	out, err := wire.SetString(body, "model", model)
	if err != nil {
		return nil, invalidf("", "request body: %v", err)
	}
	return out, nil
}

// errorTypes maps a kind to the API's error.type.
var errorTypes = map[llm.ErrorKind]string{
	llm.ErrInvalidRequest: "invalid_request_error",
	llm.ErrAuthentication: "authentication_error",
	llm.ErrPermission:     "permission_error",
	llm.ErrNotFound:       "not_found_error",
	llm.ErrTooLarge:       "request_too_large",
	llm.ErrRateLimit:      "rate_limit_error",
	llm.ErrBudget:         "rate_limit_error",
	llm.ErrServer:         "api_error",
	llm.ErrInternal:       "api_error",
	llm.ErrConnection:     "api_error",
	llm.ErrStreamCut:      "api_error",
	llm.ErrOverloaded:     "overloaded_error",
	llm.ErrTimeout:        "timeout_error",
}

// errorKinds maps the API's error.type to a kind. billing_error (402) is
// a permission problem of this key: another provider may still serve it.
var errorKinds = map[string]llm.ErrorKind{
	"invalid_request_error": llm.ErrInvalidRequest,
	"authentication_error":  llm.ErrAuthentication,
	"billing_error":         llm.ErrPermission,
	"permission_error":      llm.ErrPermission,
	"not_found_error":       llm.ErrNotFound,
	"request_too_large":     llm.ErrTooLarge,
	"rate_limit_error":      llm.ErrRateLimit,
	"api_error":             llm.ErrServer,
	"overloaded_error":      llm.ErrOverloaded,
	"timeout_error":         llm.ErrTimeout,
}

func errorType(kind llm.ErrorKind) string {
	if t, ok := errorTypes[kind]; ok {
		return t
	}
	return "api_error"
}

// EncodeError implements wire.Inbound:
// {"type":"error","error":{"type":T,"message":M}}.
func (Codec) EncodeError(e *llm.Error) []byte {
	return appendErrorJSON(nil, e)
}

func appendErrorJSON(b []byte, e *llm.Error) []byte {
	kind, msg := llm.ErrInternal, "internal error"
	if e != nil {
		kind, msg = e.Kind, e.Message
	}
	b = append(b, `{"type":"error","error":{"type":`...)
	b = appendString(b, errorType(kind))
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	return append(b, "}}"...)
}

// wireError is the API's error body, also sent as a stream event.
type wireError struct {
	Type  string `json:"type"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// maxQuoted bounds how much of a non-JSON error body an error message
// quotes.
const maxQuoted = 200

// DecodeError implements wire.Outbound. The kind comes from error.type when
// the body is the API's error JSON, from the status otherwise (529 is
// overloaded).
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	var we wireError
	if json.Unmarshal(body, &we) == nil && we.Error != nil && (we.Error.Type != "" || we.Error.Message != "") {
		kind, ok := errorKinds[we.Error.Type]
		if !ok {
			kind = llm.KindOfStatus(status)
		}
		msg := we.Error.Message
		if msg == "" {
			msg = fmt.Sprintf("upstream answered status %d with error type %q and no message", status, we.Error.Type)
		}
		return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: msg}
	}
	kind := llm.KindOfStatus(status)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: fmt.Sprintf("upstream answered status %d with an empty body", status)}
	}
	quoted := trimmed
	more := ""
	if len(quoted) > maxQuoted {
		quoted = quoted[:maxQuoted]
		for len(quoted) > 0 && !utf8.Valid(quoted) {
			quoted = quoted[:len(quoted)-1]
		}
		more = "..."
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: fmt.Sprintf("upstream answered status %d: %q%s", status, quoted, more)}
}

// streamError turns an error event's body into an *llm.Error.
func streamError(we *wireError) *llm.Error {
	typ, msg := "", ""
	if we.Error != nil {
		typ, msg = we.Error.Type, we.Error.Message
	}
	kind, ok := errorKinds[typ]
	if !ok {
		kind = llm.ErrServer
	}
	if msg == "" {
		msg = fmt.Sprintf("the stream ended with an error event of type %q", typ)
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: msg}
}

// invalidf builds the ErrInvalidRequest for the JSON path (Param).
func invalidf(path, format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.ErrInvalidRequest, format, args...)
	e.Param = path
	return e
}

// upstreamf builds the error for a provider answer this codec cannot read.
func upstreamf(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.ErrServer, format, args...)
}

// marshal: see wire.Marshal.
func marshal(v any) ([]byte, error) { return wire.Marshal(v) }

// appendString appends s as a JSON string: see wire.AppendString.
func appendString(b []byte, s string) []byte { return wire.AppendString(b, s) }
