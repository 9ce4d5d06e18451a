package eventstoretest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testIdempotency(t *testing.T, su *suite) {
	s := su.newStore(t)

	t.Run("RetryReturnsOriginalResult", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		ab := proposals(2, "ab")
		r1 := mustAppend(t, ctx, s, stream, eventstore.NoStream, ab...)
		c := proposals(1, "c")
		r2 := mustAppend(t, ctx, s, stream, eventstore.Exact(1), c...)
		want := append(expect(stream, r1, ab...), expect(stream, r2, c...)...)

		retries := []struct {
			events   []event.Proposed
			orig     eventstore.AppendResult
			expected []eventstore.ExpectedVersion
		}{
			// Whatever expected says, even when it would now conflict.
			{ab, r1, []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any, eventstore.StreamExists,
				eventstore.Exact(0), eventstore.Exact(1), eventstore.Exact(2), eventstore.Exact(7)}},
			{c, r2, []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exact(1), eventstore.Exact(2), eventstore.Any}},
		}
		for _, r := range retries {
			for _, x := range r.expected {
				what := fmt.Sprintf("retry of the append at versions %d..%d with expected %s", r.orig.FirstVersion, r.orig.LastVersion, x)
				res, err := s.Append(ctx, stream, x, r.events...)
				if err != nil {
					t.Errorf("%s: %v; want the original result with Duplicate set", what, err)
					continue
				}
				if !res.Duplicate || res.FirstVersion != r.orig.FirstVersion || res.LastVersion != r.orig.LastVersion || !slices.Equal(res.Positions, r.orig.Positions) {
					t.Errorf("%s: got %+v, want %+v with Duplicate set", what, res, r.orig)
				}
			}
		}
		// Nothing was written.
		checkStream(t, ctx, s, stream, want)
		checkVersion(t, ctx, s, stream, 2)
		got := ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: r1.Positions[0]}), stream)
		sameEvents(t, "ReadAll, this stream only", got, want)
	})

	t.Run("PartialOverlap", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		ab := proposals(2, "ab")
		want := expect(stream, mustAppend(t, ctx, s, stream, eventstore.NoStream, ab...), ab...)
		a, b := ab[0], ab[1]
		fresh := proposals(1, "fresh")[0]
		noID := proposals(1, "no-id")[0]
		noID.ID = uuid.Nil
		cases := []struct {
			name   string
			events []event.Proposed
		}{
			{"known-then-new", []event.Proposed{b, fresh}},
			{"new-then-known", []event.Proposed{fresh, a}},
			{"superset", []event.Proposed{a, b, fresh}},
			{"with-zero-id", []event.Proposed{a, b, noID}},
			{"reordered", []event.Proposed{b, a}},
			{"known-id-twice", []event.Proposed{b, b}},
		}
		for _, c := range cases {
			for _, x := range []eventstore.ExpectedVersion{eventstore.Any, eventstore.Exact(1)} { // expected versions that match: only the ids are wrong
				what := fmt.Sprintf("%s with expected %s", c.name, x)
				res, err := s.Append(ctx, stream, x, c.events...)
				if c.name == "known-id-twice" {
					// An id twice in one batch is invalid input; that it
					// is also known may be found first.
					if !errors.Is(err, eventstore.ErrInvalid) && !errors.As(err, new(*eventstore.IDConflictError)) {
						t.Errorf("%s: got %+v, %v; want ErrInvalid or an *IDConflictError", what, res, err)
					}
					continue
				}
				idConflict(t, what, err, stream, known(c.events, a, b)...)
			}
		}
		// Nothing was written: the stream is as it was, and the new id is
		// still new.
		checkStream(t, ctx, s, stream, want)
		res := mustAppend(t, ctx, s, stream, eventstore.Exact(1), fresh)
		checkResult(t, "append of the id the conflicting appends carried", res, 2, 1)
	})

	t.Run("IDInAnotherStream", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream, other := su.stream(t), su.stream(t)
		ab := proposals(2, "ab")
		want := expect(stream, mustAppend(t, ctx, s, stream, eventstore.NoStream, ab...), ab...)
		fresh := proposals(1, "fresh")[0]
		for _, batch := range [][]event.Proposed{{ab[0]}, {ab[1]}, ab, {fresh, ab[1]}} {
			for _, x := range []eventstore.ExpectedVersion{eventstore.Any, eventstore.NoStream} {
				what := fmt.Sprintf("append of %d events with ids from stream %q to %q (expected %s)", len(batch), stream, other, x)
				res, err := s.Append(ctx, other, x, batch...)
				if !idConflict(t, what, err, other, known(batch, ab...)...) {
					t.Logf("%s: the result was %+v", what, res)
				}
			}
		}
		checkNotFound(t, ctx, s, other)
		checkStream(t, ctx, s, stream, want)
		res := mustAppend(t, ctx, s, other, eventstore.NoStream, fresh)
		checkResult(t, "append of the id the conflicting appends carried", res, 0, 1)
	})
}

// known returns the ids of batch that are among stored: those an
// *IDConflictError may name.
func known(batch []event.Proposed, stored ...event.Proposed) []uuid.UUID {
	var out []uuid.UUID
	for _, p := range batch {
		if slices.ContainsFunc(stored, func(q event.Proposed) bool { return q.ID == p.ID }) {
			out = append(out, p.ID)
		}
	}
	return out
}
