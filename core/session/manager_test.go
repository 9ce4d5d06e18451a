package session

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

// slowFold is the store with a pause between a turn's end reaching the
// log and the append returning: the moment in which a follower of the
// log has seen "turn ended" and the registry has not yet folded it in.
type slowFold struct {
	eventstore.Appender
	once    sync.Once
	visible chan struct{}
}

func (s *slowFold) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, evs ...event.Proposed) (eventstore.AppendResult, error) {
	res, err := s.Appender.Append(ctx, stream, expected, evs...)
	if err == nil && len(evs) > 0 && evs[len(evs)-1].Type == "session.turn.ended" {
		s.once.Do(func() {
			close(s.visible)
			time.Sleep(100 * time.Millisecond)
		})
	}
	return res, err
}

// A prompt sent as soon as the log says the turn before ended is taken,
// not refused as "running a turn" (it was, until the registry caught up).
func TestSendRightAfterTurnEnded(t *testing.T) {
	ctx := context.Background()
	slow := &slowFold{visible: make(chan struct{})}
	m := testManager(t, "a", make(chan time.Time, 4), func(st eventstore.Appender) eventstore.Appender {
		slow.Appender = st
		return slow
	})
	defer m.Close()
	s, err := m.Start(ctx, "a", "first", "test")
	if err != nil {
		t.Fatal(err)
	}
	<-slow.visible
	if err := m.Send(ctx, s.ID, "second", "test"); err != nil {
		t.Fatalf("send after the turn's end was in the log: %v", err)
	}
	if got, _ := m.Registry.Get(s.ID); got.Turns != 2 {
		t.Fatalf("turns = %d, want 2", got.Turns)
	}
}

// Commands on an id that is no session are refused and leave nothing
// behind: no append lock for a made-up id.
func TestUnknownSessionLeavesNoLock(t *testing.T) {
	ctx := context.Background()
	m := testManager(t, "a", make(chan time.Time, 1), nil)
	defer m.Close()
	for i := range 100 {
		id := fmt.Sprintf("made-up-%d", i)
		if err := m.Send(ctx, id, "p", "test"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("send to %s: %v, want ErrNotFound", id, err)
		}
		if err := m.Pause(ctx, id, "r", "test"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("pause of %s: %v, want ErrNotFound", id, err)
		}
	}
	if n := len(m.locks); n != 0 {
		t.Fatalf("%d append locks after commands on made-up ids, want 0", n)
	}
}
