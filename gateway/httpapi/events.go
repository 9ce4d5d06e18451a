package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// ProposedEvent is one event in an append request: the body is one of these
// or a JSON array of them.
type ProposedEvent struct {
	// ID is the event's UUID and idempotency key; empty lets the store
	// assign a UUIDv7. Sending the same ids again is a safe retry.
	ID string `json:"id,omitempty"`
	// Type is a dotted lower-case type such as "session.started".
	Type string `json:"type"`
	// Data is any JSON value; {} if there is nothing to say.
	Data json.RawMessage `json:"data"`
	// Metadata says why the event happened and on whose behalf.
	Metadata event.Metadata `json:"metadata,omitzero"`
	// Time is when it happened; empty means the time of the append.
	Time time.Time `json:"time,omitzero"`
}

// AppendResponse answers a successful append: 201 Created, or 200 OK with
// Duplicate set when every event id was already stored (an idempotent retry).
type AppendResponse struct {
	Stream       string `json:"stream"`
	FirstVersion uint64 `json:"first_version"`
	LastVersion  uint64 `json:"last_version"`
	// Positions are the events' global positions, in the order sent.
	Positions []uint64 `json:"positions"`
	Duplicate bool     `json:"duplicate"`
}

// ExpectedVersionHeader may carry the expected version of an append instead
// of the expected query parameter.
const ExpectedVersionHeader = "Expected-Version"

const (
	eventExample = `{"type":"note.added","data":{"text":"hello"}}`
	mimeNDJSON   = "application/x-ndjson"
)

func (s *Server) appendEvents(c *fiber.Ctx) error {
	stream, err := streamParam(c)
	if err != nil {
		return err
	}
	expected, err := expectedVersion(c)
	if err != nil {
		return err
	}
	proposed, err := DecodeEvents(c.Body())
	if err != nil {
		return &apiError{Status: fiber.StatusBadRequest, Code: "bad_request", Message: err.Error(), Err: err}
	}
	res, err := s.store.Append(c.UserContext(), stream, expected, proposed...)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if res.Duplicate {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(AppendResponse{
		Stream: stream, FirstVersion: res.FirstVersion, LastVersion: res.LastVersion,
		Positions: res.Positions, Duplicate: res.Duplicate,
	})
}

// DecodeEvents decodes an append body: one event object or a JSON array of
// them. Unknown fields are refused, so a typo such as "dat" is caught
// rather than stored as an event without data. Errors say what was wrong
// and show what to send.
func DecodeEvents(body []byte) ([]event.Proposed, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("request body is empty: send one event such as %s, or a JSON array of them", eventExample)
	}
	var in []ProposedEvent
	switch body[0] {
	case '{':
		var one ProposedEvent
		if err := decodeStrict(body, &one); err != nil {
			return nil, err
		}
		in = []ProposedEvent{one}
	case '[':
		if err := decodeStrict(body, &in); err != nil {
			return nil, err
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("the array of events is empty: send at least one event such as %s", eventExample)
		}
	default:
		return nil, fmt.Errorf("request body is not a JSON object or array: send one event such as %s, or a JSON array of them", eventExample)
	}
	out := make([]event.Proposed, len(in))
	for i, pe := range in {
		p, err := pe.Proposed()
		if err != nil {
			if len(in) > 1 {
				return nil, fmt.Errorf("event %d of %d: %w", i+1, len(in), err)
			}
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Proposed converts pe to the store's form, checking its id.
func (pe *ProposedEvent) Proposed() (event.Proposed, error) {
	p := event.Proposed{Type: pe.Type, Data: pe.Data, Metadata: pe.Metadata, Time: pe.Time}
	if pe.ID != "" {
		id, err := uuid.Parse(pe.ID)
		if err != nil {
			return p, fmt.Errorf("id %q is not a UUID (%v): leave id out and the store assigns one", pe.ID, err)
		}
		p.ID = id
	}
	if pe.Type == "" {
		return p, fmt.Errorf("the event has no type: send an event such as %s", eventExample)
	}
	if len(pe.Data) == 0 || string(pe.Data) == "null" {
		return p, fmt.Errorf("event of type %q has no data: send a JSON value, {} if there is nothing to say", pe.Type)
	}
	return p, nil
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return fmt.Errorf("malformed JSON: more than one JSON value in the body: send one event such as %s, or a JSON array of them", eventExample)
		}
		return nil
	}
	return explainJSONError(body, err)
}

// explainJSONError turns an encoding/json error into a message that says
// where the input went wrong and what to send instead.
func explainJSONError(body []byte, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at byte %d: %v: send one event such as %s, or a JSON array of them", syn.Offset, syn, eventExample)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("malformed JSON: the body ends in the middle of a value (%d bytes): send one event such as %s", len(body), eventExample)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		} else {
			field = "field " + strconv.Quote(field)
		}
		return fmt.Errorf("%s holds a JSON %s where %s is wanted: send an event such as %s", field, typ.Value, typ.Type, eventExample)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s: an event has only id, type, data, metadata and time, as in %s",
			strings.TrimPrefix(err.Error(), "json: "), eventExample)
	}
	return fmt.Errorf("malformed event JSON: %w: send one event such as %s", err, eventExample)
}

func streamParam(c *fiber.Ctx) (string, error) {
	raw := c.Params("stream")
	stream, err := url.PathUnescape(raw)
	if err != nil {
		return "", apiErr(fiber.StatusBadRequest, "bad_request", "stream name %q is not a valid URL path segment: percent-encode it", raw)
	}
	return stream, nil
}

func expectedVersion(c *fiber.Ctx) (eventstore.ExpectedVersion, error) {
	q, h := c.Query("expected"), c.Get(ExpectedVersionHeader)
	if q != "" && h != "" && q != h {
		return 0, apiErr(fiber.StatusBadRequest, "bad_request",
			"expected version is %q in the query but %q in the %s header: send one", q, h, ExpectedVersionHeader)
	}
	if q == "" {
		q = h
	}
	x, err := eventstore.ParseExpectedVersion(q)
	if err != nil {
		return 0, &apiError{Status: fiber.StatusBadRequest, Code: "bad_request", Message: err.Error(), Err: err}
	}
	return x, nil
}

// readOptions parses from, direction and limit. what names From in
// messages: "version" or "position".
func readOptions(c *fiber.Ctx, what string) (eventstore.ReadOptions, error) {
	var opts eventstore.ReadOptions
	switch d := c.Query("direction"); d {
	case "", "forwards", "forward":
	case "backwards", "backward":
		opts.Direction = eventstore.Backwards
	default:
		return opts, apiErr(fiber.StatusBadRequest, "bad_request", "direction %q: want forwards or backwards", d)
	}
	switch f := c.Query("from"); f {
	case "":
		if opts.Direction == eventstore.Backwards {
			opts.From = eventstore.End
		}
	case "end":
		opts.From = eventstore.End
	default:
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return opts, apiErr(fiber.StatusBadRequest, "bad_request", "from %q is not a %s: give a number, or end", f, what)
		}
		opts.From = n
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return opts, apiErr(fiber.StatusBadRequest, "bad_request", "limit %q: give a number of events, 0 for no limit", l)
		}
		opts.Limit = n
	}
	return opts, nil
}

func (s *Server) readStream(c *fiber.Ctx) error {
	stream, err := streamParam(c)
	if err != nil {
		return err
	}
	opts, err := readOptions(c, "version")
	if err != nil {
		return err
	}
	return s.streamLines(c, func(ctx context.Context) iter.Seq2[event.Event, error] {
		return s.store.ReadStream(ctx, stream, opts)
	})
}

func (s *Server) readAll(c *fiber.Ctx) error {
	opts, err := readOptions(c, "position")
	if err != nil {
		return err
	}
	return s.streamLines(c, func(ctx context.Context) iter.Seq2[event.Event, error] {
		return s.store.ReadAll(ctx, opts)
	})
}

// streamLines answers with the events of read as JSON lines. An error
// before the first event is answered with its status; a later one ends the
// body with an {"error":...} line.
func (s *Server) streamLines(c *fiber.Ctx, read func(context.Context) iter.Seq2[event.Event, error]) error {
	ctx, done, ok := s.startStream()
	if !ok {
		return apiErr(fiber.StatusServiceUnavailable, "unavailable", "the server is shutting down")
	}
	next, stop := iter.Pull2(read(ctx))
	first, err, more := next()
	if err != nil || !more {
		stop()
		done()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, mimeNDJSON)
		c.Status(fiber.StatusOK) // and an empty body, unlike SendStatus
		return nil
	}
	c.Set(fiber.HeaderContentType, mimeNDJSON)
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer done()
		defer stop()
		e := first
		for {
			if writeJSONLine(w, &e) != nil {
				return // the client has gone
			}
			var (
				err  error
				more bool
			)
			e, err, more = next()
			if !more {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("read failed mid-response", "err", err)
				}
				_, body := errorBody(err)
				writeJSONLine(w, ErrorResponse{Error: body})
				break
			}
		}
		w.Flush()
	})
	return nil
}

func writeJSONLine(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}
