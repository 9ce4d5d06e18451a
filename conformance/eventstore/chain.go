package eventstoretest

import (
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testHashChain(t *testing.T, su *suite) {
	s := su.newStore(t)

	t.Run("AcrossAppends", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream, other := su.stream(t), su.stream(t)
		var want []event.Event
		// Appends to another stream in between must not touch this chain.
		for i, n := range []int{3, 1, 2, 1} {
			props := proposals(n, "chain")
			res := mustAppend(t, ctx, s, stream, holding(len(want)), props...)
			want = append(want, expect(stream, res, props...)...)
			mustAppend(t, ctx, s, other, eventstore.Any, proposals(i+1, "other")...)
		}
		got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
		if !sameEvents(t, "ReadStream", got, want) {
			return
		}
		checkChain(t, stream, got)
		checkChain(t, other, mustReadStream(t, ctx, s, other, eventstore.ReadOptions{}))

		// ReadAll and a backwards read carry the same hashes.
		all := ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{From: got[0].Position}), stream)
		sameEvents(t, "ReadAll, this stream only", all, got)
		back := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards})
		for i, j := 0, len(back)-1; i < j; i, j = i+1, j-1 {
			back[i], back[j] = back[j], back[i]
		}
		sameEvents(t, "ReadStream backwards, reversed", back, got)
	})

	t.Run("SameContentOtherStream", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		// The same proposed event (bar the id) in two streams hashes
		// differently: the stream name is part of the hash.
		a, b := su.stream(t), su.stream(t)
		p := proposals(1, "same")
		mustAppend(t, ctx, s, a, eventstore.NoStream, p...)
		p[0].ID = event.NewID()
		mustAppend(t, ctx, s, b, eventstore.NoStream, p...)
		ea := mustReadStream(t, ctx, s, a, eventstore.ReadOptions{})
		eb := mustReadStream(t, ctx, s, b, eventstore.ReadOptions{})
		if len(ea) != 1 || len(eb) != 1 {
			t.Fatalf("streams hold %d and %d events, want 1 each", len(ea), len(eb))
		}
		checkChain(t, a, ea)
		checkChain(t, b, eb)
		if ea[0].Hash == eb[0].Hash {
			t.Errorf("two events in different streams share hash %s", ea[0].Hash)
		}
	})
}

// checkChain checks the hash chain of a whole stream read forwards from
// version 0: a zero first PrevHash, each PrevHash the Hash before it, each
// Hash the hash of its event, and event.VerifyChain agreeing.
func checkChain(t *testing.T, stream string, evs []event.Event) bool {
	t.Helper()
	if len(evs) == 0 {
		t.Errorf("stream %q: no events to check the chain of", stream)
		return false
	}
	ok := true
	if evs[0].StreamVersion == 0 && !evs[0].PrevHash.IsZero() {
		t.Errorf("stream %q: the first event has PrevHash %s, want zero", stream, evs[0].PrevHash)
		ok = false
	}
	for i := range evs {
		e := &evs[i]
		if e.Hash.IsZero() {
			t.Errorf("stream %q version %d: Hash is zero", stream, e.StreamVersion)
			ok = false
		}
		if h := e.ComputeHash(); h != e.Hash {
			t.Errorf("stream %q version %d: Hash %s, but the event hashes to %s", stream, e.StreamVersion, e.Hash, h)
			ok = false
		}
		if i > 0 && e.PrevHash != evs[i-1].Hash {
			t.Errorf("stream %q version %d: PrevHash %s, want the Hash %s of version %d", stream, e.StreamVersion, e.PrevHash, evs[i-1].Hash, evs[i-1].StreamVersion)
			ok = false
		}
	}
	if err := event.VerifyChain(evs); err != nil {
		t.Errorf("stream %q: VerifyChain: %v", stream, err)
		ok = false
	}
	return ok
}
