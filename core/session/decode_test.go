package session

import (
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/core/event"
)

// The turn events' own decoders read what encoding/json reads of the
// members the registry keeps, and refuse what it refuses.
func TestTurnDecodeMatchesEncodingJSON(t *testing.T) {
	for _, data := range []string{
		`{"turn":3,"mode":"send","prompt":"fix the \"bug\"\nin é","harness_session_id":"h","sandbox":"bwrap","node":"n1"}`,
		`{"turn":1,"mode":"start","prompt":"","extra":{"a":[1,"}"]}}`,
		`{"prompt":null,"turn":null,"node":"x"}`,
		`{}`,
	} {
		var want, got TurnStarted
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", data, err)
		}
		if err := got.decode([]byte(data)); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got.Turn != want.Turn || got.Mode != want.Mode || got.Prompt != want.Prompt || got.Node != want.Node {
			t.Errorf("%s: decoded %+v, encoding/json %+v", data, got, want)
		}
	}
	for _, data := range []string{
		`{"turn":2,"outcome":"completed","result":"done: \u00e9","exit_code":0}`,
		`{"turn":2,"outcome":"failed","error":"exit 1\nstderr","limit":"time"}`,
		`{"outcome":"stopped","result":null}`,
	} {
		var want, got TurnEnded
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", data, err)
		}
		if err := got.decode([]byte(data)); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got.Turn != want.Turn || got.Outcome != want.Outcome || got.Result != want.Result || got.Error != want.Error {
			t.Errorf("%s: decoded %+v, encoding/json %+v", data, got, want)
		}
	}
	for _, data := range []string{`{"turn":"3"}`, `{"turn":1.5}`, `{"prompt":3}`, `{"mode":"send"`, `[]`, `{"outcome":true}`} {
		var jt TurnStarted
		var je TurnEnded
		if json.Unmarshal([]byte(data), &jt) == nil && json.Unmarshal([]byte(data), &je) == nil {
			t.Fatalf("%s: encoding/json takes it; the case is wrong", data)
		}
		var st TurnStarted
		var en TurnEnded
		if st.decode([]byte(data)) == nil && en.decode([]byte(data)) == nil {
			t.Errorf("%s: both decoders took it", data)
		}
	}
}

// BenchmarkApplyTurn folds a turn's start and end into a session, as a
// rebuild does for every turn of the log.
func BenchmarkApplyTurn(b *testing.B) {
	r := NewRegistry()
	created, _ := event.New("session.created", Created{ID: "s1", Agent: "a", Harness: "claude-code", Model: "m", Prompt: "p"}, event.Metadata{Session: "s1"})
	started, _ := event.New("session.turn.started", TurnStarted{Turn: 1, Mode: ModeSend, Prompt: "Review the change in handler.go and fix what the tests say.", Node: "node-1", Sandbox: "none"}, event.Metadata{Session: "s1"})
	ended, _ := event.New("session.turn.ended", TurnEnded{Turn: 1, Outcome: OutcomeCompleted, Result: "Fixed the nil check in handler.go; the tests pass."}, event.Metadata{Session: "s1"})
	evs := []event.Event{{Type: created.Type, Stream: Stream("s1"), Data: created.Data, Metadata: created.Metadata}}
	if err := r.Apply(&evs[0]); err != nil {
		b.Fatal(err)
	}
	e1 := event.Event{Type: started.Type, Stream: Stream("s1"), Data: started.Data, Metadata: started.Metadata}
	e2 := event.Event{Type: ended.Type, Stream: Stream("s1"), Data: ended.Data, Metadata: ended.Metadata}
	for i := 0; b.Loop(); i++ {
		e1.StreamVersion, e2.StreamVersion = uint64(2*i+1), uint64(2*i+2)
		if err := r.Apply(&e1); err != nil {
			b.Fatal(err)
		}
		if err := r.Apply(&e2); err != nil {
			b.Fatal(err)
		}
	}
}
