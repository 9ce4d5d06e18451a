package httpapi

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/gateway/replay"
)

// Replayer re-runs a session's recorded decisions. *gateway.Gateway
// satisfies it.
type Replayer interface {
	ReplaySession(ctx context.Context, id string, turn int) (*replay.Report, error)
}

// replaySession answers POST /api/v1/sessions/ID/replay?turn=N: the
// replay of the session's routing decisions (of turn N only, if given).
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
