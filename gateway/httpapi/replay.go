package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/gateway/replay"
)

// Replayer re-runs a session's recorded decisions. *gateway.Gateway
// satisfies it.
type Replayer interface {
	ReplaySession(ctx context.Context, id string, turn int) (*replay.Report, error)
}

// replaySession answers POST /api/v1/sessions/ID/replay?turn=N: the
// replay of the session's routing decisions, policy verdicts and budget
// checks (of turn N only, if given).
// A replay that finds a difference is still a 200: the report says what
// differs.
func (s *Server) replaySession(c *fiber.Ctx) error {
	turn := 0
	if t := c.Query("turn"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return apiErr(fiber.StatusBadRequest, "bad_request", "turn %q: a turn is a number from 1", t)
		}
		turn = n
	}
	if err := s.flushGateway(c.UserContext()); err != nil {
		return err
	}
	rep, err := s.cfg.Replayer.ReplaySession(c.UserContext(), c.Params("id"), turn)
	if errors.Is(err, replay.ErrNoSession) {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: err,
			Message: err.Error() + ": list sessions with `switchyard session list`"}
	}
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

// WhatIfs runs a routing plugin over past calls. *gateway.Gateway
// satisfies it.
type WhatIfs interface {
	WhatIf(ctx context.Context, name string, module, config []byte, since, until time.Time) (*replay.WhatIf, error)
}

// WhatIfRequest is the body of POST /api/v1/whatif: a routing plugin (as
// for an install) and the period of calls to run it over.
type WhatIfRequest struct {
	Name   string          `json:"name,omitempty"`
	Module []byte          `json:"module"`
	Config json.RawMessage `json:"config,omitempty"`
	// Since and Until take what `switchyard costs` takes: 7d, yesterday,
	// a date or an RFC 3339 time. Since defaults to 7d.
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
}

func (s *Server) whatIf(c *fiber.Ctx) error {
	var req WhatIfRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "the body is not a what-if request in JSON (module, config, since, until): %v", err)
	}
	if len(req.Module) == 0 {
		return apiErr(fiber.StatusBadRequest, "bad_request", "module is empty: send the routing plugin's .wasm (base64 in JSON)")
	}
	now := time.Now()
	since, err := costs.ParseTime(cmp.Or(req.Since, "7d"), now)
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "since: %v", err)
	}
	until, err := costs.ParseTime(req.Until, now)
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "until: %v", err)
	}
	if err := s.flushGateway(c.UserContext()); err != nil {
		return err
	}
	rep, err := s.cfg.WhatIf.WhatIf(c.UserContext(), req.Name, req.Module, req.Config, since, until)
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "%v", err)
	}
	return c.JSON(rep)
}
