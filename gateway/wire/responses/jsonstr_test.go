package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

var stringCases = []string{
	"", "plain", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r backspace\b formfeed\f",
	"controls \x00\x01\x1f\x7f", "html <b>&amp;</b>", "é 😀 日本",
	"line\u2028para\u2029", "bad utf8 \xff\xfe end", "cut \xe6\x97",
}

func TestAppendString(t *testing.T) {
	for _, s := range stringCases {
		t.Run(s, func(t *testing.T) {
			got := appendString(nil, s)
			want, err := marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("appendString(%q) = %s, encoding/json gives %s", s, got, want)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		want, _ := marshal(s)
		if string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}

// TestInputStream feeds custom tool arguments in every two-way split and
// byte by byte: the text streamed plus what finish adds must always be
// the whole input, and well-formed arguments must stream all of it.
func TestInputStream(t *testing.T) {
	for _, tc := range []struct {
		name, args string
		streams    bool // all of the input streams before finish
	}{
		{"plain", customArguments("*** Begin Patch\n+x\n*** End Patch\n"), true},
		{"escapes", `{"input":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00\b\f\r"}`, true},
		{"spaces", " { \"input\" : \"x y\" } ", true},
		{"lone surrogates", `{"input":"a\ud83d b \ude00 c \ud83dx"}`, true},
		{"other key first", `{"other":1,"input":"late"}`, false},
		{"not an object", `"just text"`, false},
		{"empty", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			final := customInput(tc.args)
			feed := func(frags []string) (streamed, total string) {
				var s inputStream
				for _, f := range frags {
					streamed += s.feed(f)
				}
				return streamed, streamed + s.finish(final)
			}
			bytewise := make([]string, len(tc.args))
			for i := range tc.args {
				bytewise[i] = tc.args[i : i+1]
			}
			streamed, total := feed(bytewise)
			if total != final {
				t.Errorf("byte by byte: streamed+finish = %q, want %q", total, final)
			}
			if tc.streams && streamed != final {
				t.Errorf("byte by byte: streamed %q, want all of %q", streamed, final)
			}
			for i := 0; i <= len(tc.args); i++ {
				if _, total := feed([]string{tc.args[:i], tc.args[i:]}); total != final {
					t.Fatalf("split at %d: %q, want %q", i, total, final)
				}
			}
		})
	}
}

// FuzzDecodeRequest checks that any body either decodes or fails with an
// invalid-request error naming what is wrong, and that what decodes can
// be sent on to OpenAI and read back.
func FuzzDecodeRequest(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/inbound_request/*.json")
	for _, path := range seeds {
		if strings.Contains(path, ".golden.") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","summary":[{"type":"summary_text","text":"x"}]},{"role":"user","content":"y"}]}`))
	f.Add([]byte(`{"model":"m","input":"x","tools":[{"type":"custom","name":"c"}],"tool_choice":{"type":"custom","name":"c"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := Codec{}
		req, err := c.DecodeRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest || le.Message == "" {
				t.Fatalf("error %#v is not an invalid-request *llm.Error with a message", err)
			}
			return
		}
		if req.Model == "" || len(req.Messages) == 0 {
			t.Fatalf("decoded a request without model or messages: %+v", req)
		}
		out, err := c.EncodeRequest(req)
		if err != nil {
			t.Fatalf("EncodeRequest: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("EncodeRequest wrote invalid JSON: %s", out)
		}
		// It reads back, unless all that was left of the conversation
		// was reasoning OpenAI cannot use (no encrypted content).
		var le *llm.Error
		if _, err := c.DecodeRequest(out); err != nil && (!errors.As(err, &le) || le.Param != "input") {
			t.Fatalf("the encoded request does not decode: %v\n%s", err, out)
		}
	})
}

// TestScanDelta checks the stream decoder's fast path against
// encoding/json on every event of the stream fixtures and goldens: where
// it takes an event, it must read it exactly as encoding/json does, and
// it must take every delta event.
func TestScanDelta(t *testing.T) {
	files, _ := filepath.Glob("testdata/*_stream/*.sse")
	if len(files) == 0 {
		t.Fatal("no stream files")
	}
	taken := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range readEvents(t, body) {
			var fast, slow inEvent
			if err := json.Unmarshal(ev.Data, &slow); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if !scanDelta(ev.Data, &fast) {
				if strings.HasSuffix(slow.Type, ".delta") {
					t.Errorf("%s: fast path refused %s", f, ev.Data)
				}
				continue
			}
			taken++
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s: fast path read %s as\n%+v\nencoding/json reads\n%+v", f, ev.Data, fast, slow)
			}
		}
	}
	if taken == 0 {
		t.Fatal("the fast path took no event")
	}
	for _, data := range []string{
		`{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"x","extra":1}`,
		`{"type":"response.output_text.delta","output_index":-1,"delta":"x"}`,
		`{"type":"response.output_text.done","text":"x"}`,
		`{"type":"response.output_text.delta","delta":5}`,
		`{"delta":"x"}`,
	} {
		var e inEvent
		if scanDelta([]byte(data), &e) {
			t.Errorf("fast path took %s", data)
		}
	}
}

func readEvents(t *testing.T, body []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}
