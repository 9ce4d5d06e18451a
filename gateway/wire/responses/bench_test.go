package responses

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// benchAnswer is a typical agent turn: some reasoning, a paragraph of
// text in small deltas, and a tool call.
var benchAnswer = &llm.Response{ID: "msg_bench", Model: "claude-sonnet-4-5", StopReason: llm.StopToolUse,
	Parts: []llm.Part{
		{Type: llm.PartThinking, Text: strings.Repeat("Let me think about the flags. ", 20), Signature: strings.Repeat("EqQBCkYIBxgC", 30)},
		{Type: llm.PartText, Text: strings.Repeat("The listener opens before the port is set, so tests see \"port 0\". ", 30)},
		{Type: llm.PartToolCall, ToolCallID: "toolu_1", ToolName: "exec_command", Arguments: `{"cmd":"go test ./... -run TestServe -count=1","workdir":"/work/demo"}`},
	},
	Usage: llm.Usage{InputTokens: 1200, OutputTokens: 700, CacheReadTokens: 4096}}

func BenchmarkStreamEncode(b *testing.B) {
	events := streamOf(benchAnswer, 12)
	c := Codec{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		enc := c.NewStreamEncoder(io.Discard)
		for _, ev := range events {
			if err := enc.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

func BenchmarkStreamDecode(b *testing.B) {
	var body bytes.Buffer
	enc := Codec{}.NewStreamEncoder(&body)
	for _, ev := range streamOf(benchAnswer, 12) {
		if err := enc.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
	var events []sse.Event
	r := sse.NewReader(bytes.NewReader(body.Bytes()))
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		ev.Data = bytes.Clone(ev.Data)
		ev.Raw = nil
		events = append(events, ev)
	}
	c := Codec{}
	out := make([]llm.StreamEvent, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dec := c.NewStreamDecoder()
		for _, ev := range events {
			var err error
			if out, err = dec.Decode(ev, out[:0]); err != nil {
				b.Fatal(err)
			}
		}
		if !dec.Done() {
			b.Fatal("not done")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}

func BenchmarkDecodeRequest(b *testing.B) {
	body, err := os.ReadFile("testdata/inbound_request/codex_turn.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Codec{}).DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}
