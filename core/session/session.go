// Package session holds sessions: an agent's harness CLI working on a
// prompt, turn after turn, as an event stream that outlives the process
// that runs it.
//
// A session's stream is "session-<id>". Its lifecycle events
// (session.created, session.turn.started, session.turn.ended,
// session.interrupted, session.paused, session.stopped) are written by
// the server that runs it; what the harness did in a turn is written as
// session.harness.<kind>, one event per normalized harness event
// (sdk/harness), with the CLI's raw output line kept. The Registry is a
// projection of those events: each session's status, agent, harness,
// native session id and counts.
//
// A turn is one decision: a prompt and everything the harness did until
// its final answer. Turn numbers start at 1; model calls and tool calls
// name the turn they belong to.
package session

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/internal/jsonscan"
	"github.com/switchyard/switchyard/sdk/harness"
)

func init() {
	event.Register[Created]("session.created", 1, "a session was created for an agent, with its first prompt")
	event.Register[TurnStarted]("session.turn.started", 1, "a turn began: the harness CLI was started or resumed with a prompt")
	event.Register[TurnEnded]("session.turn.ended", 1, "a turn ended: completed, failed, stopped or interrupted")
	event.Register[Interrupted]("session.interrupted", 1, "a running session lost its harness (switchyard or the adapter died); resume continues it")
	event.Register[Paused]("session.paused", 1, "a session was paused: its CLI was stopped, to be resumed later")
	event.Register[Stopped]("session.stopped", 1, "a session was stopped for good")
	for _, k := range []harness.Kind{harness.KindStarted, harness.KindMessage, harness.KindToolCall, harness.KindToolResult,
		harness.KindPermissionDenied, harness.KindUsage, harness.KindError, harness.KindCompleted} {
		event.Register[HarnessEvent](HarnessType(k), 1, fmt.Sprintf("the harness CLI reported a %s (sdk/harness), with its raw output line", k))
	}
}

// Stream is the event stream of session id.
func Stream(id string) string { return "session-" + id }

// NewID returns a new session id: "s" and 16 hex digits.
func NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return "s" + hex.EncodeToString(b[:])
}

// HarnessType is the event type of a harness event of kind k.
func HarnessType(k harness.Kind) string { return "session.harness." + string(k) }

// Created is the session.created event.
type Created struct {
	ID    string `json:"id"`
	Agent string `json:"agent"`
	// AgentDigest and AgentRevision pin the definition the session runs.
	AgentDigest   string `json:"agent_digest"`
	AgentRevision int    `json:"agent_revision"`
	Harness       string `json:"harness"`
	Model         string `json:"model"`
	Prompt        string `json:"prompt"`
	// KeyID is the session's own gateway key: its model calls are on
	// stream calls-<KeyID>.
	KeyID string `json:"key_id,omitempty"`
	// Workspace and StateDir are the session's working copy and the CLI's
	// own config and state (transcripts), kept for resume.
	Workspace string `json:"workspace,omitempty"`
	StateDir  string `json:"state_dir,omitempty"`
	// ForkOf is the session this one was forked from, if any, and
	// HarnessSessionID the harness session it continues (in a copy of
	// the other's state).
	ForkOf           string `json:"fork_of,omitempty"`
	HarnessSessionID string `json:"harness_session_id,omitempty"`
	// ReplayOf is the session this one replays (a harness replay: the
	// same prompts, the recorded model answers).
	ReplayOf string `json:"replay_of,omitempty"`
	// ForkAt is the turn of ForkOf a fork was made at (session fork
	// --at): it replayed ForkOf's turns before it from their recorded
	// answers, and went live at it with Changes.
	ForkAt  int          `json:"fork_at,omitempty"`
	Changes *ForkChanges `json:"changes,omitempty"`
}

// ForkChanges are what a fork at a turn changes from that turn on.
type ForkChanges struct {
	// Model is the model its calls ask for, whatever their requests name.
	Model string `json:"model,omitempty"`
	// RoutingPlugin is the installed routing plugin that decides its
	// calls, instead of the gateway-wide router.
	RoutingPlugin string `json:"routing_plugin,omitempty"`
	// Prompt is the turn's prompt, instead of the recorded one.
	Prompt string `json:"prompt,omitempty"`
}

// Turn modes.
const (
	ModeStart  = "start"  // the first turn: a new harness session
	ModeSend   = "send"   // a new prompt, through the harness's resume
	ModeResume = "resume" // the interrupted turn again, through the harness's resume
)

// TurnStarted is the session.turn.started event.
type TurnStarted struct {
	Turn   int    `json:"turn"`
	Mode   string `json:"mode"`
	Prompt string `json:"prompt"`
	// HarnessSessionID is the native id resumed (send, resume).
	HarnessSessionID string `json:"harness_session_id,omitempty"`
	// Sandbox says how the CLI runs: "bwrap" or "none", and why.
	Sandbox       string `json:"sandbox,omitempty"`
	SandboxDetail string `json:"sandbox_detail,omitempty"`
	// Node is the server running the turn.
	Node string `json:"node,omitempty"`
}

// Turn outcomes.
const (
	OutcomeCompleted   = "completed"
	OutcomeFailed      = "failed"
	OutcomeStopped     = "stopped"
	OutcomeInterrupted = "interrupted"
)

// TurnEnded is the session.turn.ended event.
type TurnEnded struct {
	Turn    int    `json:"turn"`
	Outcome string `json:"outcome"`
	// Result is the final answer of a completed turn.
	Result   string `json:"result,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
	Error    string `json:"error,omitempty"`
	// Limit names the sandbox limit that ended the turn, if one did.
	Limit string `json:"limit,omitempty"`
}

// Interrupted is the session.interrupted event.
type Interrupted struct {
	Turn   int    `json:"turn"`
	Reason string `json:"reason"`
}

// Paused is the session.paused event.
type Paused struct {
	Reason string `json:"reason,omitempty"`
}

// Stopped is the session.stopped event.
type Stopped struct {
	Reason string `json:"reason,omitempty"`
}

// HarnessEvent is a session.harness.<kind> event: a normalized harness
// event and the turn it belongs to.
type HarnessEvent struct {
	Turn int `json:"turn"`
	harness.Event
}

// Status is where a session is.
type Status string

// Statuses.
const (
	// StatusRunning: a turn is in flight.
	StatusRunning Status = "running"
	// StatusIdle: the last turn completed; `send` continues with a new prompt.
	StatusIdle Status = "idle"
	// StatusFailed: the last turn failed (the CLI exited non-zero, a limit
	// was hit); `send` or `resume` may go on.
	StatusFailed Status = "failed"
	// StatusInterrupted: the harness was lost mid-turn; `resume` continues it.
	StatusInterrupted Status = "interrupted"
	// StatusPaused: stopped by request mid-turn or between turns; `resume`.
	StatusPaused Status = "paused"
	// StatusStopped: ended for good.
	StatusStopped Status = "stopped"
)

// Session is a session as the registry knows it.
type Session struct {
	ID            string `json:"id"`
	Agent         string `json:"agent"`
	AgentRevision int    `json:"agent_revision"`
	Harness       string `json:"harness"`
	Model         string `json:"model"`
	Prompt        string `json:"prompt"`
	// LastPrompt is the prompt of the latest turn.
	LastPrompt string `json:"last_prompt,omitempty"`
	KeyID      string `json:"key_id,omitempty"`
	Workspace  string `json:"workspace,omitempty"`
	StateDir   string `json:"state_dir,omitempty"`
	ForkOf     string `json:"fork_of,omitempty"`
	ReplayOf   string `json:"replay_of,omitempty"`
	// ForkAt and Changes: see Created.
	ForkAt           int          `json:"fork_at,omitempty"`
	Changes          *ForkChanges `json:"changes,omitempty"`
	Status           Status       `json:"status"`
	HarnessSessionID string       `json:"harness_session_id,omitempty"`
	Turns            int          `json:"turns"`
	ToolCalls        int          `json:"tool_calls"`
	Denials          int          `json:"permission_denials"`
	LastError        string       `json:"last_error,omitempty"`
	Result           string       `json:"result,omitempty"`
	Node             string       `json:"node,omitempty"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	// RunningMS is the time its turns have run, in milliseconds: from
	// each session.turn.started to the turn's end or interruption.
	// TurnStartedAt is when the turn in flight began.
	RunningMS     int64     `json:"running_ms"`
	TurnStartedAt time.Time `json:"turn_started_at,omitzero"`
	// Version is the version of its stream's last event.
	Version uint64 `json:"version"`

	// lent is 1 once Registry.Get handed the session out (atomic): the
	// registry changes a copy of it from then on.
	lent uint32
}

// endTurn adds the time of the turn in flight, if any, to RunningMS.
func (s *Session) endTurn(at time.Time) {
	if !s.TurnStartedAt.IsZero() && at.After(s.TurnStartedAt) {
		s.RunningMS += at.Sub(s.TurnStartedAt).Milliseconds()
	}
	s.TurnStartedAt = time.Time{}
}

// apply folds one event of the session's stream into s. An event that
// does not decode leaves s as it was.
func (s *Session) apply(e *event.Event) error {
	if err := s.fold(e); err != nil {
		return err
	}
	s.Version, s.UpdatedAt = e.StreamVersion, e.Time
	return nil
}

// fold is apply but for the version and time. It changes s only once
// the event has decoded.
// decode reads the members of a session.turn.started event the registry
// keeps (turn, mode, prompt, node) and skips the rest. Every turn has two
// such events, and encoding/json's reflection over them was half the
// registry's part of a rebuild. Member names must match exactly.
func (t *TurnStarted) decode(data []byte) error {
	return jsonscan.Fields(data, func(key, v []byte) error {
		switch string(key) {
		case "turn":
			return jsonscan.Int(v, &t.Turn)
		case "mode":
			return jsonscan.String(v, &t.Mode)
		case "prompt":
			return jsonscan.String(v, &t.Prompt)
		case "node":
			return jsonscan.String(v, &t.Node)
		}
		return nil
	})
}

// decode reads the members of a session.turn.ended event the registry
// keeps (turn, outcome, result, error), as TurnStarted.decode does.
func (t *TurnEnded) decode(data []byte) error {
	return jsonscan.Fields(data, func(key, v []byte) error {
		switch string(key) {
		case "turn":
			return jsonscan.Int(v, &t.Turn)
		case "outcome":
			return jsonscan.String(v, &t.Outcome)
		case "result":
			return jsonscan.String(v, &t.Result)
		case "error":
			return jsonscan.String(v, &t.Error)
		}
		return nil
	})
}

func (s *Session) fold(e *event.Event) error {
	// bad says which event did not decode.
	bad := func(err error) error { return fmt.Errorf("%s at %s v%d: %w", e.Type, e.Stream, e.StreamVersion, err) }
	decode := func(v any) error {
		if err := json.Unmarshal(e.Data, v); err != nil {
			return bad(err)
		}
		return nil
	}
	switch e.Type {
	case "session.created":
		var c Created
		if err := decode(&c); err != nil {
			return err
		}
		*s = Session{ID: c.ID, Agent: c.Agent, AgentRevision: c.AgentRevision, Harness: c.Harness, Model: c.Model, Prompt: c.Prompt,
			KeyID: c.KeyID, Workspace: c.Workspace, StateDir: c.StateDir, ForkOf: c.ForkOf, ReplayOf: c.ReplayOf, ForkAt: c.ForkAt, Changes: c.Changes, HarnessSessionID: c.HarnessSessionID, Status: StatusIdle,
			CreatedAt: e.Time, UpdatedAt: e.Time, Version: e.StreamVersion}
	case "session.turn.started":
		var t TurnStarted
		if err := t.decode(e.Data); err != nil {
			return bad(err)
		}
		s.Status, s.Turns, s.Node, s.LastError = StatusRunning, max(s.Turns, t.Turn), t.Node, ""
		s.TurnStartedAt = e.Time
		if t.Mode != ModeResume {
			s.LastPrompt = t.Prompt
		}
	case "session.turn.ended":
		var t TurnEnded
		if err := t.decode(e.Data); err != nil {
			return bad(err)
		}
		s.endTurn(e.Time)
		switch t.Outcome {
		case OutcomeCompleted:
			s.Status, s.Result = StatusIdle, t.Result
		case OutcomeStopped:
			s.Status = StatusPaused
		case OutcomeInterrupted:
			s.Status = StatusInterrupted
		default:
			s.Status, s.LastError = StatusFailed, t.Error
		}
	case "session.interrupted":
		var i Interrupted
		if err := decode(&i); err != nil {
			return err
		}
		s.Status, s.LastError = StatusInterrupted, i.Reason
		s.endTurn(e.Time)
	case "session.paused":
		s.Status = StatusPaused
	case "session.stopped":
		s.Status = StatusStopped
	default:
		kind, ok := strings.CutPrefix(e.Type, "session.harness.")
		if !ok {
			return nil
		}
		// Harness events are most of a session's stream and carry the
		// CLI's raw output: read the two members the registry needs,
		// not the whole event.
		var id, errMsg string
		var err error
		scanErr := jsonscan.Members(e.Data, func(key []byte, start, end int) bool {
			switch string(key) {
			case "harness_session_id":
				err = jsonscan.String(e.Data[start:end], &id)
			case "error":
				if harness.Kind(kind) == harness.KindError && string(e.Data[start:end]) != "null" {
					var he harness.Error
					err = json.Unmarshal(e.Data[start:end], &he)
					errMsg = he.Message
				}
			}
			return err == nil
		})
		if err := cmp.Or(scanErr, err); err != nil {
			return bad(err)
		}
		if id != "" {
			s.HarnessSessionID = id
		}
		switch harness.Kind(kind) {
		case harness.KindToolCall:
			s.ToolCalls++
		case harness.KindPermissionDenied:
			s.Denials++
		case harness.KindError:
			if errMsg != "" {
				s.LastError = errMsg
			}
		}
	}
	return nil
}
