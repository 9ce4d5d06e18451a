package agent

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

func openStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func streamTypes(t *testing.T, s eventstore.Reader, name string) []string {
	t.Helper()
	var types []string
	for e, err := range s.ReadStream(context.Background(), Stream(name), eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
	}
	return types
}

func TestPutIsIdempotentAndRecordsHistory(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	r := NewRegistry()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	d := Definition{Name: "reviewer", Harness: "claude-code", Model: "claude-sonnet-4-5", Tags: map[string]string{"task": "review"}}

	res, err := r.Put(ctx, s, d, "user:alice", now, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !res.Changed || res.Agent.Revision != 1 || res.Agent.Definition.Sandbox != "auto" {
		t.Fatalf("first put = %+v", res)
	}
	// The same definition again, spelt with its defaults: nothing new.
	d2 := d
	d2.Sandbox, d2.Resume = "auto", "manual"
	res, err = r.Put(ctx, s, d2, "user:bob", now, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Changed || len(res.Diff) != 0 {
		t.Fatalf("second put of the same definition = %+v", res)
	}
	// A change: a dry run says what would change and writes nothing.
	d.Model = "claude-opus-4-1"
	d.Tags = nil
	res, err = r.Put(ctx, s, d, "user:bob", now, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`~ model: "claude-sonnet-4-5" -> "claude-opus-4-1"`, `- tags.task: "review"`}
	if got := changes(res.Diff); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff = %q, want %q", got, want)
	}
	if got := streamTypes(t, s, "reviewer"); len(got) != 1 {
		t.Fatalf("a dry run wrote: %v", got)
	}
	if res, err = r.Put(ctx, s, d, "user:bob", now.Add(time.Hour), false); err != nil || !res.Changed || res.Agent.Revision != 2 || res.Agent.UpdatedBy != "user:bob" {
		t.Fatalf("change = %+v, %v", res, err)
	}
	if err := r.Delete(ctx, s, "reviewer", "retired", "user:carol", now); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get("reviewer"); ok {
		t.Fatal("deleted agent still listed")
	}
	if err := r.Delete(ctx, s, "reviewer", "", "user:carol", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
	// Defined again: the stream goes on, one history.
	if res, err = r.Put(ctx, s, d, "user:alice", now, false); err != nil || !res.Created || res.Agent.Revision != 1 {
		t.Fatalf("re-create = %+v, %v", res, err)
	}
	got := streamTypes(t, s, "reviewer")
	if strings.Join(got, ",") != "agent.applied,agent.applied,agent.deleted,agent.applied" {
		t.Fatalf("history = %v", got)
	}

	// The registry is a projection: rebuilt from the log it is the same.
	rebuilt := NewRegistry()
	runner := projection.NewRunner(rebuilt, s, s, projection.RunnerConfig{}, nil)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(rctx) }()
	head, err := s.StreamVersion(ctx, Stream("reviewer"))
	if err != nil || head != 3 {
		t.Fatalf("stream version = %d, %v", head, err)
	}
	last, err := eventstore.Head(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	a, _ := r.Get("reviewer")
	b, ok := rebuilt.Get("reviewer")
	if !ok || !reflect.DeepEqual(a, b) || b.Version != 3 {
		t.Fatalf("rebuilt %+v, live %+v", b, a)
	}
	// Applying what it already has (the runner bringing Put's own event)
	// changes nothing.
	for e, err := range s.ReadStream(ctx, Stream("reviewer"), eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Apply(&e); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := r.Get("reviewer"); !reflect.DeepEqual(c, a) {
		t.Fatalf("re-applied events changed the agent: %+v -> %+v", a, c)
	}
}

// Two writers (two servers on one store) that both saw version 0: the
// second's change is refused, not lost silently.
func TestPutConflict(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	a, b := NewRegistry(), NewRegistry()
	d := Definition{Name: "x", Harness: "codex", Model: "m1"}
	if _, err := a.Put(ctx, s, d, "", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	for e, err := range s.ReadStream(ctx, Stream("x"), eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		b.Apply(&e)
	}
	d.Model = "m2"
	if _, err := a.Put(ctx, s, d, "", time.Now(), false); err != nil {
		t.Fatal(err)
	}
	d.Model = "m3"
	_, err := b.Put(ctx, s, d, "", time.Now(), false)
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		t.Fatalf("stale writer's put = %v, want a wrong expected version", err)
	}
}

func TestPutRefusesInvalid(t *testing.T) {
	s := openStore(t)
	_, err := NewRegistry().Put(context.Background(), s, Definition{Name: "x", Harness: "bash"}, "", time.Now(), false)
	var fes FieldErrors
	if !errors.As(err, &fes) || len(fes) != 2 || fes[0].Path != "harness" || fes[1].Path != "model" {
		t.Fatalf("err = %#v", err)
	}
}

func changes(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

var _ projection.Projection = (*Registry)(nil)
