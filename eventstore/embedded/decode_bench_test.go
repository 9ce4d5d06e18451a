package embedded

import (
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/core/event"
)

// BenchmarkDecodePage decodes pages of records whose metadata varies as
// a busy log's does: sessions interleaved, a few agents, teams and users.
func BenchmarkDecodePage(b *testing.B) {
	types := []string{"model.call.started", "routing.decided", "model.call.completed", "session.turn.started", "harness.message"}
	var recs [][]byte
	for i := range pageSize {
		e := event.Event{
			Stream: fmt.Sprintf("session-s%06d", i%37), Type: types[i%len(types)],
			Data: []byte(`{"call_id":"c","turn":1}`),
			Metadata: event.Metadata{
				CorrelationID: fmt.Sprintf("call_%d", i/3), Actor: fmt.Sprintf("key:k%d", i%37), Agent: fmt.Sprintf("agent-%d", i%11),
				Session: fmt.Sprintf("s%06d", i%37), Team: fmt.Sprintf("team-%d", i%5), User: fmt.Sprintf("user-%d", i%13), Schema: 1,
			},
		}
		recs = append(recs, appendRecord(nil, &e))
	}
	b.ReportAllocs()
	page := make([]event.Event, pageSize)
	for b.Loop() {
		var pd pageDecoder
		for i, r := range recs {
			if err := decodeRecord(uint64(i+1), r, &page[i], &pd); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pageSize), "ns/event")
}
