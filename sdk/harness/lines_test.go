package harness_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchyard/switchyard/sdk/harness"
)

type lineOrErr struct {
	text   string
	object bool
	n      int
	long   bool
}

func collect(r io.Reader, max int) ([]lineOrErr, error) {
	var out []lineOrErr
	for l, err := range harness.Lines(r, max) {
		var long *harness.LineTooLongError
		switch {
		case errors.As(err, &long):
			out = append(out, lineOrErr{n: long.N, long: true})
		case err != nil:
			return out, err
		default:
			out = append(out, lineOrErr{text: string(l.Bytes), object: l.Object, n: l.N})
		}
	}
	return out, nil
}

func TestLines(t *testing.T) {
	t.Parallel()
	big := `{"t":"` + strings.Repeat("x", 300000) + `"}`
	tests := []struct {
		name string
		in   string
		max  int
		want []lineOrErr
	}{
		{"objects", "{\"a\":1}\n{\"b\":2}\n", 0, []lineOrErr{{`{"a":1}`, true, 1, false}, {`{"b":2}`, true, 2, false}}},
		{"no final newline", "{\"a\":1}\n{\"b\":2}", 0, []lineOrErr{{`{"a":1}`, true, 1, false}, {`{"b":2}`, true, 2, false}}},
		{"crlf and blanks", "{\"a\":1}\r\n\n  \n{\"b\":2}\r\n", 0, []lineOrErr{{`{"a":1}`, true, 1, false}, {`{"b":2}`, true, 4, false}}},
		{"garbage", "hello\n[1]\n{\"a\":\n{}\n", 0, []lineOrErr{{"hello", false, 1, false}, {"[1]", false, 2, false}, {`{"a":`, false, 3, false}, {"{}", true, 4, false}}},
		{"long line within the cap", big + "\n{}\n", len(big), []lineOrErr{{big, true, 1, false}, {"{}", true, 2, false}}},
		{"long line over the cap", "{}\n" + big + "\n{}\n", 1000, []lineOrErr{{"{}", true, 1, false}, {n: 2, long: true}, {"{}", true, 3, false}}},
		{"long last line over the cap", "{}\n" + big, 1000, []lineOrErr{{"{}", true, 1, false}, {n: 2, long: true}}},
		{"one byte over the cap", "{\"a\":1}\n", 6, []lineOrErr{{n: 1, long: true}}},
		{"empty", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := collect(r, tt.max)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("line %d = %+.80v, want %+.80v", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader("{}\n"), iotest.ErrReader(boom))
		got, err := collect(r, 0)
		if len(got) != 1 || !errors.Is(err, boom) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("lines are copies", func(t *testing.T) {
		var kept [][]byte
		for l, err := range harness.Lines(strings.NewReader("{\"a\":1}\n{\"b\":2}\n"), 0) {
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, l.Bytes)
		}
		if !bytes.Equal(kept[0], []byte(`{"a":1}`)) {
			t.Errorf("first line became %s", kept[0])
		}
	})
}
