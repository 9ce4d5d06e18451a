package eventstoretest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testDeleteStream(t *testing.T, su *suite) {
	su.needDelete(t)
	s := su.newStore(t)

	t.Run("WrongExpectedVersion", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		all := fill(t, ctx, s, stream, 3, 2)
		for _, x := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Exact(0), eventstore.Exact(1), eventstore.Exact(3), eventstore.Exact(100)} {
			err := s.DeleteStream(ctx, stream, x)
			wrongVersion(t, fmt.Sprintf("DeleteStream(expected %s) of a stream at version 2", x), err, stream, x, 2)
		}
		// Nothing was deleted.
		checkStream(t, ctx, s, stream, all)
		checkVersion(t, ctx, s, stream, 2)
	})

	t.Run("DeleteAndRecreate", func(t *testing.T) {
		t.Parallel()
		for _, x := range []eventstore.ExpectedVersion{eventstore.Any, eventstore.StreamExists, eventstore.Exact(2)} {
			t.Run(x.String(), func(t *testing.T) {
				t.Parallel()
				ctx := testContext(t)
				stream := su.stream(t)
				fill(t, ctx, s, stream, 3, 2)
				last := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})[2]
				if err := s.DeleteStream(ctx, stream, x); err != nil {
					t.Fatalf("DeleteStream(%q, expected %s) of a stream at version 2: %v", stream, x, err)
				}
				checkNotFound(t, ctx, s, stream)
				if err := s.DeleteStream(ctx, stream, eventstore.Any); !errors.Is(err, eventstore.ErrStreamNotFound) {
					t.Errorf("DeleteStream of a deleted stream: got %v, want ErrStreamNotFound", err)
				}

				// A deleted stream has no events: only no-stream and any match.
				props := proposals(2, "recreated")
				for _, bad := range []eventstore.ExpectedVersion{eventstore.Exact(2), eventstore.StreamExists} {
					_, err := s.Append(ctx, stream, bad, props...)
					wrongVersion(t, fmt.Sprintf("Append(expected %s) to a deleted stream", bad), err, stream, bad, eventstore.NoStreamVersion)
				}
				checkNotFound(t, ctx, s, stream)

				// Appending recreates it; versions and the chain go on.
				res := mustAppend(t, ctx, s, stream, eventstore.NoStream, props...)
				checkResult(t, "append to a deleted stream", res, 3, 2)
				want := expect(stream, res, props...)
				got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
				if !sameEvents(t, "ReadStream of the recreated stream", got, want) {
					return
				}
				if got[0].PrevHash != last.Hash {
					t.Errorf("the recreated stream's first event has PrevHash %s, want the Hash %s of the deleted version 2", got[0].PrevHash, last.Hash)
				}
				if err := event.VerifyChain(got); err != nil {
					t.Errorf("VerifyChain of the recreated stream: %v", err)
				}
				checkVersion(t, ctx, s, stream, 4)
				back := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards})
				sameEvents(t, "ReadStream backwards of the recreated stream", back, []event.Event{want[1], want[0]})

				// And again.
				if err := s.DeleteStream(ctx, stream, eventstore.Exact(4)); err != nil {
					t.Fatalf("DeleteStream(expected 4) of the recreated stream: %v", err)
				}
				checkNotFound(t, ctx, s, stream)
				props = proposals(1, "again")
				res = mustAppend(t, ctx, s, stream, eventstore.Any, props...)
				checkResult(t, "append to a stream deleted twice", res, 5, 1)
				checkStream(t, ctx, s, stream, expect(stream, res, props...))
			})
		}
	})

	t.Run("Missing", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		stream := su.stream(t)
		if err := s.DeleteStream(ctx, stream, eventstore.Any); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Errorf("DeleteStream of a stream that never existed: got %v, want ErrStreamNotFound", err)
		}
		checkNotFound(t, ctx, s, stream)
		// Still a fresh stream.
		res := mustAppend(t, ctx, s, stream, eventstore.NoStream, proposals(1, "fresh")...)
		checkResult(t, "append after deleting a missing stream", res, 0, 1)
	})
}
