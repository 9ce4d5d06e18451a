package sim

import (
	"strings"
	"testing"
	"time"
)

func TestParseDirectives(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		rest     string // the text left, spaces collapsed
		check    func(d directives) bool
		err      string // a part of the error; "" for none
	}{
		{name: "none", in: "just text", rest: "just text", check: func(d directives) bool { return d.key == "" && d.fault == "" && d.words == -1 }},
		{name: "fault with retry", in: "hi [[sim fault=429 retry_after=3]] there", rest: "hi there",
			check: func(d directives) bool {
				return d.fault == "429" && d.retryAfter == 3 && d.key == "[[sim fault=429 retry_after=3]]"
			}},
		{name: "double-quoted value with escapes", in: `[[sim text="say \"hi\" ]] now"]]`,
			check: func(d directives) bool { return d.hasText && d.text == `say "hi" ]] now` }},
		{name: "single-quoted JSON", in: `[[sim tool=Bash args='{"command":"ls"}']]`,
			check: func(d directives) bool { return d.tool == "Bash" && d.hasArgs && d.args == `{"command":"ls"}` }},
		{name: "a backslash before another character stays", in: `[[sim cmd="printf 'a\nb'"]]`,
			check: func(d directives) bool { return d.cmd == `printf 'a\nb'` }},
		{name: "several directives, later wins", in: "[[sim words=3 id=x]] mid [[sim words=5 reasoning=2]]", rest: "mid",
			check: func(d directives) bool {
				return d.words == 5 && d.reasoning == 2 && d.key == "[[sim words=3 id=x]]\x00[[sim words=5 reasoning=2]]"
			}},
		{name: "quotes escaped by OpenCode", in: `"Please run [[sim tool=shell cmd=\"echo hi there\" args='{\"k\":\"v\"}']]"`,
			check: func(d directives) bool { return d.cmd == "echo hi there" && d.args == `{"k":"v"}` }},
		{name: "escaped quote not closed", in: `[[sim cmd=\"echo]]`, err: "no closing"},
		{name: "timeout with hold", in: "[[sim fault=timeout hold=1500ms]]", check: func(d directives) bool { return d.fault == "timeout" && d.hold == 1500*time.Millisecond }},
		{name: "cut after", in: "[[sim fault=cut after=4 times=2 id=abc]]", check: func(d directives) bool { return d.fault == "cut" && d.after == 4 && d.times == 2 }},
		{name: "empty text", in: `[[sim text=""]]`, check: func(d directives) bool { return d.hasText && d.text == "" }},
		{name: "newlines inside", in: "[[sim\nwords=2\n]]", check: func(d directives) bool { return d.words == 2 }},
		{name: "not a directive", in: "[[simple]] and [[sim words=1]]", rest: "[[simple]] and", check: func(d directives) bool { return d.words == 1 }},
		{name: "unknown key", in: "[[sim fualt=500]]", err: `unknown key "fualt"`},
		{name: "bad fault", in: "[[sim fault=explode]]", err: `fault="explode" is not a fault`},
		{name: "status out of range", in: "[[sim fault=200]]", err: "is not a fault"},
		{name: "bad number", in: "[[sim words=many]]", err: "not a whole number"},
		{name: "negative number", in: "[[sim after=-1]]", err: "not a whole number"},
		{name: "times zero", in: "[[sim fault=500 times=0]]", err: "times=0"},
		{name: "bad hold", in: "[[sim fault=timeout hold=soon]]", err: "not a duration"},
		{name: "args not an object", in: "[[sim tool=x args='[1]']]", err: "not a JSON object"},
		{name: "no value", in: "[[sim words]]", err: "has no value"},
		{name: "not closed", in: "[[sim words=2", err: "not closed"},
		{name: "quote not closed", in: `[[sim text="abc]]`, err: "no closing"},
		{name: "empty tool", in: "[[sim tool=]]", err: "needs a tool name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newDirectives()
			rest, err := parseDirectives(tc.in, &d)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.rest != "" && strings.Join(strings.Fields(rest), " ") != tc.rest {
				t.Errorf("rest %q, want %q", rest, tc.rest)
			}
			if !tc.check(d) {
				t.Errorf("directives %+v", d)
			}
		})
	}
}

// A directive error is a 400 in the API's shape.
func TestDirectiveErrorIsBadRequest(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	res := post(t, ts, "/v1/messages", `{"model":"sim-small","max_tokens":5,"messages":[{"role":"user","content":"[[sim wrods=3]]"}]}`)
	v := decodeJSON(t, res.body)
	if res.status != 400 || str(path(v, "error", "type")) != "invalid_request_error" || !strings.Contains(str(path(v, "error", "message")), `unknown key "wrods"`) {
		t.Errorf("%d %s", res.status, res.body)
	}
}

func TestDirectivesComeFromTheLastUserText(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		name, messages, want string
	}{
		{"earlier user turns do not count", `[{"role":"user","content":"[[sim text=old]]"},{"role":"assistant","content":"x"},{"role":"user","content":"[[sim text=new]]"}]`, "new"},
		{"a later assistant turn does not hide the prompt", `[{"role":"user","content":"[[sim text=mine]]"},{"role":"assistant","content":"[[sim text=theirs]]"}]`, "mine"},
		{"system text holds no directives", `[{"role":"system","content":"[[sim text=sys]]"},{"role":"user","content":"[[sim text=user]]"}]`, "user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":`+tc.messages+`}`)
			if got := str(path(decodeJSON(t, res.body), "choices", 0, "message", "content")); got != tc.want {
				t.Errorf("answer %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaultAnswerIsDeterministic(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	answer := func(prompt string) string {
		res := post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":`+jsonString(prompt)+`}]}`)
		return str(path(decodeJSON(t, res.body), "choices", 0, "message", "content"))
	}
	a, b, c := answer("one two three"), answer("one two three"), answer("one two four")
	if a != b {
		t.Errorf("same prompt, different answers:\n%s\n%s", a, b)
	}
	if a == c || !strings.HasPrefix(c, "Simulated answer to one two four:") {
		t.Errorf("different prompts, answers:\n%s\n%s", a, c)
	}
	if got := answer("<system-reminder>ignore me</system-reminder>real question here"); !strings.HasPrefix(got, "Simulated answer to real question here:") {
		t.Errorf("system reminders are not skipped: %s", got)
	}
}
