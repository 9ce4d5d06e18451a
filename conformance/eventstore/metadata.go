package eventstoretest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testStreamMetadata(t *testing.T, su *suite) {
	su.needMetadata(t)
	s := su.newStore(t)

	set := func(t *testing.T, ctx context.Context, stream string, md eventstore.StreamMetadata) {
		t.Helper()
		if err := s.SetStreamMetadata(ctx, stream, md); err != nil {
			t.Fatalf("SetStreamMetadata(%q, %+v): %v", stream, md, err)
		}
	}

	t.Run("DefaultIsZero", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		for _, exists := range []bool{false, true} {
			if exists {
				fill(t, ctx, s, stream, 1, 1)
			}
			md, err := s.StreamMetadata(ctx, stream)
			if err != nil || md != (eventstore.StreamMetadata{}) {
				t.Errorf("StreamMetadata of a stream whose metadata was never set (stream exists: %v) = %+v, %v; want zero, nil", exists, md, err)
			}
		}
	})

	t.Run("RoundTripAndReplace", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		fill(t, ctx, s, stream, 3, 3)
		for _, md := range []eventstore.StreamMetadata{
			{MaxAge: 90 * time.Minute, MaxCount: 5, TruncateBefore: 2},
			{MaxCount: 7}, // replaces: MaxAge and TruncateBefore are gone
			{MaxAge: 1500 * time.Millisecond},
			{},
		} {
			set(t, ctx, stream, md)
			got, err := s.StreamMetadata(ctx, stream)
			if err != nil || got != md {
				t.Errorf("StreamMetadata after setting %+v = %+v, %v", md, got, err)
			}
		}
	})

	past := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	cases := []struct {
		name string
		md   eventstore.StreamMetadata
		// The stream holds 10 events; old ones (versions < old) carry a
		// Time 48 hours ago.
		old     int
		visible []uint64
		// ranged reads: from, direction, limit, want versions
		ranges []readCase
	}{
		{name: "MaxCount", md: eventstore.StreamMetadata{MaxCount: 3}, visible: span(7, 9), ranges: []readCase{
			{0, eventstore.Forwards, 2, span(7, 8)},
			{8, eventstore.Forwards, 0, span(8, 9)},
			{eventstore.End, eventstore.Backwards, 2, span(9, 8)},
			{8, eventstore.Backwards, 0, span(8, 7)},
		}},
		{name: "MaxCountAboveLength", md: eventstore.StreamMetadata{MaxCount: 100}, visible: span(0, 9)},
		{name: "TruncateBefore", md: eventstore.StreamMetadata{TruncateBefore: 4}, visible: span(4, 9), ranges: []readCase{
			{2, eventstore.Forwards, 0, span(4, 9)},
			{6, eventstore.Forwards, 3, span(6, 8)},
			{5, eventstore.Backwards, 0, span(5, 4)},
			{eventstore.End, eventstore.Backwards, 3, span(9, 7)},
		}},
		{name: "MaxAge", md: eventstore.StreamMetadata{MaxAge: time.Hour}, old: 5, visible: span(5, 9), ranges: []readCase{
			{0, eventstore.Forwards, 2, span(5, 6)},
			{7, eventstore.Backwards, 0, span(7, 5)},
		}},
		{name: "MaxAgeAboveAges", md: eventstore.StreamMetadata{MaxAge: 72 * time.Hour}, old: 5, visible: span(0, 9)},
		{name: "MaxCountAndTruncateBefore", md: eventstore.StreamMetadata{MaxCount: 4, TruncateBefore: 8}, visible: span(8, 9)},
		{name: "TruncateBeforeAndMaxCount", md: eventstore.StreamMetadata{MaxCount: 2, TruncateBefore: 5}, visible: span(8, 9)},
		{name: "MaxAgeAndMaxCount", md: eventstore.StreamMetadata{MaxAge: time.Hour, MaxCount: 8}, old: 4, visible: span(4, 9)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			stream := su.stream(t)
			props := proposals(10, "md")
			for i := range c.old {
				props[i].Time = past.Add(time.Duration(i) * time.Second)
			}
			res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
			all := expect(stream, res, props...)
			set(t, ctx, stream, c.md)
			checkVisible(t, ctx, s, stream, all, c.visible, c.ranges)

			// Replacing the metadata with zero shows everything again.
			set(t, ctx, stream, eventstore.StreamMetadata{})
			checkVisible(t, ctx, s, stream, all, span(0, 9), nil)
		})
	}

	t.Run("SetBeforeStreamExists", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		md := eventstore.StreamMetadata{MaxCount: 2}
		set(t, ctx, stream, md)
		if got, err := s.StreamMetadata(ctx, stream); err != nil || got != md {
			t.Errorf("StreamMetadata of a stream with no events = %+v, %v; want %+v", got, err, md)
		}
		all := fill(t, ctx, s, stream, 5, 2)
		checkVisible(t, ctx, s, stream, all, span(3, 4), nil)
	})

	t.Run("AppendAfterHiding", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		all := fill(t, ctx, s, stream, 5, 5)
		set(t, ctx, stream, eventstore.StreamMetadata{MaxCount: 2})
		// Versions go on from the last event, hidden or not.
		props := proposals(1, "after")
		_, err := s.Append(ctx, stream, eventstore.NoStream, props...)
		wrongVersion(t, "Append(no-stream) to a stream with hidden events", err, stream, eventstore.NoStream, 4)
		res := mustAppend(t, ctx, s, stream, eventstore.Exact(4), props...)
		checkResult(t, "append after hiding", res, 5, 1)
		all = append(all, expect(stream, res, props...)...)
		checkVisible(t, ctx, s, stream, all, span(4, 5), nil)
	})
}

// readCase is a ranged read and the versions it should yield.
type readCase struct {
	from  uint64
	dir   eventstore.Direction
	limit int
	want  []uint64
}

// checkVisible checks that reads of stream, which holds all, yield exactly
// the visible versions, that StreamVersion and ReadAll still see every
// event, and that the visible part of the chain verifies.
func checkVisible(t *testing.T, ctx context.Context, s eventstore.Store, stream string, all []event.Event, visible []uint64, ranges []readCase) {
	t.Helper()
	fwd := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
	if !sameEvents(t, fmt.Sprintf("ReadStream forwards, visible %v", visible), fwd, pick(all, visible)) {
		return
	}
	back := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards})
	rev := slices.Clone(visible)
	slices.Reverse(rev)
	sameEvents(t, fmt.Sprintf("ReadStream backwards, visible %v", visible), back, pick(all, rev))
	for _, r := range ranges {
		opts := eventstore.ReadOptions{From: r.from, Direction: r.dir, Limit: r.limit}
		got := mustReadStream(t, ctx, s, stream, opts)
		sameEvents(t, fmt.Sprintf("ReadStream(%s from %d limit %d), visible %v", r.dir, int64(r.from), r.limit, visible), got, pick(all, r.want))
	}
	if len(fwd) > 0 {
		if err := event.VerifyChain(fwd); err != nil {
			t.Errorf("VerifyChain of the visible events: %v", err)
		}
	}
	checkVersion(t, ctx, s, stream, int64(len(all))-1)
	// Hidden events stay in the log.
	sameEvents(t, "ReadAll, this stream only", ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: all[0].Position}), stream), all)
}
