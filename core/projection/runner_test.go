package projection_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

func openStore(t *testing.T, dir string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed appends n events of type t.i spread over streams s-0..s-(k-1), and
// returns the expected count per stream and the last position.
func seed(t *testing.T, s eventstore.Store, n, k int) (map[string]uint64, uint64) {
	t.Helper()
	want := map[string]uint64{}
	var last uint64
	for i := 0; i < n; i++ {
		stream := fmt.Sprintf("s-%d", i%k)
		typ := []string{"t.a", "t.b"}[i%2]
		r, err := s.Append(context.Background(), stream, eventstore.Any, event.Proposed{Type: typ, Data: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		want[stream]++
		last = r.Positions[0]
	}
	return want, last
}

func checkCatalog(t *testing.T, c *projection.StreamCatalog, want map[string]uint64) {
	t.Helper()
	got := map[string]uint64{}
	for _, si := range c.Streams() {
		got[si.Stream] = si.Events
		if si.Types["t.a"]+si.Types["t.b"] != si.Events {
			t.Errorf("stream %s: type counts %v do not add up to %d", si.Stream, si.Types, si.Events)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("catalogue counts = %v, want %v", got, want)
	}
}

// run starts r and returns a function that stops it and returns Run's error.
func run(t *testing.T, r *projection.Runner) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("runner did not stop within 10s of cancel")
			return nil
		}
	}
}

func waitFor(t *testing.T, r *projection.Runner, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, pos); err != nil {
		t.Fatalf("projection did not reach position %d (at %d): %v", pos, r.Position(), err)
	}
}

func TestStreamCatalogFollowsLog(t *testing.T) {
	s := openStore(t, t.TempDir())
	want, last := seed(t, s, 300, 7)
	cat := projection.NewStreamCatalog()
	r := projection.NewRunner(cat, s, s, projection.RunnerConfig{CheckpointEvery: 50}, nil)
	stop := run(t, r)
	waitFor(t, r, last)
	checkCatalog(t, cat, want)

	// Live: events appended while it runs are folded too.
	more, last := seed(t, s, 40, 3)
	for k, v := range more {
		want[k] += v
	}
	waitFor(t, r, last)
	checkCatalog(t, cat, want)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cp, err := s.LoadCheckpoint(context.Background(), cat.Name())
	if err != nil || cp.Position != last {
		t.Fatalf("final checkpoint at %d (%v), want %d", cp.Position, err, last)
	}
}

// failAt wraps a projection so that Apply fails at one position, as a
// process crash would stop it: after some events past the last checkpoint
// were folded into memory but not saved.
type failAt struct {
	projection.Projection
	pos uint64
}

var errCrash = errors.New("simulated crash")

func (f *failAt) Apply(e *event.Event) error {
	if e.Position == f.pos {
		return errCrash
	}
	return f.Projection.Apply(e)
}

func TestRunnerResumesFromCheckpointWithoutDoubleCounting(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	want, last := seed(t, s, 500, 5)

	first := projection.NewStreamCatalog()
	r := projection.NewRunner(&failAt{first, 437}, s, s, projection.RunnerConfig{CheckpointEvery: 100, CheckpointInterval: time.Hour}, nil)
	if err := r.Run(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("Run = %v, want the simulated crash", err)
	}
	if first.Total() != 436 {
		t.Fatalf("crashed projection folded %d events, want 436", first.Total())
	}
	cp, err := s.LoadCheckpoint(context.Background(), first.Name())
	// Saves come every 100 events at most (fewer when saving is slow
	// next to folding: saveShare), and none at the crash.
	if err != nil || cp.Position == 0 || cp.Position > 400 || cp.Position%100 != 0 {
		t.Fatalf("checkpoint at %d (%v), want one of 100..400: the crash must not save", cp.Position, err)
	}

	// Reopen the store too, as a restarted process would.
	s.Close()
	s = openStore(t, dir)
	second := projection.NewStreamCatalog()
	r = projection.NewRunner(second, s, s, projection.RunnerConfig{CheckpointEvery: 100}, nil)
	stop := run(t, r)
	waitFor(t, r, last)
	checkCatalog(t, second, want)
	if second.Total() != 500 {
		t.Fatalf("resumed projection folded %d events in all, want 500", second.Total())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestRebuildStartsFromZero(t *testing.T) {
	s := openStore(t, t.TempDir())
	want, last := seed(t, s, 120, 4)
	cat := projection.NewStreamCatalog()
	r := projection.NewRunner(cat, s, s, projection.RunnerConfig{}, nil)
	stop := run(t, r)
	waitFor(t, r, last)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuilt := projection.NewStreamCatalog()
	r = projection.NewRunner(rebuilt, s, s, projection.RunnerConfig{}, nil)
	stop = run(t, r)
	waitFor(t, r, last)
	checkCatalog(t, rebuilt, want)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A checkpoint the projection cannot read (another version's format, or
// damage) must not stop it: it is rebuilt from the log, which ends with
// the same state as a fold from the start.
func TestUnreadableCheckpointRebuilds(t *testing.T) {
	s := openStore(t, t.TempDir())
	want, last := seed(t, s, 60, 4)
	cat := projection.NewStreamCatalog()
	if err := s.SaveCheckpoint(context.Background(), cat.Name(), projection.Checkpoint{Position: 30, State: []byte("{not json")}); err != nil {
		t.Fatal(err)
	}
	r := projection.NewRunner(cat, s, s, projection.RunnerConfig{}, nil)
	stop := run(t, r)
	waitFor(t, r, last)
	checkCatalog(t, cat, want)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// restoreSpy records whether Restore ran.
type restoreSpy struct {
	*projection.StreamCatalog
	restored chan struct{}
}

func (s *restoreSpy) Restore(b []byte) error {
	close(s.restored)
	return s.StreamCatalog.Restore(b)
}

// TestWaitForZeroWaitsForTheRestore: on an empty log, WaitFor(0) must not
// return before Run has restored the checkpoint, or a caller's write into
// the projection (a key applied at once, say) could be wiped by it.
func TestWaitForZeroWaitsForTheRestore(t *testing.T) {
	s := openStore(t, t.TempDir())
	spy := &restoreSpy{StreamCatalog: projection.NewStreamCatalog(), restored: make(chan struct{})}
	r := projection.NewRunner(spy, s, s, projection.RunnerConfig{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.WaitFor(ctx, 0); err == nil {
		t.Fatal("WaitFor(0) returned before Run started")
	}
	stop := run(t, r)
	defer stop()
	waitFor(t, r, 0)
	select {
	case <-spy.restored:
	default:
		t.Fatal("WaitFor(0) returned before Restore")
	}
}

// named renames a catalogue, so that two can keep checkpoints side by side.
type named struct {
	*projection.StreamCatalog
	name string
}

func (n named) Name() string { return n.name }

// The embedded store hands a group its events a page at a time.
var _ projection.PageSource = (*embedded.Store)(nil)

// eventsOnly hides a store's pages: a group reads it event by event.
type eventsOnly struct{ projection.Source }

// A group folds one subscription into several projections: one resumes
// from its checkpoint while another starts from zero, a third fails on
// an event and stops alone, and live events reach those left. The same
// from a source of pages and from one of events.
func TestGroupSharesOneSubscription(t *testing.T) {
	t.Run("pages", func(t *testing.T) { testGroupSharesOneSubscription(t, false) })
	t.Run("events", func(t *testing.T) { testGroupSharesOneSubscription(t, true) })
}

func testGroupSharesOneSubscription(t *testing.T, eventByEvent bool) {
	s := openStore(t, t.TempDir())
	var src projection.Source = s
	if eventByEvent {
		src = eventsOnly{s}
	}
	want, last := seed(t, s, 1500, 7)

	// A first run of "ahead" alone leaves it a checkpoint at the head.
	ahead := named{projection.NewStreamCatalog(), "ahead"}
	stop := run(t, projection.NewRunner(ahead, s, s, projection.RunnerConfig{}, nil))
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	g := projection.NewGroup(src, s, nil)
	ahead = named{projection.NewStreamCatalog(), "ahead"}
	fresh := named{projection.NewStreamCatalog(), "fresh"}
	broken := named{projection.NewStreamCatalog(), "broken"}
	ra := g.Add(ahead, projection.RunnerConfig{})
	rf := g.Add(fresh, projection.RunnerConfig{CheckpointEvery: 100})
	rb := g.Add(&failAt{broken, 700}, projection.RunnerConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	waitFor(t, ra, last)
	waitFor(t, rf, last)
	// The resumed one counts nothing twice, the fresh one everything once.
	checkCatalog(t, ahead.StreamCatalog, want)
	checkCatalog(t, fresh.StreamCatalog, want)
	if got := rb.Position(); got >= 700 {
		t.Fatalf("the failed projection is at %d, past its bad event at 700", got)
	}

	more, last := seed(t, s, 30, 2)
	for k, v := range more {
		want[k] += v
	}
	waitFor(t, ra, last)
	waitFor(t, rf, last)
	checkCatalog(t, ahead.StreamCatalog, want)
	checkCatalog(t, fresh.StreamCatalog, want)

	cancel()
	if err := <-done; !errors.Is(err, errCrash) {
		t.Fatalf("Run = %v, want the failed projection's error", err)
	}
	for _, name := range []string{"ahead", "fresh"} {
		if cp, err := s.LoadCheckpoint(context.Background(), name); err != nil || cp.Position != last {
			t.Fatalf("%s's last checkpoint at %d (%v), want %d", name, cp.Position, err, last)
		}
	}
	if cp, _ := s.LoadCheckpoint(context.Background(), "broken"); cp.Position >= 700 {
		t.Fatalf("the failed projection saved past its bad event: %d", cp.Position)
	}
}

func TestStreamCatalogSnapshotRoundTrip(t *testing.T) {
	s := openStore(t, t.TempDir())
	want, last := seed(t, s, 90, 5)
	cat := projection.NewStreamCatalog()
	r := projection.NewRunner(cat, s, s, projection.RunnerConfig{}, nil)
	stop := run(t, r)
	waitFor(t, r, last)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	snap, err := cat.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	back := projection.NewStreamCatalog()
	if err := back.Restore(snap); err != nil {
		t.Fatal(err)
	}
	checkCatalog(t, back, want)
	if !reflect.DeepEqual(back.Streams(), cat.Streams()) || back.Total() != cat.Total() || back.Total() != 90 {
		t.Fatalf("restored catalogue differs:\n%+v (%d)\nwant\n%+v (%d)", back.Streams(), back.Total(), cat.Streams(), cat.Total())
	}
	if err := projection.NewStreamCatalog().Restore(snap[:len(snap)-3]); err == nil {
		t.Fatal("a truncated snapshot was restored")
	}
}

// CatchUp waits as long as the fold takes, saying how far it is, and
// gives up only when its context does.
func TestCatchUpWaitsAndReports(t *testing.T) {
	defer projection.SetCatchUpReport(20 * time.Millisecond)()
	s := openStore(t, t.TempDir())
	_, last := seed(t, s, 50, 3)
	r := projection.NewRunner(projection.NewStreamCatalog(), s, s, projection.RunnerConfig{}, nil)

	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err := projection.CatchUp(ctx, last, log, r)
	cancel()
	if err == nil || !strings.Contains(err.Error(), "stream-catalog at position 0 of") {
		t.Fatalf("CatchUp with no runner running = %v, want the context's error naming the projection", err)
	}
	if !strings.Contains(logged.String(), "catching up with the event log") {
		t.Fatalf("CatchUp did not report its progress while it waited:\n%s", logged.String())
	}

	done := make(chan error, 1)
	go func() { done <- projection.CatchUp(context.Background(), last, log, r) }()
	time.Sleep(60 * time.Millisecond) // longer than a report: a timeout there would end it
	stop := run(t, r)
	defer stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CatchUp did not return once the runner caught up")
	}
}

// A runner catching up (old events, or batches as full as they come)
// saves less of the time than one following the log live.
func TestShareOfSaves(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(age time.Duration, n int) []event.Event {
		b := make([]event.Event, n)
		for i := range b {
			b[i].Time = now.Add(-age)
		}
		return b
	}
	for _, c := range []struct {
		name  string
		batch []event.Event
		want  float64
	}{
		{"live", at(time.Second, 3), projection.SaveShare},
		{"an hour old", at(time.Hour, 3), projection.CatchUpSaveShare},
		{"a full batch of new events", at(time.Second, projection.BatchSize), projection.CatchUpSaveShare},
		{"nothing", nil, projection.SaveShare},
	} {
		if got := projection.ShareOfSaves(c.batch, now); got != c.want {
			t.Errorf("%s: share %v, want %v", c.name, got, c.want)
		}
	}
	if projection.CatchUpSaveShare >= projection.SaveShare {
		t.Fatalf("catching up saves %v of the time, live %v: catching up should save less", projection.CatchUpSaveShare, projection.SaveShare)
	}
}
