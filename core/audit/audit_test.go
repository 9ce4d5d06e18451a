package audit_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

// history writes a small log of admin actions and other events to a real
// store and returns it as read back, hashes and all.
func history(t *testing.T) []event.Event {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	add := func(stream, typ, data string, md event.Metadata) {
		t.Helper()
		if _, err := st.Append(ctx, stream, eventstore.Any, event.Proposed{Type: typ, Data: json.RawMessage(data), Metadata: md}); err != nil {
			t.Fatal(err)
		}
	}
	alice := event.Metadata{Actor: "user:alice"}
	add("agent-reviewer", "agent.applied", `{"definition":{"name":"reviewer"},"digest":"sha256:aaa"}`, alice)
	add("keys", "key.created", `{"key":{"id":"key_1","name":"ci"}}`, alice)
	add("calls-key_1", "model.call.completed", `{"call_id":"c1","cost_usd":0.1}`, event.Metadata{Actor: "key:key_1"})
	add("session-s1", "session.created", `{"id":"s1","agent":"reviewer","prompt":"review the diff"}`, event.Metadata{Actor: "user:bob", Session: "s1"})
	add("session-s1", "session.harness.message", `{"turn":1}`, event.Metadata{Session: "s1"})
	add("session-s1", "session.stopped", `{"reason":"done"}`, event.Metadata{Actor: "user:bob", Session: "s1"})
	add("plugins", "routing.plugin.enabled", `{"name":"finance","digest":"sha256:bbb"}`, event.Metadata{Actor: "user:carol"})
	add("keys", "key.revoked", `{"id":"key_1","reason":"leaked"}`, alice)
	add("agent-reviewer", "agent.deleted", `{"name":"reviewer","reason":"retired"}`, alice)
	var evs []event.Event
	for e, err := range st.ReadAll(ctx, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

func fold(t *testing.T, evs []event.Event) *audit.Model {
	t.Helper()
	m := audit.New()
	for i := range evs {
		if err := m.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestWhoDidWhatToWhich(t *testing.T) {
	m := fold(t, history(t))
	r := m.Query(audit.Filter{})
	var got []string
	for _, e := range r.Entries {
		got = append(got, e.Actor+" "+e.Action+" "+e.Target+" ("+e.Detail+")")
	}
	want := []string{
		"user:alice agent.applied agent:reviewer (digest sha256:aaa)",
		"user:alice key.created key:key_1 (name ci)",
		`user:bob session.created session:s1 (agent reviewer, prompt "review the diff")`,
		"user:bob session.stopped session:s1 (reason done)",
		"user:carol routing.plugin.enabled plugin:finance (digest sha256:bbb)",
		"user:alice key.revoked key:key_1 (reason leaked)",
		"user:alice agent.deleted agent:reviewer (reason retired)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Chains.Events != 9 || r.Chains.Streams != 5 || len(r.Chains.Breaks) != 0 {
		t.Fatalf("chains %+v, want 9 events in 5 streams, no break", r.Chains)
	}
	for _, c := range []struct {
		f    audit.Filter
		want int
	}{
		{audit.Filter{Actor: "user:alice"}, 4},
		{audit.Filter{Target: "key:"}, 2},
		{audit.Filter{Target: "agent:reviewer"}, 2},
		{audit.Filter{Action: "session."}, 2},
		{audit.Filter{Action: "key.revoked"}, 1},
		{audit.Filter{Limit: 3}, 3},
		{audit.Filter{Since: time.Now().Add(time.Hour)}, 0},
	} {
		if n := len(m.Query(c.f).Entries); n != c.want {
			t.Errorf("filter %+v: %d entries, want %d", c.f, n, c.want)
		}
	}
}

// Tampering with a stored event, dropping one or reordering them shows
// as a break naming the stream and version; the fold goes on.
func TestBrokenChainsAreFindings(t *testing.T) {
	for name, c := range map[string]struct {
		tamper func([]event.Event) []event.Event
		stream string
		reason string
	}{
		"data changed": {func(evs []event.Event) []event.Event {
			evs[5].Data = json.RawMessage(`{"reason":"nothing to see"}`)
			return evs
		}, "session-s1", "does not match the event's contents"},
		"event dropped": {func(evs []event.Event) []event.Event {
			return append(evs[:4:4], evs[5:]...)
		}, "session-s1", "versions must be dense"},
		"chain spliced": {func(evs []event.Event) []event.Event {
			evs[7].PrevHash = evs[0].Hash
			return evs
		}, "keys", "prev_hash"},
	} {
		t.Run(name, func(t *testing.T) {
			m := fold(t, c.tamper(history(t)))
			r := m.Query(audit.Filter{})
			if len(r.Chains.Breaks) != 1 || r.Chains.Breaks[0].Stream != c.stream || !strings.Contains(r.Chains.Breaks[0].Reason, c.reason) {
				t.Fatalf("breaks %+v, want one in %s saying %q", r.Chains.Breaks, c.stream, c.reason)
			}
			if len(r.Entries) < 6 {
				t.Fatalf("the fold stopped at the break: %d entries", len(r.Entries))
			}
		})
	}
}

func TestSnapshotRestoresTheSameModel(t *testing.T) {
	tampered := history(t)
	tampered[2].Data = json.RawMessage(`{"reason":"nothing to see"}`)
	var snap []byte
	for name, evs := range map[string][]event.Event{"sound": history(t), "with a break": tampered} {
		straight := fold(t, evs)
		part := fold(t, evs[:4])
		var err error
		if snap, err = part.Snapshot(); err != nil {
			t.Fatal(err)
		}
		resumed := audit.New()
		if err := resumed.Restore(snap); err != nil {
			t.Fatal(err)
		}
		for i := 4; i < len(evs); i++ {
			if err := resumed.Apply(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		a, b := straight.Query(audit.Filter{}), resumed.Query(audit.Filter{})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: resumed from a checkpoint:\n%+v\nstraight:\n%+v", name, b, a)
		}
		if len(a.Entries) < 3 || (name == "with a break") != (len(a.Chains.Breaks) == 1) {
			t.Fatalf("%s: the history did not test what it should: %d entries, breaks %+v", name, len(a.Entries), a.Chains.Breaks)
		}
	}
	if err := audit.New().Restore(snap[:len(snap)-5]); err == nil {
		t.Fatal("a truncated snapshot was restored")
	}
}
