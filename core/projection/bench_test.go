package projection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

const rebuildEvents = 1_000_000

// BenchmarkRebuildStreamCatalog rebuilds the stream catalogue from position
// 0 over 1M events of 100 streams on the embedded store (fsync on for the
// checkpoints); one op is one full rebuild.
func BenchmarkRebuildStreamCatalog(b *testing.B) {
	s, err := embedded.Open(embedded.Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := json.RawMessage(fmt.Sprintf(`{"model":"claude-sonnet-4-5","input_tokens":1200,"output_tokens":300,"note":%q}`, strings.Repeat("x", 150)))
	evs := make([]event.Proposed, 1000)
	var last uint64
	for done := 0; done < rebuildEvents; done += len(evs) {
		for i := range evs {
			evs[i] = event.Proposed{Type: []string{"model.call.completed", "routing.decided"}[i%2], Data: data}
		}
		r, err := s.Append(context.Background(), fmt.Sprintf("session-%d", done/1000%100), eventstore.Any, evs...)
		if err != nil {
			b.Fatal(err)
		}
		last = r.Positions[len(r.Positions)-1]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cat := projection.NewStreamCatalog()
		r := projection.NewRunner(cat, s, s, projection.RunnerConfig{}, nil)
		if err := r.Rebuild(context.Background()); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		if err := r.WaitFor(context.Background(), last); err != nil {
			b.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		if cat.Total() != rebuildEvents {
			b.Fatalf("rebuilt %d events, want %d", cat.Total(), rebuildEvents)
		}
	}
	b.ReportMetric(float64(b.N*rebuildEvents)/b.Elapsed().Seconds(), "events/s")
}
