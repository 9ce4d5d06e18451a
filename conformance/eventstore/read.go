package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// fill appends n events to a new stream in batches of up to batch events
// and returns the events a read should yield.
func fill(t *testing.T, ctx context.Context, s eventstore.Store, stream string, n, batch int) []event.Event {
	t.Helper()
	var want []event.Event
	for len(want) < n {
		props := proposals(min(batch, n-len(want)), fmt.Sprintf("fill-%d", len(want)))
		res := mustAppend(t, ctx, s, stream, holding(len(want)), props...)
		want = append(want, expect(stream, res, props...)...)
	}
	return want
}

// pick returns the events of evs at the given indexes.
func pick(evs []event.Event, idx []uint64) []event.Event {
	out := make([]event.Event, 0, len(idx))
	for _, i := range idx {
		out = append(out, evs[i])
	}
	return out
}

func testRead(t *testing.T, su *suite) {
	s := su.newStore(t)
	fwd, back := eventstore.Forwards, eventstore.Backwards

	t.Run("StreamRanges", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		all := fill(t, ctx, s, stream, 10, 3)
		cases := []struct {
			from  uint64
			dir   eventstore.Direction
			limit int
			want  []uint64 // versions
		}{
			{0, fwd, 0, span(0, 9)},
			{3, fwd, 0, span(3, 9)},
			{3, fwd, 4, span(3, 6)},
			{0, fwd, 1, span(0, 0)},
			{0, fwd, 100, span(0, 9)},
			{9, fwd, 0, span(9, 9)},
			{10, fwd, 0, nil},
			{1000, fwd, 0, nil},
			{eventstore.End, back, 0, span(9, 0)},
			{eventstore.End, back, 3, span(9, 7)},
			{eventstore.End, back, 1, span(9, 9)},
			{9, back, 0, span(9, 0)},
			{5, back, 0, span(5, 0)},
			{5, back, 2, span(5, 4)},
			{0, back, 0, span(0, 0)},
			{0, back, 5, span(0, 0)},
		}
		for _, c := range cases {
			opts := eventstore.ReadOptions{From: c.from, Direction: c.dir, Limit: c.limit}
			got := mustReadStream(t, ctx, s, stream, opts)
			sameEvents(t, fmt.Sprintf("ReadStream(%s from %d limit %d) of versions 0..9", c.dir, int64(c.from), c.limit), got, pick(all, c.want))
		}
	})

	t.Run("StreamNotFound", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		checkNotFound(t, ctx, s, su.stream(t))
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		data := []string{
			`{"b":1,"a":[1,2,3]}`,
			"{ \"spaced\" : true ,\n\t\"nested\":{\"x\":[{}, []]}}",
			`"a string with \u00e9, é, \"quotes\" and \\ a backslash"`,
			`12345678901234567890123456789`,
			`-0.5e-10`,
			`null`,
			`true`,
			`[]`,
			`{}`,
			`{"dup":1,"dup":2}`,
			"{\"trailing\":\"newline\"}\n",
			`  {"leading":"space"}`,
			`{"html":"<a href=\"x\">&amp;</a>"}`,
			`{"big":"` + strings.Repeat("0123456789", 10_000) + `"}`,
		}
		props := proposals(len(data), "round-trip")
		for i, d := range data {
			props[i].Data = []byte(d)
		}
		props[1].Metadata = event.Metadata{Actor: "user:zoë", Traceparent: " padded ", Schema: 7}
		props[2].Metadata = event.Metadata{}
		props[3].Type = "a.b-c_d.0"
		res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
		want := expect(stream, res, props...)
		checkStream(t, ctx, s, stream, want)
		sameEvents(t, "ReadAll, this stream only", ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: res.Positions[0]}), stream), want)
		// The store keeps its own copy of the data.
		for i := range props {
			for j := range props[i].Data {
				props[i].Data[j] = 'X'
			}
		}
		for i, d := range data {
			want[i].Data = []byte(d)
		}
		sameEvents(t, "ReadStream after the caller reused its buffers", mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{}), want)
	})

	t.Run("AllRanges", func(t *testing.T) {
		t.Parallel()
		// A store of its own: every position in it is known.
		s := su.newStore(t)
		ctx := testContext(t)
		a, b := su.stream(t), su.stream(t)
		var all []event.Event
		for i, n := range []int{2, 1, 2, 2, 1} {
			stream := []string{a, b}[i%2]
			props := proposals(n, "all")
			res := mustAppend(t, ctx, s, stream, eventstore.Any, props...)
			evs := expect(stream, res, props...)
			for j := range evs {
				evs[j].StreamVersion = uint64(len(ofStream(all, stream)) + j)
			}
			all = append(all, evs...)
		}
		p := positionsOf(all)
		cases := []struct {
			from  uint64
			dir   eventstore.Direction
			limit int
			want  []uint64 // indexes into all
		}{
			{0, fwd, 0, span(0, 7)},
			{p[0], fwd, 0, span(0, 7)},
			{p[3], fwd, 0, span(3, 7)},
			{p[3] + 1, fwd, 0, span(4, 7)},
			{p[3], fwd, 2, span(3, 4)},
			{0, fwd, 1, span(0, 0)},
			{0, fwd, 100, span(0, 7)},
			{p[7], fwd, 0, span(7, 7)},
			{p[7] + 1, fwd, 0, nil},
			{eventstore.End, back, 0, span(7, 0)},
			{eventstore.End, back, 3, span(7, 5)},
			{p[7], back, 0, span(7, 0)},
			{p[4], back, 0, span(4, 0)},
			{p[4] - 1, back, 0, span(3, 0)},
			{p[4], back, 2, span(4, 3)},
			{p[0], back, 0, span(0, 0)},
		}
		for _, c := range cases {
			opts := eventstore.ReadOptions{From: c.from, Direction: c.dir, Limit: c.limit}
			got := mustReadAll(t, ctx, s, opts)
			sameEvents(t, fmt.Sprintf("ReadAll(%s from %d limit %d) of positions %v", c.dir, int64(c.from), c.limit, p), got, pick(all, c.want))
		}
	})

	t.Run("LongStream", func(t *testing.T) {
		t.Parallel()
		// Long enough to span the pages of any sensible page size.
		n := short(1000, 300)
		ctx := testContext(t)
		stream := su.stream(t)
		all := fill(t, ctx, s, stream, n, 100)
		q := uint64(n / 4)
		cases := []struct {
			from  uint64
			dir   eventstore.Direction
			limit int
			want  []uint64
		}{
			{0, fwd, 0, span(0, uint64(n-1))},
			{eventstore.End, back, 0, span(uint64(n-1), 0)},
			{q, fwd, n / 2, span(q, q+uint64(n/2)-1)},
			{3 * q, back, n / 2, span(3*q, 3*q-uint64(n/2)+1)},
		}
		for _, c := range cases {
			opts := eventstore.ReadOptions{From: c.from, Direction: c.dir, Limit: c.limit}
			got := mustReadStream(t, ctx, s, stream, opts)
			sameEvents(t, fmt.Sprintf("ReadStream(%s from %d limit %d) of %d events", c.dir, int64(c.from), c.limit, n), got, pick(all, c.want))
		}
		got := ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: all[0].Position}), stream)
		sameEvents(t, "ReadAll, this stream only", got, all)
	})

	t.Run("ReadsDoNotBlockWriters", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream, other := su.stream(t), su.stream(t)
		n := short(600, 200)
		fill(t, ctx, s, stream, n, 100)
		reads := []struct {
			name string
			seq  func() iter.Seq2[event.Event, error]
		}{
			{"ReadStream", func() iter.Seq2[event.Event, error] {
				return s.ReadStream(ctx, stream, eventstore.ReadOptions{})
			}},
			{"ReadStream backwards", func() iter.Seq2[event.Event, error] {
				return s.ReadStream(ctx, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards})
			}},
			{"ReadAll", func() iter.Seq2[event.Event, error] { return s.ReadAll(ctx, eventstore.ReadOptions{}) }},
		}
		for _, r := range reads {
			// Every 50 events, the reader stops and waits for appends to
			// this stream and another: a read that holds the store
			// across its yields deadlocks here.
			var failures []string
			i := 0
			y := drain(t, r.seq(), func(e event.Event) bool {
				if i++; i%50 != 1 {
					return true
				}
				done := make(chan error, 2)
				go func() {
					_, err := s.Append(ctx, stream, eventstore.Any, proposals(1, "during-read")...)
					done <- err
				}()
				go func() {
					_, err := s.Append(ctx, other, eventstore.Any, proposals(1, "during-read")...)
					done <- err
				}()
				timeout := time.After(waitTimeout)
				for range 2 {
					select {
					case err := <-done:
						if err != nil {
							failures = append(failures, fmt.Sprintf("append during %s: %v", r.name, err))
						}
					case <-timeout:
						failures = append(failures, fmt.Sprintf("an append blocked for %v while %s waited in its loop body", waitTimeout, r.name))
						return false
					}
				}
				return true
			})
			for _, f := range failures {
				t.Error(f)
			}
			if err := y.err(); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			// Whatever the appends made visible, the read is consistent:
			// versions dense and in order, positions strictly ordered.
			evs := y.events
			if r.name == "ReadAll" {
				evs = ofStream(evs, stream)
			}
			if len(evs) < n {
				t.Errorf("%s: %d events of %q, want at least the %d there were before the read", r.name, len(evs), stream, n)
			}
			for k := range evs {
				wantV := uint64(k)
				if r.name == "ReadStream backwards" {
					wantV = uint64(len(evs) - 1 - k)
				}
				if evs[k].StreamVersion != wantV {
					t.Fatalf("%s: event %d has version %d, want %d: %s", r.name, k, evs[k].StreamVersion, wantV, summary(evs[max(0, k-3):]))
				}
			}
			if r.name == "ReadAll" {
				pos := positionsOf(y.events)
				if !slices.IsSorted(pos) || len(slices.Compact(pos)) != len(y.events) {
					t.Errorf("ReadAll: positions not strictly increasing: %v", positionsOf(y.events))
				}
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		fill(t, ctx, s, stream, 10, 5)
		reads := []struct {
			name string
			seq  func(ctx context.Context) iter.Seq2[event.Event, error]
		}{
			{"ReadStream", func(ctx context.Context) iter.Seq2[event.Event, error] {
				return s.ReadStream(ctx, stream, eventstore.ReadOptions{})
			}},
			{"ReadStream backwards", func(ctx context.Context) iter.Seq2[event.Event, error] {
				return s.ReadStream(ctx, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards})
			}},
			{"ReadAll", func(ctx context.Context) iter.Seq2[event.Event, error] {
				return s.ReadAll(ctx, eventstore.ReadOptions{})
			}},
		}
		for _, r := range reads {
			// Cancelled before the read: no event, then ctx.Err().
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			y := drain(t, r.seq(cctx), nil)
			if len(y.events) != 0 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), context.Canceled) {
				t.Errorf("%s with a cancelled context: got %d events and errors %v (%d yields after the first); want only context.Canceled",
					r.name, len(y.events), y.errs, y.afterErr)
			}
			// Cancelled at the first event: it stops at the next one.
			cctx, cancel = context.WithCancel(ctx)
			y = drain(t, r.seq(cctx), func(event.Event) bool { cancel(); return true })
			cancel()
			if len(y.events) != 1 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), context.Canceled) {
				t.Errorf("%s cancelled in the loop body at the first event: got %d events and errors %v (%d yields after the first); want 1 event, then only context.Canceled",
					r.name, len(y.events), y.errs, y.afterErr)
			}
		}
	})
}
