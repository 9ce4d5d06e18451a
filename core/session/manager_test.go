package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/keys"
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
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	agents := agent.NewRegistry()
	if _, err := agents.Put(ctx, st, agent.Definition{Name: "a", Harness: "claude-code", Model: "m", Limits: agent.Limits{MemoryMB: 4096}}, "", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	ks := keys.NewRegistry()
	spawned := make(chan time.Time, 4)
	slow := &slowFold{Appender: st, visible: make(chan struct{})}
	m := &Manager{Registry: NewRegistry(), Store: slow, Agent: agents.Get, Adapters: oneAdapter{spawnAdapter{spawned}},
		MintKey: func(ctx context.Context, s *Session, a *agent.Agent) (string, string, error) {
			k, secret, err := ks.Create(ctx, st, keys.Spec{Name: "session " + s.ID, Agent: a.Definition.Name, Tags: map[string]string{"session": s.ID}}, "system", time.Now())
			return k.ID, secret, err
		},
		GatewayURL: "http://127.0.0.1:1", Dir: t.TempDir()}
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
