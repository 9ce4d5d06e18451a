package httpapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/proxy"
)

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong and, in Message, what to do about it.
type ErrorBody struct {
	// Code is stable and meant for branching: bad_request, unauthorized, invalid,
	// wrong_expected_version, id_conflict, stream_not_found, not_found,
	// method_not_allowed, payload_too_large, not_ready, unavailable,
	// not_implemented, internal.
	Code    string `json:"code"`
	Message string `json:"message"`
	// Stream, Expected and Actual describe a wrong_expected_version or
	// id_conflict error. Expected and Actual are written as the expected
	// query parameter takes them ("3", "no-stream", "any", "exists"), so a
	// client can retry with expected set to Actual after re-reading.
	Stream   string `json:"stream,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// apiError is an error with the HTTP status and code it answers with.
type apiError struct {
	Status  int
	Code    string
	Message string
	Err     error // the cause, if any, for logs and errors.Is
}

func (e *apiError) Error() string { return e.Message }
func (e *apiError) Unwrap() error { return e.Err }

func apiErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody maps err to a status and body. It is the one place that
// decides which store error is which HTTP error.
func errorBody(err error) (int, ErrorBody) {
	var (
		ae  *apiError
		wev *eventstore.WrongExpectedVersionError
		idc *eventstore.IDConflictError
		fe  *fiber.Error
	)
	switch {
	case errors.As(err, &ae):
		return ae.Status, ErrorBody{Code: ae.Code, Message: ae.Message}
	case errors.As(err, &wev):
		actual := eventstore.NoStream.String()
		if wev.Actual != eventstore.NoStreamVersion {
			actual = eventstore.ExpectedVersion(wev.Actual).String()
		}
		return fiber.StatusConflict, ErrorBody{Code: "wrong_expected_version", Message: err.Error(),
			Stream: wev.Stream, Expected: wev.Expected.String(), Actual: actual}
	case errors.As(err, &idc):
		return fiber.StatusConflict, ErrorBody{Code: "id_conflict", Message: err.Error(), Stream: idc.Stream}
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return fiber.StatusNotFound, ErrorBody{Code: "stream_not_found", Message: err.Error()}
	case errors.Is(err, eventstore.ErrInvalid):
		return fiber.StatusBadRequest, ErrorBody{Code: "invalid", Message: err.Error()}
	case errors.Is(err, eventstore.ErrClosed):
		return fiber.StatusServiceUnavailable, ErrorBody{Code: "unavailable", Message: "the event store is closed: the server is shutting down"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable, ErrorBody{Code: "unavailable", Message: "the request was cancelled: " + err.Error()}
	case errors.As(err, &fe):
		return fe.Code, fiberErrorBody(fe)
	}
	return fiber.StatusInternalServerError, ErrorBody{Code: "internal", Message: err.Error()}
}

func fiberErrorBody(fe *fiber.Error) ErrorBody {
	switch fe.Code {
	case fiber.StatusNotFound:
		return ErrorBody{Code: "not_found", Message: strings.TrimPrefix(fe.Message, "Cannot ") + ": no such endpoint: the API is under /api/v1 (see docs/operations.md)"}
	case fiber.StatusMethodNotAllowed:
		return ErrorBody{Code: "method_not_allowed", Message: fe.Message}
	case fiber.StatusRequestEntityTooLarge:
		return ErrorBody{Code: "payload_too_large", Message: "request body is too large: append fewer events per request"}
	}
	return ErrorBody{Code: strings.ToLower(strings.ReplaceAll(utils.StatusMessage(fe.Code), " ", "_")), Message: fe.Message}
}

// handleError is the app's error handler: every error a handler returns
// is answered here, as JSON.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	if api, ok := llmAPIFor(c.Path()); ok && s.cfg.Gateway != nil {
		// Model API clients get errors in their API's own shape.
		status, body := errorBody(err)
		kind := llm.KindOfStatus(status)
		msg := body.Message
		if status == fiber.StatusRequestEntityTooLarge {
			kind, msg = llm.ErrTooLarge, fmt.Sprintf("request body is larger than the gateway's limit of %d bytes; send less context or raise body_limit", s.cfg.BodyLimit)
		}
		c.Status(status).Set("Content-Type", "application/json")
		return c.Send(proxy.ErrorBody(api, &llm.Error{Kind: kind, Status: status, Message: msg}))
	}
	status, body := errorBody(err)
	if status >= 500 && status != fiber.StatusServiceUnavailable && status != fiber.StatusNotImplemented {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", status, "err", err)
	}
	return c.Status(status).JSON(ErrorResponse{Error: body})
}
