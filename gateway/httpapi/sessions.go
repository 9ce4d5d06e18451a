package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/tape"
)

// Sessions is the sessions' read side. *session.Registry satisfies it.
type Sessions interface {
	Get(id string) (*session.Session, bool)
	List(f session.Filter) []session.Session
}

// SessionControl runs sessions. *session.Manager satisfies it.
type SessionControl interface {
	Start(ctx context.Context, agent, prompt, actor string) (*session.Session, error)
	Send(ctx context.Context, id, prompt, actor string) error
	Resume(ctx context.Context, id, actor string) error
	Pause(ctx context.Context, id, reason, actor string) error
	Stop(ctx context.Context, id, reason, actor string) error
	Fork(ctx context.Context, id, prompt, actor string) (*session.Session, error)
}

// Retracer runs harness replays. *session.Manager satisfies it.
type Retracer interface {
	Replay(ctx context.Context, id string, prompts map[int]string, actor string) (*session.Session, error)
	ReplayResult(ctx context.Context, id string) (*session.ReplayEnded, error)
	ForkAt(ctx context.Context, id string, at session.ForkPoint, ch session.ForkChanges, actor string) (*session.Session, error)
}

// SessionForkAt is the body of POST /api/v1/sessions/ID/fork-at: the
// turn to fork at (At, or Event, the log position of the turn's
// session.turn.started) and what changes from it on.
type SessionForkAt struct {
	At    int    `json:"at,omitempty"`
	Event uint64 `json:"event,omitempty"`
	session.ForkChanges
}

// SessionReplay is the body of POST /api/v1/sessions/ID/retrace.
type SessionReplay struct {
	// Prompts replaces the prompts of some turns, by turn number.
	Prompts map[int]string `json:"prompts,omitempty"`
}

// ReplayStatus is the answer to GET /api/v1/sessions/ID/retrace: a
// harness replay running, or how it ended.
type ReplayStatus struct {
	Session string               `json:"session"`
	Of      string               `json:"of"`
	Running bool                 `json:"running"`
	Result  *session.ReplayEnded `json:"result,omitempty"`
}

// maxReplayWait bounds how long GET /api/v1/sessions/ID/retrace?wait=
// holds a request.
const maxReplayWait = time.Minute

// SessionStart is the body of POST /api/v1/sessions.
type SessionStart struct {
	Agent  string `json:"agent"`
	Prompt string `json:"prompt"`
}

// SessionCommand is the body of POST /api/v1/sessions/ID/{send,fork,pause,stop}:
// the prompt of send and fork, the reason of pause and stop.
type SessionCommand struct {
	Prompt string `json:"prompt,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// SessionDetail is the answer to GET /api/v1/sessions/ID: the session and
// its stream's events, in order.
type SessionDetail struct {
	Session session.Session `json:"session"`
	Events  []event.Event   `json:"events"`
	// Usage is what its model calls used and cost, from the cost read
	// model (absent when the server has none).
	Usage *SessionUsage `json:"usage,omitempty"`
}

// SessionUsage is a session's model calls: in all, by model and provider,
// and by decision (turn).
type SessionUsage struct {
	Total     costs.Summary   `json:"total"`
	Models    []costs.JSONRow `json:"models"`
	Decisions []costs.JSONRow `json:"decisions"`
}

// sessionUsage asks the cost model about session id.
func (s *Server) sessionUsage(id string) (*SessionUsage, error) {
	where := []costs.Filter{{Dim: dimSession, Value: id}}
	byModel, err := s.cfg.Costs.Query(costs.Query{By: []costs.Dim{dimModel, dimProvider}, Where: where})
	if err != nil {
		return nil, err
	}
	byDecision, err := s.cfg.Costs.Query(costs.Query{By: []costs.Dim{dimDecision}, Where: where})
	if err != nil {
		return nil, err
	}
	m, d := byModel.JSON(), byDecision.JSON()
	// Decisions in turn order, not by cost: a timeline.
	slices.SortFunc(d.Rows, func(a, b costs.JSONRow) int {
		return cmp.Compare(turnOf(a.Group["decision"]), turnOf(b.Group["decision"]))
	})
	return &SessionUsage{Total: m.Total, Models: m.Rows, Decisions: d.Rows}, nil
}

var dimSession, dimModel, dimProvider, dimDecision = mustDim("session"), mustDim("model"), mustDim("provider"), mustDim("decision")

func mustDim(name string) costs.Dim {
	d, err := costs.ParseDim(name)
	if err != nil {
		panic(err)
	}
	return d
}

// turnOf is the turn of a decision "SESSION/TURN"; calls outside a turn
// (no decision) sort first.
func turnOf(decision string) int {
	_, t, _ := strings.Cut(decision, "/")
	n, _ := strconv.Atoi(t)
	return n
}

func (s *Server) sessionRoutes(v1 fiber.Router) {
	if s.cfg.Sessions == nil {
		return
	}
	v1.Get("/sessions", s.listSessions)
	v1.Get("/sessions/:id", s.getSession)
	v1.Get("/sessions/:id/turns/:turn/trace", s.getTrace)
	v1.Get("/calls/:id/trace", s.getCallTrace)
	if s.cfg.Replayer != nil {
		v1.Post("/sessions/:id/replay", s.replaySession)
	}
	if s.cfg.Retracer != nil {
		v1.Post("/sessions/:id/retrace", s.startRetrace)
		v1.Get("/sessions/:id/retrace", s.getRetrace)
		v1.Post("/sessions/:id/fork-at", s.startForkAt)
	}
	if s.cfg.SessionControl == nil {
		return
	}
	v1.Post("/sessions", s.startSession)
	v1.Post("/sessions/:id/:command", s.sessionCommand)
}

func decodeBody(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "the body is not %s: %v", what, err)
	}
	return nil
}

// sessionError maps the manager's errors to API errors.
func sessionError(err error) error {
	switch {
	case errors.Is(err, session.ErrNotFound), errors.Is(err, agent.ErrNotFound):
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Message: err.Error(), Err: err}
	case errors.Is(err, session.ErrBusy):
		return &apiError{Status: fiber.StatusConflict, Code: "busy", Message: err.Error(), Err: err}
	case errors.Is(err, session.ErrClosed):
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: err.Error(), Err: err}
	case errors.Is(err, session.ErrNotReplayable), errors.Is(err, tape.ErrNotReplayable):
		return &apiError{Status: fiber.StatusConflict, Code: "not_replayable", Message: err.Error(), Err: err}
	}
	return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: err.Error(), Err: err}
}

func (s *Server) startSession(c *fiber.Ctx) error {
	var in SessionStart
	if err := decodeBody(c.Body(), &in, `{"agent": NAME, "prompt": TEXT}`); err != nil {
		return err
	}
	if in.Agent == "" {
		return apiErr(fiber.StatusBadRequest, "invalid", "agent is required: the name of an agent (`switchyard agent list`)")
	}
	ses, err := s.cfg.SessionControl.Start(c.UserContext(), in.Agent, in.Prompt, actor(c))
	if err != nil {
		return sessionError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"session": ses})
}

func (s *Server) sessionCommand(c *fiber.Ctx) error {
	id, cmd := c.Params("id"), c.Params("command")
	var in SessionCommand
	if len(c.Body()) > 0 {
		if err := decodeBody(c.Body(), &in, `{"prompt": TEXT} or {"reason": TEXT}`); err != nil {
			return err
		}
	}
	ctx, sc := c.UserContext(), s.cfg.SessionControl
	var err error
	switch cmd {
	case "send":
		err = sc.Send(ctx, id, in.Prompt, actor(c))
	case "resume":
		err = sc.Resume(ctx, id, actor(c))
	case "pause":
		err = sc.Pause(ctx, id, in.Reason, actor(c))
	case "stop":
		err = sc.Stop(ctx, id, in.Reason, actor(c))
	case "fork":
		fork, err := sc.Fork(ctx, id, in.Prompt, actor(c))
		if err != nil {
			return sessionError(err)
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"session": fork})
	default:
		return apiErr(fiber.StatusNotFound, "not_found", "no session command %q: use send, resume, pause, stop or fork", cmd)
	}
	if err != nil {
		return sessionError(err)
	}
	ses, _ := s.cfg.Sessions.Get(id)
	return c.JSON(fiber.Map{"session": ses})
}

func (s *Server) listSessions(c *fiber.Ctx) error {
	if w := s.cfg.SessionsWaiter; w != nil {
		if err := s.catchUp(c.UserContext(), w, "session registry"); err != nil {
			return err
		}
	}
	f := session.Filter{Agent: c.Query("agent"), Status: session.Status(c.Query("status"))}
	switch f.Status {
	case "", session.StatusRunning, session.StatusIdle, session.StatusFailed, session.StatusInterrupted, session.StatusPaused, session.StatusStopped:
	default:
		return apiErr(fiber.StatusBadRequest, "bad_request", "status %q: use running, idle, failed, interrupted, paused or stopped", f.Status)
	}
	return c.JSON(fiber.Map{"sessions": s.cfg.Sessions.List(f)})
}

func (s *Server) getSession(c *fiber.Ctx) error {
	id := c.Params("id")
	if w := s.cfg.SessionsWaiter; w != nil {
		if err := s.catchUp(c.UserContext(), w, "session registry"); err != nil {
			return err
		}
	}
	ses, ok := s.cfg.Sessions.Get(id)
	if !ok {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: session.ErrNotFound,
			Message: fmt.Sprintf("no session %q: list sessions with `switchyard session list`", id)}
	}
	out := SessionDetail{Session: *ses, Events: []event.Event{}}
	if s.cfg.Costs != nil {
		if err := s.costsCaughtUp(c.UserContext()); err != nil {
			return err
		}
		u, err := s.sessionUsage(id)
		if err != nil {
			return err
		}
		out.Usage = u
	}
	for e, err := range s.store.ReadStream(c.UserContext(), session.Stream(id), eventstore.ReadOptions{}) {
		if err != nil {
			return err
		}
		out.Events = append(out.Events, e)
	}
	return c.JSON(out)
}

// startRetrace serves POST /api/v1/sessions/ID/retrace: a harness replay
// of session ID starts, as a new session; 201 with it.
func (s *Server) startRetrace(c *fiber.Ctx) error {
	var in SessionReplay
	if len(c.Body()) > 0 {
		if err := decodeBody(c.Body(), &in, `{"prompts": {"TURN": TEXT}}`); err != nil {
			return err
		}
	}
	ses, err := s.cfg.Retracer.Replay(c.UserContext(), c.Params("id"), in.Prompts, actor(c))
	if err != nil {
		return sessionError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"session": ses})
}

// startForkAt serves POST /api/v1/sessions/ID/fork-at: a fork of session
// ID at a turn, with changes (session.Manager.ForkAt). GET
// /api/v1/sessions/FORK/retrace says how the replay of the turns before
// it went.
func (s *Server) startForkAt(c *fiber.Ctx) error {
	var in SessionForkAt
	if err := decodeBody(c.Body(), &in, `{"at": TURN, "model": M, "routing_plugin": NAME, "prompt": TEXT}`); err != nil {
		return err
	}
	if in.At == 0 && in.Event == 0 {
		return apiErr(fiber.StatusBadRequest, "invalid", "at is required: the turn to fork at (or event, the position of its session.turn.started)")
	}
	ses, err := s.cfg.Retracer.ForkAt(c.UserContext(), c.Params("id"), session.ForkPoint{At: in.At, Event: in.Event}, in.ForkChanges, actor(c))
	if err != nil {
		return sessionError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"session": ses})
}

// getRetrace serves GET /api/v1/sessions/ID/retrace?wait=DURATION: how
// replay session ID ended, waiting up to wait (at most a minute) for a
// replay still running.
func (s *Server) getRetrace(c *fiber.Ctx) error {
	id := c.Params("id")
	var wait time.Duration
	if w := c.Query("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 {
			return apiErr(fiber.StatusBadRequest, "bad_request", "wait %q is not a duration: give one such as 30s", w)
		}
		wait = min(d, maxReplayWait)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), wait)
	defer cancel()
	res, err := s.cfg.Retracer.ReplayResult(ctx, id)
	if err != nil {
		return sessionError(err)
	}
	out := ReplayStatus{Session: id, Running: res == nil, Result: res}
	if ses, ok := s.cfg.Sessions.Get(id); ok {
		out.Of = cmp.Or(ses.ReplayOf, ses.ForkOf)
	}
	return c.JSON(out)
}
