package wire

import (
	"fmt"
	"strconv"

	"github.com/switchyard/switchyard/internal/jsonscan"
)

// The helpers below find and replace top-level members of a JSON object
// without decoding the rest, so a request can be forwarded byte for byte
// with only its model changed, and peeked at cheaply.

var errSyntax = jsonscan.ErrSyntax

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
	return jsonscan.Members(body, fn)
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
		open := jsonscan.Space(body, 0) + 1
		out := make([]byte, 0, len(body)+len(key)+len(quoted)+4)
		out = append(out, body[:open]...)
		out = strconv.AppendQuote(out, key)
		out = append(out, ':')
		out = append(out, quoted...)
		if rest := jsonscan.Space(body, open); rest < len(body) && body[rest] != '}' {
			out = append(out, ',')
		}
		return append(out, body[open:]...), nil
	}
	out := make([]byte, 0, len(body)-(end-start)+len(quoted))
	out = append(out, body[:start]...)
	out = append(out, quoted...)
	return append(out, body[end:]...), nil
}
