package budget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/budget"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadHistory(t *testing.T) []*event.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	if err := json.Unmarshal(b, &evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		// The history must be what the gateway writes: data that decodes
		// into the catalogue's structs.
		if _, err := event.Decode(e); err != nil {
			t.Fatalf("testdata/history.json: %v", err)
		}
	}
	return evs
}

// golden compares got (JSON) with testdata/name, indented, or rewrites it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("%s differs (go test -update rewrites it after review):\n got %s\nwant %s", path, buf.Bytes(), want)
	}
}

func TestReplayHistory(t *testing.T) {
	m := newManager(t, newClock(t0))
	apply(t, m, loadHistory(t)...)
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "history.snapshot.json", snap)

	// The same figures, worked out by hand from testdata/history.json.
	tests := []struct {
		scope, period string
		want          float64
	}{
		{"key:k1", "total", 1.5 + 2.25 + 0.4 + 3.1},
		{"key:k1", "month", 0.4 + 3.1},
		{"key:k1", "day", 3.1},
		{"team:finance", "total", 7.250001},
		{"team:finance", "month", 3.500001},
		{"user:bob", "month", 0.000001},
		{"user:bob", "day", 0}, // spent on 2026-11-01
		{"agent:reviewer", "total", 5},
		{"key:k3", "day", 0.75},
		{"team:research", "total", 0}, // unpriced
	}
	for _, tc := range tests {
		t.Run(tc.scope+"/"+tc.period, func(t *testing.T) {
			if got := m.Spent(tc.scope, tc.period); got != tc.want {
				t.Fatalf("Spent = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestApplyRefusesBadEvents(t *testing.T) {
	tests := []struct {
		name string
		ev   *event.Event
		want string
	}{
		{"newer schema", &event.Event{Type: "model.call.completed", Data: json.RawMessage(`{"cost_usd":1}`), Metadata: event.Metadata{Schema: 2}},
			"model.call.completed event has schema 2, newer than this build knows (1): upgrade switchyard"},
		{"mistyped cost", &event.Event{Type: "model.call.failed", Data: json.RawMessage(`{"cost_usd":"1"}`)},
			"decode model.call.failed event"},
		{"negative cost", &event.Event{Type: "model.call.completed", Data: json.RawMessage(`{"call_id":"c","cost_usd":-1}`)},
			`model.call.completed event for call "c" costs -1 dollars`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, newClock(t0))
			if err := m.Apply(tc.ev); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply = %v, want an error with %q", err, tc.want)
			}
		})
	}
	// Other types are ignored whatever their data.
	m := newManager(t, newClock(t0))
	if err := m.Apply(&event.Event{Type: "session.started", Data: json.RawMessage(`not json`)}); err != nil {
		t.Fatalf("Apply(session.started) = %v", err)
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	evs := loadHistory(t)
	m := newManager(t, newClock(t0))
	apply(t, m, evs...)
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := newManager(t, newClock(t0), budget.Rule{Scope: "team:finance", SpendUSD: 10, Period: "month"})
	admit(t, r, "live", []string{"team:finance"}, 1, 0) // a hold Restore keeps
	apply(t, r, call{id: "x", team: "finance", cost: 99}.ev(1))
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	again, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, again) {
		t.Fatalf("snapshot after restore\n got %s\nwant %s", again, snap)
	}
	if got := remaining(t, r, "team:finance"); got != 10-3.500001-1 {
		t.Fatalf("remaining after restore = %v, want %v (restored month spend and the live hold)", got, 10-3.500001-1)
	}
	if err := r.Restore(nil); err != nil {
		t.Fatal(err)
	}
	if got := r.Spent("team:finance", "total"); got != 0 {
		t.Fatalf("Restore(nil) left spend %v", got)
	}
	for _, bad := range []string{`{"version":2,"scopes":{}}`, `{"version":1,"scopes":{"team:a":{"total_nano_usd":1,"day":"14/11/2026"}}}`, `[`} {
		if err := r.Restore([]byte(bad)); err == nil {
			t.Errorf("Restore(%s) accepted", bad)
		}
	}
}

// liveRun drives a Manager as the gateway does: admit, call, settle, and
// hand the event to a log that the projection applies later. It returns
// the log.
func liveRun(t *testing.T, m *budget.Manager, c *clock, n int, applyNow func(e *event.Event)) []*event.Event {
	t.Helper()
	var log []*event.Event
	keys := []string{"k1", "k2", "k3"}
	for i := range n {
		key := keys[i%len(keys)]
		id := fmt.Sprint("call-", i)
		est := 0.01 * float64(1+i%7)
		tk, err := m.Admit(id, budget.Scopes(key, "finance", "alice", ""), budget.Estimate{CostNanoUSD: budget.NanoUSD(est), Tokens: 1000})
		if err != nil {
			log = append(log, nil) // refused: no model.call event
			continue
		}
		actual := est * float64(i%3) / 2 // 0, est/2 or est
		c.Add(37 * time.Minute)          // crosses days and a month
		ev := call{id: id, key: key, team: "finance", user: "alice", cost: actual, at: c.Now()}.ev(uint64(len(log) + 1))
		if i%4 == 0 {
			applyNow(ev) // the projection was quick: the event came before Settle
		}
		tk.Settle(budget.NanoUSD(actual), 500)
		log = append(log, ev)
		if i%4 == 1 {
			applyNow(ev)
		}
	}
	return log
}

func TestRebuildEqualsLive(t *testing.T) {
	c := newClock(t0)
	rules := []budget.Rule{{Scope: "team:finance", SpendUSD: 0.5, Period: "day"}, {Scope: "key:k1", SpendUSD: 1, Period: "month"}}
	live := newManager(t, c, rules...)
	applied := map[*event.Event]bool{}
	log := liveRun(t, live, c, 400, func(e *event.Event) { apply(t, live, e); applied[e] = true })
	// The runner catches up with the rest.
	refused := 0
	for _, e := range log {
		if e == nil {
			refused++
		} else if !applied[e] {
			apply(t, live, e)
		}
	}
	if refused == 0 {
		t.Fatal("no call was refused: the caps are not exercised")
	}
	if calls, held := live.InFlight(); calls != 0 || held != 0 {
		t.Fatalf("after every event: %d calls held $%v, want none", calls, held)
	}

	rebuilt := newManager(t, c, rules...)
	for _, e := range log {
		if e != nil {
			apply(t, rebuilt, e)
		}
	}
	a, _ := live.Snapshot()
	b, _ := rebuilt.Snapshot()
	if !bytes.Equal(a, b) {
		t.Fatalf("rebuilt state differs from live:\nlive    %s\nrebuilt %s", a, b)
	}
	for _, s := range []string{"team:finance", "key:k1"} {
		if x, y := remaining(t, live, s), remaining(t, rebuilt, s); x != y {
			t.Errorf("%s remaining: live %v, rebuilt %v", s, x, y)
		}
	}
}

// TestRestartCountsEachCallOnce runs the Manager under a projection runner
// on the embedded store, stops it with calls settled but not yet in the
// log, writes their events while it is down, and restarts.
func TestRestartCountsEachCallOnce(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := newClock(t0)
	rules := []budget.Rule{{Scope: "team:finance", SpendUSD: 100, Period: "total"}}
	appendEv := func(cl call) uint64 {
		e := cl.ev(0)
		r, err := store.Append(ctx, e.Stream, eventstore.Any, event.Proposed{Type: e.Type, Data: e.Data, Metadata: e.Metadata, Time: e.Time})
		if err != nil {
			t.Fatal(err)
		}
		return r.Positions[0]
	}
	start := func(m *budget.Manager) (*projection.Runner, func()) {
		r := projection.NewRunner(m, store, store, projection.RunnerConfig{CheckpointEvery: 2}, nil)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		return r, func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor := func(r *projection.Runner, pos uint64) {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := r.WaitFor(wctx, pos); err != nil {
			t.Fatalf("runner did not reach position %d: %v", pos, err)
		}
	}
	scopes := []string{"team:finance"}

	m1 := newManager(t, c, rules...)
	r1, stop1 := start(m1)
	var last uint64
	for i := range 5 { // $1 + ... + $5 = $15, settled and logged
		id := fmt.Sprint("a", i)
		tk := admit(t, m1, id, scopes, 10, 0)
		tk.Settle(budget.NanoUSD(float64(i+1)), 0)
		last = appendEv(call{id: id, team: "finance", cost: float64(i + 1)})
	}
	waitFor(r1, last)
	admit(t, m1, "b", scopes, 10, 0).Settle(budget.NanoUSD(7), 0) // settled, event not written yet
	if got := remaining(t, m1, "team:finance"); got != 100-15-7 {
		t.Fatalf("before restart: remaining %v, want %v", got, 100-15-7)
	}
	stop1()
	// Written while the projection is down (or by another node).
	last = appendEv(call{id: "b", team: "finance", cost: 7})
	last = appendEv(call{id: "other-node", team: "finance", cost: 2})

	m2 := newManager(t, c, rules...)
	r2, stop2 := start(m2)
	waitFor(r2, last)
	if got := remaining(t, m2, "team:finance"); got != 100-15-7-2 {
		t.Fatalf("after restart: remaining %v, want %v", got, 100-15-7-2)
	}
	stop2()

	// The same again from the checkpoint just saved: nothing more counts.
	m3 := newManager(t, c, rules...)
	r3, stop3 := start(m3)
	waitFor(r3, last)
	if got := m3.Spent("team:finance", "total"); got != 24 {
		t.Fatalf("second restart: spent %v, want 24", got)
	}
	stop3()

	// And a rebuild from position 0 agrees.
	m4 := newManager(t, c, rules...)
	r4 := projection.NewRunner(m4, store, store, projection.RunnerConfig{}, nil)
	if err := r4.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	r4, stop4 := start(m4)
	waitFor(r4, last)
	stop4()
	s2, _ := m2.Snapshot()
	s4, _ := m4.Snapshot()
	if !bytes.Equal(s2, s4) {
		t.Fatalf("rebuild differs from restart:\nrestart %s\nrebuild %s", s2, s4)
	}
}

// TestRestoreOlderCheckpointInProcess covers a runner that fails and
// restarts in the same process: it restores an older checkpoint and applies
// again events whose calls this Manager settled. Nothing counts twice.
func TestRestoreOlderCheckpointInProcess(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c, budget.Rule{Scope: "team:finance", SpendUSD: 100, Period: "total"})
	scopes := []string{"team:finance"}
	ev1 := call{id: "a", team: "finance", cost: 3}.ev(1)
	admit(t, m, "a", scopes, 5, 0).Settle(budget.NanoUSD(3), 0)
	apply(t, m, ev1)
	checkpoint, _ := m.Snapshot() // as of position 1

	ev2 := call{id: "b", team: "finance", cost: 4}.ev(2)
	admit(t, m, "b", scopes, 5, 0).Settle(budget.NanoUSD(4), 0)
	apply(t, m, ev2)
	tkC := admit(t, m, "c", scopes, 5, 0) // still running
	if got := remaining(t, m, "team:finance"); got != 100-3-4-5 {
		t.Fatalf("remaining %v", got)
	}

	if err := m.Restore(checkpoint); err != nil {
		t.Fatal(err)
	}
	apply(t, m, ev2)
	if got := remaining(t, m, "team:finance"); got != 100-3-4-5 {
		t.Fatalf("after restore and re-apply: remaining %v, want %v", got, 100-3-4-5)
	}
	tkC.Settle(budget.NanoUSD(1), 0)
	apply(t, m, call{id: "c", team: "finance", cost: 1}.ev(3))
	if got := m.Spent("team:finance", "total"); got != 8 {
		t.Fatalf("spent %v, want 8", got)
	}
}
