package responses

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchyard/switchyard/gateway/wire"
)

// appendString appends s to dst as a JSON string: see wire.AppendString.
func appendString(dst []byte, s string) []byte { return wire.AppendString(dst, s) }

// unquote decodes the JSON string token raw, as encoding/json would;
// ok is false if raw is not a string. A string of valid UTF-8 is decoded
// here directly, which is several times faster than encoding/json.
func unquote(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if utf8.Valid(raw) {
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), true
		}
		if s, n, closed := unescapePrefix(raw[1:]); closed && n == len(raw)-1 {
			return s, true
		}
	}
	return s, json.Unmarshal(raw, &s) == nil
}

// inputStream pulls the text of "input" out of a custom tool call's
// canonical arguments, {"input":"..."}, as they arrive in fragments, so
// that the text can be streamed as custom_tool_call_input deltas. If the
// arguments do not begin that way it stops, and the whole input is sent
// when the call ends (see finish).
type inputStream struct {
	state   int8
	pending []byte
	sent    strings.Builder
}

const (
	inputSeek = iota // before the opening quote of the value
	inputText        // inside the string
	inputDone        // after its closing quote, or given up
)

// feed takes the next fragment of the arguments and returns the input
// text it completes, if any.
func (s *inputStream) feed(frag string) string {
	if s.state == inputDone {
		return ""
	}
	s.pending = append(s.pending, frag...)
	if s.state == inputSeek {
		n, found, lost := seekInput(s.pending)
		if lost {
			s.state, s.pending = inputDone, nil
			return ""
		}
		if !found {
			return ""
		}
		s.pending = s.pending[n:]
		s.state = inputText
	}
	out, n, closed := unescapePrefix(s.pending)
	s.pending = s.pending[:copy(s.pending, s.pending[n:])]
	if closed {
		s.state, s.pending = inputDone, nil
	}
	s.sent.WriteString(out)
	return out
}

// finish returns the part of the final input that feed has not sent: all
// of it if feed sent nothing, nothing if what was sent is not its start.
func (s *inputStream) finish(final string) string {
	rest, ok := strings.CutPrefix(final, s.sent.String())
	if !ok {
		return ""
	}
	return rest
}

// seekInput matches the start of b against `{"input":"`, allowing JSON
// white space between the tokens. It returns the length of the match once
// found, or lost if b cannot start that way.
func seekInput(b []byte) (n int, found, lost bool) {
	for _, tok := range [...]string{"{", `"input"`, ":", `"`} {
		for n < len(b) && (b[n] == ' ' || b[n] == '\t' || b[n] == '\n' || b[n] == '\r') {
			n++
		}
		rest := b[n:]
		if len(rest) < len(tok) {
			return 0, false, !strings.HasPrefix(tok, string(rest))
		}
		if string(rest[:len(tok)]) != tok {
			return 0, false, true
		}
		n += len(tok)
	}
	return n, true, false
}

// unescapePrefix decodes the JSON string content at the start of b up to
// its closing quote or to the last point it can decode without more
// input (a split escape or UTF-8 sequence waits). It returns the text,
// the bytes consumed and whether the closing quote was reached.
func unescapePrefix(b []byte) (string, int, bool) {
	out := make([]byte, 0, len(b))
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return string(out), i, false
			}
			if b[i+1] != 'u' {
				switch e := b[i+1]; e {
				case 'n':
					out = append(out, '\n')
				case 't':
					out = append(out, '\t')
				case 'r':
					out = append(out, '\r')
				case 'b':
					out = append(out, '\b')
				case 'f':
					out = append(out, '\f')
				default: // '"', '\\', '/' and invalid escapes
					out = append(out, e)
				}
				i += 2
				continue
			}
			r, n, wait := unescapeRune(b[i:])
			if wait {
				return string(out), i, false
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			if !utf8.FullRune(b[i:]) {
				return string(out), i, false
			}
			_, size := utf8.DecodeRune(b[i:])
			out = append(out, b[i:i+size]...)
			i += size
		}
	}
	return string(out), i, false
}

// unescapeRune decodes the \uXXXX escape (or surrogate pair of them) at
// the start of b, as encoding/json does: a lone surrogate is U+FFFD. wait
// reports that b ends before the escape can be decoded.
func unescapeRune(b []byte) (r rune, n int, wait bool) {
	if len(b) < 6 {
		return 0, 0, true
	}
	r = hex4(b[2:6])
	if r < 0 || !utf16.IsSurrogate(r) {
		if r < 0 {
			return utf8.RuneError, 6, false
		}
		return r, 6, false
	}
	if r >= 0xdc00 { // a low surrogate first
		return utf8.RuneError, 6, false
	}
	switch {
	case len(b) < 7 || len(b) < 8 && b[6] == '\\':
		return 0, 0, true
	case b[6] != '\\' || b[7] != 'u':
		return utf8.RuneError, 6, false
	case len(b) < 12:
		return 0, 0, true
	}
	if dec := utf16.DecodeRune(r, hex4(b[8:12])); dec != utf8.RuneError {
		return dec, 12, false
	}
	return utf8.RuneError, 6, false
}

// hex4 is the value of four hex digits, -1 if they are not.
func hex4(b []byte) rune {
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
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
