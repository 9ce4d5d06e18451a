package sim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// directives are the [[sim ...]] instructions of one request.
type directives struct {
	// key identifies the directive text, for times=N.
	key string

	fault      string // "", "timeout", "reset", "cut", "malformed", "error_event" or a status
	retryAfter int    // seconds; -1 if not given
	hold       time.Duration
	after      int
	times      int // 0: every request

	text      string
	hasText   bool
	words     int // -1 if not given
	reasoning int // -1 if not given
	cached    int // -1 if not given

	tool    string
	cmd     string
	args    string
	hasArgs bool
}

func newDirectives() directives {
	return directives{retryAfter: -1, words: -1, reasoning: -1, cached: -1}
}

const directiveOpen = "[[sim"

const knownKeys = "fault, retry_after, hold, after, times, id, text, words, reasoning, cached, tool, cmd, args"

// parseDirectives reads every [[sim ...]] in text into d, in order, and
// returns text with the directives removed.
func parseDirectives(text string, d *directives) (string, error) {
	if !strings.Contains(text, directiveOpen) {
		return text, nil
	}
	var rest strings.Builder
	var keys []string
	for {
		at := strings.Index(text, directiveOpen)
		if at < 0 {
			rest.WriteString(text)
			break
		}
		after := at + len(directiveOpen)
		if after < len(text) && !isSpace(text[after]) && !strings.HasPrefix(text[after:], "]]") {
			// "[[simple" is not a directive.
			rest.WriteString(text[:after])
			text = text[after:]
			continue
		}
		end, err := scanPairs(text, after, true, d)
		if err != nil {
			return "", err
		}
		rest.WriteString(text[:at])
		rest.WriteByte(' ')
		keys = append(keys, text[at:end])
		text = text[end:]
	}
	d.key = strings.Join(keys, "\x00")
	return rest.String(), nil
}

// parseDirectiveBody reads key=value pairs without the brackets, as in
// Model.Fault.
func parseDirectiveBody(s string) (directives, error) {
	d := newDirectives()
	_, err := scanPairs(s, 0, false, &d)
	d.key = s
	return d, err
}

// scanPairs reads key=value pairs from s[i:] into d. In brackets it stops
// after the closing "]]" and returns the index past it.
func scanPairs(s string, i int, inBrackets bool, d *directives) (int, error) {
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			if inBrackets {
				return i, fmt.Errorf("sim directive is not closed: end it with ]]")
			}
			return i, nil
		}
		if inBrackets && strings.HasPrefix(s[i:], "]]") {
			return i + 2, nil
		}
		k := i
		for i < len(s) && isKeyChar(s[i]) {
			i++
		}
		if k == i {
			return i, fmt.Errorf("sim directive: expected key=value at %q", clip(s[k:], 20))
		}
		key := s[k:i]
		if i >= len(s) || s[i] != '=' {
			return i, fmt.Errorf("sim directive: key %q has no value; write %s=VALUE", key, key)
		}
		i++
		var val string
		if strings.HasPrefix(s[i:], `\"`) {
			// OpenCode's run quotes a prompt with spaces and escapes the
			// quotes in it: cmd=\"echo hi\" is read as cmd="echo hi".
			end := strings.Index(s[i+2:], `\"`)
			if end < 0 {
				return i, fmt.Errorf("sim directive: the value of %s has no closing \\\"", key)
			}
			val = s[i+2 : i+2+end]
			i += 2 + end + 2
		} else if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == q {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return i, fmt.Errorf("sim directive: the value of %s has no closing %c", key, q)
			}
			val = b.String()
		} else {
			v := i
			for i < len(s) && !isSpace(s[i]) && !(inBrackets && strings.HasPrefix(s[i:], "]]")) {
				i++
			}
			val = s[v:i]
		}
		if err := d.set(key, val); err != nil {
			return i, err
		}
	}
}

func (d *directives) set(key, val string) error {
	var err error
	switch key {
	case "fault":
		switch val {
		case "timeout", "reset", "cut", "malformed", "error_event":
		default:
			n, perr := strconv.Atoi(val)
			if perr != nil || n < 400 || n > 599 {
				return fmt.Errorf("sim directive: fault=%q is not a fault; use a status 400-599, timeout, reset, cut, malformed or error_event", val)
			}
		}
		d.fault = val
	case "retry_after":
		d.retryAfter, err = count(key, val)
	case "hold":
		d.hold, err = time.ParseDuration(val)
		if err != nil || d.hold < 0 {
			return fmt.Errorf("sim directive: hold=%q is not a duration; write e.g. hold=2s", val)
		}
	case "after":
		d.after, err = count(key, val)
	case "times":
		d.times, err = count(key, val)
		if err == nil && d.times == 0 {
			return fmt.Errorf("sim directive: times=0 would never apply the fault; use times=1 or more")
		}
	case "id":
	case "text":
		d.text, d.hasText = val, true
	case "words":
		d.words, err = count(key, val)
	case "reasoning":
		d.reasoning, err = count(key, val)
	case "cached":
		d.cached, err = count(key, val)
	case "tool":
		if val == "" {
			return fmt.Errorf("sim directive: tool= needs a tool name, or shell for the request's shell tool")
		}
		d.tool = val
	case "cmd":
		d.cmd = val
	case "args":
		if !json.Valid([]byte(val)) && json.Valid([]byte(strings.ReplaceAll(val, `\"`, `"`))) {
			val = strings.ReplaceAll(val, `\"`, `"`) // quotes escaped by OpenCode's run
		}
		if !strings.HasPrefix(strings.TrimSpace(val), "{") || !json.Valid([]byte(val)) {
			return fmt.Errorf("sim directive: args=%q is not a JSON object; write args='{\"key\":\"value\"}'", clip(val, 40))
		}
		d.args, d.hasArgs = val, true
	default:
		return fmt.Errorf("sim directive: unknown key %q; known keys: %s", key, knownKeys)
	}
	return err
}

func count(key, val string) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("sim directive: %s=%q is not a whole number >= 0", key, val)
	}
	return n, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isKeyChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// clip shortens s to at most n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
