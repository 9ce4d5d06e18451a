package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// invalid is the error for a bad request field: the message starts with
// the field's path and says what to do.
func invalid(param, format string, args ...any) *llm.Error {
	e := llm.Errorf(llm.ErrInvalidRequest, "%s: %s", param, fmt.Sprintf(format, args...))
	e.Param = param
	return e
}

// jsonKind names the JSON type of a valid raw value, for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
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

// absent reports whether an optional member is missing or null.
func absent(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func isString(raw []byte) bool { return len(raw) > 0 && raw[0] == '"' }

// str decodes a JSON string at param.
func str(raw []byte, param string) (string, error) {
	var s string
	if !isString(raw) || json.Unmarshal(raw, &s) != nil {
		return "", invalid(param, "expected a string, got %s", jsonKind(raw))
	}
	return s, nil
}

// integer decodes a JSON integer at param.
func integer(raw []byte, param string) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, invalid(param, "expected an integer, got %s", jsonKind(raw))
	}
	return n, nil
}

// number decodes a JSON number at param and checks it is in [lo, hi].
func number(raw []byte, param string, lo, hi float64) (*float64, error) {
	var f float64
	if jsonKind(raw) != "a number" || json.Unmarshal(raw, &f) != nil {
		return nil, invalid(param, "expected a number, got %s", jsonKind(raw))
	}
	if f < lo || f > hi {
		return nil, invalid(param, "%g is out of range; use a number from %g to %g", f, lo, hi)
	}
	return &f, nil
}

// boolean decodes a JSON boolean at param.
func boolean(raw []byte, param string) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(param, "expected a boolean, got %s", jsonKind(raw))
}

// array decodes a JSON array at param into its raw elements.
func array(raw []byte, param string) ([]json.RawMessage, error) {
	var a []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, invalid(param, "expected an array, got %s", jsonKind(raw))
	}
	return a, nil
}

// object decodes a JSON object at param into v, a struct of raw members.
func object(raw []byte, param string, v any) error {
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, v) != nil {
		return invalid(param, "expected an object, got %s", jsonKind(raw))
	}
	return nil
}

// marshal: see wire.Marshal.
func marshal(v any) ([]byte, error) { return wire.Marshal(v) }

// appendString appends s as a JSON string: see wire.AppendString.
func appendString(b []byte, s string) []byte { return wire.AppendString(b, s) }

func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// unquote decodes a JSON string literal, as encoding/json does but
// without its per-call allocations. ok is false if b is not a string
// literal json.Unmarshal would accept the same way (the caller then falls
// back to it).
func unquote(b []byte) (s string, ok bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	b = b[1 : len(b)-1]
	i := bytes.IndexByte(b, '\\')
	if i < 0 && utf8.Valid(b) {
		return string(b), true
	}
	if i < 0 || !utf8.Valid(b[:i]) {
		i = 0
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '\\':
			if i+1 >= len(b) {
				return "", false
			}
			switch b[i+1] {
			case '"', '\\', '/':
				out = append(out, b[i+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b[i+2:])
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2, ok = hex4(b[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\ufffd"...)
			} else {
				out = append(out, b[i:i+size]...)
			}
			i += size
		}
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
