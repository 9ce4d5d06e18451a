package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// chain builds a valid stream of n events the way a store does.
func chain(n int) []event.Event {
	evs := make([]event.Event, n)
	var prev event.Hash
	for i := range evs {
		e := &evs[i]
		e.ID = event.NewID()
		e.Type = "session.started"
		e.Stream = "session-1"
		e.StreamVersion = uint64(i)
		e.Position = uint64(i + 10)
		e.Time = time.Unix(1700000000, int64(i)).UTC()
		e.Data = json.RawMessage(`{"agent":"a","harness":"claude-code"}`)
		e.Metadata = event.Metadata{Actor: "user:alice", Session: "1"}
		e.PrevHash = prev
		e.Hash = e.ComputeHash()
		prev = e.Hash
	}
	return evs
}

func TestVerifyChainNamesFirstBrokenLink(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(evs []event.Event)
		version uint64
		reason  string
	}{
		{"intact", func([]event.Event) {}, 0, ""},
		{"data changed", func(evs []event.Event) { evs[3].Data = json.RawMessage(`{"agent":"b"}`) }, 3, "does not match the event's contents"},
		{"metadata changed", func(evs []event.Event) { evs[2].Metadata.User = "mallory" }, 2, "does not match the event's contents"},
		{"time changed", func(evs []event.Event) { evs[4].Time = evs[4].Time.Add(time.Nanosecond) }, 4, "does not match the event's contents"},
		{"rehashed after change", func(evs []event.Event) {
			evs[1].Data = json.RawMessage(`{}`)
			evs[1].Hash = evs[1].ComputeHash()
		}, 2, "prev_hash"},
		{"event removed", func(evs []event.Event) { copy(evs[2:], evs[3:]) }, 3, "versions must be dense"},
		{"first has prev", func(evs []event.Event) { evs[0].PrevHash[0] = 1 }, 0, "zero prev_hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := chain(6)
			tc.tamper(evs)
			err := event.VerifyChain(evs)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("VerifyChain = %v, want nil", err)
				}
				return
			}
			var ce *event.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("VerifyChain = %v, want *ChainError", err)
			}
			if ce.Version != tc.version || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("broken link at version %d (%s), want version %d with %q", ce.Version, ce.Reason, tc.version, tc.reason)
			}
		})
	}
}

func TestHashIgnoresPositionAndCoversEveryField(t *testing.T) {
	base := chain(1)[0]
	h := base.ComputeHash()
	moved := base
	moved.Position = 99
	if moved.ComputeHash() != h {
		t.Fatal("position changed the hash: backends assign it after hashing")
	}
	// Moving bytes between adjacent fields must change the hash (length prefixes).
	a, b := base, base
	a.Metadata.Actor, a.Metadata.Agent = "ab", "c"
	b.Metadata.Actor, b.Metadata.Agent = "a", "bc"
	if a.ComputeHash() == b.ComputeHash() {
		t.Fatal("fields are not delimited in the canonical form")
	}
}

func TestDecodeKeepsUnknownTypesRaw(t *testing.T) {
	known := event.Event{Type: "session.started", Data: json.RawMessage(`{"agent":"rev","harness":"codex","extra":1}`)}
	v, err := event.Decode(&known)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(*event.SessionStarted); !ok || s.Agent != "rev" || s.Harness != "codex" {
		t.Fatalf("Decode = %#v, want *SessionStarted{Agent: rev}", v)
	}

	for _, e := range []event.Event{
		{Type: "made.up.type", Data: json.RawMessage(`{"x":[1,2]}`)},
		{Type: "session.started", Data: json.RawMessage(`{"agent":"x"}`), Metadata: event.Metadata{Schema: 99}},
	} {
		v, err := event.Decode(&e)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := v.(*event.Raw)
		if !ok || raw.Type != e.Type || string(raw.Data) != string(e.Data) {
			t.Fatalf("Decode(%s schema %d) = %#v, want it kept raw", e.Type, e.Metadata.Schema, v)
		}
	}

	bad := event.Event{Type: "session.started", Data: json.RawMessage(`{"agent":7}`)}
	if _, err := event.Decode(&bad); err == nil || !strings.Contains(err.Error(), "session.started") {
		t.Fatalf("Decode of mistyped data = %v, want an error naming the type", err)
	}
}

func TestNewStampsSchemaAndChecksType(t *testing.T) {
	p, err := event.New("model.call.completed", event.ModelCallCompleted{RequestModel: "m", CallUsage: event.CallUsage{InputTokens: 3}}, event.Metadata{Agent: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Metadata.Schema != 1 || p.ID.Version() != 7 || !strings.Contains(string(p.Data), `"gen_ai.usage.input_tokens":3`) {
		t.Fatalf("New = %+v", p)
	}
	if _, err := event.New("model.call.completed", event.SessionEnded{}, event.Metadata{}); err == nil {
		t.Fatal("New accepted the wrong data struct")
	}
	if _, err := event.New("no.such.type", struct{}{}, event.Metadata{}); err == nil {
		t.Fatal("New accepted an unknown type")
	}
}

func TestValidate(t *testing.T) {
	for _, s := range []string{"session-1", "agent-x/y:z", strings.Repeat("a", event.MaxStreamLen)} {
		if err := event.ValidateStream(s); err != nil {
			t.Errorf("ValidateStream(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "has space", "$all", "tab\there", "é", strings.Repeat("a", event.MaxStreamLen+1)} {
		if err := event.ValidateStream(s); err == nil {
			t.Errorf("ValidateStream(%q) accepted", s)
		}
	}
	for _, s := range []string{"a", "model.call.completed", "x_y-z.v2"} {
		if err := event.ValidateType(s); err != nil {
			t.Errorf("ValidateType(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "Model.Call", ".a", "a.", "a..b", "a b"} {
		if err := event.ValidateType(s); err == nil {
			t.Errorf("ValidateType(%q) accepted", s)
		}
	}
	p := event.Proposed{Type: "a.b", Data: json.RawMessage(`{"x":`)}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Validate of broken JSON = %v", err)
	}
	// New's own encoding is trusted; data changed after New is not.
	p, err := event.New("routing.decided", event.RoutingDecided{CallID: "c1"}, event.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate of New's event = %v", err)
	}
	good := p.Data
	for name, data := range map[string]json.RawMessage{
		"replaced":  json.RawMessage(`{"call_id":`),
		"truncated": good[:len(good)-1],
		"extended":  append(good[:len(good):len(good)], '}'),
	} {
		q := p
		q.Data = data
		if err := q.Validate(); err == nil {
			t.Errorf("Validate of New's event with its data %s (%s) accepted it", name, data)
		}
	}
}

func TestHashJSONRoundTrip(t *testing.T) {
	e := chain(2)[1]
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back event.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Hash != e.Hash || back.PrevHash != e.PrevHash || back.ComputeHash() != e.Hash {
		t.Fatalf("hash did not survive JSON: %s", b)
	}
	var h event.Hash
	if err := h.UnmarshalText([]byte("zz")); err == nil {
		t.Fatal("short hex accepted")
	}
}
