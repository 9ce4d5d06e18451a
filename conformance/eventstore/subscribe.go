package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testSubscribe(t *testing.T, su *suite) {
	s := su.newStore(t)

	t.Run("CatchUpThenLive", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 5, 2)
		sub := subscribe(t, ctx, s, 0)
		sub.expectStream(t, before)
		for i := range 3 {
			props := proposals(1+i, "live")
			res := mustAppend(t, ctx, s, stream, eventstore.Any, props...)
			sub.expectStream(t, expect(stream, res, props...))
		}
		// The consumer breaks out of its loop at the next event.
		sub.halt()
		mustAppend(t, ctx, s, stream, eventstore.Any, proposals(1, "last")...)
		if _, err := sub.end(t); err != nil {
			t.Errorf("subscription ended by breaking out of its loop yielded %v", err)
		}
	})

	t.Run("FromMiddle", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 6, 2)
		sub := subscribe(t, ctx, s, before[3].Position)
		// The first event is the one at the position asked for.
		if e := sub.next(t); e.ID != before[3].ID || e.Position != before[3].Position {
			t.Fatalf("SubscribeAll(from %d): first event %s@%d at position %d, want %s@3 at %d",
				before[3].Position, e.Stream, e.StreamVersion, e.Position, stream, before[3].Position)
		}
		sub.expectStream(t, before[4:])
		props := proposals(2, "live")
		res := mustAppend(t, ctx, s, stream, eventstore.Exact(5), props...)
		sub.expectStream(t, expect(stream, res, props...))
	})

	t.Run("FromPastTheEnd", func(t *testing.T) {
		t.Parallel()
		// A store of its own, so that the next event is known.
		s := su.newStore(t)
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 3, 3)
		sub := subscribe(t, ctx, s, before[2].Position+1)
		props := proposals(2, "live")
		res := mustAppend(t, ctx, s, stream, eventstore.Exact(2), props...)
		want := expect(stream, res, props...)
		for i := range want {
			if e := sub.next(t); eventDiff(&e, &want[i]) != "" {
				t.Fatalf("SubscribeAll(from past the end): event %d: %s", i, eventDiff(&e, &want[i]))
			}
		}
	})

	t.Run("BreakOutOfLoop", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 3, 3)
		// Break during catch-up.
		sub := subscribe(t, ctx, s, before[0].Position)
		sub.expectStream(t, before[:1])
		sub.halt()
		if _, err := sub.end(t); err != nil {
			t.Errorf("subscription ended by breaking out of its loop during catch-up yielded %v", err)
		}
		// Break when live, at an event appended after it caught up.
		sub = subscribe(t, ctx, s, before[0].Position)
		sub.expectStream(t, before)
		sub.halt()
		guard(t, "Append while a subscriber breaks out of its loop", func() error {
			_, err := s.Append(ctx, stream, eventstore.Exact(2), proposals(1, "live")...)
			return err
		})
		if _, err := sub.end(t); err != nil {
			t.Errorf("subscription ended by breaking out of its loop when live yielded %v", err)
		}
		// The store does not miss the subscribers that left.
		guard(t, "Append after subscribers broke out of their loops", func() error {
			_, err := s.Append(ctx, stream, eventstore.Exact(3), proposals(1, "after")...)
			return err
		})
	})

	t.Run("SlowConsumer", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		first := fill(t, ctx, s, stream, 1, 1)
		sub := subscribe(t, ctx, s, first[0].Position)
		sub.expectStream(t, first)
		// The subscriber takes nothing while many events are appended:
		// appends must not wait for it, and it must lose nothing.
		var want []event.Event
		n := short(400, 100)
		guard(t, "appends while a subscriber does not read", func() error {
			for len(want) < n {
				props := proposals(10, "slow")
				res, err := s.Append(ctx, stream, holding(1+len(want)), props...)
				if err != nil {
					return err
				}
				want = append(want, expect(stream, res, props...)...)
			}
			return nil
		})
		sub.expectStream(t, want)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 2, 2)

		// Cancelled before it starts: no event, then ctx.Err().
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		y := drain(t, s.SubscribeAll(cctx, before[0].Position), nil)
		if len(y.events) != 0 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), context.Canceled) {
			t.Errorf("SubscribeAll with a cancelled context: got %d events and errors %v (%d yields after the first); want only context.Canceled",
				len(y.events), y.errs, y.afterErr)
		}

		// Cancelled in the loop body: it stops at the next event.
		cctx, cancel = context.WithCancel(ctx)
		defer cancel()
		y = drain(t, s.SubscribeAll(cctx, before[0].Position), func(event.Event) bool { cancel(); return true })
		if len(y.events) != 1 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), context.Canceled) {
			t.Errorf("SubscribeAll cancelled in the loop body at the first event: got %d events and errors %v (%d yields after the first); want 1 event, then only context.Canceled",
				len(y.events), y.errs, y.afterErr)
		}
	})

	t.Run("CancelWhileWaiting", func(t *testing.T) {
		t.Parallel()
		// A store of its own, so that the subscription is waiting for
		// new events when it is cancelled.
		s := su.newStore(t)
		ctx := testContext(t)
		stream := su.stream(t)
		before := fill(t, ctx, s, stream, 2, 1)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		sub := subscribe(t, cctx, s, 0)
		sub.expectStream(t, before)
		cancel()
		dropped, err := sub.end(t)
		if !errors.Is(err, context.Canceled) || dropped != 0 {
			t.Errorf("subscription cancelled while waiting: ended with %v after %d more events; want context.Canceled and no events", err, dropped)
		}
	})

	t.Run("ConcurrentAppends", func(t *testing.T) {
		t.Parallel()
		// A store of its own, so that what the subscriptions see can be
		// compared with ReadAll.
		s := su.newStore(t)
		ctx := testContext(t)
		workers, per := short(8, 4), short(50, 10)
		pre := fill(t, ctx, s, su.stream(t), 20, 5)
		perStream := 0
		for k := range per {
			perStream += 1 + k%3
		}
		total := len(pre) + workers*perStream
		streams := make([]string, workers)
		for w := range streams {
			streams[w] = su.stream(t)
		}

		// One subscription starts before the appends, one as they start,
		// one when the first has seen half the events, so that their
		// switches from catch-up to live race with the appends. All three
		// are read at once, as the appends go on.
		subs := []*subscription{subscribe(t, ctx, s, 0)}
		var wg sync.WaitGroup
		defer wg.Wait() // no worker outlives the test, even if it fails
		failed := make(chan struct{})
		var failOnce sync.Once
		for w := range workers {
			wg.Go(func() {
				n := 0
				for k := range per {
					props := proposals(1+k%3, fmt.Sprintf("w%d-%d", w, k))
					if _, err := s.Append(ctx, streams[w], holding(n), props...); err != nil {
						t.Errorf("worker %d: append %d to its own stream: %v", w, k, err)
						failOnce.Do(func() { close(failed) })
						return
					}
					n += len(props)
				}
			})
		}
		subs = append(subs, subscribe(t, ctx, s, 0))
		got := make([][]event.Event, 3)
		next := []map[string]uint64{{}, {}, {}}
		from := func(i int) (<-chan event.Event, <-chan struct{}) {
			if i >= len(subs) || len(got[i]) == total {
				return nil, nil
			}
			return subs[i].events, subs[i].done
		}
		timeout := time.After(waitTimeout)
		for len(subs) < 3 || len(got[0]) < total || len(got[1]) < total || len(got[2]) < total {
			if len(subs) < 3 && len(got[0]) >= total/2 {
				subs = append(subs, subscribe(t, ctx, s, 0))
			}
			ev0, done0 := from(0)
			ev1, done1 := from(1)
			ev2, done2 := from(2)
			var e event.Event
			var i int
			select {
			case e = <-ev0:
			case e = <-ev1:
				i = 1
			case e = <-ev2:
				i = 2
			case <-done0:
				t.Fatalf("subscription 0 ended early: %v", subs[0].err)
			case <-done1:
				t.Fatalf("subscription 1 ended early: %v", subs[1].err)
			case <-done2:
				t.Fatalf("subscription 2 ended early: %v", subs[2].err)
			case <-failed:
				wg.Wait()
				t.FailNow()
			case <-timeout:
				t.Fatalf("subscriptions saw %d, %d and %d of %d events within %v", len(got[0]), len(got[1]), len(got[2]), total, waitTimeout)
			}
			subs[i].took(t, e)
			if e.StreamVersion != next[i][e.Stream] {
				t.Fatalf("subscription %d: %s@%d after %s@%d: an event is missing or repeated", i, e.Stream, e.StreamVersion, e.Stream, int64(next[i][e.Stream])-1)
			}
			next[i][e.Stream]++
			got[i] = append(got[i], e)
		}
		wg.Wait()
		all := mustReadAll(t, ctx, s, eventstore.ReadOptions{})
		if len(all) != total {
			t.Fatalf("ReadAll has %d events, want %d", len(all), total)
		}
		for i := range subs {
			sameEvents(t, fmt.Sprintf("subscription %d compared with ReadAll", i), got[i], all)
		}
		for w, stream := range streams {
			evs := ofStream(all, stream)
			checkDense(t, fmt.Sprintf("stream of worker %d", w), evs, perStream)
		}
	})
}

// checkDense checks that evs are versions 0..n-1 of one stream in order
// and that their chain verifies.
func checkDense(t *testing.T, what string, evs []event.Event, n int) bool {
	t.Helper()
	if len(evs) != n {
		t.Errorf("%s: %d events %s, want %d", what, len(evs), summary(evs), n)
		return false
	}
	for i := range evs {
		if evs[i].StreamVersion != uint64(i) {
			t.Errorf("%s: event %d has version %d: versions must be dense from 0: %s", what, i, evs[i].StreamVersion, summary(evs[max(0, i-3):]))
			return false
		}
	}
	if err := event.VerifyChain(evs); err != nil {
		t.Errorf("%s: VerifyChain: %v", what, err)
		return false
	}
	return true
}
