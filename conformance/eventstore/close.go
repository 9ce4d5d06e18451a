package eventstoretest

import (
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testClose(t *testing.T, su *suite) {
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s := su.newStore(t)
		for i := range 3 {
			if err := s.Close(); err != nil {
				t.Errorf("Close #%d: %v", i+1, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		s := su.newStore(t)
		ctx := testContext(t)
		fill(t, ctx, s, su.stream(t), 1, 1)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				if err := s.Close(); err != nil {
					t.Errorf("concurrent Close #%d: %v", i+1, err)
				}
			})
		}
		wg.Wait()
	})

	t.Run("CallsAfterClose", func(t *testing.T) {
		t.Parallel()
		s := su.newStore(t)
		ctx := testContext(t)
		stream := su.stream(t)
		fill(t, ctx, s, stream, 2, 2)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		closed := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, eventstore.ErrClosed) {
				t.Errorf("%s after Close: got %v, want ErrClosed", what, err)
			}
		}
		_, err := s.Append(ctx, stream, eventstore.Any, proposals(1, "closed")...)
		closed("Append", err)
		_, err = s.StreamVersion(ctx, stream)
		closed("StreamVersion", err)
		for name, seq := range map[string]iter.Seq2[event.Event, error]{
			"ReadStream":           s.ReadStream(ctx, stream, eventstore.ReadOptions{}),
			"ReadStream backwards": s.ReadStream(ctx, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards}),
			"ReadAll":              s.ReadAll(ctx, eventstore.ReadOptions{}),
			"SubscribeAll":         s.SubscribeAll(ctx, 0),
		} {
			y := drain(t, seq, nil)
			if len(y.events) != 0 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), eventstore.ErrClosed) {
				t.Errorf("%s after Close: got %d events and errors %v (%d yields after the first); want only ErrClosed", name, len(y.events), y.errs, y.afterErr)
			}
		}
		if su.f.StreamMetadata {
			closed("SetStreamMetadata", s.SetStreamMetadata(ctx, stream, eventstore.StreamMetadata{MaxCount: 1}))
			_, err = s.StreamMetadata(ctx, stream)
			closed("StreamMetadata", err)
		}
		if su.f.DeleteStream {
			closed("DeleteStream", s.DeleteStream(ctx, stream, eventstore.Any))
		}
	})

	t.Run("EndsSubscriptions", func(t *testing.T) {
		t.Parallel()
		s := su.newStore(t)
		ctx := testContext(t)
		before := fill(t, ctx, s, su.stream(t), 3, 3)
		// One subscription waits for new events, one waits for a position
		// far ahead, one is blocked handing over its first event.
		live := subscribe(t, ctx, s, 0)
		live.expectStream(t, before)
		ahead := subscribe(t, ctx, s, 1<<40)
		blocked := subscribe(t, ctx, s, 0)
		guard(t, "Close with open subscriptions", s.Close)
		for _, c := range []struct {
			name       string
			sub        *subscription
			maxDropped int
		}{{"waiting for new events", live, 0}, {"waiting far ahead", ahead, 0}, {"blocked in its loop body", blocked, 1}} {
			dropped, err := c.sub.end(t)
			if !errors.Is(err, eventstore.ErrClosed) || dropped > c.maxDropped {
				t.Errorf("subscription %s: ended with %v after %d more events; want ErrClosed after at most %d", c.name, err, dropped, c.maxDropped)
			}
		}
	})

	t.Run("DuringAppends", func(t *testing.T) {
		t.Parallel()
		// Workers append until the store closes under them: every append
		// either succeeds or fails with ErrClosed. With Reopen, every
		// acknowledged append is there after reopening, and nothing else.
		s := su.newStore(t)
		ctx := testContext(t)
		workers := 8
		streams := make([]string, workers)
		for w := range streams {
			streams[w] = su.stream(t)
		}
		acked := make([][]event.Event, workers)
		var wg, started sync.WaitGroup
		var closed atomic.Bool
		stop := make(chan struct{})
		// No worker outlives the test, even if Close hangs.
		defer wg.Wait()
		defer close(stop)
		started.Add(workers)
		for w := range workers {
			wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					props := proposals(2, fmt.Sprintf("w%d-%d", w, k))
					afterClose := closed.Load()
					res, err := s.Append(ctx, streams[w], eventstore.Any, props...)
					if err == nil && afterClose {
						t.Errorf("worker %d: an append begun after Close returned succeeded: %+v", w, res)
						return
					}
					if err != nil {
						if !errors.Is(err, eventstore.ErrClosed) {
							t.Errorf("worker %d: append while the store closes: got %v, want nil or ErrClosed", w, err)
						}
						if k == 0 {
							started.Done()
						}
						return
					}
					acked[w] = append(acked[w], expect(streams[w], res, props...)...)
					if k == 0 {
						started.Done()
					}
				}
			})
		}
		readErr := make(chan error, 1)
		go func() {
			for {
				for _, err := range s.ReadAll(ctx, eventstore.ReadOptions{}) {
					if err != nil {
						readErr <- err
						return
					}
				}
			}
		}()
		guard(t, "the first append of every worker", func() error { started.Wait(); return nil })
		guard(t, "Close during appends", s.Close)
		closed.Store(true)
		wg.Wait()
		select {
		case err := <-readErr:
			if !errors.Is(err, eventstore.ErrClosed) {
				t.Errorf("ReadAll while the store closes: got %v, want nil or ErrClosed", err)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("ReadAll after Close did not yield ErrClosed within %v", waitTimeout)
		}
		if su.f.Reopen == nil {
			return
		}
		s = su.reopen(t, s)
		for w, stream := range streams {
			// The append that failed with ErrClosed may have been
			// committed: the contract does not say.
			got, err := readStream(t, ctx, s, stream, eventstore.ReadOptions{})
			if err != nil && !(len(acked[w]) == 0 && errors.Is(err, eventstore.ErrStreamNotFound)) {
				t.Errorf("ReadStream(%q) after reopening: %v", stream, err)
				continue
			}
			if extra := len(got) - len(acked[w]); extra != 0 && extra != 2 {
				t.Errorf("worker %d: %d events acknowledged before Close, %d there after reopening: want all of them, and at most the batch of 2 in flight", w, len(acked[w]), len(got))
				continue
			}
			sameEvents(t, fmt.Sprintf("worker %d's acknowledged events after reopening", w), got[:len(acked[w])], acked[w])
		}
	})
}
