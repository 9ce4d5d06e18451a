package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/sdk/harness"
)

// Adapters finds the adapter of a harness and the CLI it runs.
type Adapters interface {
	// Check says whether a harness can run here: its adapter and CLI.
	Check(ctx context.Context, harnessName string) error
	// Adapter returns an adapter for one turn and the CLI it runs;
	// release is called once the turn is over (an adapter process of the
	// turn's own is stopped then).
	Adapter(ctx context.Context, harnessName string) (a harness.Adapter, cliPath string, release func(), err error)
}

// KeyMinter makes the gateway key a session's CLI calls with: scoped to
// the session (its agent, a "session" tag, the agent's budget), so that
// attribution and budget come from the key and cannot be spoofed.
type KeyMinter func(ctx context.Context, s *Session, a *agent.Agent) (keyID, secret string, err error)

// Manager runs sessions: it creates them from agents, runs their turns
// on harness adapters and records every step on the session's stream.
type Manager struct {
	Registry *Registry
	Store    eventstore.Appender
	// Agent returns the current definition of an agent.
	Agent    func(name string) (*agent.Agent, bool)
	Adapters Adapters
	MintKey  KeyMinter
	// RevokeKey, if set, revokes a stopped session's key.
	RevokeKey func(ctx context.Context, keyID, reason string) error
	// GatewayURL is the gateway as the CLIs reach it.
	GatewayURL string
	// Bubblewrap confines CLIs, for agents whose sandbox is auto (when
	// installed) or bwrap.
	Bubblewrap Bubblewrap
	// Dir holds each session's directory: Dir/<id>/{workspace,state,key}.
	Dir  string
	Node string
	Log  *slog.Logger
	Now  func() time.Time

	// ArmReplay, if set, has the gateway serve a recorded session's
	// answers to a replay of it (Replay); Reader reads the recorded
	// session's turns.
	ArmReplay TapeLoader
	Reader    eventstore.Reader
	// CheckRoutingPlugin, if set, says why the gateway cannot route a
	// fork's calls with the installed routing plugin name (ForkAt).
	CheckRoutingPlugin func(name string) error

	mu      sync.Mutex
	running map[string]*turnRun
	replays map[string]*replayRun  // the harness replays run here
	locks   map[string]*sync.Mutex // serializes each session's appends
	closed  bool
	wg      sync.WaitGroup
}

// turnRun is a turn in flight.
type turnRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	// why is set before cancel: what the turn ends as.
	why    string // OutcomeStopped (stop, pause) or OutcomeInterrupted (shutdown)
	reason string
}

// Errors of the manager's commands.
var (
	ErrBusy   = errors.New("the session is running a turn")
	ErrClosed = errors.New("the session manager is shut down")
)

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Manager) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.New(slog.DiscardHandler)
}

// append writes events to session id's stream, one writer at a time.
func (m *Manager) append(ctx context.Context, id string, evs ...event.Proposed) error {
	l := m.lock(id)
	l.Lock()
	defer l.Unlock()
	return m.Registry.Append(ctx, m.Store, id, m.now(), evs...)
}

// lock is session id's append lock.
func (m *Manager) lock(id string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks == nil {
		m.locks = map[string]*sync.Mutex{}
	}
	l := m.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		m.locks[id] = l
	}
	return l
}

// settled is session id as the registry has it once every append to its
// stream in flight has been folded in. An event is in the store (and in
// front of feed readers) a moment before the registry has it: a client
// that saw "turn ended" and sends the next prompt at once must not be
// told the session is still running.
func (m *Manager) settled(id string) (*Session, bool) {
	// Only look the lock up: a session with none has no append in
	// flight, and an id made up by a client must not add one.
	m.mu.Lock()
	l := m.locks[id]
	m.mu.Unlock()
	if l == nil {
		return m.Registry.Get(id)
	}
	l.Lock()
	defer l.Unlock()
	return m.Registry.Get(id)
}

func (m *Manager) newEvent(s *Session, typ string, data any, actor string) (event.Proposed, error) {
	return event.New(typ, data, event.Metadata{Actor: actor, Agent: s.Agent, Session: s.ID})
}

// Start creates a session of the agent called agentName on prompt and
// starts its first turn. It returns once the session is recorded; the
// turn runs on.
func (m *Manager) Start(ctx context.Context, agentName, prompt, actor string) (*Session, error) {
	a, ok := m.Agent(agentName)
	if !ok {
		return nil, fmt.Errorf("agent %q: %w; list agents with `switchyard agent list`", agentName, agent.ErrNotFound)
	}
	if prompt == "" {
		return nil, errors.New("the prompt is empty: say what the agent should do")
	}
	if err := m.Adapters.Check(ctx, a.Definition.Harness); err != nil {
		return nil, err
	}
	return m.create(ctx, a, prompt, actor, Created{}, ModeStart, func(s *Session) error {
		for _, d := range []string{s.Workspace, s.StateDir} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		if err := prepareWorkspace(ctx, a.Definition.Workspace, s.Workspace); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		return nil
	})
}

// create makes a session of agent a on prompt: fill fills its directory
// (the workspace and the CLI's state), then its key is minted,
// session.created (c, completed) recorded and its first turn started in
// mode. c.Harness, if set, is kept (a fork stays on its original's
// harness). A failure before the record leaves nothing behind.
func (m *Manager) create(ctx context.Context, a *agent.Agent, prompt, actor string, c Created, mode string, fill func(*Session) error) (*Session, error) {
	id := NewID()
	dir := filepath.Join(m.Dir, id)
	s := &Session{ID: id, Agent: a.Definition.Name, Harness: cmp.Or(c.Harness, a.Definition.Harness), Model: a.Definition.Model, Prompt: prompt,
		Workspace: filepath.Join(dir, "workspace"), StateDir: filepath.Join(dir, "state"),
		ForkOf: c.ForkOf, ReplayOf: c.ReplayOf, ForkAt: c.ForkAt, Changes: c.Changes}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	if err := fill(s); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	keyID, secret, err := m.MintKey(ctx, s, a)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("session %s: mint its gateway key: %w", id, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), []byte(secret), 0o600); err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	c.ID, c.Agent, c.AgentDigest, c.AgentRevision = id, s.Agent, a.Digest, a.Revision
	c.Harness, c.Model, c.Prompt, c.KeyID, c.Workspace, c.StateDir = s.Harness, s.Model, prompt, keyID, s.Workspace, s.StateDir
	created, err := m.newEvent(s, "session.created", c, actor)
	if err != nil {
		return nil, err
	}
	if err := m.append(ctx, id, created); err != nil {
		return nil, err
	}
	if err := m.startTurn(ctx, id, mode, prompt, actor); err != nil {
		return nil, err
	}
	got, _ := m.Registry.Get(id)
	return got, nil
}

// ResumeInterrupted resumes every interrupted session whose agent says
// resume: auto; serve calls it once it can run sessions. It returns the
// ids resumed, and the errors of those it could not.
func (m *Manager) ResumeInterrupted(ctx context.Context) ([]string, error) {
	var ids []string
	var errs []error
	for _, s := range m.Registry.List(Filter{Status: StatusInterrupted}) {
		a, ok := m.Agent(s.Agent)
		if !ok || a.Definition.Normalized().Resume != "auto" || s.ReplayOf != "" || s.ForkAt > 0 && s.Turns < s.ForkAt {
			continue // a replay (or a fork's) is over once its server stopped
		}
		if err := m.Resume(ctx, s.ID, "system:auto-resume"); err != nil {
			errs = append(errs, fmt.Errorf("session %s: %w", s.ID, err))
			continue
		}
		ids = append(ids, s.ID)
	}
	return ids, errors.Join(errs...)
}

// Fork starts a new session from where session id is: a copy of its
// workspace and of the CLI's state (its transcript), a key of its own,
// and a first turn on prompt that continues the same conversation
// through the harness's resume, in the copy. The original is untouched.
func (m *Manager) Fork(ctx context.Context, id, prompt, actor string) (*Session, error) {
	src, ok := m.settled(id)
	if !ok {
		return nil, fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	if src.Status == StatusRunning {
		return nil, fmt.Errorf("session %s: %w: fork it between turns (pause it first)", id, ErrBusy)
	}
	if src.ReplayOf != "" {
		return nil, errReplaySession(src)
	}
	if m.retracing(id) {
		return nil, fmt.Errorf("session %s: %w: it is a fork still retracing the turns before its turn %d", id, ErrBusy, src.ForkAt)
	}
	if prompt == "" {
		return nil, errors.New("the prompt is empty: say what the fork should do")
	}
	a, ok := m.Agent(src.Agent)
	if !ok {
		return nil, fmt.Errorf("session %s: its agent %q no longer exists: define it again to fork", id, src.Agent)
	}
	mode := ModeSend
	if src.HarnessSessionID == "" {
		mode = ModeStart
	}
	return m.create(ctx, a, prompt, actor, Created{ForkOf: id, Harness: src.Harness, HarnessSessionID: src.HarnessSessionID}, mode, func(s *Session) error {
		if err := forkWorkspace(ctx, a.Definition.Workspace, src.Workspace, s.Workspace); err != nil {
			return fmt.Errorf("fork of %s: workspace: %w", id, err)
		}
		err := os.Mkdir(s.StateDir, 0o700)
		if err == nil {
			err = copyDir(src.StateDir, s.StateDir)
		}
		if err != nil {
			return fmt.Errorf("fork of %s: the CLI's state: %w", id, err)
		}
		return nil
	})
}

// Send continues a session that is not running with a new prompt,
// through the harness's own resume.
func (m *Manager) Send(ctx context.Context, id, prompt, actor string) error {
	if prompt == "" {
		return errors.New("the prompt is empty: say what the agent should do next")
	}
	s, ok := m.settled(id)
	if !ok {
		return fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	if s.ReplayOf != "" {
		return errReplaySession(s)
	}
	if m.retracing(id) {
		return fmt.Errorf("session %s: %w: it is a fork still retracing the turns before its turn %d", id, ErrBusy, s.ForkAt)
	}
	switch s.Status {
	case StatusStopped:
		return fmt.Errorf("session %s is stopped for good: start a new one, or fork it", id)
	case StatusRunning:
		return fmt.Errorf("session %s: %w: wait for it, or stop it first", id, ErrBusy)
	}
	mode := ModeSend
	if s.HarnessSessionID == "" {
		mode = ModeStart // the CLI never said its id: begin afresh
	}
	return m.startTurn(ctx, id, mode, prompt, actor)
}

// ResumePrompt is what an interrupted or paused turn is resumed with:
// the CLI has the conversation up to where it stopped.
const ResumePrompt = "You were interrupted. Continue the task where you left off."

// Resume continues an interrupted, paused or failed session's turn
// through the harness's native resume, with the same harness session id.
func (m *Manager) Resume(ctx context.Context, id, actor string) error {
	s, ok := m.settled(id)
	if !ok {
		return fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	if s.ReplayOf != "" {
		return errReplaySession(s)
	}
	if m.retracing(id) {
		return fmt.Errorf("session %s: %w: it is a fork still retracing the turns before its turn %d", id, ErrBusy, s.ForkAt)
	}
	switch s.Status {
	case StatusInterrupted, StatusPaused, StatusFailed:
	case StatusRunning:
		return fmt.Errorf("session %s: %w", id, ErrBusy)
	default:
		return fmt.Errorf("session %s is %s: there is nothing to resume; `session send` gives it a new prompt", id, s.Status)
	}
	if s.HarnessSessionID == "" {
		// The CLI died before it said its id: run the turn's prompt again.
		return m.startTurn(ctx, id, ModeStart, m.lastPrompt(s), actor)
	}
	return m.startTurn(ctx, id, ModeResume, ResumePrompt, actor)
}

func (m *Manager) lastPrompt(s *Session) string {
	if s.LastPrompt != "" {
		return s.LastPrompt
	}
	return s.Prompt
}

// Stop ends a session for good, stopping its turn if one runs.
func (m *Manager) Stop(ctx context.Context, id, reason, actor string) error {
	s, ok := m.settled(id)
	if !ok {
		return fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	if s.Status == StatusStopped {
		return nil
	}
	m.cancelTurn(id, OutcomeStopped, reason)
	p, err := m.newEvent(s, "session.stopped", Stopped{Reason: reason}, actor)
	if err != nil {
		return err
	}
	if err := m.append(ctx, id, p); err != nil {
		return err
	}
	// A stopped session calls no model again: its key goes.
	if m.RevokeKey != nil && s.KeyID != "" {
		if err := m.RevokeKey(ctx, s.KeyID, "session "+id+" stopped"); err != nil {
			m.log().Warn("could not revoke a stopped session's key", "session", id, "key", s.KeyID, "err", err)
		}
	}
	return nil
}

// Pause stops a session's running turn so that it can be resumed later.
func (m *Manager) Pause(ctx context.Context, id, reason, actor string) error {
	s, ok := m.settled(id)
	if !ok {
		return fmt.Errorf("session %q: %w", id, ErrNotFound)
	}
	if s.Status != StatusRunning {
		return fmt.Errorf("session %s is %s, not running: only a running session can be paused", id, s.Status)
	}
	m.cancelTurn(id, OutcomeStopped, reason)
	s, _ = m.Registry.Get(id)
	p, err := m.newEvent(s, "session.paused", Paused{Reason: reason}, actor)
	if err != nil {
		return err
	}
	return m.append(ctx, id, p)
}

// cancelTurn stops id's turn, if one runs, and waits for it to be
// recorded as ended.
func (m *Manager) cancelTurn(id, why, reason string) {
	m.mu.Lock()
	r := m.running[id]
	if r != nil && r.why == "" {
		r.why, r.reason = why, reason
	}
	m.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// Close stops every running turn; each is recorded as interrupted, to
// be resumed when the server is back. It returns when all are recorded.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	var runs []*turnRun
	for _, r := range m.running {
		if r.why == "" {
			r.why, r.reason = OutcomeInterrupted, "switchyard shut down while the turn ran: `switchyard session resume` continues it"
		}
		runs = append(runs, r)
	}
	m.mu.Unlock()
	for _, r := range runs {
		r.cancel()
	}
	m.wg.Wait()
}

// Running reports the ids of the sessions with a turn in flight here.
func (m *Manager) Running() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.running))
	for id := range m.running {
		ids = append(ids, id)
	}
	return ids
}

// startTurn records the start of a turn and runs it in the background.
func (m *Manager) startTurn(ctx context.Context, id, mode, prompt, actor string) error {
	s, _ := m.Registry.Get(id)
	a, ok := m.Agent(s.Agent)
	if !ok {
		return fmt.Errorf("session %s: its agent %q no longer exists: define it again to go on", id, s.Agent)
	}
	ad, cli, release, err := m.Adapters.Adapter(ctx, s.Harness)
	if err != nil {
		return err
	}
	handedOn := false
	defer func() {
		if !handedOn {
			release()
		}
	}()
	secret, err := os.ReadFile(filepath.Join(filepath.Dir(s.StateDir), "key"))
	if err != nil {
		return fmt.Errorf("session %s: its gateway key is gone (%v): start a new session", id, err)
	}
	wrapper, sbMode, sbDetail, err := m.sandbox(&a.Definition, s, cli)
	if err != nil {
		return err
	}
	req := harness.StartRequest{
		SessionID: id, Prompt: prompt, Workdir: s.Workspace, StateDir: s.StateDir, CLIPath: cli,
		Gateway: harness.Gateway{BaseURL: m.GatewayURL, Key: string(secret)}, Model: a.Definition.Model,
		Instructions: a.Definition.Instructions, AllowedTools: a.Definition.Tools.Allow, DisallowedTools: a.Definition.Tools.Deny,
		Env: a.Definition.Env, Sandbox: sandboxFor(&a.Definition),
	}
	for _, s := range a.Definition.MCPServers {
		req.MCPServers = append(req.MCPServers, harness.MCPServer(s))
	}
	if wrapper != nil {
		if req.Sandbox == nil {
			req.Sandbox = &harness.Sandbox{}
		}
		req.Sandbox.Wrapper = wrapper
	}

	m.mu.Lock()
	for {
		if m.closed {
			m.mu.Unlock()
			return ErrClosed
		}
		prev := m.running[id]
		if prev == nil {
			break
		}
		m.mu.Unlock()
		if cur, ok := m.settled(id); !ok || cur.Status == StatusRunning {
			return fmt.Errorf("session %s: %w", id, ErrBusy)
		}
		// The turn before has recorded its end but not yet left the
		// running set: a moment's wait, not busy.
		<-prev.done
		m.mu.Lock()
	}
	if m.running == nil {
		m.running = map[string]*turnRun{}
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &turnRun{cancel: cancel, done: make(chan struct{})}
	m.running[id] = r
	m.wg.Add(1)
	m.mu.Unlock()

	turn := s.Turns + 1
	if mode == ModeResume {
		turn = s.Turns // the same turn, continued
	}
	// The CLI's model calls name their turn: the gateway records the
	// request's tags (the key pins the session).
	req.Gateway.Headers = map[string]string{"x-switchyard-tags": "turn=" + strconv.Itoa(turn)}
	ts := TurnStarted{Turn: turn, Mode: mode, Prompt: prompt, Node: m.Node, Sandbox: sbMode, SandboxDetail: sbDetail}
	if mode != ModeStart {
		ts.HarnessSessionID = s.HarnessSessionID
	}
	p, err := m.newEvent(s, "session.turn.started", ts, actor)
	if err == nil {
		err = m.append(ctx, id, p)
	}
	if err != nil {
		m.finish(id, r)
		return err
	}
	handedOn = true
	go func() {
		defer release()
		m.runTurn(rctx, r, s, turn, ad, mode, req)
	}()
	return nil
}

func (m *Manager) finish(id string, r *turnRun) {
	m.mu.Lock()
	delete(m.running, id)
	m.mu.Unlock()
	r.cancel()
	close(r.done)
	m.wg.Done()
}

// runTurn runs one turn on the adapter and records how it ended.
func (m *Manager) runTurn(ctx context.Context, r *turnRun, s *Session, turn int, ad harness.Adapter, mode string, req harness.StartRequest) {
	defer m.finish(s.ID, r)
	log := m.log().With("session", s.ID, "turn", turn)
	var last harness.Event
	emit := func(e harness.Event) error {
		last = e
		p, err := m.newEvent(s, HarnessType(e.Kind), HarnessEvent{Turn: turn, Event: e}, "harness:"+s.Harness)
		if err != nil {
			return err
		}
		// Recording must not stop with the turn: a stop still lets the
		// events before it land.
		return m.append(context.WithoutCancel(ctx), s.ID, p)
	}
	err := func() (err error) {
		// An adapter runs in the server's process: its panic is its
		// session's failure, not the server's.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("the %s adapter panicked: %v", s.Harness, p)
				log.Error("adapter panic", "panic", p, "stack", string(debug.Stack()))
			}
		}()
		if mode == ModeStart {
			return harness.Start(ctx, ad, req, emit)
		}
		return harness.Resume(ctx, ad, harness.ResumeRequest{StartRequest: req, HarnessSessionID: s.HarnessSessionID}, emit)
	}()
	end := TurnEnded{Turn: turn}
	m.mu.Lock()
	why, reason := r.why, r.reason
	m.mu.Unlock()
	switch {
	case why != "":
		end.Outcome, end.Error = why, reason
	case errors.Is(err, harness.ErrInvalidRequest):
		end.Outcome, end.Error = OutcomeFailed, err.Error()
	case err != nil:
		// The adapter failed without ending the run (its process died, the
		// log refused an event): the CLI's work may be intact, so the turn
		// can be resumed.
		end.Outcome, end.Error = OutcomeInterrupted, err.Error()
	case last.Kind == harness.KindCompleted && last.Completed.ExitCode == 0:
		end.Outcome, end.Result = OutcomeCompleted, last.Completed.Result
	case last.Kind == harness.KindCompleted:
		end.Outcome, end.ExitCode, end.Result = OutcomeFailed, last.Completed.ExitCode, last.Completed.Result
		end.Error = fmt.Sprintf("%s exited with status %d", s.Harness, last.Completed.ExitCode)
	case last.Kind == harness.KindError && last.Error.Limit != "":
		end.Outcome, end.Error, end.Limit = OutcomeFailed, last.Error.Message, string(last.Error.Limit)
	default:
		// The CLI was killed by a signal it did not ask for, or its output
		// became unreadable: its session, and only it, is interrupted, and
		// resume continues it.
		end.Outcome, end.Error = OutcomeInterrupted, last.Error.Message
	}
	log.Info("turn ended", "outcome", end.Outcome, "err", end.Error)
	p, perr := m.newEvent(s, "session.turn.ended", end, "system")
	if perr == nil {
		perr = m.append(context.Background(), s.ID, p)
	}
	if perr != nil {
		log.Error("could not record the end of a turn: the session shows as running until the next restart interrupts it", "err", perr)
	}
}

// sandboxFor is the harness sandbox of an agent's limits.
func sandboxFor(d *agent.Definition) *harness.Sandbox {
	l := d.Limits
	sb := &harness.Sandbox{WallClock: l.WallClock.D(), MemoryBytes: int64(l.MemoryMB) << 20,
		Processes: int64(l.Processes), CPUSeconds: int64(l.CPUTime.D() / time.Second)}
	if !sb.Limited() && sb.WallClock == 0 {
		return nil
	}
	return sb
}
