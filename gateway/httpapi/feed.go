package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// feed serves GET /api/v1/events/feed: every event from a position (the
// from query parameter, "end" for only new events, or the one after the
// Last-Event-ID header of a reconnecting client), then live. With
// session=ID, only that session's timeline.
func (s *Server) feed(c *fiber.Ctx) error {
	from, err := s.feedStart(c)
	if err != nil {
		return err
	}
	ctx, done, ok := s.startStream()
	if !ok {
		return apiErr(fiber.StatusServiceUnavailable, "unavailable", "the server is shutting down")
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no") // tell proxies not to buffer
	c.Status(fiber.StatusOK)
	// The writer runs on a goroutine of its own once the handler has
	// returned; it must use nothing of c.
	keep := func(*event.Event) bool { return true }
	if id := c.Query("session"); id != "" {
		// A session's timeline: its own stream, and the model calls and
		// other events that name it.
		stream := "session-" + id
		keep = func(e *event.Event) bool { return e.Stream == stream || e.Metadata.Session == id }
	}
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer done()
		s.writeFeed(ctx, w, from, keep)
	})
	return nil
}

func (s *Server) feedStart(c *fiber.Ctx) (uint64, error) {
	if last := c.Get("Last-Event-ID"); last != "" {
		n, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			return 0, apiErr(fiber.StatusBadRequest, "bad_request", "Last-Event-ID %q is not a position: it must be the id of an event this feed sent", last)
		}
		return n + 1, nil
	}
	switch f := c.Query("from"); f {
	case "":
		return 0, nil
	case "end":
		last, err := eventstore.Head(c.UserContext(), s.store)
		return last + 1, err
	default:
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, apiErr(fiber.StatusBadRequest, "bad_request", "from %q is not a position: give a number (0 is the start) or end for new events only", f)
		}
		return n, nil
	}
}

// writeFeed copies a subscription to w as server-sent events until ctx is
// done (shutdown), the client goes away (a write fails) or the
// subscription fails. It returns only after the subscription has ended.
func (s *Server) writeFeed(ctx context.Context, w *bufio.Writer, from uint64, keep func(*event.Event) bool) {
	ctx, cancel := context.WithCancel(ctx)
	type item struct {
		e   event.Event
		err error
	}
	// The subscription runs on its own goroutine so that heartbeats can be
	// written while it waits for events.
	items := make(chan item, 64)
	go func() {
		defer close(items)
		for e, err := range s.store.SubscribeAll(ctx, from) {
			select {
			case items <- item{e, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	sent := 0
	unflushed := false // events written and not flushed yet
	defer func() {
		cancel()
		for range items { // wait for the subscription to end
		}
		s.log.Debug("event feed ended", "from", from, "sent", sent)
	}()

	fmt.Fprintf(w, "retry: 2000\n: switchyard event feed from position %d\n\n", from)
	if w.Flush() != nil {
		return
	}
	hb := time.NewTicker(s.cfg.Heartbeat)
	defer hb.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			w.WriteString(": heartbeat\n\n")
			if w.Flush() != nil {
				return
			}
		case it, ok := <-items:
			if !ok {
				return
			}
			if it.err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("event feed failed", "from", from, "sent", sent, "err", it.err)
				_, body := errorBody(it.err)
				b, _ := json.Marshal(ErrorResponse{Error: body})
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
				w.Flush()
				return
			}
			if !keep(&it.e) {
				// What was kept before it must not wait for the next
				// event kept (or the heartbeat) to go out.
				if unflushed && len(items) == 0 {
					if w.Flush() != nil {
						return
					}
					unflushed = false
				}
				continue
			}
			b, err := json.Marshal(&it.e)
			if err != nil {
				s.log.Error("encode event for feed", "event_id", it.e.ID.String(), "err", err)
				return
			}
			// json.Marshal writes no newline, so the envelope fits one data line.
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", it.e.Position, b)
			sent++
			unflushed = true
			if len(items) == 0 { // flush once a burst is written
				if w.Flush() != nil {
					return
				}
				unflushed = false
				hb.Reset(s.cfg.Heartbeat)
			}
		}
	}
}
