package recorder_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/config"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/recorder"
)

func TestRecordFlushCloseKeepsOrderPerStream(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := recorder.New(st, recorder.Config{QueueSize: 64, MaxBatch: 16}, nil)
	go r.Run()
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p, err := event.New("budget.exceeded", event.BudgetExceeded{CallID: fmt.Sprint(i), Scope: "s"}, event.Metadata{})
				if err != nil {
					t.Error(err)
					return
				}
				if err := r.Record(fmt.Sprintf("calls-w%d", w), p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Written != writers*each || s.Dropped != 0 {
		t.Fatalf("stats after flush %+v", s)
	}
	for w := range writers {
		i := 0
		for e, err := range st.ReadStream(context.Background(), fmt.Sprintf("calls-w%d", w), eventstore.ReadOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			d, _ := event.Decode(&e)
			if got := d.(*event.BudgetExceeded).CallID; got != fmt.Sprint(i) {
				t.Fatalf("stream %d event %d has call %s: order lost", w, i, got)
			}
			i++
		}
		if i != each {
			t.Fatalf("stream %d has %d events, want %d", w, i, each)
		}
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, _ := event.New("budget.exceeded", event.BudgetExceeded{}, event.Metadata{})
	if err := r.Record("calls-x", p); err != recorder.ErrClosed {
		t.Fatalf("record after close: %v", err)
	}
}

func TestCloseDrainsTheQueue(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := recorder.New(st, recorder.Config{}, nil)
	for i := range 500 {
		p, _ := event.New("budget.exceeded", event.BudgetExceeded{CallID: fmt.Sprint(i)}, event.Metadata{})
		if err := r.Record("calls-a", p); err != nil {
			t.Fatal(err)
		}
	}
	go r.Run() // started late: everything is still queued
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range st.ReadStream(context.Background(), "calls-a", eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 500 {
		t.Fatalf("%d events after close, want 500", n)
	}
}

func TestStoreClosedDropsAndCounts(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := recorder.New(st, recorder.Config{}, nil)
	go r.Run()
	p, _ := event.New("budget.exceeded", event.BudgetExceeded{}, event.Metadata{})
	_ = r.Record("calls-a", p)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Dropped != 1 {
		t.Fatalf("stats %+v, want one dropped", s)
	}
	_ = r.Close(context.Background())
}

func BenchmarkRecord(b *testing.B) {
	st, err := embedded.Open(embedded.Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r := recorder.New(st, recorder.Config{}, nil)
	go r.Run()
	p, _ := event.New("budget.exceeded", event.BudgetExceeded{CallID: "c"}, event.Metadata{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.ID = event.NewID()
			_ = r.Record("calls-bench", p)
		}
	})
	b.StopTimer()
	_ = r.Close(context.Background())
}

func TestFlushCutsTheLingerShort(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A linger far longer than the flush may take: only the kick can end it.
	r := recorder.New(st, recorder.Config{Linger: config.Duration(time.Hour)}, nil)
	go r.Run()
	defer r.Close(context.Background())
	p, _ := event.New("budget.exceeded", event.BudgetExceeded{CallID: "c"}, event.Metadata{})
	if err := r.Record("calls-a", p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("flush waited out the linger: %v", err)
	}
	if s := r.Stats(); s.Written != 1 {
		t.Fatalf("stats %+v, want one written", s)
	}
}
