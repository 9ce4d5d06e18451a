package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire/wiretest"
)

// golden: see wiretest.Compare.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	wiretest.Compare(t, path, got)
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func files(t *testing.T, pattern string) []string {
	t.Helper()
	var out []string
	matches, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		if !strings.Contains(m, ".golden.") {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no test inputs match %s", pattern)
	}
	return out
}

// TestEncodeRequestGolden encodes canonical requests (request/*.in.json)
// and compares the Gemini bodies with request/*.golden.json.
func TestEncodeRequestGolden(t *testing.T) {
	for _, in := range files(t, "testdata/request/*.in.json") {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			req := readRequest(t, in)
			body, err := Codec{}.EncodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(in, ".in.json")+".golden.json", indentJSON(t, body))
		})
	}
}

func readRequest(t *testing.T, path string) *llm.Request {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var req llm.Request
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // catch typos in the fixtures
	if err := dec.Decode(&req); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &req
}

// TestDecodeResponseGolden decodes Gemini answers (response/*.json) and
// compares the canonical responses with response/*.golden.json.
func TestDecodeResponseGolden(t *testing.T) {
	for _, in := range files(t, "testdata/response/*.json") {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := Codec{}.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.MarshalIndent(resp, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".golden.json", append(out, '\n'))
		})
	}
}

// TestStreamGolden decodes Gemini SSE streams (stream/*.sse) and compares
// the canonical events, one JSON object a line, with stream/*.golden.jsonl.
func TestStreamGolden(t *testing.T) {
	for _, in := range files(t, "testdata/stream/*.sse") {
		name := strings.TrimSuffix(filepath.Base(in), ".sse")
		t.Run(name, func(t *testing.T) {
			events, done := decodeStreamFile(t, in)
			var buf bytes.Buffer
			for _, ev := range events {
				line, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				buf.Write(line)
				buf.WriteByte('\n')
			}
			golden(t, strings.TrimSuffix(in, ".sse")+".golden.jsonl", buf.Bytes())

			last := events[len(events)-1]
			if name == "error" {
				if last.Type != llm.EventError || done {
					t.Fatalf("error stream: last event %s, Done %v; want an error and not done", last.Type, done)
				}
				return
			}
			if last.Type != llm.EventStop || !done {
				t.Fatalf("last event %s, Done %v; want stop and done", last.Type, done)
			}
			checkWellFormed(t, events)
		})
	}
}

func decodeStreamFile(t *testing.T, path string) ([]llm.StreamEvent, bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := Codec{}.NewStreamDecoder()
	r := sse.NewReader(f)
	var events []llm.StreamEvent
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if events, err = dec.Decode(ev, events); err != nil {
			t.Fatal(err)
		}
	}
	return events, dec.Done()
}

// checkWellFormed asserts Start (PartStart Delta* PartStop)* Stop, with
// indexes counting from 0 in start order.
func checkWellFormed(t *testing.T, events []llm.StreamEvent) {
	t.Helper()
	if events[0].Type != llm.EventStart {
		t.Fatalf("first event is %s, want start", events[0].Type)
	}
	open, next := -1, 0
	for i, ev := range events[1 : len(events)-1] {
		switch ev.Type {
		case llm.EventPartStart:
			if open >= 0 || ev.Index != next {
				t.Fatalf("event %d: part_start %d while %d is open (next %d)", i+1, ev.Index, open, next)
			}
			open, next = ev.Index, next+1
		case llm.EventDelta:
			if ev.Index != open {
				t.Fatalf("event %d: delta for %d, open is %d", i+1, ev.Index, open)
			}
		case llm.EventPartStop:
			if ev.Index != open {
				t.Fatalf("event %d: part_stop %d, open is %d", i+1, ev.Index, open)
			}
			open = -1
		default:
			t.Fatalf("event %d: unexpected %s inside the stream", i+1, ev.Type)
		}
	}
	if open >= 0 {
		t.Fatalf("part %d still open at stop", open)
	}
}

// accumulate folds a well-formed stream into the response it describes.
func accumulate(events []llm.StreamEvent) *llm.Response {
	resp := &llm.Response{Parts: []llm.Part{}}
	for _, ev := range events {
		switch ev.Type {
		case llm.EventStart:
			resp.ID, resp.Model = ev.ID, ev.Model
		case llm.EventPartStart:
			resp.Parts = append(resp.Parts, *ev.Part)
		case llm.EventDelta:
			p := &resp.Parts[ev.Index]
			switch ev.Kind {
			case llm.DeltaText, llm.DeltaThinking:
				p.Text += ev.Delta
			case llm.DeltaArguments:
				p.Arguments += ev.Delta
			case llm.DeltaSignature:
				p.Signature += ev.Delta
			}
		case llm.EventStop:
			resp.StopReason = ev.StopReason
			resp.Usage = *ev.Usage
		}
	}
	return resp
}
