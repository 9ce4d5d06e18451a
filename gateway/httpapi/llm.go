package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/proxy"
)

// Gateway serves the model APIs (/v1/...). *gateway.Gateway satisfies it.
type Gateway interface {
	// Handle runs one call; see proxy.Gateway.Handle.
	Handle(ctx context.Context, r *proxy.Request) *proxy.Response
	// Models lists the model names clients may ask for.
	Models() []string
}

// llmRoutes are the inbound model APIs and the wire format of each.
var llmRoutes = map[string]llm.API{
	"/v1/chat/completions": llm.APIOpenAIChat,
	"/v1/responses":        llm.APIOpenAIResponses,
	"/v1/messages":         llm.APIAnthropicMessages,
}

// forwardHeaders are client headers a provider may need when the body is
// forwarded unchanged.
var forwardHeaders = []string{"anthropic-beta", "anthropic-version", "openai-beta"}

func (s *Server) llmRoutesSetup() {
	if s.cfg.Gateway == nil {
		return
	}
	for path, api := range llmRoutes {
		s.app.Post(path, s.llmHandler(api))
	}
	s.app.Get("/v1/models", s.listModels)
}

func (s *Server) llmHandler(api llm.API) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req := &proxy.Request{
			API:             api,
			Body:            bytes.Clone(c.Body()),
			Key:             presentedKey(c),
			Tags:            c.Get("x-switchyard-tags"),
			Client:          clientName(c),
			ClientSessionID: clientSession(c),
		}
		for _, h := range forwardHeaders {
			if v := c.Get(h); v != "" {
				if req.Headers == nil {
					req.Headers = make(map[string]string, len(forwardHeaders))
				}
				req.Headers[h] = v
			}
		}
		ctx, done, ok := s.startCall()
		if !ok {
			c.Status(fiber.StatusServiceUnavailable).Set("Content-Type", "application/json")
			return c.Send(proxy.ErrorBody(api, &llm.Error{Kind: llm.ErrOverloaded, Status: 503, Message: "the gateway is shutting down; retry on another instance"}))
		}
		resp := s.cfg.Gateway.Handle(ctx, req)
		for k, v := range resp.Header {
			c.Set(k, v)
		}
		c.Status(resp.Status)
		if resp.Stream == nil {
			done()
			return c.Send(resp.Body)
		}
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			defer done()
			resp.Stream(w)
		})
		return nil
	}
}

// presentedKey reads the key the way each API's clients send it.
func presentedKey(c *fiber.Ctx) string {
	if a := c.Get("Authorization"); a != "" {
		if k, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(k)
		}
		return strings.TrimSpace(a)
	}
	for _, h := range []string{"x-api-key", "x-goog-api-key", "api-key"} {
		if k := c.Get(h); k != "" {
			return strings.TrimSpace(k)
		}
	}
	return ""
}

// clientName names the calling program from its User-Agent or headers.
func clientName(c *fiber.Ctx) string {
	ua := c.Get("User-Agent")
	switch {
	case strings.HasPrefix(ua, "claude-cli/"), c.Get("X-Claude-Code-Session-Id") != "":
		return "claude-code"
	case strings.HasPrefix(c.Get("originator"), "codex"), strings.HasPrefix(ua, "codex"):
		return "codex"
	case strings.HasPrefix(ua, "opencode"), c.Get("x-session-affinity") != "":
		return "opencode"
	case strings.HasPrefix(ua, "OpenAI/JS"):
		return "openai-node"
	case strings.HasPrefix(ua, "Anthropic/JS"):
		return "anthropic-node"
	}
	product, _, _ := strings.Cut(ua, " ")
	product, _, _ = strings.Cut(product, "/")
	return product
}

// clientSession reads the calling CLI's own session id.
func clientSession(c *fiber.Ctx) string {
	for _, h := range []string{"X-Claude-Code-Session-Id", "session-id", "x-session-id"} {
		if v := c.Get(h); v != "" {
			return v
		}
	}
	return ""
}

// listModels answers GET /v1/models in OpenAI's shape, or Anthropic's when
// the client sends anthropic-version.
func (s *Server) listModels(c *fiber.Ctx) error {
	models := s.cfg.Gateway.Models()
	if c.Get("anthropic-version") != "" {
		type model struct {
			Type        string `json:"type"`
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			CreatedAt   string `json:"created_at"`
		}
		out := struct {
			Data    []model `json:"data"`
			HasMore bool    `json:"has_more"`
			FirstID *string `json:"first_id"`
			LastID  *string `json:"last_id"`
		}{Data: []model{}}
		for _, m := range models {
			out.Data = append(out.Data, model{Type: "model", ID: m, DisplayName: m, CreatedAt: "2025-01-01T00:00:00Z"})
		}
		if len(models) > 0 {
			out.FirstID, out.LastID = &models[0], &models[len(models)-1]
		}
		return c.JSON(out)
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, m := range models {
		out.Data = append(out.Data, model{ID: m, Object: "model", Created: 1735689600, OwnedBy: "switchyard"})
	}
	return c.JSON(out)
}

// llmAPIFor reports the model API a path belongs to, for errors raised
// before a handler runs (body too large).
func llmAPIFor(path string) (llm.API, bool) {
	api, ok := llmRoutes[path]
	return api, ok
}
