package anthropic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire/wiretest"
)

// goldenCases: see wiretest.Cases.
func goldenCases(t *testing.T, dir, ext, goldenExt string, fn func(t *testing.T, in []byte) []byte) {
	t.Helper()
	wiretest.Cases(t, dir, ext, goldenExt, fn)
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

// indentWire: see wiretest.IndentJSON.
func indentWire(t *testing.T, b []byte) []byte { t.Helper(); return wiretest.IndentJSON(t, b) }

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
