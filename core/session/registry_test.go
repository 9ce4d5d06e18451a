package session

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/sdk/harness"
)

func mustEvent(t *testing.T, typ string, data any) event.Proposed {
	t.Helper()
	p, err := event.New(typ, data, event.Metadata{Session: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func harnessEvent(t *testing.T, turn int, e harness.Event) event.Proposed {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	return mustEvent(t, HarnessType(e.Kind), HarnessEvent{Turn: turn, Event: e})
}

// A session's life, as the registry folds it, and the same state rebuilt
// from the log; then a restart interrupts the running one.
func TestRegistryLifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := NewRegistry()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	id := NewID()
	step := func(want Status, evs ...event.Proposed) {
		t.Helper()
		if err := r.Append(ctx, st, id, now, evs...); err != nil {
			t.Fatal(err)
		}
		if s, _ := r.Get(id); s.Status != want {
			t.Fatalf("status %s after %s, want %s", s.Status, evs[len(evs)-1].Type, want)
		}
		now = now.Add(time.Minute)
	}
	step(StatusIdle, mustEvent(t, "session.created", Created{ID: id, Agent: "reviewer", AgentRevision: 2, Harness: "claude-code", Model: "sim-small", Prompt: "review"}))
	step(StatusRunning, mustEvent(t, "session.turn.started", TurnStarted{Turn: 1, Mode: ModeStart, Prompt: "review", Node: "n1"}),
		harnessEvent(t, 1, harness.Event{Kind: harness.KindStarted, HarnessSessionID: "h-1", Raw: json.RawMessage(`{"type":"system"}`)}),
		harnessEvent(t, 1, harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: "t1", Name: "Bash", Input: json.RawMessage(`{"command":"ls"}`)}}),
		harnessEvent(t, 1, harness.Event{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{Tool: "Bash"}}))
	step(StatusIdle, mustEvent(t, "session.turn.ended", TurnEnded{Turn: 1, Outcome: OutcomeCompleted, Result: "looks good"}))
	step(StatusRunning, mustEvent(t, "session.turn.started", TurnStarted{Turn: 2, Mode: ModeSend, Prompt: "and tests?", HarnessSessionID: "h-1"}))

	s, _ := r.Get(id)
	if s.HarnessSessionID != "h-1" || s.Turns != 2 || s.ToolCalls != 1 || s.Denials != 1 || s.Result != "looks good" || s.Agent != "reviewer" || s.Version != 6 {
		t.Fatalf("session = %+v", s)
	}
	// Turn 1 ran a minute; turn 2 is in flight.
	if s.RunningMS != 60_000 || s.TurnStartedAt.IsZero() {
		t.Fatalf("running %d ms, turn started at %v: want 60000 and a time", s.RunningMS, s.TurnStartedAt)
	}

	// A stale writer (another registry that missed the last turn) is refused.
	stale := NewRegistry()
	for e, err := range st.ReadStream(ctx, Stream(id), eventstore.ReadOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		stale.Apply(&e)
	}
	err = stale.Append(ctx, st, id, now, mustEvent(t, "session.paused", Paused{}))
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		t.Fatalf("stale append = %v, want wrong expected version", err)
	}

	// The restart: a new registry from the log still sees it running,
	// and InterruptRunning marks it.
	rebuilt := NewRegistry()
	runner := projection.NewRunner(rebuilt, st, st, projection.RunnerConfig{}, nil)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	defer func() { cancel(); <-done }()
	head, err := eventstore.Head(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	if got, _ := rebuilt.Get(id); !reflect.DeepEqual(got, s) {
		t.Fatalf("rebuilt %+v\nlive    %+v", got, s)
	}
	ids, err := rebuilt.InterruptRunning(ctx, st, "switchyard restarted while the turn ran", now)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("interrupt = %v, %v", ids, err)
	}
	got, _ := rebuilt.Get(id)
	if got.Status != StatusInterrupted || got.LastError != "switchyard restarted while the turn ran" || got.RunningMS != 120_000 {
		t.Fatalf("after interrupt: %+v (running %d ms: turn 2's minute counts until the interruption)", got, got.RunningMS)
	}
	if ids, err := rebuilt.InterruptRunning(ctx, st, "again", now); err != nil || len(ids) != 0 {
		t.Fatalf("second interrupt = %v, %v: nothing is running any more", ids, err)
	}
	if ls := rebuilt.List(Filter{Agent: "reviewer", Status: StatusInterrupted}); len(ls) != 1 {
		t.Fatalf("list interrupted = %v", ls)
	}
}

// A session Get handed out does not change when the registry folds the
// next events (callers read it without a lock); one nobody was handed
// changes in place, and an event that does not decode changes nothing.
func TestRegistryGetIsASnapshot(t *testing.T) {
	r := NewRegistry()
	id := NewID()
	pos := uint64(0)
	apply := func(typ string, data any) error {
		t.Helper()
		p := mustEvent(t, typ, data)
		pos++
		return r.Apply(&event.Event{ID: p.ID, Type: p.Type, Data: p.Data, Metadata: p.Metadata, Stream: Stream(id), StreamVersion: pos - 1, Position: pos, Time: time.Unix(int64(pos), 0)})
	}
	if err := apply("session.created", Created{ID: id, Agent: "a", Harness: "claude-code"}); err != nil {
		t.Fatal(err)
	}
	if err := apply("session.turn.started", TurnStarted{Turn: 1, Mode: ModeStart, Prompt: "p1"}); err != nil {
		t.Fatal(err)
	}
	handed, _ := r.Get(id)
	if handed.Turns != 1 || handed.Status != StatusRunning {
		t.Fatalf("after turn 1 started: %+v", handed)
	}
	if err := apply("session.turn.ended", TurnEnded{Turn: 1, Outcome: OutcomeCompleted, Result: "done"}); err != nil {
		t.Fatal(err)
	}
	if handed.Status != StatusRunning || handed.Version != 1 || handed.Result != "" {
		t.Fatalf("a session Get handed out changed: %+v", handed)
	}
	now, _ := r.Get(id)
	if now == handed || now.Status != StatusIdle || now.Result != "done" || now.Version != 2 {
		t.Fatalf("the registry's session after turn 1 ended: %+v", now)
	}
	// Not handed out since: later events change it in place, as they
	// would without the Get.
	before := *now
	listed := r.List(Filter{})
	if err := apply("session.turn.started", TurnStarted{Turn: 2, Mode: ModeSend, Prompt: "p2"}); err != nil {
		t.Fatal(err)
	}
	if listed[0].Status != StatusIdle || listed[0].Version != 2 {
		t.Fatalf("a listed session changed: %+v", listed[0])
	}
	pos++
	bad := &event.Event{Type: "session.turn.ended", Data: []byte(`{"turn": "two"}`), Stream: Stream(id), StreamVersion: pos - 1, Position: pos, Time: time.Unix(int64(pos), 0)}
	if err := r.Apply(bad); err == nil {
		t.Fatal("an event that does not decode was folded")
	}
	after, _ := r.Get(id)
	if after.Status != StatusRunning || after.Turns != 2 || after.Version != 3 || before.Version != 2 {
		t.Fatalf("after turn 2 started and an event that does not decode: %+v", after)
	}
}
