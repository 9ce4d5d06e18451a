package openai

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// benchEvents is a typical answer: 200 text deltas and a tool call.
func benchEvents() []llm.StreamEvent {
	evs := []llm.StreamEvent{
		{Type: llm.EventStart, ID: "chatcmpl-BhWc1UqG8p0sJ3vXq1yTz9aKd", Model: "gpt-4.1-2025-04-14"},
		{Type: llm.EventPartStart, Index: 0, Part: &llm.Part{Type: llm.PartText}},
	}
	for range 200 {
		evs = append(evs, llm.StreamEvent{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaText, Delta: " the cart \"total\""})
	}
	evs = append(evs,
		llm.StreamEvent{Type: llm.EventPartStop, Index: 0},
		llm.StreamEvent{Type: llm.EventPartStart, Index: 1, Part: &llm.Part{Type: llm.PartToolCall, ToolCallID: "call_Ok3qzQxW1Ky6Q6SqR1pCbbWz", ToolName: "read"}},
		llm.StreamEvent{Type: llm.EventDelta, Index: 1, Kind: llm.DeltaArguments, Delta: `{"filePath":"/home/dev/shop/cart/cart.go"}`},
		llm.StreamEvent{Type: llm.EventPartStop, Index: 1},
		llm.StreamEvent{Type: llm.EventStop, StopReason: llm.StopToolUse, Usage: &llm.Usage{InputTokens: 3000, OutputTokens: 250}},
	)
	return evs
}

func BenchmarkStreamEncode(b *testing.B) {
	evs := benchEvents()
	b.ReportAllocs()
	for b.Loop() {
		enc := fixed.NewStreamEncoder(io.Discard)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

func BenchmarkStreamDecode(b *testing.B) {
	var buf bytes.Buffer
	enc := fixed.NewStreamEncoder(&buf)
	for _, ev := range benchEvents() {
		if err := enc.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
	stream := buf.Bytes()
	var chunks []sse.Event
	r := sse.NewReader(bytes.NewReader(stream))
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		chunks = append(chunks, sse.Event{Data: bytes.Clone(ev.Data)})
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	out := make([]llm.StreamEvent, 0, 8)
	for b.Loop() {
		dec := fixed.NewStreamDecoder()
		for _, ev := range chunks {
			var err error
			if out, err = dec.Decode(ev, out[:0]); err != nil {
				b.Fatal(err)
			}
		}
		if !dec.Done() {
			b.Fatal("stream not done")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(chunks)), "ns/chunk")
}

func BenchmarkPeek(b *testing.B) {
	body, err := os.ReadFile("testdata/inbound_request/opencode_turn.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Chat{}).Peek(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	body, err := os.ReadFile("testdata/inbound_request/opencode_turn.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Chat{}).DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
