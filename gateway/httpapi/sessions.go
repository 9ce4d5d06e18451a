package httpapi

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/eventstore"
)

// Sessions is the sessions' read side. *session.Registry satisfies it.
type Sessions interface {
	Get(id string) (*session.Session, bool)
	List(f session.Filter) []session.Session
}

// SessionDetail is the answer to GET /api/v1/sessions/ID: the session and
// its stream's events, in order.
type SessionDetail struct {
	Session session.Session `json:"session"`
	Events  []event.Event   `json:"events"`
}

func (s *Server) sessionRoutes(v1 fiber.Router) {
	if s.cfg.Sessions == nil {
		return
	}
	v1.Get("/sessions", s.listSessions)
	v1.Get("/sessions/:id", s.getSession)
}

func (s *Server) listSessions(c *fiber.Ctx) error {
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
	ses, ok := s.cfg.Sessions.Get(id)
	if !ok {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: session.ErrNotFound,
			Message: fmt.Sprintf("no session %q: list sessions with `switchyard session list`", id)}
	}
	out := SessionDetail{Session: *ses, Events: []event.Event{}}
	for e, err := range s.store.ReadStream(c.UserContext(), session.Stream(id), eventstore.ReadOptions{}) {
		if err != nil {
			return err
		}
		out.Events = append(out.Events, e)
	}
	return c.JSON(out)
}
