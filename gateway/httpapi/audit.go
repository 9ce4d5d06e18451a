package httpapi

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/costs"
)

// Audit is the audit read model. *audit.Model satisfies it.
type Audit interface {
	Query(f audit.Filter) audit.Report
}

func (s *Server) auditRoutes(v1 fiber.Router) {
	if s.cfg.Audit == nil {
		return
	}
	v1.Get("/audit", s.getAudit)
}

// getAudit answers GET /api/v1/audit?actor=user:alice&target=agent:
// &action=key.&since=7d&until=today&limit=100: the audited actions and
// the state of the log's hash chains.
func (s *Server) getAudit(c *fiber.Ctx) error {
	bad := func(format string, args ...any) error {
		return apiErr(fiber.StatusBadRequest, "bad_request", format, args...)
	}
	now := time.Now()
	f := audit.Filter{Actor: c.Query("actor"), Target: c.Query("target"), Action: c.Query("action")}
	var err error
	if f.Since, err = costs.ParseTime(c.Query("since"), now); err != nil {
		return bad("since: %v", err)
	}
	if f.Until, err = costs.ParseTime(c.Query("until"), now); err != nil {
		return bad("until: %v", err)
	}
	if l := c.Query("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 0 {
			return bad("limit %q: give a number of entries, 0 for all", l)
		}
	}
	if w := s.cfg.AuditWaiter; w != nil {
		if err := s.catchUp(c.UserContext(), w, "the audit model"); err != nil {
			return err
		}
	}
	return c.JSON(s.cfg.Audit.Query(f))
}
