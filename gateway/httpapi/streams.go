package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
)

// Catalog lists the streams of the log. projection.StreamCatalog
// implements it.
type Catalog interface {
	Streams() []projection.StreamInfo
}

// CatalogWaiter follows how far a Catalog has folded the log, so that a
// client listing streams sees its own appends. *projection.Runner
// implements it.
type CatalogWaiter interface {
	// WaitFor blocks until every event up to pos is folded, or ctx is done.
	WaitFor(ctx context.Context, pos uint64) error
	// Position is the position of the last event folded.
	Position() uint64
}

// StreamsResponse answers GET /api/v1/streams.
type StreamsResponse struct {
	// Position is the log position the catalogue had reached when asked
	// for, or 0 if unknown. Streams lists every stream by name.
	Position uint64                  `json:"position"`
	Streams  []projection.StreamInfo `json:"streams"`
}

// catalogWait bounds how long a streams request waits for the catalogue to
// catch up with the log before answering with what it has.
const catalogWait = 2 * time.Second

func (s *Server) listStreams(c *fiber.Ctx) error {
	if s.cfg.Catalog == nil {
		return apiErr(fiber.StatusNotImplemented, "not_implemented", "this server keeps no stream catalogue")
	}
	var pos uint64
	if w := s.cfg.CatalogWaiter; w != nil {
		if err := s.catchUp(c.UserContext(), w, "stream catalogue"); err != nil {
			return err
		}
		pos = w.Position()
	}
	streams := s.cfg.Catalog.Streams()
	if streams == nil {
		streams = []projection.StreamInfo{}
	}
	return c.JSON(StreamsResponse{Position: pos, Streams: streams})
}

// catchUp waits (up to catalogWait) until the projection w follows has
// folded everything stored now, so that a client reading it sees its own
// appends. Past the wait it answers with what it has, and logs it.
func (s *Server) catchUp(ctx context.Context, w CatalogWaiter, what string) error {
	ctx, cancel := context.WithTimeout(ctx, catalogWait)
	defer cancel()
	last, err := eventstore.Head(ctx, s.store)
	if err != nil {
		return err
	}
	if err := w.WaitFor(ctx, last); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		s.log.Warn(what+" is behind the log", "log_position", last, "position", w.Position())
	}
	return nil
}
