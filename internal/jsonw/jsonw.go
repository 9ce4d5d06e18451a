// Package jsonw writes JSON by hand, for the hot paths where
// encoding/json's reflection costs too much: the model APIs' stream events
// (gateway/wire) and the events the gateway records on every call
// (core/event). Tests of its users hold their output to encoding/json's.
package jsonw

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are: ASCII from
// space up, but for " and \. One table lookup a byte is what makes
// AppendString fast on the plain text that is most of what it sees.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped so the output is also valid JavaScript.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Object writes one JSON object, member by member, in the order the
// calls come: write the members in the order of the struct's fields and
// the output matches encoding/json's but for HTML escaping (see
// AppendString). A number that JSON cannot hold (NaN, ±Inf) sets Err, as
// encoding/json refuses it.
type Object struct {
	B   []byte
	Err error
	n   int
}

// Open starts the object at the end of b.
func Open(b []byte) Object { return Object{B: append(b, '{')} }

// Close ends the object and returns the buffer, or Err.
func (o *Object) Close() ([]byte, error) {
	o.B = append(o.B, '}')
	return o.B, o.Err
}

// Key starts a member; its value must follow. k is written as it is: it
// must need no escaping (the member names of Go code do not).
func (o *Object) Key(k string) {
	if o.n > 0 {
		o.B = append(o.B, ',')
	}
	o.n++
	o.B = append(o.B, '"')
	o.B = append(o.B, k...)
	o.B = append(o.B, '"', ':')
}

// String writes a string member.
func (o *Object) String(k, v string) {
	o.Key(k)
	o.B = AppendString(o.B, v)
}

// StringOmit writes a string member unless it is empty (omitempty).
func (o *Object) StringOmit(k, v string) {
	if v != "" {
		o.String(k, v)
	}
}

// Int writes an integer member.
func (o *Object) Int(k string, v int64) {
	o.Key(k)
	o.B = strconv.AppendInt(o.B, v, 10)
}

// IntOmit writes an integer member unless it is 0.
func (o *Object) IntOmit(k string, v int64) {
	if v != 0 {
		o.Int(k, v)
	}
}

// UintOmit writes an unsigned integer member unless it is 0.
func (o *Object) UintOmit(k string, v uint64) {
	if v != 0 {
		o.Key(k)
		o.B = strconv.AppendUint(o.B, v, 10)
	}
}

// Bool writes a boolean member.
func (o *Object) Bool(k string, v bool) {
	o.Key(k)
	o.B = strconv.AppendBool(o.B, v)
}

// BoolOmit writes a boolean member unless it is false.
func (o *Object) BoolOmit(k string, v bool) {
	if v {
		o.Bool(k, v)
	}
}

// Float writes a float64 member as encoding/json does.
func (o *Object) Float(k string, v float64) {
	o.Key(k)
	o.B = o.float(o.B, v)
}

// FloatOmit writes a float64 member unless it is 0.
func (o *Object) FloatOmit(k string, v float64) {
	if v != 0 {
		o.Float(k, v)
	}
}

// float appends v in encoding/json's format: the shortest decimal that
// reads back as v, with an exponent only below 1e-6 and from 1e21 up.
func (o *Object) float(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if o.Err == nil {
			o.Err = fmt.Errorf("json: unsupported value: %v", v)
		}
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// StringMapOmit writes a map[string]string member, keys sorted as
// encoding/json sorts them, unless the map is empty.
func (o *Object) StringMapOmit(k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	o.Key(k)
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	o.B = append(o.B, '{')
	for i, key := range keys {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = AppendString(o.B, key)
		o.B = append(o.B, ':')
		o.B = AppendString(o.B, m[key])
	}
	o.B = append(o.B, '}')
}

// Nested starts a member whose value is an object: write its members on
// the Object returned, then give it to End. (No callbacks: a closure
// would cost an allocation a member.)
func (o *Object) Nested(k string) Object {
	o.Key(k)
	return o.child()
}

// ArrayStart starts a member whose value is an array; Element starts its
// i-th element, an object given to End when written; ArrayEnd closes it.
func (o *Object) ArrayStart(k string) {
	o.Key(k)
	o.B = append(o.B, '[')
}

// Element starts the i-th object of the array being written.
func (o *Object) Element(i int) Object {
	if i > 0 {
		o.B = append(o.B, ',')
	}
	return o.child()
}

// ArrayEnd closes the array being written.
func (o *Object) ArrayEnd() { o.B = append(o.B, ']') }

// End takes back a nested object or array element once written.
func (o *Object) End(in *Object) { o.B, o.Err = in.Close() }

// Null writes a member whose value is null.
func (o *Object) Null(k string) {
	o.Key(k)
	o.B = append(o.B, "null"...)
}

func (o *Object) child() Object {
	in := Open(o.B)
	in.Err = o.Err
	return in
}

// Ints writes a member whose value is an array of integers.
func (o *Object) Ints(k string, v []int) {
	o.Key(k)
	o.B = append(o.B, '[')
	for i, x := range v {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = strconv.AppendInt(o.B, int64(x), 10)
	}
	o.B = append(o.B, ']')
}

// Strings writes a member whose value is an array of strings.
func (o *Object) Strings(k string, v []string) {
	o.Key(k)
	o.B = append(o.B, '[')
	for i, s := range v {
		if i > 0 {
			o.B = append(o.B, ',')
		}
		o.B = AppendString(o.B, s)
	}
	o.B = append(o.B, ']')
}
