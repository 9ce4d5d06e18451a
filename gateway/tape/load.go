package tape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// ErrNotReplayable is wrapped by Load's errors for a session whose
// recording cannot be played.
var ErrNotReplayable = errors.New("not replayable")

// ErrCallsOpen is wrapped by Load's error for a session with a model
// call that has not ended yet: its answer is not recorded yet.
var ErrCallsOpen = errors.New("a model call has not ended yet")

// Load reads the recording of session id from the log: the
// model.answer.recorded events of its key's call stream, in order. It
// fails, saying why, for a session that made no call, or one with a call
// whose answer was not recorded (made with record_answers off) or not
// kept whole (over the size bound).
func Load(ctx context.Context, r eventstore.Reader, id string) ([]Call, error) {
	keyID, err := SessionKey(ctx, r, id)
	if err != nil {
		return nil, err
	}
	var calls []Call
	started := map[string]int{} // call id → turn, for calls with no answer yet
	open := map[string]bool{}   // calls with no end yet
	var order []string
	for e, err := range r.ReadStream(ctx, "calls-"+keyID, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch e.Type {
		case "model.call.started":
			var s event.ModelCallStarted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return nil, fmt.Errorf("model.call.started at position %d: %w", e.Position, err)
			}
			turn, _ := strconv.Atoi(s.Tags["turn"])
			started[s.CallID] = turn
			open[s.CallID] = true
			order = append(order, s.CallID)
		case "model.call.completed", "model.call.failed":
			var d struct {
				CallID string `json:"call_id"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return nil, fmt.Errorf("%s at position %d: %w", e.Type, e.Position, err)
			}
			delete(open, d.CallID)
		case "model.answer.recorded":
			var a event.AnswerRecorded
			if err := json.Unmarshal(e.Data, &a); err != nil {
				return nil, fmt.Errorf("model.answer.recorded at position %d: %w", e.Position, err)
			}
			delete(started, a.CallID)
			if a.Answer == nil {
				return nil, fmt.Errorf("session %s is %w: its model call %s (%s) was not kept whole: %s",
					id, ErrNotReplayable, a.CallID, turnName(a.Turn), a.NotReplayable)
			}
			calls = append(calls, Call{N: len(calls) + 1, CallID: a.CallID, Turn: a.Turn, Request: a.Request, Answer: a.Answer})
		}
	}
	for _, c := range order {
		if open[c] {
			return nil, fmt.Errorf("session %s: %w (call %s)", id, ErrCallsOpen, c)
		}
		if turn, ok := started[c]; ok {
			return nil, fmt.Errorf("session %s is %w: its model call %s (%s) has no recorded answer (the gateway's record_answers was off, or an older version made it)",
				id, ErrNotReplayable, c, turnName(turn))
		}
	}
	if len(calls) == 0 {
		return nil, fmt.Errorf("session %s is %w: it has no recorded model call", id, ErrNotReplayable)
	}
	return calls, nil
}

// ErrNoSession is returned for a session the log does not have.
var ErrNoSession = errors.New("no such session")

// SessionKey returns the key a session's model calls were made with, as
// its first event names it.
func SessionKey(ctx context.Context, r eventstore.Reader, id string) (string, error) {
	for e, err := range r.ReadStream(ctx, "session-"+id, eventstore.ReadOptions{Limit: 1}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return "", fmt.Errorf("%w: %s", ErrNoSession, id)
		}
		if err != nil {
			return "", err
		}
		var c struct {
			KeyID string `json:"key_id"`
		}
		if err := json.Unmarshal(e.Data, &c); err != nil || c.KeyID == "" {
			return "", fmt.Errorf("session %s's first event (%s) names no key: %v", id, e.Type, err)
		}
		return c.KeyID, nil
	}
	return "", fmt.Errorf("%w: %s", ErrNoSession, id)
}
