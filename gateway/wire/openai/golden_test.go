package openai

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire/wiretest"
)

// fixed is the codec with a fixed clock, for deterministic output.
var fixed = Chat{Now: func() time.Time { return time.Unix(1750000000, 0) }}

// golden compares got with the golden file next to input (see
// wiretest.Compare).
func golden(t *testing.T, input string, got []byte) {
	t.Helper()
	wiretest.Compare(t, strings.TrimSuffix(input, filepath.Ext(input))+".golden", got)
}

// inputs lists the inputs of a golden test directory.
func inputs(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s inputs in testdata/%s", ext, dir)
	}
	return files
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indent(t *testing.T, v any) []byte {
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

func indentRaw(t *testing.T, raw []byte) []byte {
	t.Helper()
	if !json.Valid(raw) {
		t.Fatalf("output is not valid JSON: %s", raw)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), '\n')
}

func name(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// Inbound request: wire JSON → canonical request.
func TestGoldenInboundRequest(t *testing.T) {
	for _, in := range inputs(t, "inbound_request", ".json") {
		t.Run(name(in), func(t *testing.T) {
			req, err := fixed.DecodeRequest(read(t, in))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, in, indent(t, req))
		})
	}
}

// Inbound response: canonical response → wire JSON.
func TestGoldenInboundResponse(t *testing.T) {
	for _, in := range inputs(t, "inbound_response", ".json") {
		t.Run(name(in), func(t *testing.T) {
			var resp llm.Response
			if err := json.Unmarshal(read(t, in), &resp); err != nil {
				t.Fatal(err)
			}
			out, err := fixed.EncodeResponse(&resp)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, in, indentRaw(t, out))
		})
	}
}

// readEvents reads canonical events, one JSON object a line.
func readEvents(t *testing.T, path string) []llm.StreamEvent {
	t.Helper()
	var evs []llm.StreamEvent
	sc := bufio.NewScanner(bytes.NewReader(read(t, path)))
	for sc.Scan() {
		var ev llm.StreamEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// Inbound stream: canonical events → SSE. Inputs named *_nousage are
// encoded for a client that did not ask for the usage chunk.
func TestGoldenInboundStream(t *testing.T) {
	for _, in := range inputs(t, "inbound_stream", ".jsonl") {
		t.Run(name(in), func(t *testing.T) {
			var buf bytes.Buffer
			enc := fixed.NewChatStreamEncoder(&buf, !strings.HasSuffix(name(in), "_nousage"))
			for _, ev := range readEvents(t, in) {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			checkSSE(t, buf.Bytes())
			golden(t, in, buf.Bytes())
		})
	}
}

// checkSSE checks that every event of a stream is [DONE] or valid JSON.
func checkSSE(t *testing.T, stream []byte) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream))
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) != "[DONE]" && !json.Valid(ev.Data) {
			t.Fatalf("event data is not JSON: %s", ev.Data)
		}
	}
}

// Outbound request: canonical request → wire JSON.
func TestGoldenOutboundRequest(t *testing.T) {
	for _, in := range inputs(t, "outbound_request", ".json") {
		t.Run(name(in), func(t *testing.T) {
			var req llm.Request
			if err := json.Unmarshal(read(t, in), &req); err != nil {
				t.Fatal(err)
			}
			out, err := fixed.EncodeRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, in, indentRaw(t, out))
		})
	}
}

// Outbound response: wire JSON → canonical response.
func TestGoldenOutboundResponse(t *testing.T) {
	for _, in := range inputs(t, "outbound_response", ".json") {
		t.Run(name(in), func(t *testing.T) {
			resp, err := fixed.DecodeResponse(read(t, in))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, in, indent(t, resp))
		})
	}
}

// Outbound stream: SSE → canonical events, one a line. After the body
// ends the decoder's Finish runs; the golden file shows what it added and
// whether the stream was done.
func TestGoldenOutboundStream(t *testing.T) {
	for _, in := range inputs(t, "outbound_stream", ".sse") {
		t.Run(name(in), func(t *testing.T) {
			evs, finished, done := decodeAll(t, read(t, in))
			var buf bytes.Buffer
			for _, ev := range evs {
				line, _ := json.Marshal(ev)
				buf.Write(line)
				buf.WriteByte('\n')
			}
			buf.WriteString("# end of body; Finish adds:\n")
			for _, ev := range finished {
				line, _ := json.Marshal(ev)
				buf.Write(line)
				buf.WriteByte('\n')
			}
			if done {
				buf.WriteString("# done\n")
			} else {
				buf.WriteString("# not done: the stream was cut\n")
			}
			checkGrammar(t, append(evs, finished...), done)
			golden(t, in, buf.Bytes())
		})
	}
}

// decodeAll decodes a whole SSE body, then calls Finish.
func decodeAll(t testing.TB, body []byte) (evs, finished []llm.StreamEvent, done bool) {
	t.Helper()
	dec := fixed.NewStreamDecoder().(*StreamDecoder)
	r := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if evs, err = dec.Decode(ev, evs); err != nil {
			t.Fatal(err)
		}
	}
	finished = dec.Finish(nil)
	return evs, finished, dec.Done()
}

// checkGrammar checks Start (PartStart Delta* PartStop)* Stop, with
// Usage anywhere after Start and Error ending the stream, and that each
// delta goes to a started part.
func checkGrammar(t *testing.T, evs []llm.StreamEvent, done bool) {
	t.Helper()
	started := map[int]bool{}
	open := -1
	for i, ev := range evs {
		if i == 0 && ev.Type != llm.EventStart && ev.Type != llm.EventError {
			t.Fatalf("event 0 is %s, want start", ev.Type)
		}
		switch ev.Type {
		case llm.EventPartStart:
			if open >= 0 || started[ev.Index] {
				t.Fatalf("event %d: part %d starts while part %d is open or it started before", i, ev.Index, open)
			}
			started[ev.Index], open = true, ev.Index
		case llm.EventDelta:
			if !started[ev.Index] {
				t.Fatalf("event %d: delta to part %d, which did not start", i, ev.Index)
			}
		case llm.EventPartStop:
			if open != ev.Index {
				t.Fatalf("event %d: stop of part %d, but the open part is %d", i, ev.Index, open)
			}
			open = -1
		case llm.EventStop, llm.EventError:
			if i != len(evs)-1 {
				t.Fatalf("event %d: %s is not the last event", i, ev.Type)
			}
			if ev.Type == llm.EventStop && open >= 0 {
				t.Fatalf("stop with part %d still open", open)
			}
		}
	}
	last := llm.EventType("")
	if len(evs) > 0 {
		last = evs[len(evs)-1].Type
	}
	if done != (last == llm.EventStop) {
		t.Fatalf("Done() = %v but the last event is %q", done, last)
	}
}
