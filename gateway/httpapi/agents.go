package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/eventstore"
)

// Agents is the agents' API. *agent.Service satisfies it.
type Agents interface {
	List() []agent.Agent
	Get(name string) (*agent.Agent, bool)
	Put(ctx context.Context, d agent.Definition, actor string, dryRun bool) (agent.PutResult, error)
	Delete(ctx context.Context, name, reason, actor string) error
	History(ctx context.Context, name string) ([]agent.Revision, error)
}

// AgentDetail is the answer to GET /api/v1/agents/NAME.
type AgentDetail struct {
	Agent   agent.Agent      `json:"agent"`
	History []agent.Revision `json:"history"`
}

func (s *Server) agentRoutes(v1 fiber.Router) {
	if s.cfg.Agents == nil {
		return
	}
	v1.Get("/agents", s.listAgents)
	v1.Get("/agents/:name", s.getAgent)
	v1.Put("/agents/:name", s.putAgent)
	v1.Delete("/agents/:name", s.deleteAgent)
}

func (s *Server) listAgents(c *fiber.Ctx) error {
	as := s.cfg.Agents.List()
	if as == nil {
		as = []agent.Agent{}
	}
	return c.JSON(fiber.Map{"agents": as})
}

func agentNotFound(name string) error {
	return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Err: agent.ErrNotFound,
		Message: fmt.Sprintf("no agent %q: list agents with `switchyard agent list`, define one with `switchyard apply -f agents.yaml`", name)}
}

func (s *Server) getAgent(c *fiber.Ctx) error {
	name := c.Params("name")
	a, ok := s.cfg.Agents.Get(name)
	if !ok {
		return agentNotFound(name)
	}
	h, err := s.cfg.Agents.History(c.UserContext(), name)
	if err != nil {
		return err
	}
	return c.JSON(AgentDetail{Agent: *a, History: h})
}

// putAgent stores a definition: PUT /api/v1/agents/NAME with the
// definition as the body; ?dry_run=true only says what would change.
func (s *Server) putAgent(c *fiber.Ctx) error {
	name := c.Params("name")
	var d agent.Definition
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "the body is not an agent definition in JSON (fields: name, description, harness, model, tags, instructions, tools, mcp_servers, budget, workspace, env, limits, sandbox, resume): %v", err)
	}
	if d.Name == "" {
		d.Name = name
	}
	if d.Name != name {
		return apiErr(fiber.StatusBadRequest, "invalid", "the body defines agent %q but the path says %q: rename by deleting one and applying the other", d.Name, name)
	}
	dry, _ := strconv.ParseBool(c.Query("dry_run"))
	res, err := s.cfg.Agents.Put(c.UserContext(), d, actor(c), dry)
	if err != nil {
		var fes agent.FieldErrors
		if errors.As(err, &fes) {
			return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: "agent " + name + ": " + err.Error(), Err: err}
		}
		var wev *eventstore.WrongExpectedVersionError
		if errors.As(err, &wev) {
			return &apiError{Status: fiber.StatusConflict, Code: "wrong_expected_version", Err: err,
				Message: fmt.Sprintf("agent %s was changed by another writer meanwhile: look at `switchyard agent show %s` and apply again", name, name)}
		}
		return err
	}
	status := fiber.StatusOK
	if res.Created && !dry {
		status = fiber.StatusCreated
	}
	if res.Diff == nil {
		res.Diff = []agent.Change{}
	}
	return c.Status(status).JSON(res)
}

func (s *Server) deleteAgent(c *fiber.Ctx) error {
	name := c.Params("name")
	err := s.cfg.Agents.Delete(c.UserContext(), name, c.Query("reason"), actor(c))
	if errors.Is(err, agent.ErrNotFound) {
		return agentNotFound(name)
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
