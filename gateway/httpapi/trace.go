package httpapi

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/trace"
)

// getTrace answers GET /api/v1/sessions/ID/turns/N/trace: the decision's
// tree (core/trace), read from the log.
func (s *Server) getTrace(c *fiber.Ctx) error {
	id := c.Params("id")
	turn, err := strconv.Atoi(c.Params("turn"))
	if err != nil || turn < 1 {
		return apiErr(fiber.StatusBadRequest, "bad_request", "turn %q: a turn is a number from 1", c.Params("turn"))
	}
	if err := s.flushGateway(c.UserContext()); err != nil {
		return err
	}
	n, err := trace.Build(c.UserContext(), s.store, id, turn)
	if errors.Is(err, trace.ErrNotFound) {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: err,
			Message: err.Error() + ": `switchyard session show ID` lists a session's turns"}
	}
	if err != nil {
		return err
	}
	return c.JSON(n)
}

// callScan bounds the events a call's trace reads to find the call.
const callScan = 1_000_000

// getCallTrace answers GET /api/v1/calls/ID/trace: one model call's tree,
// found by its id (a response's x-switchyard-call-id).
func (s *Server) getCallTrace(c *fiber.Ctx) error {
	if err := s.flushGateway(c.UserContext()); err != nil {
		return err
	}
	n, err := trace.BuildCall(c.UserContext(), s.store, c.Params("id"), callScan)
	if errors.Is(err, trace.ErrNotFound) {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: err, Message: err.Error()}
	}
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "%v", err)
	}
	return c.JSON(n)
}

// flushGateway writes the gateway's batched events, so that a call that
// has returned is in the log.
func (s *Server) flushGateway(ctx context.Context) error {
	if f, ok := s.cfg.Gateway.(interface{ Flush(context.Context) error }); ok {
		return f.Flush(ctx)
	}
	return nil
}
