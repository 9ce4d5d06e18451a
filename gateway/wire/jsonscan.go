package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// The helpers below find and replace top-level members of a JSON object
// without decoding the rest, so a request can be forwarded byte for byte
// with only its model changed, and peeked at cheaply.

var errSyntax = errors.New("malformed JSON")

// TopLevel calls fn for each member of the top-level object in body, with
// the key (unescaped only if it has no escapes; keys with escapes are
// passed raw) and the value's byte span [start, end). fn returns false to
// stop early.
func TopLevel(body []byte, fn func(key string, start, end int) bool) error {
	return TopLevelRaw(body, func(key []byte, start, end int) bool { return fn(string(key), start, end) })
}

// TopLevelRaw is TopLevel with the key as raw bytes, valid only during
// the call: it allocates nothing (switch on string(key) does not copy).
func TopLevelRaw(body []byte, fn func(key []byte, start, end int) bool) error {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return fmt.Errorf("%w: the body must be a JSON object", errSyntax)
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return checkTrailing(body, i+1)
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return fmt.Errorf("%w: expected a member name at byte %d", errSyntax, i)
		}
		kEnd, err := skipString(body, i)
		if err != nil {
			return err
		}
		key := body[i+1 : kEnd-1]
		i = skipSpace(body, kEnd)
		if i >= len(body) || body[i] != ':' {
			return fmt.Errorf("%w: expected ':' at byte %d", errSyntax, i)
		}
		vStart := skipSpace(body, i+1)
		vEnd, err := skipValue(body, vStart)
		if err != nil {
			return err
		}
		if !fn(key, vStart, vEnd) {
			return nil
		}
		i = skipSpace(body, vEnd)
		if i >= len(body) {
			return fmt.Errorf("%w: the object is not closed", errSyntax)
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			return checkTrailing(body, i+1)
		default:
			return fmt.Errorf("%w: expected ',' or '}' at byte %d", errSyntax, i)
		}
	}
}

func checkTrailing(body []byte, i int) error {
	if skipSpace(body, i) != len(body) {
		return fmt.Errorf("%w: data after the top-level object", errSyntax)
	}
	return nil
}

// SetString returns body with the top-level member key set to the JSON
// string value, replacing its value in place or, if absent, adding it
// first. The rest of body is unchanged. A body with key twice is refused.
func SetString(body []byte, key, value string) ([]byte, error) {
	return SetRaw(body, key, strconv.AppendQuote(nil, value))
}

// Get returns the raw value of the top-level member key, nil if absent.
func Get(body []byte, key string) ([]byte, error) {
	var v []byte
	err := TopLevel(body, func(k string, s, e int) bool {
		if k == key {
			v = body[s:e]
			return false
		}
		return true
	})
	return v, err
}

// SetRaw is SetString with a raw JSON value, which must be valid JSON.
func SetRaw(body []byte, key string, quoted []byte) ([]byte, error) {
	start, end, dup := -1, -1, false
	err := TopLevel(body, func(k string, s, e int) bool {
		if k == key {
			if start >= 0 {
				dup = true
				return false
			}
			start, end = s, e
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if dup {
		// Decoders disagree on which of two members wins; refuse rather
		// than forward a body whose model we did not check.
		return nil, fmt.Errorf("%w: member %q appears twice", errSyntax, key)
	}
	if start < 0 {
		open := skipSpace(body, 0) + 1
		out := make([]byte, 0, len(body)+len(key)+len(quoted)+4)
		out = append(out, body[:open]...)
		out = strconv.AppendQuote(out, key)
		out = append(out, ':')
		out = append(out, quoted...)
		if rest := skipSpace(body, open); rest < len(body) && body[rest] != '}' {
			out = append(out, ',')
		}
		return append(out, body[open:]...), nil
	}
	out := make([]byte, 0, len(body)-(end-start)+len(quoted))
	out = append(out, body[:start]...)
	out = append(out, quoted...)
	return append(out, body[end:]...), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i]=='"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%w: unterminated string at byte %d", errSyntax, i)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: missing value at end of body", errSyntax)
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
		return 0, fmt.Errorf("%w: unclosed %q at byte %d", errSyntax, c, i)
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("%w: unexpected %q at byte %d", errSyntax, c, i)
		}
		return j, nil
	}
}
