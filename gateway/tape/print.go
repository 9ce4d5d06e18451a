package tape

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// What a request's print keeps.
const (
	// RecentMessages is how many of a request's latest messages keep
	// their parts' prints and excerpts in a recording; older messages
	// keep their digest and length only. A replay's call is printed
	// whole (AllMessages), to say what changed.
	RecentMessages = 8
	AllMessages    = -1
	// ExcerptBytes bounds a part's excerpt.
	ExcerptBytes = 200
)

// Placeholders the normaliser writes.
const (
	SessionMark = "<session>"
	ClientMark  = "<client-session>"
	UUIDMark    = "<uuid>"
	DateMark    = "<date>"
	ValueMark   = "<n>"
)

// toolFacts are what CLIs write about a tool they ran that differs from
// one run to the next: a label, then a value (a number or an id) that
// is rewritten. Codex's shell output starts "Chunk ID: 1c98d7\nWall
// time: 0.0123 seconds\n".
var toolFacts = []struct {
	label []byte
	mark  string
}{
	{[]byte("Chunk ID: "), "Chunk ID: " + ValueMark},
	{[]byte("Wall time: "), "Wall time: " + ValueMark},
}

// Normaliser rewrites, in a request's text, what differs between two
// honest runs of one session: the switchyard session's id (the
// workspace, state and home directories the CLI is shown are named
// after it), the CLI's own session id, any other UUID, dates
// (2026-12-03, with a time and zone if one follows, and "Thu Dec 03
// 2026"), and the timings and ids CLIs write about the tools they ran
// (toolFacts). A prompt that differs only in a date is therefore not a
// divergence.
type Normaliser struct {
	lits []literal // longest first
}

type literal struct {
	old []byte
	new string
}

// NewNormaliser returns the normaliser of the calls of session `session`
// (the switchyard session id) made by a CLI that calls its own session
// `client` (X-Claude-Code-Session-Id, session-id, x-session-id; may be
// empty).
func NewNormaliser(session, client string) *Normaliser {
	n := &Normaliser{}
	if session != "" {
		n.lits = append(n.lits, literal{[]byte(session), SessionMark})
	}
	if client != "" && client != session {
		n.lits = append(n.lits, literal{[]byte(client), ClientMark})
		if len(client) > len(session) {
			n.lits[0], n.lits[1] = n.lits[1], n.lits[0]
		}
	}
	return n
}

// word marks the bytes of words: a UUID, date, id or tool fact starts
// only where a word does.
var word = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
	}
	return t
}()

// Append appends s, normalised, to dst.
func (n *Normaliser) Append(dst []byte, s []byte) []byte {
	last := 0
	for i := 0; i < len(s); {
		if !word[s[i]] {
			i++
			continue
		}
		// A word starts here: is it something to rewrite?
		if mark, l := n.match(s[i:]); l > 0 {
			dst = append(dst, s[last:i]...)
			dst = append(dst, mark...)
			i += l
			last = i
			continue
		}
		for i < len(s) && word[s[i]] {
			i++
		}
	}
	return append(dst, s[last:]...)
}

// String is s normalised.
func (n *Normaliser) String(s string) string { return string(n.Append(nil, []byte(s))) }

// match reports what starts a word at the start of s, and its length
// (0 for nothing).
func (n *Normaliser) match(s []byte) (string, int) {
	for _, l := range n.lits {
		if s[0] == l.old[0] && bytes.HasPrefix(s, l.old) {
			return l.new, len(l.old)
		}
	}
	ends := func(l int) bool { return l > 0 && (l == len(s) || !word[s[l]]) }
	switch c := s[0]; {
	case c == 'C' || c == 'W':
		for _, f := range toolFacts {
			if bytes.HasPrefix(s, f.label) {
				v := len(f.label)
				for v < len(s) && (word[s[v]] || s[v] == '.') {
					v++
				}
				if v > len(f.label) {
					return f.mark, v
				}
			}
		}
	}
	switch c := s[0]; {
	case len(s) >= 36 && s[8] == '-' && isHex(c):
		if l := uuidLen(s); ends(l) {
			return UUIDMark, l
		}
	case len(s) >= 10 && s[4] == '-' && isDigit(c):
		if l := isoDateLen(s); ends(l) {
			return DateMark, l
		}
	case len(s) >= 15 && s[3] == ' ' && isTitle(c):
		if l := textDateLen(s); ends(l) {
			return DateMark, l
		}
	}
	return "", 0
}

// isTitle reports the initials of weekdays.
func isTitle(c byte) bool { return c == 'M' || c == 'T' || c == 'W' || c == 'F' || c == 'S' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// digits reports whether s[i:i+n] are n digits.
func digits(s []byte, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for _, c := range s[i : i+n] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// uuidLen is 36 when s starts with a UUID (8-4-4-4-12 hex digits).
func uuidLen(s []byte) int {
	if len(s) < 36 {
		return 0
	}
	for i := range 36 {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return 0
			}
		default:
			if !isHex(s[i]) {
				return 0
			}
		}
	}
	return 36
}

// isoDateLen is the length of the date (YYYY-MM-DD), and of the time and
// zone that follow it if any, that s starts with; 0 if none.
func isoDateLen(s []byte) int {
	if !digits(s, 0, 4) || len(s) < 10 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2) {
		return 0
	}
	n := 10
	// A time: [T ]HH:MM[:SS[.frac]]
	if len(s) >= n+6 && (s[n] == 'T' || s[n] == ' ') && digits(s, n+1, 2) && s[n+3] == ':' && digits(s, n+4, 2) {
		n += 6
		if len(s) >= n+3 && s[n] == ':' && digits(s, n+1, 2) {
			n += 3
			if len(s) > n+1 && s[n] == '.' && isDigit(s[n+1]) {
				n++
				for n < len(s) && isDigit(s[n]) {
					n++
				}
			}
		}
		// A zone: Z, ±HH:MM or ±HHMM.
		switch {
		case n < len(s) && s[n] == 'Z':
			n++
		case n < len(s) && (s[n] == '+' || s[n] == '-') && digits(s, n+1, 2):
			switch {
			case len(s) >= n+6 && s[n+3] == ':' && digits(s, n+4, 2):
				n += 6
			case digits(s, n+3, 2):
				n += 5
			}
		}
	}
	return n
}

var (
	weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	months   = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// textDateLen is the length of a date as JavaScript's toDateString
// writes it ("Thu Dec 03 2026") that s starts with; 0 if none.
func textDateLen(s []byte) int {
	if len(s) < 15 || s[3] != ' ' || s[7] != ' ' || !slices.Contains(weekdays, string(s[:3])) || !slices.Contains(months, string(s[4:7])) {
		return 0
	}
	i := 8
	switch {
	case digits(s, i, 2) && len(s) > i+2 && s[i+2] == ' ':
		i += 3
	case digits(s, i, 1) && len(s) > i+1 && s[i+1] == ' ':
		i += 2
	default:
		return 0
	}
	if !digits(s, i, 4) {
		return 0
	}
	return i + 4
}

// fields are the members of a message, content block or input item that
// a print reads, one set for the three inbound APIs (Messages, Chat
// Completions, Responses): strings decoded, the rest as JSON spans of
// the body. What a print does not read is left out, and so never makes
// two runs differ.
type fields struct {
	typ, role, id, callID, toolUseID, toolCallID, name string

	text, thinking, content, input, arguments, output, source, imageURL, summary, toolCalls, function []byte
	isError                                                                                           bool
}

func readFields(obj []byte, f *fields) error {
	*f = fields{}
	return members(obj, func(key, v []byte) error {
		var err error
		switch string(key) {
		case "type":
			err = jsonscan.String(v, &f.typ)
		case "role":
			err = jsonscan.String(v, &f.role)
		case "id":
			err = jsonscan.String(v, &f.id)
		case "call_id":
			err = jsonscan.String(v, &f.callID)
		case "tool_use_id":
			err = jsonscan.String(v, &f.toolUseID)
		case "tool_call_id":
			err = jsonscan.String(v, &f.toolCallID)
		case "name":
			err = jsonscan.String(v, &f.name)
		case "text":
			f.text = v
		case "thinking":
			f.thinking = v
		case "content":
			f.content = v
		case "input":
			f.input = v
		case "arguments":
			f.arguments = v
		case "output":
			f.output = v
		case "source":
			f.source = v
		case "image_url":
			f.imageURL = v
		case "summary":
			f.summary = v
		case "tool_calls":
			f.toolCalls = v
		case "function":
			f.function = v
		case "is_error":
			err = jsonscan.Bool(v, &f.isError)
		}
		return err
	})
}

// kind is what a JSON value is, by its first byte.
func kind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	if v[0] == 'n' {
		return 0 // null
	}
	return v[0]
}

// printer computes the prints of one request, reusing its buffers.
type printer struct {
	n       *Normaliser
	buf     []byte // a part's normalised content
	unq     []byte // a string's unescaped bytes
	scratch []byte
	// the message being printed
	msg  event.MessagePrint
	hash hash.Hash
	keep bool
}

// Print is the fingerprint of body, a request in api's wire format for
// model (as the client named it), streamed or not, its text normalised
// by n. The latest `recent` messages keep their parts' prints and
// excerpts; a negative recent keeps them for every message. It reads the
// body as JSON without the API's validation: a request the gateway could
// not translate to another API prints all the same.
func Print(api llm.API, body []byte, model string, stream bool, n *Normaliser, recent int) (event.RequestPrint, error) {
	p := &printer{n: n, hash: sha256.New()}
	rp := event.RequestPrint{API: string(api), Model: model, Stream: stream}
	var system, messages, input, tools []byte
	if err := members(body, func(key, v []byte) error {
		switch string(key) {
		case "system", "instructions":
			system = v
		case "messages":
			messages = v
		case "input":
			input = v
		case "tools":
			tools = v
		}
		return nil
	}); err != nil {
		return rp, fmt.Errorf("print a %s request: %w", api, err)
	}
	if kind(tools) == '[' {
		var t fields
		if err := elements(tools, func(v []byte) error {
			if err := readFields(v, &t); err != nil {
				return err
			}
			name := cmp.Or(t.name, t.typ)
			if kind(t.function) == '{' {
				var fn fields
				if err := readFields(t.function, &fn); err != nil {
					return err
				}
				name = fn.name
			}
			rp.Tools = append(rp.Tools, name)
			return nil
		}); err != nil {
			return rp, fmt.Errorf("print a %s request: tools: %w", api, err)
		}
	}
	if err := p.system(system, &rp); err != nil {
		return rp, fmt.Errorf("print a %s request: system: %w", api, err)
	}
	items := messages
	if kind(input) == '"' {
		// The Responses API's input as one string: a user message.
		p.begin("user", true)
		if err := p.text(input); err != nil {
			return rp, fmt.Errorf("print a %s request: input: %w", api, err)
		}
		p.part("text")
		rp.Messages = append(rp.Messages, p.end())
	} else if kind(input) == '[' {
		items = input
	}
	var raws [][]byte
	if kind(items) == '[' {
		if err := elements(items, func(v []byte) error { raws = append(raws, v); return nil }); err != nil {
			return rp, fmt.Errorf("print a %s request: messages: %w", api, err)
		}
	}
	if rp.Messages == nil {
		rp.Messages = make([]event.MessagePrint, 0, len(raws))
	}
	for i, raw := range raws {
		if err := p.message(raw, recent < 0 || i >= len(raws)-recent); err != nil {
			return rp, fmt.Errorf("print a %s request: message %d: %w", api, i, err)
		}
		rp.Messages = append(rp.Messages, p.end())
	}
	rp.Digest = requestDigest(&rp)
	return rp, nil
}

func requestDigest(rp *event.RequestPrint) string {
	h := sha256.New()
	w := func(ss ...string) {
		for _, s := range ss {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	w(rp.API, rp.Model, strconv.FormatBool(rp.Stream))
	w(rp.Tools...)
	w("\x01")
	for _, m := range rp.System {
		w(m.Role, m.Digest)
	}
	w("\x01")
	for _, m := range rp.Messages {
		w(m.Role, m.Digest)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// system prints the system text: a string, or a print per text block.
func (p *printer) system(raw []byte, rp *event.RequestPrint) error {
	switch kind(raw) {
	case 0:
		return nil
	case '"':
		p.begin("system", true)
		if err := p.text(raw); err != nil {
			return err
		}
		p.part("text")
		rp.System = append(rp.System, p.end())
		return nil
	}
	return elements(raw, func(v []byte) error {
		p.begin("system", true)
		if err := p.block(v); err != nil {
			return err
		}
		rp.System = append(rp.System, p.end())
		return nil
	})
}

// begin starts a message print; part adds the part rendered in p.buf;
// end finishes it. A message's digest is over its role and its parts'
// digests, each over the part's type and content.
func (p *printer) begin(role string, keep bool) {
	p.msg = event.MessagePrint{Role: role}
	p.keep = keep
	p.hash.Reset()
	p.hash.Write([]byte(role))
	p.hash.Write([]byte{0})
	p.buf = p.buf[:0]
}

func (p *printer) part(typ string) {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write(p.buf)
	var sum [sha256.Size]byte
	d := hex.EncodeToString(h.Sum(sum[:0])[:8])
	p.hash.Write([]byte(d))
	p.msg.Bytes += len(p.buf)
	if p.keep {
		p.msg.Parts = append(p.msg.Parts, event.PartPrint{Type: typ, Digest: d, Bytes: len(p.buf), Excerpt: excerpt(p.buf)})
	}
	p.buf = p.buf[:0]
}

func (p *printer) end() event.MessagePrint {
	p.msg.Digest = hex.EncodeToString(p.hash.Sum(nil)[:8])
	return p.msg
}

// excerpt is the start of b, at most ExcerptBytes long and cut between
// two characters.
func excerpt(b []byte) string {
	if len(b) <= ExcerptBytes {
		return string(b)
	}
	i := ExcerptBytes
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return string(b[:i])
}

// message prints one message (Messages, Chat) or input item (Responses).
func (p *printer) message(raw []byte, keep bool) error {
	var m fields
	if err := readFields(raw, &m); err != nil {
		return err
	}
	if m.role == "" {
		// A Responses input item that is not a message: a tool call, a
		// tool's output, reasoning. It is a message of its own.
		p.begin(m.typ, keep)
		return p.item(&m, raw)
	}
	p.begin(m.role, keep)
	if m.role == "tool" {
		// Chat: a tool's result is a message.
		if err := p.content(m.content); err != nil {
			return err
		}
		p.part("tool_result " + m.toolCallID)
		return nil
	}
	if err := p.contentParts(m.content); err != nil {
		return err
	}
	if kind(m.toolCalls) != '[' {
		return nil
	}
	var c, fn fields
	return elements(m.toolCalls, func(v []byte) error {
		if err := readFields(v, &c); err != nil {
			return err
		}
		if kind(c.function) != '{' {
			return p.item(&c, v)
		}
		if err := readFields(c.function, &fn); err != nil {
			return err
		}
		args, err := p.unquote(fn.arguments)
		if err != nil {
			return err
		}
		p.call(c.id, args)
		p.part("tool_call " + fn.name)
		return nil
	})
}

// contentParts prints a message's content: a string is one text part,
// an array a part per block.
func (p *printer) contentParts(raw []byte) error {
	switch kind(raw) {
	case 0:
		return nil
	case '"':
		if err := p.text(raw); err != nil {
			return err
		}
		p.part("text")
		return nil
	case '[':
		return elements(raw, p.block)
	}
	p.other(raw)
	p.part("content")
	return nil
}

// block prints one content block.
func (p *printer) block(raw []byte) error {
	var b fields
	if err := readFields(raw, &b); err != nil {
		return err
	}
	return p.item(&b, raw)
}

// item prints a content block or input item as one part: text,
// thinking, an image, a tool call or a tool's result, named alike
// whatever the API; a kind it does not know by its JSON.
func (p *printer) item(b *fields, raw []byte) error {
	switch b.typ {
	case "text", "input_text", "output_text", "summary_text", "refusal":
		if err := p.text(b.text); err != nil {
			return err
		}
		p.part("text")
	case "thinking":
		// The signature is the provider's, served back as recorded.
		if err := p.text(b.thinking); err != nil {
			return err
		}
		p.part("thinking")
	case "redacted_thinking":
		p.part("redacted_thinking")
	case "reasoning":
		if err := p.content(b.summary); err != nil {
			return err
		}
		p.part("thinking")
	case "image", "image_url", "input_image":
		if err := p.image(b); err != nil {
			return err
		}
		p.part("image")
	case "tool_use", "server_tool_use":
		p.call(b.id, b.input)
		p.part("tool_call " + b.name)
	case "function_call":
		args, err := p.unquote(b.arguments)
		if err != nil {
			return err
		}
		p.call(b.callID, args)
		p.part("tool_call " + b.name)
	case "custom_tool_call":
		p.buf = p.n.Append(p.buf, []byte(b.callID))
		p.buf = append(p.buf, '\n')
		if err := p.text(b.input); err != nil {
			return err
		}
		p.part("tool_call " + b.name)
	case "tool_result":
		if b.isError {
			p.buf = append(p.buf, "error\n"...)
		}
		if err := p.content(b.content); err != nil {
			return err
		}
		p.part("tool_result " + b.toolUseID)
	case "function_call_output", "custom_tool_call_output":
		if err := p.content(b.output); err != nil {
			return err
		}
		p.part("tool_result " + b.callID)
	default:
		p.other(raw)
		p.part(cmp.Or(b.typ, "item"))
	}
	return nil
}

// content renders a tool result's content (or reasoning's summary): a
// string, or blocks, one a line.
func (p *printer) content(raw []byte) error {
	switch kind(raw) {
	case 0:
		return nil
	case '"':
		return p.text(raw)
	case '[':
	default:
		p.other(raw)
		return nil
	}
	var b fields
	first := true
	return elements(raw, func(v []byte) error {
		if err := readFields(v, &b); err != nil {
			return err
		}
		if !first {
			p.buf = append(p.buf, '\n')
		}
		first = false
		switch b.typ {
		case "image", "image_url", "input_image":
			return p.image(&b)
		case "text", "input_text", "output_text", "summary_text", "":
			return p.text(b.text)
		}
		p.other(v)
		return nil
	})
}

// text appends the JSON string raw (or, if raw is not a string, its
// JSON), normalised.
func (p *printer) text(raw []byte) error {
	s, err := p.unquote(raw)
	if err != nil {
		return err
	}
	p.buf = p.n.Append(p.buf, s)
	return nil
}

// unquote is the JSON string raw unescaped, in a buffer of p's that the
// next call reuses; a value that is not a string is returned as it is.
func (p *printer) unquote(raw []byte) ([]byte, error) {
	if kind(raw) != '"' {
		return raw, nil
	}
	if s, ok := jsonscan.Plain(raw); ok {
		return s, nil
	}
	var err error
	p.unq, err = appendUnescaped(p.unq[:0], raw)
	return p.unq, err
}

// appendUnescaped appends the contents of the JSON string raw (quotes
// included) to dst, its escapes undone as encoding/json undoes them:
// a lone surrogate or invalid UTF-8 becomes U+FFFD.
func appendUnescaped(dst, raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return dst, fmt.Errorf("%w: not a string", jsonscan.ErrSyntax)
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		// The run up to the next escape, whole when it is valid UTF-8.
		if k := bytes.IndexByte(s[i:], '\\'); k != 0 {
			run := s[i:]
			if k > 0 {
				run = s[i : i+k]
			}
			if utf8.Valid(run) {
				dst = append(dst, run...)
				i += len(run)
				continue
			}
		}
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return dst, fmt.Errorf("%w: a string ends in an escape", jsonscan.ErrSyntax)
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, n := hex4(s[i+2:])
				if n < 0 {
					return dst, fmt.Errorf("%w: a bad \\u escape", jsonscan.ErrSyntax)
				}
				i += 2 + n
				if utf16.IsSurrogate(r) {
					if len(s) >= i+2 && s[i] == '\\' && s[i+1] == 'u' {
						if r2, n2 := hex4(s[i+2:]); n2 > 0 {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								dst = utf8.AppendRune(dst, d)
								i += 2 + n2
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				return dst, fmt.Errorf("%w: a bad escape \\%c", jsonscan.ErrSyntax, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
		}
	}
	return dst, nil
}

// hex4 reads the four hex digits of a \u escape: the rune and 4, or -1.
func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, -1
	}
	var r rune
	for _, c := range b[:4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, -1
		}
		r = r<<4 | rune(v)
	}
	return r, 4
}

// call appends a tool call's id and arguments, compacted (a client may
// send back the arguments it was given re-indented) and normalised.
func (p *printer) call(id string, args []byte) {
	p.buf = p.n.Append(p.buf, []byte(id))
	p.buf = append(p.buf, '\n')
	p.scratch = p.scratch[:0]
	b := bytes.NewBuffer(p.scratch)
	if json.Compact(b, args) == nil {
		p.scratch = b.Bytes()
		args = p.scratch
	}
	p.buf = p.n.Append(p.buf, args)
}

// image appends an image's media type and the digest of its data, or
// its URL.
func (p *printer) image(b *fields) error {
	if kind(b.source) == '{' {
		var s struct {
			MediaType string `json:"media_type"`
			Data      string `json:"data"`
			URL       string `json:"url"`
		}
		if err := json.Unmarshal(b.source, &s); err != nil {
			return err
		}
		p.buf = append(p.buf, s.MediaType...)
		p.buf = append(p.buf, ' ')
		if s.URL != "" {
			p.buf = p.n.Append(p.buf, []byte(s.URL))
			return nil
		}
		sum := sha256.Sum256([]byte(s.Data))
		p.buf = hex.AppendEncode(p.buf, sum[:8])
		return nil
	}
	// Chat: {"image_url": {"url": ...}}; Responses: {"image_url": "..."}.
	var url string
	var u struct {
		URL string `json:"url"`
	}
	switch kind(b.imageURL) {
	case '"':
		if err := json.Unmarshal(b.imageURL, &url); err != nil {
			return err
		}
	case '{':
		if err := json.Unmarshal(b.imageURL, &u); err != nil {
			return err
		}
		url = u.URL
	}
	if strings.HasPrefix(url, "data:") {
		sum := sha256.Sum256([]byte(url))
		p.buf = hex.AppendEncode(p.buf, sum[:8])
		return nil
	}
	p.buf = p.n.Append(p.buf, []byte(url))
	return nil
}

// other appends a value of a kind a print does not know: its JSON,
// members sorted, without the prompt-cache markers and item ids that
// change from run to run.
func (p *printer) other(raw []byte) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		p.buf = p.n.Append(p.buf, raw)
		return
	}
	delete(m, "cache_control")
	delete(m, "id")
	b, _ := json.Marshal(m)
	p.buf = p.n.Append(p.buf, b)
}
