package httpapi

import (
	"bytes"
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/costs"
)

// Costs is the cost read model. *costs.Model satisfies it.
type Costs interface {
	Query(q costs.Query) (*costs.Report, error)
}

func (s *Server) costRoutes(v1 fiber.Router) {
	if s.cfg.Costs == nil {
		return
	}
	v1.Get("/costs", s.getCosts)
}

// getCosts answers GET /api/v1/costs?by=agent,model&since=7d&until=today
// &where=agent=reviewer (repeatable)&format=json|csv.
func (s *Server) getCosts(c *fiber.Ctx) error {
	q, err := costQuery(c, time.Now())
	if err != nil {
		return err
	}
	if err := s.costsCaughtUp(c.UserContext()); err != nil {
		return err
	}
	rep, err := s.cfg.Costs.Query(q)
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "%v", err)
	}
	switch c.Query("format", "json") {
	case "csv":
		var b bytes.Buffer
		if err := rep.WriteCSV(&b); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		return c.Send(b.Bytes())
	default:
		return c.JSON(rep.JSON())
	}
}

// costsCaughtUp waits for the cost model to have every call that has
// returned: the gateway batches its events, so they are flushed first.
func (s *Server) costsCaughtUp(ctx context.Context) error {
	if err := s.flushGateway(ctx); err != nil {
		return err
	}
	if w := s.cfg.CostsWaiter; w != nil {
		return s.catchUp(ctx, w, "the cost model")
	}
	return nil
}

// costQuery reads a cost query from the request's parameters.
func costQuery(c *fiber.Ctx, now time.Time) (costs.Query, error) {
	bad := func(format string, args ...any) (costs.Query, error) {
		return costs.Query{}, apiErr(fiber.StatusBadRequest, "bad_request", format, args...)
	}
	if f := c.Query("format", "json"); f != "json" && f != "csv" {
		return bad("format %q: use json or csv", f)
	}
	var q costs.Query
	var err error
	if q.By, err = costs.ParseBy(c.Query("by")); err != nil {
		return bad("by: %v", err)
	}
	for _, w := range c.Context().QueryArgs().PeekMulti("where") {
		f, err := costs.ParseFilter(string(w))
		if err != nil {
			return bad("where: %v", err)
		}
		q.Where = append(q.Where, f)
	}
	if q.Since, err = costs.ParseTime(c.Query("since"), now); err != nil {
		return bad("since: %v", err)
	}
	if q.Until, err = costs.ParseTime(c.Query("until"), now); err != nil {
		return bad("until: %v", err)
	}
	return q, nil
}
