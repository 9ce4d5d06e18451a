package anthropic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCases runs fn on every testdata/dir/*ext that is not a golden file
// and compares its output with <name>.golden<goldenExt>.
func goldenCases(t *testing.T, dir, ext, goldenExt string, fn func(t *testing.T, in []byte) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.Contains(filepath.Base(in), ".golden") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(in), ext)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := fn(t, data)
			path := filepath.Join("testdata", dir, name+".golden"+goldenExt)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update and review the diff)\ngot:\n%s", path, got)
			}
		})
	}
	if n == 0 {
		t.Fatalf("no inputs in testdata/%s", dir)
	}
}

// canonicalJSON renders v as indented JSON without HTML escapes, the form
// of canonical golden files.
func canonicalJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// indentWire indents the codec's compact output for a readable golden file;
// member order and string escapes are kept as written.
func indentWire(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("codec output is not valid JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func readEvents(t *testing.T, data []byte) []llm.StreamEvent {
	t.Helper()
	var evs []llm.StreamEvent
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var ev llm.StreamEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func writeEvents(t *testing.T, evs []llm.StreamEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// encodeStream runs evs through a stream encoder, failing on any error.
func encodeStream(t *testing.T, evs []llm.StreamEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := Codec{}.NewStreamEncoder(&buf)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatalf("encode %+v: %v", ev, err)
		}
	}
	return buf.Bytes()
}

// decodeStream runs SSE text through a stream decoder and reports whether
// it ended done.
func decodeStream(t *testing.T, data []byte) ([]llm.StreamEvent, bool) {
	t.Helper()
	dec := Codec{}.NewStreamDecoder()
	r := sse.NewReader(bytes.NewReader(data))
	var out []llm.StreamEvent
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if out, err = dec.Decode(ev, out); err != nil {
			t.Fatalf("decode %q: %v", ev.Raw, err)
		}
	}
	return out, dec.Done()
}

func TestGoldenInboundRequests(t *testing.T) {
	goldenCases(t, "inbound_request", ".json", ".json", func(t *testing.T, in []byte) []byte {
		req, err := Codec{}.DecodeRequest(in)
		if err != nil {
			t.Fatal(err)
		}
		return canonicalJSON(t, req)
	})
}

func TestGoldenInboundResponses(t *testing.T) {
	goldenCases(t, "inbound_response", ".json", ".json", func(t *testing.T, in []byte) []byte {
		var resp llm.Response
		if err := json.Unmarshal(in, &resp); err != nil {
			t.Fatal(err)
		}
		out, err := Codec{}.EncodeResponse(&resp)
		if err != nil {
			t.Fatal(err)
		}
		return indentWire(t, out)
	})
}

func TestGoldenInboundStreams(t *testing.T) {
	goldenCases(t, "inbound_stream", ".jsonl", ".sse", func(t *testing.T, in []byte) []byte {
		return encodeStream(t, readEvents(t, in))
	})
}

func TestGoldenOutboundRequests(t *testing.T) {
	goldenCases(t, "outbound_request", ".json", ".json", func(t *testing.T, in []byte) []byte {
		var req llm.Request
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatal(err)
		}
		out, err := Codec{}.EncodeRequest(&req)
		if err != nil {
			t.Fatal(err)
		}
		return indentWire(t, out)
	})
}

func TestGoldenOutboundResponses(t *testing.T) {
	goldenCases(t, "outbound_response", ".json", ".json", func(t *testing.T, in []byte) []byte {
		resp, err := Codec{}.DecodeResponse(in)
		if err != nil {
			t.Fatal(err)
		}
		return canonicalJSON(t, resp)
	})
}

func TestGoldenOutboundStreams(t *testing.T) {
	goldenCases(t, "outbound_stream", ".sse", ".jsonl", func(t *testing.T, in []byte) []byte {
		evs, _ := decodeStream(t, in)
		return writeEvents(t, evs)
	})
}

// TestGoldenSSEIsWellFormed checks every golden stream against the API's
// framing: each event's name equals its data's type, and the data is one
// line of valid JSON.
func TestGoldenSSEIsWellFormed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inbound_stream", "*.golden.sse"))
	if len(files) == 0 {
		t.Fatal("no golden streams")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r := sse.NewReader(bytes.NewReader(data))
			for {
				ev, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var v struct {
					Type string `json:"type"`
				}
				if err := json.Unmarshal(ev.Data, &v); err != nil {
					t.Fatalf("event %q: %v", ev.Raw, err)
				}
				if v.Type != ev.Name {
					t.Errorf("event %q has data type %q", ev.Name, v.Type)
				}
				if bytes.Count(ev.Raw, []byte("data:")) != 1 {
					t.Errorf("event %q spans several data lines", ev.Raw)
				}
			}
		})
	}
}
