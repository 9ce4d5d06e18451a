package eventstoretest

import (
	"context"
	"errors"
	"iter"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

var allFeatures = Features{
	StreamMetadata: true,
	DeleteStream:   true,
	Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
		// A store with a planted bug reopens with the same bug.
		if b, ok := s.(*broken); ok {
			return &broken{Store: b.Store.(*memStore).reopen(), bug: b.bug}
		}
		return s.(*memStore).reopen()
	},
}

func newMem(t *testing.T) eventstore.Store {
	s := newMemStore()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMemStore(t *testing.T) {
	Run(t, allFeatures, newMem)
}

// The suite must be able to fail. Each case below runs one group of it, in
// a child process (this test binary again), against a store with one bug,
// and requires that the group fails, naming the cases that catch the bug.

// brokenEnv names the bug TestBrokenStore plants; unset, it skips.
const brokenEnv = "EVENTSTORETEST_BROKEN"

func TestSuiteCatchesBugs(t *testing.T) {
	cases := []struct {
		bug string
		// run selects the cases to run, as -run does below TestBrokenStore.
		run string
		// fails are cases that must be reported failing.
		fails []string
	}{
		{"ignores-expected-version", "^Append$", []string{"Append/ExpectedVersion/no-stream-on-existing", "Append/ExpectedVersion/exact-behind"}},
		{"lost-update", "^Hammer$", []string{"Hammer/SameStream"}},
		{"not-idempotent", "^Idempotency$", []string{"Idempotency/RetryReturnsOriginalResult", "Idempotency/IDInAnotherStream"}},
		{"broken-chain", "^HashChain$", []string{"HashChain/AcrossAppends"}},
		{"limit-off-by-one", "^Read$", []string{"Read/StreamRanges", "Read/LongStream"}},
		{"ignores-metadata", "^StreamMetadata$", []string{"StreamMetadata/RoundTripAndReplace", "StreamMetadata/MaxCount"}},
		{"lossy-subscription", "^Subscribe$/^(CatchUpThenLive|ConcurrentAppends)$", []string{"Subscribe/CatchUpThenLive", "Subscribe/ConcurrentAppends"}},
		{"forgets-on-reopen", "^Persistence$", []string{"Persistence/Events"}},
		{"delete-restarts-stream", "^DeleteStream$", []string{"DeleteStream/DeleteAndRecreate/any"}},
		{"append-ignores-close", "^Close$", []string{"Close/CallsAfterClose", "Close/DuringAppends"}},
	}
	for _, c := range cases {
		t.Run(c.bug, func(t *testing.T) {
			t.Parallel()
			out, err := runChild(t, c.bug, c.run)
			var exit *exec.ExitError
			switch {
			case err == nil:
				t.Fatalf("the suite passed against a store with bug %q:\n%s", c.bug, out)
			case !errors.As(err, &exit):
				t.Fatalf("run the suite against a store with bug %q: %v", c.bug, err)
			}
			for _, f := range c.fails {
				if !strings.Contains(out, "--- FAIL: TestBrokenStore/"+f+" ") {
					t.Errorf("the suite did not report %s failing against a store with bug %q:\n%s", f, c.bug, out)
				}
			}
		})
	}

	t.Run("missing-features-skip", func(t *testing.T) {
		t.Parallel()
		out, err := runChild(t, "no-features", "^(StreamMetadata|DeleteStream|Persistence)$")
		if err != nil {
			t.Fatalf("the suite failed on a store declaring no features: %v\n%s", err, out)
		}
		for _, g := range []string{"StreamMetadata", "DeleteStream", "Persistence"} {
			if !strings.Contains(out, "--- SKIP: TestBrokenStore/"+g+" ") {
				t.Errorf("group %s did not skip on a store declaring no features:\n%s", g, out)
			}
		}
	})
}

// runChild runs the cases of the suite that run selects against a store
// with bug, in a child process, and returns its output.
func runChild(t *testing.T, bug, run string) (string, error) {
	args := []string{"-test.run=^TestBrokenStore$/" + run, "-test.count=1", "-test.timeout=120s", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	// The race detector's default 1s pause at exit adds up.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), brokenEnv+"="+bug, "GORACE="+gorace)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBrokenStore runs the suite against a store with the bug brokenEnv
// names: it is the child process of TestSuiteCatchesBugs.
func TestBrokenStore(t *testing.T) {
	bug := os.Getenv(brokenEnv)
	if bug == "" {
		t.Skip("runs only as a child of TestSuiteCatchesBugs")
	}
	f := allFeatures
	newStore := func(t *testing.T) eventstore.Store {
		m := newMemStore()
		t.Cleanup(func() { _ = m.Close() })
		var s eventstore.Store = m
		switch bug {
		case "lost-update":
			m.d.racy = true
		case "delete-restarts-stream":
			m.d.forgetDeleted = true
		case "no-features":
		default:
			s = &broken{Store: m, bug: bug}
		}
		return s
	}
	switch bug {
	case "no-features":
		f = Features{}
	case "forgets-on-reopen":
		f.Reopen = func(t *testing.T, s eventstore.Store) eventstore.Store {
			// Loses the last event of every stream, like a store that
			// acknowledges before its write is durable.
			s.Close()
			m := s.(*broken).Store.(*memStore)
			m.d.mu.Lock()
			defer m.d.mu.Unlock()
			fresh := newMemStore()
			for _, e := range m.d.log {
				if st := m.d.streams[e.Stream]; int(e.StreamVersion) == len(st.idx)-1 {
					continue
				}
				p := event.Proposed{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata, Time: e.Time}
				if _, err := fresh.Append(context.Background(), e.Stream, eventstore.Any, p); err != nil {
					t.Fatal(err)
				}
			}
			return fresh
		}
	}
	Run(t, f, newStore)
}

// broken wraps a store with one bug.
type broken struct {
	eventstore.Store
	bug string
}

func (b *broken) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...event.Proposed) (eventstore.AppendResult, error) {
	switch b.bug {
	case "ignores-expected-version":
		expected = eventstore.Any
	case "append-ignores-close":
		// Reports success for an append it cannot make.
		if res, err := b.Store.Append(ctx, stream, expected, events...); !errors.Is(err, eventstore.ErrClosed) {
			return res, err
		}
		return eventstore.AppendResult{FirstVersion: 0, LastVersion: uint64(len(events)) - 1, Positions: make([]uint64, len(events))}, nil
	case "not-idempotent":
		events = append([]event.Proposed(nil), events...)
		for i := range events {
			events[i].ID = event.NewID()
		}
	}
	return b.Store.Append(ctx, stream, expected, events...)
}

func (b *broken) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	if b.bug == "limit-off-by-one" && opts.Limit > 0 {
		opts.Limit++
	}
	return b.mangle(b.Store.ReadStream(ctx, stream, opts))
}

func (b *broken) ReadAll(ctx context.Context, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	return b.mangle(b.Store.ReadAll(ctx, opts))
}

func (b *broken) SubscribeAll(ctx context.Context, from uint64) iter.Seq2[event.Event, error] {
	seq := b.Store.SubscribeAll(ctx, from)
	if b.bug != "lossy-subscription" {
		return seq
	}
	// Drops the second event of every stream: a gap the suite sees when
	// the third arrives. (A lost last event shows only as a timeout.)
	return func(yield func(event.Event, error) bool) {
		for e, err := range seq {
			if err == nil && e.StreamVersion == 1 {
				continue
			}
			if !yield(e, err) {
				return
			}
		}
	}
}

func (b *broken) SetStreamMetadata(ctx context.Context, stream string, md eventstore.StreamMetadata) error {
	if b.bug == "ignores-metadata" {
		return nil
	}
	return b.Store.SetStreamMetadata(ctx, stream, md)
}

// mangle breaks the hash chain of events read back, for "broken-chain":
// each event's PrevHash is taken as its own hash input, not the previous
// event's hash.
func (b *broken) mangle(seq iter.Seq2[event.Event, error]) iter.Seq2[event.Event, error] {
	if b.bug != "broken-chain" {
		return seq
	}
	return func(yield func(event.Event, error) bool) {
		for e, err := range seq {
			if err == nil && e.StreamVersion > 0 {
				e.PrevHash[0] ^= 1
				e.Hash = e.ComputeHash()
			}
			if !yield(e, err) {
				return
			}
		}
	}
}
