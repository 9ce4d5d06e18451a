package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
	"github.com/switchyard/switchyard/gateway/wire/wiretest"
)

// testClock is the fixed clock of every golden file.
var testClock = func() time.Time { return time.Unix(1763797200, 0) }

// runGolden: see wiretest.Cases.
func runGolden(t *testing.T, dir, inExt, outExt string, fn func(t *testing.T, in []byte) []byte) {
	t.Helper()
	wiretest.Cases(t, dir, inExt, outExt, fn)
}

func indentJSON(t *testing.T, b []byte) []byte { t.Helper(); return wiretest.IndentJSON(t, b) }

func canonicalJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return indentJSON(t, b)
}

// codecFor is the test codec, bound to the client request body req if
// there is one.
func codecFor(t *testing.T, req json.RawMessage) wire.Inbound {
	t.Helper()
	c := Codec{Now: testClock}
	if isNull(req) {
		return c
	}
	r, err := c.DecodeRequest(req)
	if err != nil {
		t.Fatalf("decode the fixture's request: %v", err)
	}
	return c.ForRequest(r)
}

func TestGoldenInboundRequest(t *testing.T) {
	runGolden(t, "inbound_request", ".json", ".json", func(t *testing.T, in []byte) []byte {
		req, err := Codec{}.DecodeRequest(in)
		if err != nil {
			t.Fatal(err)
		}
		return canonicalJSON(t, req)
	})
}

func TestGoldenInboundResponse(t *testing.T) {
	runGolden(t, "inbound_response", ".json", ".json", func(t *testing.T, in []byte) []byte {
		var fx struct {
			Request  json.RawMessage `json:"request"`
			Response llm.Response    `json:"response"`
		}
		if err := json.Unmarshal(in, &fx); err != nil {
			t.Fatal(err)
		}
		out, err := codecFor(t, fx.Request).EncodeResponse(&fx.Response)
		if err != nil {
			t.Fatal(err)
		}
		return indentJSON(t, out)
	})
}

func TestGoldenInboundStream(t *testing.T) {
	runGolden(t, "inbound_stream", ".json", ".sse", func(t *testing.T, in []byte) []byte {
		var fx struct {
			Request json.RawMessage   `json:"request"`
			Events  []llm.StreamEvent `json:"events"`
		}
		if err := json.Unmarshal(in, &fx); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		enc := codecFor(t, fx.Request).NewStreamEncoder(&out)
		for i, ev := range fx.Events {
			if err := enc.Encode(ev); err != nil {
				t.Fatalf("event %d (%s): %v", i, ev.Type, err)
			}
		}
		checkStream(t, out.Bytes())
		return out.Bytes()
	})
}

func TestGoldenOutboundRequest(t *testing.T) {
	runGolden(t, "outbound_request", ".json", ".json", func(t *testing.T, in []byte) []byte {
		var req llm.Request
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatal(err)
		}
		out, err := Codec{}.EncodeRequest(&req)
		if err != nil {
			t.Fatal(err)
		}
		return indentJSON(t, out)
	})
}

func TestGoldenOutboundResponse(t *testing.T) {
	runGolden(t, "outbound_response", ".json", ".json", func(t *testing.T, in []byte) []byte {
		resp, err := Codec{}.DecodeResponse(in)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not an *llm.Error", err)
			}
			return canonicalJSON(t, map[string]any{"error": le})
		}
		return canonicalJSON(t, resp)
	})
}

func TestGoldenOutboundStream(t *testing.T) {
	runGolden(t, "outbound_stream", ".sse", ".jsonl", func(t *testing.T, in []byte) []byte {
		dec := Codec{}.NewStreamDecoder()
		events := decodeStream(t, dec, in)
		var out bytes.Buffer
		for _, ev := range events {
			b, err := marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
		b, _ := json.Marshal(map[string]bool{"done": dec.Done()})
		out.Write(b)
		out.WriteByte('\n')
		return out.Bytes()
	})
}

// decodeStream decodes a whole SSE body.
func decodeStream(t testing.TB, dec wire.StreamDecoder, body []byte) []llm.StreamEvent {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body))
	var events []llm.StreamEvent
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return events
		}
		if err != nil {
			t.Fatal(err)
		}
		if events, err = dec.Decode(ev, events); err != nil {
			t.Fatal(err)
		}
	}
}

// checkStream asserts what clients rely on in any stream the encoder
// writes: each event is named after its type, sequence numbers count
// from 0, the first event is response.created and the last is a
// terminal one.
func checkStream(t *testing.T, body []byte) {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body))
	var types []string
	for i := 0; ; i++ {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct {
			Type string `json:"type"`
			Seq  *int   `json:"sequence_number"`
		}
		if err := json.Unmarshal(ev.Data, &head); err != nil {
			t.Fatalf("event %d is not JSON: %s", i, ev.Data)
		}
		if head.Type != ev.Name {
			t.Errorf("event %d: event name %q, type %q", i, ev.Name, head.Type)
		}
		if head.Seq == nil || *head.Seq != i {
			t.Errorf("event %d (%s): sequence_number %v, want %d", i, head.Type, head.Seq, i)
		}
		types = append(types, head.Type)
	}
	if len(types) == 0 {
		t.Fatal("empty stream")
	}
	last := types[len(types)-1]
	switch last {
	case "response.completed", "response.incomplete":
		if types[0] != "response.created" || types[1] != "response.in_progress" {
			t.Errorf("stream starts with %v, want response.created, response.in_progress", types[:2])
		}
	case "response.failed":
		if len(types) < 2 || types[len(types)-2] != "error" {
			t.Errorf("response.failed is not preceded by an error event: %v", types)
		}
	default:
		t.Errorf("stream ends with %q, not a terminal event", last)
	}
}
