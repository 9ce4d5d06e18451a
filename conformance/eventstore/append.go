package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// timeSlack is how far a time the store sets may lie outside the window of
// the Append call that set it: room for a store that keeps microseconds or
// milliseconds, not for a wrong clock.
const timeSlack = 50 * time.Millisecond

func testAppend(t *testing.T, su *suite) {
	s := su.newStore(t)

	t.Run("ExpectedVersion", func(t *testing.T) {
		t.Parallel()
		cases := []struct {
			name     string
			existing int // events in the stream before the append
			expected eventstore.ExpectedVersion
			ok       bool
		}{
			{"any-on-missing", 0, eventstore.Any, true},
			{"any-on-existing", 2, eventstore.Any, true},
			{"no-stream-on-missing", 0, eventstore.NoStream, true},
			{"no-stream-on-existing", 2, eventstore.NoStream, false},
			{"exists-on-missing", 0, eventstore.StreamExists, false},
			{"exists-on-existing", 2, eventstore.StreamExists, true},
			{"exact-on-missing", 0, eventstore.Exact(0), false},
			{"exact-current", 2, eventstore.Exact(1), true},
			{"exact-behind", 2, eventstore.Exact(0), false},
			{"exact-ahead", 2, eventstore.Exact(2), false},
			{"exact-far-ahead", 2, eventstore.Exact(1 << 40), false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				ctx := testContext(t)
				stream := su.stream(t)
				var before []event.Event
				if c.existing > 0 {
					props := proposals(c.existing, "setup")
					before = expect(stream, mustAppend(t, ctx, s, stream, eventstore.NoStream, props...), props...)
				}
				props := proposals(2, "under-test")
				res, err := s.Append(ctx, stream, c.expected, props...)
				if c.ok {
					if err != nil {
						t.Fatalf("Append(expected %s) to a stream with %d events: %v", c.expected, c.existing, err)
					}
					checkResult(t, "AppendResult", res, uint64(c.existing), 2)
					checkStream(t, ctx, s, stream, append(before, expect(stream, res, props...)...))
					checkVersion(t, ctx, s, stream, int64(c.existing)+1)
					return
				}
				wrongVersion(t, "Append(expected "+c.expected.String()+")", err, stream, c.expected, int64(c.existing)-1)
				// Nothing was written.
				if c.existing == 0 {
					checkNotFound(t, ctx, s, stream)
				} else {
					checkStream(t, ctx, s, stream, before)
					checkVersion(t, ctx, s, stream, int64(c.existing)-1)
				}
			})
		}
	})

	t.Run("ResultAndVersions", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		var want []event.Event
		var last uint64
		for i, n := range []int{1, 3, 2} {
			props := proposals(n, "batch")
			res := mustAppend(t, ctx, s, stream, eventstore.Any, props...)
			checkResult(t, "AppendResult", res, uint64(len(want)), n)
			if i > 0 && res.Positions[0] <= last {
				t.Errorf("batch %d starts at position %d, not after the previous batch's %d", i, res.Positions[0], last)
			}
			last = res.Positions[n-1]
			want = append(want, expect(stream, res, props...)...)
			checkVersion(t, ctx, s, stream, int64(len(want))-1)
		}
		checkStream(t, ctx, s, stream, want)
	})

	t.Run("AssignsIDs", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		props := proposals(4, "ids")
		props[0].ID, props[2].ID, props[3].ID = uuid.Nil, uuid.Nil, uuid.Nil
		res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
		got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
		if !sameEvents(t, "ReadStream", got, expect(stream, res, props...)) {
			return
		}
		seen := map[uuid.UUID]bool{}
		for i, e := range got {
			if props[i].ID == uuid.Nil && (e.ID.Version() != 7 || e.ID.Variant() != uuid.RFC4122) {
				t.Errorf("event %d: assigned id %s is version %d variant %s, want a UUIDv7", i, e.ID, e.ID.Version(), e.ID.Variant())
			}
			if seen[e.ID] {
				t.Errorf("event %d: id %s assigned twice", i, e.ID)
			}
			seen[e.ID] = true
		}
	})

	t.Run("SetsTime", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		props := proposals(2, "time")
		// Microseconds, in another zone: what every backend can keep.
		given := time.Date(2001, 2, 3, 4, 5, 6, 789012000, time.FixedZone("UTC+2", 2*3600))
		props[1].Time = given
		before := time.Now()
		res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
		after := time.Now()
		got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
		if !sameEvents(t, "ReadStream", got, expect(stream, res, props...)) {
			return
		}
		if tm := got[0].Time; tm.Before(before.Add(-timeSlack)) || tm.After(after.Add(timeSlack)) {
			t.Errorf("zero Time was set to %s, want the time of the append, between %s and %s",
				tm.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
		}
		if !got[1].Time.Equal(given) {
			t.Errorf("given Time %s came back as %s", given.Format(time.RFC3339Nano), got[1].Time.Format(time.RFC3339Nano))
		}
	})

	t.Run("PositionsIncreaseAcrossStreams", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		streams := []string{su.stream(t), su.stream(t), su.stream(t)}
		var want []event.Event
		for i := range 9 {
			stream := streams[i%3]
			props := proposals(1+i%2, "round")
			res := mustAppend(t, ctx, s, stream, eventstore.Any, props...)
			evs := expect(stream, res, props...)
			for j := range evs {
				evs[j].StreamVersion = uint64(len(ofStream(want, stream)) + j)
			}
			if len(want) > 0 && res.Positions[0] <= want[len(want)-1].Position {
				t.Errorf("append %d (to %q) got position %d after an earlier append to another stream got %d: positions must increase across the store",
					i, stream, res.Positions[0], want[len(want)-1].Position)
			}
			want = append(want, evs...)
		}
		got := ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: want[0].Position}), streams...)
		sameEvents(t, "ReadAll from the first position, these streams only", got, want)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		valid := func() event.Proposed { return proposals(1, "valid")[0] }
		// with returns a valid event followed by an invalid one.
		with := func(f func(p *event.Proposed)) []event.Proposed {
			p := valid()
			f(&p)
			return []event.Proposed{valid(), p}
		}
		dup1, dup2 := valid(), valid()
		cases := []struct {
			name string
			// badStream, if set, appends to stream; otherwise to a valid
			// stream holding one event, with the right expected version,
			// so that only the input is wrong.
			badStream bool
			stream    string
			expected  eventstore.ExpectedVersion
			events    []event.Proposed
		}{
			{name: "empty-batch"},
			{name: "empty-stream-name", badStream: true, stream: "", events: []event.Proposed{valid()}},
			{name: "space-in-stream-name", badStream: true, stream: "has space", events: []event.Proposed{valid()}},
			{name: "reserved-stream-name", badStream: true, stream: "$reserved", events: []event.Proposed{valid()}},
			{name: "control-char-in-stream-name", badStream: true, stream: "tab\tname", events: []event.Proposed{valid()}},
			{name: "non-ascii-stream-name", badStream: true, stream: "caf\u00e9", events: []event.Proposed{valid()}},
			{name: "long-stream-name", badStream: true, stream: strings.Repeat("s", event.MaxStreamLen+1), events: []event.Proposed{valid()}},
			{name: "empty-type", events: with(func(p *event.Proposed) { p.Type = "" })},
			{name: "upper-case-type", events: with(func(p *event.Proposed) { p.Type = "Conformance.Test" })},
			{name: "space-in-type", events: with(func(p *event.Proposed) { p.Type = "conformance test" })},
			{name: "empty-type-segment", events: with(func(p *event.Proposed) { p.Type = "conformance..test" })},
			{name: "long-type", events: with(func(p *event.Proposed) { p.Type = strings.Repeat("t", event.MaxTypeLen+1) })},
			{name: "no-data", events: with(func(p *event.Proposed) { p.Data = nil })},
			{name: "truncated-json", events: with(func(p *event.Proposed) { p.Data = json.RawMessage(`{"a":`) })},
			{name: "not-json", events: with(func(p *event.Proposed) { p.Data = json.RawMessage(`hello`) })},
			{name: "two-json-values", events: with(func(p *event.Proposed) { p.Data = json.RawMessage(`{} {}`) })},
			{name: "duplicate-id", events: []event.Proposed{dup1, dup1}},
			{name: "duplicate-id-apart", events: []event.Proposed{dup2, valid(), dup2}},
			{name: "invalid-expected-version", expected: eventstore.ExpectedVersion(-3), events: []event.Proposed{valid()}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				ctx := testContext(t)
				stream, expected := c.stream, c.expected
				var before []event.Event
				if !c.badStream {
					stream = su.stream(t)
					props := proposals(1, "before")
					before = expect(stream, mustAppend(t, ctx, s, stream, eventstore.NoStream, props...), props...)
					if expected == 0 {
						expected = eventstore.Exact(0)
					}
				}
				res, err := s.Append(ctx, stream, expected, c.events...)
				if !errors.Is(err, eventstore.ErrInvalid) {
					t.Errorf("Append(%q, %s, %d events): got %+v, %v; want an error wrapping ErrInvalid", stream, expected, len(c.events), res, err)
				}
				// Nothing was written.
				if before != nil {
					checkStream(t, ctx, s, stream, before)
					checkVersion(t, ctx, s, stream, 0)
				}
				for _, e := range mustReadAll(t, ctx, s, eventstore.ReadOptions{}) {
					written := e.Stream == stream && (before == nil || e.ID != before[0].ID)
					if written || slices.ContainsFunc(c.events, func(p event.Proposed) bool { return p.ID == e.ID }) {
						t.Errorf("ReadAll has event %s (%s@%d) of the rejected append", e.ID, e.Stream, e.StreamVersion)
					}
				}
			})
		}
	})

	t.Run("CancelledContextThenRetry", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		props := proposals(2, "cancelled")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		first, firstErr := s.Append(cctx, stream, eventstore.NoStream, props...)
		if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
			t.Fatalf("Append with a cancelled context: got %v, want nil (if it committed) or context.Canceled", firstErr)
		}
		// The caller cannot know whether it committed; a retry with the
		// same ids is safe.
		res, err := s.Append(ctx, stream, eventstore.NoStream, props...)
		if err != nil {
			t.Fatalf("retry of an append cancelled before it started: %v", err)
		}
		if firstErr == nil && !res.Duplicate {
			t.Errorf("the cancelled append reported success %+v, but its retry was not a Duplicate: %+v", first, res)
		}
		checkStream(t, ctx, s, stream, expect(stream, res, props...))
	})
}
