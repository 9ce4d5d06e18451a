// Package jsonscan reads JSON without decoding what it does not need: it
// walks an object's members and hands out their values' byte spans, and
// decodes the plain strings and numbers most members are. It is for hot
// paths (a request forwarded with only its model changed, projections that
// read five members of an event), where encoding/json's full decode costs
// several microseconds.
package jsonscan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ErrSyntax is wrapped by every error about malformed JSON.
var ErrSyntax = errors.New("malformed JSON")

// Members calls fn for each member of the top-level object in body, with
// the key as raw bytes (escapes left as they are), valid only during the
// call, and the value's byte span [start, end). fn returns false to stop
// early. It allocates nothing (switch on string(key) does not copy).
func Members(body []byte, fn func(key []byte, start, end int) bool) error {
	i := Space(body, 0)
	if i >= len(body) || body[i] != '{' {
		return fmt.Errorf("%w: the body must be a JSON object", ErrSyntax)
	}
	i = Space(body, i+1)
	if i < len(body) && body[i] == '}' {
		return checkTrailing(body, i+1)
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return fmt.Errorf("%w: expected a member name at byte %d", ErrSyntax, i)
		}
		kEnd, err := skipString(body, i)
		if err != nil {
			return err
		}
		key := body[i+1 : kEnd-1]
		i = Space(body, kEnd)
		if i >= len(body) || body[i] != ':' {
			return fmt.Errorf("%w: expected ':' at byte %d", ErrSyntax, i)
		}
		vStart := Space(body, i+1)
		vEnd, err := Skip(body, vStart)
		if err != nil {
			return err
		}
		if !fn(key, vStart, vEnd) {
			return nil
		}
		i = Space(body, vEnd)
		if i >= len(body) {
			return fmt.Errorf("%w: the object is not closed", ErrSyntax)
		}
		switch body[i] {
		case ',':
			i = Space(body, i+1)
		case '}':
			return checkTrailing(body, i+1)
		default:
			return fmt.Errorf("%w: expected ',' or '}' at byte %d", ErrSyntax, i)
		}
	}
}

// Fields calls fn with the name and the raw value of each member of the
// JSON object body, in order, until fn returns an error, which comes back
// prefixed with the member's name. It is Members for decoders that read
// some members and skip the rest.
func Fields(body []byte, fn func(key, value []byte) error) error {
	var err error
	scanErr := Members(body, func(key []byte, start, end int) bool {
		if err = fn(key, body[start:end]); err != nil {
			err = fmt.Errorf("%s: %w", key, err)
		}
		return err == nil
	})
	return cmp.Or(scanErr, err)
}

func checkTrailing(body []byte, i int) error {
	if Space(body, i) != len(body) {
		return fmt.Errorf("%w: data after the top-level object", ErrSyntax)
	}
	return nil
}

// Space returns the index of the first byte at or after i that is not
// JSON white space.
func Space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i]=='"'.
//
// It reads a stretch byte by byte, and past it jumps to the next quote
// with bytes.IndexByte, which reads many bytes a step: the strings of
// agents' requests and answers (prompts, files, tool output) run to
// kilobytes, while JSON held in a string has a quote every few bytes. A
// quote jumped to ends the string unless an odd run of backslashes
// precedes it. A jump that lands on an escaped quote close by doubles the
// stretch read byte by byte: that string is dense with quotes.
func skipString(b []byte, i int) (int, error) {
	stretch := 32
	j := i + 1
	for j < len(b) {
		for end := min(j+stretch, len(b)); j < end; j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		if j >= len(b) {
			break
		}
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		q := j + k
		n := 0
		for p := q - 1; p >= j && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		if k < 64 {
			stretch = min(2*stretch, 4096)
		}
		j = q + 1
	}
	return 0, fmt.Errorf("%w: unterminated string at byte %d", ErrSyntax, i)
}

// Skip returns the index just past the JSON value starting at b[i],
// without checking more than its bounds.
func Skip(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: missing value at end of body", ErrSyntax)
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unclosed %q at byte %d", ErrSyntax, c, i)
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("%w: unexpected %q at byte %d", ErrSyntax, c, i)
		}
		return j, nil
	}
}

// String decodes the JSON string v, taking the fast way when it has no
// escapes; null leaves dst as it is, as encoding/json does.
func String(v []byte, dst *string) error {
	if p, ok := Plain(v); ok {
		*dst = string(p)
		return nil
	}
	return json.Unmarshal(v, dst)
}

// Text decodes the JSON string v as bytes: its contents in place (no
// copy: the caller must not keep them past v) when it has no escapes,
// nearly always, else a decoded copy. null leaves dst as it is.
func Text(v []byte, dst *[]byte) error {
	if p, ok := Plain(v); ok {
		*dst = p
		return nil
	}
	if string(v) == "null" {
		return nil
	}
	var s string
	if err := String(v, &s); err != nil {
		return err
	}
	*dst = []byte(s)
	return nil
}

// Plain returns the contents of the JSON string v when it has no escapes
// and is valid UTF-8, without copying: the caller must not keep it.
func Plain(v []byte) ([]byte, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return v[1 : len(v)-1], true
	}
	return nil, false
}

// Int decodes the JSON number v as an int; null leaves dst as it is.
func Int(v []byte, dst *int) error {
	var n int64
	if err := Int64(v, &n); err != nil || string(v) == "null" {
		return err
	}
	*dst = int(n)
	return nil
}

// Int64 decodes the JSON number v as an int64; null leaves dst as it is.
// Plain digits take a fast way; other forms go through strconv.
func Int64(v []byte, dst *int64) error {
	if len(v) > 0 && len(v) < 19 {
		var n int64
		i := 0
		if v[0] == '-' {
			i = 1
		}
		ok := i < len(v)
		for _, c := range v[i:] {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if i == 1 {
				n = -n
			}
			*dst = n
			return nil
		}
	}
	if string(v) == "null" {
		return nil
	}
	if err := checkNumber(v); err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return err
	}
	*dst = n
	return nil
}

// Float decodes the JSON number v as a float64; null leaves dst as it is.
func Float(v []byte, dst *float64) error {
	if string(v) == "null" {
		return nil
	}
	if err := checkNumber(v); err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return err
	}
	*dst = f
	return nil
}

// Bool decodes the JSON boolean v; null leaves dst as it is.
func Bool(v []byte, dst *bool) error {
	switch string(v) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	case "null":
	default:
		return fmt.Errorf("%s is not a boolean", v)
	}
	return nil
}

// checkNumber refuses what strconv takes beyond JSON numbers: hex, _,
// Inf, NaN.
func checkNumber(v []byte) error {
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return fmt.Errorf("%s is not a number", v)
	}
	// A loop, not strings.TrimLeft with a cutset: that builds its set on
	// every call, a sixth of a rebuild's cost decoding.
	for _, c := range v {
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			return fmt.Errorf("%s is not a number", v)
		}
	}
	return nil
}
