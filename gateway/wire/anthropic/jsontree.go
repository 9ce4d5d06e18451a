package anthropic

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsontree is a one-pass JSON parser for DecodeRequest. Decoding a 200 KB
// request with encoding/json one level at a time (which error messages with
// array indices need) scans the bulk of the body about ten times; this
// parser validates the body once into a flat tree of value spans, and the
// decoder then reads only the leaves it needs.
//
// It accepts exactly what encoding/json accepts (FuzzJSONTree checks this),
// including invalid UTF-8 in strings, which str replaces with U+FFFD as
// encoding/json does. Duplicate members are all kept; readers take the last,
// as encoding/json does.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

// jnode is one value. Members of an object have key set (the span of the
// key's string, quotes included); children are linked from child by next.
type jnode struct {
	kind       jkind
	start, end int32 // the value's bytes
	keyStart   int32
	keyEnd     int32
	child      int32 // first child, or -1
	next       int32 // next sibling, or -1
}

type jtree struct {
	src   []byte
	nodes []jnode
}

type jsyntaxError struct {
	msg    string
	offset int
}

func (e *jsyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// parseTree parses src, which must hold exactly one JSON value.
func parseTree(src []byte) (*jtree, error) {
	if len(src) > 1<<31-1 {
		return nil, &jsyntaxError{"body too large", 0}
	}
	t := &jtree{src: src, nodes: make([]jnode, 0, len(src)/32+4)}
	p := jparser{t: t}
	i := p.space(0)
	end, err := p.value(i, 0)
	if err != nil {
		return nil, err
	}
	if end = p.space(end); end != len(src) {
		return nil, p.errAt(end, "data after the top-level value")
	}
	return t, nil
}

type jparser struct{ t *jtree }

func (p *jparser) errAt(i int, what string) error {
	if i >= len(p.t.src) {
		return &jsyntaxError{"unexpected end of JSON input", i}
	}
	if what == "" {
		what = "invalid character " + strconv.QuoteRune(rune(p.t.src[i]))
	}
	return &jsyntaxError{what, i}
}

func (p *jparser) space(i int) int {
	src := p.t.src
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value at src[i] into a new node and returns the index
// just past it.
func (p *jparser) value(i, depth int) (int, error) {
	src := p.t.src
	if i >= len(src) {
		return i, p.errAt(i, "")
	}
	idx := len(p.t.nodes)
	p.t.nodes = append(p.t.nodes, jnode{start: int32(i), child: -1, next: -1})
	var end int
	var err error
	switch c := src[i]; {
	case c == '{':
		end, err = p.object(idx, i, depth+1)
	case c == '[':
		end, err = p.array(idx, i, depth+1)
	case c == '"':
		p.t.nodes[idx].kind = jString
		end, err = p.str(i)
	case c == 't':
		p.t.nodes[idx].kind = jBool
		end, err = p.literal(i, "true")
	case c == 'f':
		p.t.nodes[idx].kind = jBool
		end, err = p.literal(i, "false")
	case c == 'n':
		p.t.nodes[idx].kind = jNull
		end, err = p.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		p.t.nodes[idx].kind = jNumber
		end, err = p.number(i)
	default:
		return i, p.errAt(i, "")
	}
	if err != nil {
		return end, err
	}
	p.t.nodes[idx].end = int32(end)
	return end, nil
}

func (p *jparser) object(idx, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, p.errAt(i, "exceeded max depth")
	}
	src := p.t.src
	p.t.nodes[idx].kind = jObject
	prev := -1
	i = p.space(i + 1)
	if i < len(src) && src[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(src) || src[i] != '"' {
			return i, p.errAt(i, "")
		}
		kEnd, err := p.str(i)
		if err != nil {
			return kEnd, err
		}
		kStart := i
		i = p.space(kEnd)
		if i >= len(src) || src[i] != ':' {
			return i, p.errAt(i, "")
		}
		i = p.space(i + 1)
		child := len(p.t.nodes)
		if i, err = p.value(i, depth); err != nil {
			return i, err
		}
		p.t.nodes[child].keyStart, p.t.nodes[child].keyEnd = int32(kStart), int32(kEnd)
		p.link(idx, prev, child)
		prev = child
		i = p.space(i)
		if i >= len(src) {
			return i, p.errAt(i, "")
		}
		switch src[i] {
		case ',':
			i = p.space(i + 1)
		case '}':
			return i + 1, nil
		default:
			return i, p.errAt(i, "")
		}
	}
}

func (p *jparser) array(idx, i, depth int) (int, error) {
	if depth > maxDepth {
		return i, p.errAt(i, "exceeded max depth")
	}
	src := p.t.src
	p.t.nodes[idx].kind = jArray
	prev := -1
	i = p.space(i + 1)
	if i < len(src) && src[i] == ']' {
		return i + 1, nil
	}
	for {
		child := len(p.t.nodes)
		var err error
		if i, err = p.value(i, depth); err != nil {
			return i, err
		}
		p.link(idx, prev, child)
		prev = child
		i = p.space(i)
		if i >= len(src) {
			return i, p.errAt(i, "")
		}
		switch src[i] {
		case ',':
			i = p.space(i + 1)
		case ']':
			return i + 1, nil
		default:
			return i, p.errAt(i, "")
		}
	}
}

func (p *jparser) link(parent, prev, child int) {
	if prev < 0 {
		p.t.nodes[parent].child = int32(child)
	} else {
		p.t.nodes[prev].next = int32(child)
	}
}

// str checks the string starting at src[i] == '"' and returns the index
// past its closing quote.
func (p *jparser) str(i int) (int, error) {
	src := p.t.src
	for j := i + 1; j < len(src); j++ {
		c := src[j]
		switch {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
			if j >= len(src) {
				return j, p.errAt(j, "")
			}
			switch src[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(src) {
					return len(src), p.errAt(len(src), "")
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHex(src[k]) {
						return k, p.errAt(k, "invalid character "+strconv.QuoteRune(rune(src[k]))+" in \\u escape")
					}
				}
				j += 4
			default:
				return j, p.errAt(j, "invalid character "+strconv.QuoteRune(rune(src[j]))+" in string escape code")
			}
		case c < 0x20:
			return j, p.errAt(j, "invalid control character in string")
		}
	}
	return len(src), p.errAt(len(src), "")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (p *jparser) literal(i int, lit string) (int, error) {
	src := p.t.src
	for k := 0; k < len(lit); k++ {
		if i+k >= len(src) || src[i+k] != lit[k] {
			return i + k, p.errAt(i+k, "")
		}
	}
	return i + len(lit), nil
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jparser) number(i int) (int, error) {
	src := p.t.src
	digits := func(j int) int {
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
		return j
	}
	if src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		i = digits(i + 1)
	default:
		return i, p.errAt(i, "")
	}
	if i < len(src) && src[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return j, p.errAt(j, "")
		}
		i = j
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return j, p.errAt(j, "")
		}
		i = j
	}
	return i, nil
}

// raw returns the bytes of node n.
func (t *jtree) raw(n int32) []byte {
	return t.src[t.nodes[n].start:t.nodes[n].end]
}

// key returns the unquoted key of member n.
func (t *jtree) key(n int32) string {
	nd := &t.nodes[n]
	return unquote(t.src[nd.keyStart:nd.keyEnd])
}

// str returns the value of string node n.
func (t *jtree) str(n int32) string { return unquote(t.raw(n)) }

// each calls fn for each child of the array or object n, in order.
func (t *jtree) each(n int32, fn func(c int32)) {
	for c := t.nodes[n].child; c >= 0; c = t.nodes[c].next {
		fn(c)
	}
}

// unquote decodes a validated JSON string, quotes included.
func unquote(q []byte) string {
	s := q[1 : len(q)-1]
	simple := true
	for _, c := range s {
		if c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple || (utf8.Valid(s) && !hasByte(s, '\\')) {
		return string(s)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+1 : i+5])
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						r2 = hex4(s[i+3 : i+7])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default: // '"', '\\', '/'
				b = append(b, s[i])
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b)
}

func hasByte(s []byte, c byte) bool {
	for _, x := range s {
		if x == c {
			return true
		}
	}
	return false
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
