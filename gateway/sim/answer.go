package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/gateway/llm"
)

type partKind uint8

const (
	partThinking partKind = iota
	partText
	partTool
)

// answerPart is one part of an answer, with the chunks it streams as.
type answerPart struct {
	kind   partKind
	text   string   // the text, the thinking, or the tool call's arguments (input of a custom tool)
	chunks []string // text split into the deltas that stream it

	toolName  string
	toolKind  string // function, custom or local_shell
	callID    string
	itemID    string   // Responses item id
	command   []string // local_shell action
	signature string   // thinking signature (Anthropic) or encrypted reasoning (Responses)
}

// answer is everything a format needs to write one response.
type answer struct {
	id      string
	model   string
	created int64
	parts   []answerPart
	stop    llm.StopReason // end_turn, tool_use or max_tokens

	inputTokens     int // all prompt tokens, cached included
	cachedTokens    int
	reasoningTokens int
	outputTokens    int // every generated token, reasoning included

	ids idGen
}

// contentChunks counts the chunks of every part.
func (a *answer) contentChunks() int {
	n := 0
	for i := range a.parts {
		n += len(a.parts[i].chunks)
	}
	return n
}

// buildAnswer decides the answer to c.
func (s *Server) buildAnswer(c *call, m *Model, d *directives, body []byte) (*answer, *llm.Error) {
	a := &answer{model: c.model, created: s.cfg.Clock().Unix(), stop: llm.StopEndTurn}
	a.ids.seed(fnv64(body), s.counter.Add(1))

	a.inputTokens = (c.promptBytes + 3) / 4
	a.cachedTokens = int(float64(a.inputTokens) * m.CachedFraction)
	if d.cached >= 0 {
		a.cachedTokens = min(d.cached, a.inputTokens)
	}
	a.reasoningTokens = m.ReasoningTokens
	if d.reasoning >= 0 {
		a.reasoningTokens = d.reasoning
	}

	seed, words := fnv64(c.prompt), promptWords(c.prompt)
	if c.thinking && a.reasoningTokens > 0 {
		t := makeText("Thinking about", words, a.reasoningTokens, seed^0x9e3779b97f4a7c15)
		sum := sha256.Sum256([]byte(t))
		a.parts = append(a.parts, answerPart{kind: partThinking, text: t, chunks: splitWords(t),
			signature: base64.StdEncoding.EncodeToString(append(sum[:], sum[:16]...))})
	}

	switch {
	case d.tool != "" && c.hasToolResult:
		t := "Tool result: " + firstRunes(c.toolResult, 200)
		a.parts = append(a.parts, answerPart{kind: partText, text: t, chunks: splitWords(t)})
	case d.tool != "" && len(c.tools) > 0:
		// (A request without tools, such as a CLI's title call that
		// carries the prompt, gets the default answer below.)
		p, err := toolCall(c, d)
		if err != nil {
			return nil, err
		}
		a.parts = append(a.parts, p)
		a.stop = llm.StopToolUse
	default:
		var t string
		switch {
		case d.hasText:
			t = d.text
		default:
			n := m.OutputWords
			if d.words >= 0 {
				n = d.words
			}
			t = makeText("Simulated answer to", words, n, seed)
		}
		chunks := splitWords(t)
		if c.maxTokens > 0 && len(chunks) > c.maxTokens {
			chunks = chunks[:c.maxTokens]
			t = strings.Join(chunks, "")
			a.stop = llm.StopMaxTokens
		}
		a.parts = append(a.parts, answerPart{kind: partText, text: t, chunks: chunks})
	}

	a.outputTokens = a.reasoningTokens
	for i := range a.parts {
		if a.parts[i].kind != partThinking {
			a.outputTokens += len(a.parts[i].chunks)
		}
	}
	a.assignIDs(c.api)
	return a, nil
}

// toolCall builds the one tool call a tool= directive asks for.
func toolCall(c *call, d *directives) (answerPart, *llm.Error) {
	var t toolDef
	var ok bool
	if d.tool == "shell" && !d.hasArgs {
		if t, ok = findShellTool(c.tools); !ok {
			return answerPart{}, badRequest("no shell tool in the request: the [[sim tool=shell]] directive needs a tool named one of %s", strings.Join(shellToolNames, ", "))
		}
	} else if t, ok = findTool(c.tools, d.tool); !ok {
		return answerPart{}, badRequest("no tool named %q in the request: the [[sim tool=%s]] directive calls a tool the request offers", d.tool, d.tool)
	}
	p := answerPart{kind: partTool, toolName: t.name, toolKind: t.kind}
	switch {
	case t.kind == "custom":
		p.text = d.cmd
		if d.hasArgs {
			p.text = d.args
		}
	case t.kind == "local_shell":
		p.command = []string{"bash", "-lc", d.cmd}
		p.text = string(appendStringArray(nil, p.command))
	case d.hasArgs:
		p.text = d.args
	default:
		args, err := shellArgs(t.schema, d.cmd)
		if err != nil {
			return answerPart{}, badRequest("tool %q: %v", t.name, err)
		}
		p.text = args
	}
	p.chunks = splitBytes(p.text, 8)
	return p, nil
}

// assignIDs gives the answer and its parts ids in the API's formats.
func (a *answer) assignIDs(api llm.API) {
	g := &a.ids
	switch api {
	case llm.APIOpenAIChat:
		a.id = g.base62("chatcmpl-", 29)
		a.callIDs("call_", 24)
	case llm.APIOpenAIResponses:
		a.id = g.hex("resp_", 48)
		for i := range a.parts {
			p := &a.parts[i]
			switch {
			case p.kind == partThinking:
				p.itemID = g.hex("rs_", 48)
			case p.kind == partText:
				p.itemID = g.hex("msg_", 48)
			case p.toolKind == "custom":
				p.itemID, p.callID = g.hex("ctc_", 48), g.base62("call_", 24)
			case p.toolKind == "local_shell":
				p.itemID, p.callID = g.hex("lsh_", 48), g.base62("call_", 24)
			default:
				p.itemID, p.callID = g.hex("fc_", 48), g.base62("call_", 24)
			}
		}
	case llm.APIAnthropicMessages:
		a.id = g.base62("msg_01", 22)
		a.callIDs("toolu_01", 22)
	case llm.APIGemini:
		a.id = g.base62("", 22)
	}
}

// callIDs gives the tool calls ids of prefix and n base-62 digits.
func (a *answer) callIDs(prefix string, n int) {
	for i := range a.parts {
		if a.parts[i].kind == partTool {
			a.parts[i].callID = a.ids.base62(prefix, n)
		}
	}
}

// loremWords are the filler of default answers.
var loremWords = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod
	tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation
	ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit
	esse cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia
	deserunt mollit anim id est laborum`)

// promptWords are the first 8 words of a prompt, leaving out directives
// (already removed) and Claude Code's <system-reminder> blocks.
func promptWords(prompt string) []string {
	for {
		start := strings.Index(prompt, "<system-reminder>")
		if start < 0 {
			break
		}
		end := strings.Index(prompt[start:], "</system-reminder>")
		if end < 0 {
			prompt = prompt[:start]
			break
		}
		prompt = prompt[:start] + " " + prompt[start+end+len("</system-reminder>"):]
	}
	words := strings.Fields(prompt)
	if len(words) > 8 {
		words = words[:8]
	}
	return words
}

// makeText writes n words: lead, the prompt's words and a colon, then
// filler drawn from seed, ending with a full stop.
func makeText(lead string, prompt []string, n int, seed uint64) string {
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n * 8)
	count := 0
	add := func(w string) {
		if count > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		count++
	}
	leadWords := strings.Fields(lead)
	if len(prompt) == 0 {
		leadWords = leadWords[:len(leadWords)-1] // "Simulated answer to" → "Simulated answer"
	}
	for i, w := range leadWords {
		if count == n {
			break
		}
		if i == len(leadWords)-1 && len(prompt) == 0 {
			w += ":"
		}
		add(w)
	}
	for i, w := range prompt {
		if count == n {
			break
		}
		if i == len(prompt)-1 {
			w += ":"
		}
		add(w)
	}
	g := idGen{state: seed}
	for count < n {
		add(loremWords[g.next()%uint64(len(loremWords))])
	}
	return strings.TrimSuffix(b.String(), ":") + "."
}

// splitWords splits text into chunks of one word each, every chunk after
// the first starting with the white space before its word.
func splitWords(text string) []string {
	if text == "" {
		return nil
	}
	chunks := make([]string, 0, strings.Count(text, " ")+1)
	start := 0
	for i := 1; i < len(text); i++ {
		if isSpace(text[i]) && !isSpace(text[i-1]) {
			chunks = append(chunks, text[start:i])
			start = i
		}
	}
	if tail := text[start:]; hasWord(tail) || len(chunks) == 0 {
		chunks = append(chunks, tail)
	} else {
		chunks[len(chunks)-1] += tail
	}
	return chunks
}

func hasWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return true
		}
	}
	return false
}

// splitBytes splits s into chunks of about n bytes, on rune boundaries.
func splitBytes(s string, n int) []string {
	if s == "" {
		return nil
	}
	chunks := make([]string, 0, len(s)/n+1)
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		chunks = append(chunks, s[:cut])
		s = s[cut:]
	}
	return append(chunks, s)
}

// firstRunes is s cut to n characters.
func firstRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// fnv64 is FNV-1a.
func fnv64[T string | []byte](b T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}

// idGen makes deterministic pseudo-random ids (splitmix64).
type idGen struct{ state uint64 }

func (g *idGen) seed(h, counter uint64) { g.state = h ^ counter*0x9e3779b97f4a7c15 }

func (g *idGen) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (g *idGen) base62(prefix string, n int) string {
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	var v uint64
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			v = g.next()
		}
		b = append(b, base62[v%62])
		v /= 62
	}
	return string(b)
}

func (g *idGen) hex(prefix string, n int) string {
	b := make([]byte, len(prefix), len(prefix)+n)
	copy(b, prefix)
	var v uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			v = g.next()
		}
		b = append(b, hexDigits[v&0xf])
		v >>= 4
	}
	return string(b)
}
