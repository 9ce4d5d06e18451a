package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\s`, `"q\"b\\s"`},
		{"line\nfeed\r\ttab", `"line\nfeed\r\ttab"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"<html> & é ✓", `"<html> & é ✓"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"sep\u2028\u2029", `"sep\u2028\u2029"`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := string(appendString(nil, tc.in)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "é✓", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q gave invalid JSON %s: %v", s, b, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q came back as %q", s, back)
		}
		if !utf8.ValidString(s) && back != strings.ToValidUTF8(s, "\ufffd") && !strings.Contains(back, "\ufffd") {
			t.Fatalf("invalid %q came back as %q", s, back)
		}
	})
}

func TestToolResultIsCutAt200Characters(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	long := strings.Repeat("é", 150) + strings.Repeat("x", 100)
	res := post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"[[sim tool=shell cmd=ls]]"},
		{"role":"tool","tool_call_id":"c","content":"`+long+`"}]}`)
	want := "Tool result: " + strings.Repeat("é", 150) + strings.Repeat("x", 50)
	if got := str(path(decodeJSON(t, res.body), "choices", 0, "message", "content")); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
