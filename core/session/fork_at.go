package session

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ForkPoint says where ForkAt forks a session: at turn At, or at the
// turn whose session.turn.started is at log position Event.
type ForkPoint struct {
	At    int
	Event uint64
}

// ForkAt starts a new session from turn `at` of session id, with a
// change: a harness replay of its turns before `at` (the agent's CLI on a
// fresh workspace, served the recorded answers; a divergence stops it),
// then turn `at` live, with ch: its calls, and those of the turns after
// it, routed and answered as any session's, asking for ch.Model,
// decided by the installed routing plugin ch.RoutingPlugin, and turn
// `at` given ch.Prompt. The CLI carries the replayed conversation into
// the changed part. The new session records where it comes from
// (fork_of, fork_at, changes); ReplayResult says how its replayed part
// went. Once turn `at` has started it is a session like any other.
//
// It returns once the fork has started (its first turn, replayed or
// live). The session must be replayable up to `at` (see Replay).
func (m *Manager) ForkAt(ctx context.Context, id string, at ForkPoint, ch ForkChanges, actor string) (*Session, error) {
	if m.ArmReplay == nil || m.Reader == nil {
		return nil, errors.New("forking at a turn is not available on this server")
	}
	src, ok := m.settled(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	switch {
	case src.Status == StatusRunning:
		return nil, fmt.Errorf("session %s: %w: fork it once its turn has ended", id, ErrBusy)
	case src.ReplayOf != "":
		return nil, fmt.Errorf("session %s is %w: it is a replay, of %s; fork that one", id, ErrNotReplayable, src.ReplayOf)
	case src.ForkOf != "":
		return nil, fmt.Errorf("session %s is %w: it is a fork of %s, and began with a conversation a fresh workspace does not have", id, ErrNotReplayable, src.ForkOf)
	}
	if ch.RoutingPlugin != "" && m.CheckRoutingPlugin != nil {
		if err := m.CheckRoutingPlugin(ch.RoutingPlugin); err != nil {
			return nil, err
		}
	}
	turns, err := m.recordedTurns(ctx, id)
	if err != nil {
		return nil, err
	}
	n := at.At
	if at.Event != 0 {
		for _, t := range turns {
			if t.pos == at.Event {
				n = t.n
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("event %d is not the start of a turn of session %s (`switchyard session show %s` lists its events)", at.Event, id, id)
		}
		if at.At != 0 && at.At != n {
			return nil, fmt.Errorf("event %d starts turn %d, not turn %d", at.Event, n, at.At)
		}
	}
	if n < 1 || n > len(turns) {
		return nil, fmt.Errorf("fork at turn %d: session %s has turns 1 to %d", n, id, len(turns))
	}
	prompt := turns[n-1].prompt
	if ch.Prompt != "" {
		prompt = ch.Prompt
	}
	a, ok := m.Agent(src.Agent)
	if !ok {
		return nil, fmt.Errorf("session %s: its agent %q no longer exists: define it again to fork", id, src.Agent)
	}
	if err := m.Adapters.Check(ctx, src.Harness); err != nil {
		return nil, err
	}
	c := Created{ForkOf: id, ForkAt: n, Harness: src.Harness}
	if ch != (ForkChanges{}) {
		c.Changes = &ch
	}
	first := turns[0].prompt
	if n == 1 {
		first = prompt // nothing to replay: the fork is live from its start
	}
	var tape Tape
	s, err := m.create(ctx, a, first, actor, c, ModeStart, func(s *Session) error {
		for _, d := range []string{s.Workspace, s.StateDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		if err := prepareWorkspace(ctx, a.Definition.Workspace, s.Workspace); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		if n == 1 {
			return nil
		}
		var err error
		tape, err = m.ArmReplay(ctx, s.ID, id, n)
		return err
	})
	if err != nil {
		if tape != nil {
			tape.Close()
		}
		return nil, err
	}
	if n == 1 {
		return s, nil
	}
	if err := m.goRetrace(s, tape, func(run *replayRun) { m.forkRun(s, turns[:n-1], prompt, tape, run, actor) }); err != nil {
		return nil, err
	}
	return s, nil
}

// forkRun retraces a fork's turns before its fork turn and, when they
// retraced their recording, starts the fork turn live with prompt. A
// fork whose replay did not retrace is stopped, saying why.
func (m *Manager) forkRun(s *Session, turns []recordedTurn, prompt string, tape Tape, run *replayRun, actor string) {
	defer m.wg.Done()
	ctx := context.Background()
	res := m.retraceTurns(ctx, s, s.ForkOf, turns, tape, actor)
	m.recordReplayEnd(ctx, s, res)
	// The result is known before the live turn starts, so that Send and
	// Resume, which refuse a fork still retracing, take the fork as soon
	// as its live turn has started.
	defer func() {
		run.result = res
		close(run.done)
	}()
	if res.Outcome != ReplayRetraced {
		if err := m.Stop(ctx, s.ID, fmt.Sprintf("the fork's replay of turns 1 to %d %s", len(turns), res.Summary()), "system"); err != nil {
			m.log().Warn("could not stop a fork", "session", s.ID, "err", err)
		}
		return
	}
	cur, _ := m.Registry.Get(s.ID)
	mode := ModeSend
	if cur.HarnessSessionID == "" {
		mode = ModeStart
	}
	if err := m.startTurn(ctx, s.ID, mode, prompt, actor); err != nil {
		m.log().Error("a fork's live turn did not start", "session", s.ID, "err", err)
		if err := m.Stop(ctx, s.ID, fmt.Sprintf("its turn %d did not start: %v", s.ForkAt, err), "system"); err != nil {
			m.log().Warn("could not stop a fork", "session", s.ID, "err", err)
		}
	}
}

// retracing reports whether session id is a fork still retracing the
// turns before its fork turn.
func (m *Manager) retracing(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.replays[id]
	if r == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}
