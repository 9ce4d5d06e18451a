package eventstoretest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testPersistence(t *testing.T, su *suite) {
	su.needReopen(t)

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		s := su.newStore(t)
		ctx := testContext(t)
		a, b := su.stream(t), su.stream(t)
		first := proposals(2, "a1")
		r1 := mustAppend(t, ctx, s, a, eventstore.NoStream, first...)
		second := proposals(1, "a2")
		second[0].Time = time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)
		mustAppend(t, ctx, s, a, eventstore.Exact(1), second...)
		mustAppend(t, ctx, s, b, eventstore.NoStream, proposals(2, "b")...)
		beforeA := mustReadStream(t, ctx, s, a, eventstore.ReadOptions{})
		beforeAll := mustReadAll(t, ctx, s, eventstore.ReadOptions{})

		s = su.reopen(t, s)
		// Everything is there, byte for byte, hashes and positions included.
		checkStream(t, ctx, s, a, beforeA)
		sameEvents(t, "ReadAll after reopening", mustReadAll(t, ctx, s, eventstore.ReadOptions{}), beforeAll)
		checkVersion(t, ctx, s, a, 2)
		checkVersion(t, ctx, s, b, 1)

		// Ids are still known: a retry is a duplicate, reuse a conflict.
		res, err := s.Append(ctx, a, eventstore.NoStream, first...)
		if err != nil || !res.Duplicate || !slices.Equal(res.Positions, r1.Positions) || res.FirstVersion != r1.FirstVersion {
			t.Errorf("retry after reopening: got %+v, %v; want %+v with Duplicate set", res, err, r1)
		}
		_, err = s.Append(ctx, b, eventstore.Any, first[0])
		idConflict(t, "append of a known id to another stream after reopening", err, b, first[0].ID)

		// Positions, versions and the chain go on.
		props := proposals(2, "after")
		res = mustAppend(t, ctx, s, a, eventstore.Exact(2), props...)
		checkResult(t, "append after reopening", res, 3, 2)
		if last := beforeAll[len(beforeAll)-1].Position; res.Positions[0] <= last {
			t.Errorf("append after reopening got position %d, not after the last position %d before", res.Positions[0], last)
		}
		gotA := mustReadStream(t, ctx, s, a, eventstore.ReadOptions{})
		if sameEvents(t, "ReadStream after appending", gotA, append(slices.Clone(beforeA), expect(a, res, props...)...)) {
			checkChain(t, a, gotA)
		}
		afterAll := mustReadAll(t, ctx, s, eventstore.ReadOptions{})

		// A subscription catches up over what was written before.
		sub := subscribe(t, ctx, s, 0)
		for i := range afterAll {
			if e := sub.next(t); eventDiff(&e, &afterAll[i]) != "" {
				t.Fatalf("subscription after reopening: event %d: %s", i, eventDiff(&e, &afterAll[i]))
			}
		}
		sub.halt()

		// And once more.
		s = su.reopen(t, s)
		sameEvents(t, "ReadAll after reopening twice", mustReadAll(t, ctx, s, eventstore.ReadOptions{}), afterAll)
	})

	t.Run("StreamMetadata", func(t *testing.T) {
		t.Parallel()
		su.needMetadata(t)
		s := su.newStore(t)
		ctx := testContext(t)
		a, b := su.stream(t), su.stream(t)
		all := fill(t, ctx, s, a, 5, 2)
		mdA := eventstore.StreamMetadata{MaxCount: 2, MaxAge: 240 * time.Hour}
		mdB := eventstore.StreamMetadata{TruncateBefore: 1}
		for stream, md := range map[string]eventstore.StreamMetadata{a: mdA, b: mdB} {
			if err := s.SetStreamMetadata(ctx, stream, md); err != nil {
				t.Fatalf("SetStreamMetadata(%q, %+v): %v", stream, md, err)
			}
		}
		s = su.reopen(t, s)
		for stream, md := range map[string]eventstore.StreamMetadata{a: mdA, b: mdB} {
			if got, err := s.StreamMetadata(ctx, stream); err != nil || got != md {
				t.Errorf("StreamMetadata(%q) after reopening = %+v, %v; want %+v", stream, got, err, md)
			}
		}
		checkVisible(t, ctx, s, a, all, span(3, 4), nil)
	})

	t.Run("Deletion", func(t *testing.T) {
		t.Parallel()
		su.needDelete(t)
		s := su.newStore(t)
		ctx := testContext(t)
		stream := su.stream(t)
		fill(t, ctx, s, stream, 3, 3)
		last := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})[2]
		if err := s.DeleteStream(ctx, stream, eventstore.Exact(2)); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
		s = su.reopen(t, s)
		checkNotFound(t, ctx, s, stream)
		if err := s.DeleteStream(ctx, stream, eventstore.Any); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Errorf("DeleteStream of a deleted stream after reopening: got %v, want ErrStreamNotFound", err)
		}
		props := proposals(1, "recreated")
		res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
		checkResult(t, "append to a deleted stream after reopening", res, 3, 1)
		got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
		if sameEvents(t, "ReadStream of the recreated stream", got, expect(stream, res, props...)) && got[0].PrevHash != last.Hash {
			t.Errorf("the recreated stream's first event has PrevHash %s, want the Hash %s of the deleted version 2", got[0].PrevHash, last.Hash)
		}
		if err := event.VerifyChain(got); err != nil {
			t.Errorf("VerifyChain: %v", err)
		}
	})
}
