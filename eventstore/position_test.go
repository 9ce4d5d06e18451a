package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

func TestPositionAt(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := eventstore.PositionAt(ctx, st, time.Now()); err != nil || p != 1 {
		t.Fatalf("empty log: %d, %v; want 1", p, err)
	}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		p := event.Proposed{Type: "t.x", Data: []byte(`{}`), Time: t0.Add(time.Duration(i) * time.Minute)}
		if _, err := st.Append(ctx, "s", eventstore.Any, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want uint64
	}{
		{t0.Add(-time.Hour), 1},
		{t0, 1},
		{t0.Add(30 * time.Second), 2},
		{t0.Add(42 * time.Minute), 43},
		{t0.Add(99 * time.Minute), 100},
		{t0.Add(3 * time.Hour), 101},
	} {
		if p, err := eventstore.PositionAt(ctx, st, c.at); err != nil || p != c.want {
			t.Errorf("PositionAt(%s) = %d, %v; want %d", c.at.Format(time.TimeOnly), p, err, c.want)
		}
	}
}
