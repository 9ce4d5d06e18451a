package sim

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// The hot answers are written with these append helpers rather than
// encoding/json: they cost no reflection and no allocation beyond the
// buffer, and they fix the member order, which goldens depend on.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Like the providers' encoders it
// leaves non-ASCII text as UTF-8 and does not escape HTML characters;
// invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s) }

// appendInt appends n.
func appendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// appendStringOrNull appends s, or null if s is empty.
func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

// appendRaw appends a JSON value from a request, compacted, or def if it
// is absent or null.
func appendRaw(dst []byte, raw json.RawMessage, def string) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return append(dst, def...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return append(dst, def...)
	}
	return append(dst, buf.Bytes()...)
}

// appendStringArray appends a JSON array of strings.
func appendStringArray(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}
