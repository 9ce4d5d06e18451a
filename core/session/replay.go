package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func init() {
	event.Register[ReplayEnded]("session.replay.ended", 1, "a harness replay ended: it retraced its recording, diverged from it, or could not go on")
}

// Replay outcomes.
const (
	// ReplayRetraced: every recorded call was made again, matched and
	// served, and every turn ended as it did.
	ReplayRetraced = "retraced"
	// ReplayDiverged: a model call did not match the recording, came
	// after its end, or a turn ended otherwise or early.
	ReplayDiverged = "diverged"
	// ReplayFailed: the replay could not go on (a turn did not start,
	// the server shut down).
	ReplayFailed = "failed"
)

// ReplayEnded is the session.replay.ended event, on the replay
// session's stream.
type ReplayEnded struct {
	// Of is the session replayed.
	Of      string `json:"of"`
	Outcome string `json:"outcome"`
	// Calls is the number of recorded calls served, of RecordedCalls;
	// Turns the number of turns run, of RecordedTurns.
	Calls         int `json:"calls"`
	RecordedCalls int `json:"recorded_calls"`
	Turns         int `json:"turns"`
	RecordedTurns int `json:"recorded_turns"`
	// Divergence says what differed, for a replay that diverged.
	Divergence *event.ReplayDiverged `json:"divergence,omitempty"`
	// Error says why a failed replay could not go on.
	Error string `json:"error,omitempty"`
}

// Summary is the outcome in a line.
func (r *ReplayEnded) Summary() string {
	switch r.Outcome {
	case ReplayRetraced:
		return fmt.Sprintf("retraced %s of %s", count(r.Calls, "call"), count(r.Turns, "turn"))
	case ReplayDiverged:
		if d := r.Divergence; d != nil {
			return fmt.Sprintf("diverged after %d of %d recorded calls: %s", r.Calls, r.RecordedCalls, d.Reason)
		}
	}
	return fmt.Sprintf("%s after %d of %d recorded calls: %s", r.Outcome, r.Calls, r.RecordedCalls, r.Error)
}

// count says "1 call", "2 calls".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Tape is a recording as the gateway plays it to a replay
// (gateway/tape.Player).
type Tape interface {
	// Calls is the number of recorded calls, Recorded their number by
	// turn, Served the number served so far by turn.
	Calls() int
	Recorded() map[int]int
	Served() map[int]int
	// Diverged is closed when a call does not match the recording;
	// Divergence then says how.
	Diverged() <-chan struct{}
	Divergence() *event.ReplayDiverged
	// Close ends the replay: the gateway answers later calls with an
	// error.
	Close()
}

// TapeLoader has the gateway serve the recorded answers of session `of`
// to the model calls of session `replay`, or says why it cannot. before,
// if not 0, keeps the answers of the turns before it only (a fork at
// that turn).
type TapeLoader func(ctx context.Context, replay, of string, before int) (Tape, error)

// ErrNotReplayable is wrapped by the errors of a session Replay refuses.
var ErrNotReplayable = errors.New("not replayable")

// replayRun is a replay this manager runs.
type replayRun struct {
	done   chan struct{}
	result *ReplayEnded
}

// recordedTurn is a turn of the session replayed.
type recordedTurn struct {
	n               int
	prompt, outcome string
	// pos is the log position of its session.turn.started.
	pos uint64
}

func errReplaySession(s *Session) error {
	return fmt.Errorf("session %s is a harness replay of %s: it only retraces its recording (`switchyard session replay %s` runs another)", s.ID, s.ReplayOf, s.ReplayOf)
}

// Replay runs session id again: a new session of the same agent on the
// same harness, on a fresh workspace, given the same prompts turn after
// turn (prompts, by turn number, replaces some), whose CLI the gateway
// serves the recorded model answers instead of calling a provider. The
// tools the CLI runs run for real in the new workspace. It returns once
// the replay session has started; ReplayResult says how it ended.
//
// A session is replayable when it is not running, all its turns ran to
// their end (completed or failed, none interrupted or resumed), and every
// model call it made has its answer recorded. A fork or a replay is not.
func (m *Manager) Replay(ctx context.Context, id string, prompts map[int]string, actor string) (*Session, error) {
	if m.ArmReplay == nil || m.Reader == nil {
		return nil, errors.New("harness replay is not available on this server")
	}
	src, ok := m.settled(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	switch {
	case src.Status == StatusRunning:
		return nil, fmt.Errorf("session %s: %w: replay it once its turn has ended", id, ErrBusy)
	case src.ReplayOf != "":
		return nil, fmt.Errorf("session %s is %w: it is itself a replay, of %s; replay that one", id, ErrNotReplayable, src.ReplayOf)
	case src.ForkOf != "":
		return nil, fmt.Errorf("session %s is %w: it is a fork of %s, and began with a conversation a fresh workspace does not have", id, ErrNotReplayable, src.ForkOf)
	}
	turns, err := m.recordedTurns(ctx, id)
	if err != nil {
		return nil, err
	}
	for n, p := range prompts {
		if n < 1 || n > len(turns) {
			return nil, fmt.Errorf("a prompt for turn %d: session %s has turns 1 to %d", n, id, len(turns))
		}
		if p == "" {
			return nil, fmt.Errorf("the prompt for turn %d is empty", n)
		}
		turns[n-1].prompt = p
	}
	a, ok := m.Agent(src.Agent)
	if !ok {
		return nil, fmt.Errorf("session %s: its agent %q no longer exists: define it again to replay", id, src.Agent)
	}
	if err := m.Adapters.Check(ctx, src.Harness); err != nil {
		return nil, err
	}
	var tape Tape
	s, err := m.create(ctx, a, turns[0].prompt, actor, Created{ReplayOf: id, Harness: src.Harness}, ModeStart, func(s *Session) error {
		for _, d := range []string{s.Workspace, s.StateDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		if err := prepareWorkspace(ctx, a.Definition.Workspace, s.Workspace); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		var err error
		tape, err = m.ArmReplay(ctx, s.ID, id, 0)
		return err
	})
	if err != nil {
		if tape != nil {
			tape.Close()
		}
		return nil, err
	}
	if err := m.goRetrace(s, tape, func(run *replayRun) { m.retrace(s, turns, tape, run, actor) }); err != nil {
		return nil, err
	}
	return s, nil
}

// goRetrace registers the retrace of session s, which ReplayResult then
// answers for, and runs it (f, which must call m.wg.Done) on a goroutine;
// a closed manager refuses it, closing tape.
func (m *Manager) goRetrace(s *Session, tape Tape, f func(run *replayRun)) error {
	run := &replayRun{done: make(chan struct{})}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		tape.Close()
		return ErrClosed
	}
	if m.replays == nil {
		m.replays = map[string]*replayRun{}
	}
	m.replays[s.ID] = run
	m.wg.Add(1)
	m.mu.Unlock()
	go f(run)
	return nil
}

// recordedTurns reads the turns of session id, and refuses a session
// whose turns did not all run to their end.
func (m *Manager) recordedTurns(ctx context.Context, id string) ([]recordedTurn, error) {
	var turns []recordedTurn
	for e, err := range m.Reader.ReadStream(ctx, Stream(id), eventstore.ReadOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("read session %s: %w", id, err)
		}
		var d struct {
			Turn    int    `json:"turn"`
			Mode    string `json:"mode"`
			Prompt  string `json:"prompt"`
			Outcome string `json:"outcome"`
		}
		switch e.Type {
		case "session.turn.started", "session.turn.ended", "session.interrupted":
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return nil, fmt.Errorf("%s at %s v%d: %w", e.Type, e.Stream, e.StreamVersion, err)
			}
		default:
			continue
		}
		switch {
		case e.Type == "session.interrupted" || e.Type == "session.turn.ended" && (d.Outcome == OutcomeInterrupted || d.Outcome == OutcomeStopped):
			return nil, fmt.Errorf("session %s is %w: its turn %d was stopped or interrupted before its end, and a replay could not know where", id, ErrNotReplayable, d.Turn)
		case e.Type == "session.turn.ended":
			if n := len(turns); n > 0 && turns[n-1].n == d.Turn {
				turns[n-1].outcome = d.Outcome
			}
		case d.Mode == ModeResume:
			return nil, fmt.Errorf("session %s is %w: its turn %d was resumed after an interruption", id, ErrNotReplayable, d.Turn)
		default:
			turns = append(turns, recordedTurn{n: d.Turn, prompt: d.Prompt, pos: e.Position})
		}
	}
	if len(turns) == 0 {
		return nil, fmt.Errorf("session %s is %w: it has no turn", id, ErrNotReplayable)
	}
	for i, t := range turns {
		if t.n != i+1 || t.outcome == "" {
			return nil, fmt.Errorf("session %s is %w: its turn %d did not run to its end", id, ErrNotReplayable, t.n)
		}
	}
	return turns, nil
}

// retrace runs the replay's turns one after the other, each once the
// one before has ended as it did in the recording with all its recorded
// calls served, and records how the replay ended. A divergence stops the
// turn at once. The replay session is stopped at the end (its key goes).
func (m *Manager) retrace(s *Session, turns []recordedTurn, tape Tape, run *replayRun, actor string) {
	defer m.wg.Done()
	ctx := context.Background()
	res := m.retraceTurns(ctx, s, s.ReplayOf, turns, tape, actor)
	m.recordReplayEnd(ctx, s, res)
	if err := m.Stop(ctx, s.ID, "the harness replay ended: "+res.Summary(), "system"); err != nil {
		m.log().Warn("could not stop the replay session", "session", s.ID, "err", err)
	}
	run.result = res
	close(run.done)
}

// retraceTurns runs turns of session s (whose first turn has started)
// one after the other, served the recording of session `of`, and says
// how that went. It closes tape.
func (m *Manager) retraceTurns(ctx context.Context, s *Session, of string, turns []recordedTurn, tape Tape, actor string) *ReplayEnded {
	res := &ReplayEnded{Of: of, RecordedCalls: tape.Calls(), RecordedTurns: len(turns)}
	recorded := tape.Recorded()
	for i, t := range turns {
		if i > 0 {
			cur, _ := m.Registry.Get(s.ID)
			mode := ModeSend
			if cur.HarnessSessionID == "" {
				mode = ModeStart // as Send does: the CLI never said its id
			}
			if err := m.startTurn(ctx, s.ID, mode, t.prompt, actor); err != nil {
				res.Outcome, res.Error = ReplayFailed, fmt.Sprintf("turn %d did not start: %v", t.n, err)
				break
			}
		}
		res.Turns = t.n
		select {
		case <-m.turnDone(s.ID):
		case <-tape.Diverged():
			m.cancelTurn(s.ID, OutcomeStopped, "the replay diverged from the recording")
		}
		if d := tape.Divergence(); d != nil {
			res.Outcome, res.Divergence = ReplayDiverged, d
			break
		}
		cur, _ := m.Registry.Get(s.ID)
		outcome := turnOutcome(cur.Status)
		if outcome == OutcomeInterrupted {
			res.Outcome, res.Error = ReplayFailed, fmt.Sprintf("turn %d was interrupted: %s", t.n, cur.LastError)
			break
		}
		served := tape.Served()[t.n]
		if served < recorded[t.n] || outcome != t.outcome {
			d := &event.ReplayDiverged{Session: s.ID, ReplayOf: of, Turn: t.n,
				Reason: fmt.Sprintf("turn %d %s after %d of its %d recorded model calls", t.n, outcome, served, recorded[t.n]),
				Diffs:  []event.FieldDiff{{Field: "turn " + fmt.Sprint(t.n), Recorded: fmt.Sprintf("%s after %d model calls", t.outcome, recorded[t.n]), Now: fmt.Sprintf("%s after %d", outcome, served)}}}
			if cur.LastError != "" {
				d.Diffs[0].Now += ": " + cur.LastError
			}
			res.Outcome, res.Divergence = ReplayDiverged, d
			break
		}
	}
	if res.Outcome == "" {
		res.Outcome = ReplayRetraced
	}
	for _, n := range tape.Served() {
		res.Calls += n
	}
	tape.Close()
	return res
}

// recordReplayEnd records session.replay.ended on s's stream.
func (m *Manager) recordReplayEnd(ctx context.Context, s *Session, res *ReplayEnded) {
	log := m.log().With("session", s.ID, "replay_of", res.Of)
	log.Info("harness replay ended", "outcome", res.Outcome, "summary", res.Summary())
	p, err := m.newEvent(s, "session.replay.ended", res, "system")
	if err == nil {
		err = m.append(ctx, s.ID, p)
	}
	if err != nil {
		log.Error("could not record the end of a harness replay", "err", err)
	}
}

// turnDone is closed when session id's turn in flight ends (at once if
// none is in flight).
func (m *Manager) turnDone(id string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.running[id]; r != nil {
		return r.done
	}
	done := make(chan struct{})
	close(done)
	return done
}

// turnOutcome is how a turn that left its session in status st ended.
func turnOutcome(st Status) string {
	switch st {
	case StatusIdle:
		return OutcomeCompleted
	case StatusFailed:
		return OutcomeFailed
	case StatusPaused, StatusStopped:
		return OutcomeStopped
	}
	return OutcomeInterrupted
}

// ReplayResult says how replay session id ended. For a replay still
// running it waits for its end while ctx allows, and returns nil, nil if
// ctx ends first.
func (m *Manager) ReplayResult(ctx context.Context, id string) (*ReplayEnded, error) {
	s, ok := m.Registry.Get(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	of := s.ReplayOf
	if s.ForkAt > 1 {
		of = s.ForkOf // a fork at a turn retraced the turns before it
	}
	if of == "" {
		return nil, fmt.Errorf("session %s is not a harness replay, nor a fork at a turn after the first", id)
	}
	m.mu.Lock()
	run := m.replays[id]
	m.mu.Unlock()
	if run != nil {
		select {
		case <-run.done:
			return run.result, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
	if m.Reader == nil {
		return nil, errors.New("harness replay is not available on this server")
	}
	for e, err := range m.Reader.ReadStream(ctx, Stream(id), eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards}) {
		if err != nil {
			return nil, fmt.Errorf("read session %s: %w", id, err)
		}
		if e.Type != "session.replay.ended" {
			continue
		}
		var r ReplayEnded
		if err := json.Unmarshal(e.Data, &r); err != nil {
			return nil, fmt.Errorf("%s at %s v%d: %w", e.Type, e.Stream, e.StreamVersion, err)
		}
		return &r, nil
	}
	return &ReplayEnded{Of: of, Outcome: ReplayFailed, Error: "the replay has no result: the server that ran it stopped before its end"}, nil
}
