package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/keys"
)

// Admin is the gateway's administration: virtual keys and config reload.
// *gateway.Gateway satisfies it.
type Admin interface {
	CreateKey(ctx context.Context, spec keys.Spec, actor string) (keys.Key, string, error)
	ListKeys() []keys.Key
	RevokeKey(ctx context.Context, id, reason, actor string) error
	// Reload re-reads the config file and swaps providers, routes,
	// budgets and prices without dropping calls.
	Reload(ctx context.Context) error
	// Routing plugins: install a module, list them, enable one over the
	// config file's routing_plugin, disable it.
	InstallPlugin(ctx context.Context, name string, module []byte, config json.RawMessage, actor string) (gateway.InstalledPlugin, error)
	Plugins() gateway.PluginState
	EnablePlugin(ctx context.Context, name string, config json.RawMessage, actor string) (*event.RoutingPluginLoaded, error)
	DisablePlugin(ctx context.Context, actor string) error
}

// PluginUpload is the body of PUT /api/v1/plugins/NAME: the module
// (base64 in JSON) and, optionally, its configuration.
type PluginUpload struct {
	Module []byte          `json:"module"`
	Config json.RawMessage `json:"config,omitempty"`
}

// PluginEnable is the optional body of POST /api/v1/plugins/NAME/enable.
type PluginEnable struct {
	Config json.RawMessage `json:"config,omitempty"`
}

// CreatedKey is the answer to POST /api/v1/keys: the key and, this once,
// its secret.
type CreatedKey struct {
	Key    keys.Key `json:"key"`
	Secret string   `json:"secret"`
}

func (s *Server) adminRoutes(v1 fiber.Router) {
	if s.cfg.Admin == nil {
		return
	}
	v1.Post("/keys", s.createKey)
	v1.Get("/keys", s.listKeys)
	v1.Delete("/keys/:id", s.revokeKey)
	v1.Post("/gateway/reload", s.reload)
	v1.Get("/plugins", s.listPlugins)
	v1.Put("/plugins/:name", s.installPlugin)
	v1.Post("/plugins/:name/enable", s.enablePlugin)
	v1.Post("/plugins/disable", s.disablePlugin)
}

func (s *Server) createKey(c *fiber.Ctx) error {
	var spec keys.Spec
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "key spec is not valid JSON for a key (fields: name, team, user, agent, tags, models, max_budget_usd, budget_period, rpm, tpm, expires_at): %v", err)
	}
	k, secret, err := s.cfg.Admin.CreateKey(c.UserContext(), spec, actor(c))
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return err
		}
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: "create key: " + err.Error(), Err: err}
	}
	return c.Status(fiber.StatusCreated).JSON(CreatedKey{Key: k, Secret: secret})
}

func (s *Server) listKeys(c *fiber.Ctx) error {
	ks := s.cfg.Admin.ListKeys()
	if ks == nil {
		ks = []keys.Key{}
	}
	return c.JSON(fiber.Map{"keys": ks})
}

func (s *Server) revokeKey(c *fiber.Ctx) error {
	err := s.cfg.Admin.RevokeKey(c.UserContext(), c.Params("id"), c.Query("reason"), actor(c))
	if errors.Is(err, keys.ErrNotFound) {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Message: err.Error(), Err: err}
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) reload(c *fiber.Ctx) error {
	if err := s.cfg.Admin.Reload(c.UserContext()); err != nil {
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: "reload: " + err.Error() + "; the running config is unchanged", Err: err}
	}
	return c.JSON(fiber.Map{"reloaded": true})
}

func (s *Server) listPlugins(c *fiber.Ctx) error { return c.JSON(s.cfg.Admin.Plugins()) }

func (s *Server) installPlugin(c *fiber.Ctx) error {
	var up PluginUpload
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&up); err != nil {
		return apiErr(fiber.StatusBadRequest, "bad_request", "plugin upload is not valid JSON {\"module\": base64 WASM, \"config\": optional}: %v", err)
	}
	if len(up.Module) == 0 {
		return apiErr(fiber.StatusBadRequest, "bad_request", "plugin upload has no module: send {\"module\": the .wasm file in base64}")
	}
	ip, err := s.cfg.Admin.InstallPlugin(c.UserContext(), c.Params("name"), up.Module, up.Config, actor(c))
	if err != nil {
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: "install plugin: " + err.Error(), Err: err}
	}
	return c.Status(fiber.StatusCreated).JSON(ip)
}

func (s *Server) enablePlugin(c *fiber.Ctx) error {
	var en PluginEnable
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&en); err != nil {
			return apiErr(fiber.StatusBadRequest, "bad_request", "enable body is not valid JSON {\"config\": optional}: %v", err)
		}
	}
	loaded, err := s.cfg.Admin.EnablePlugin(c.UserContext(), c.Params("name"), en.Config, actor(c))
	if errors.Is(err, gateway.ErrPluginNotFound) {
		return &apiError{Status: fiber.StatusNotFound, Code: "not_found", Message: err.Error(), Err: err}
	}
	if err != nil {
		return &apiError{Status: fiber.StatusBadRequest, Code: "invalid", Message: "enable plugin: " + err.Error() + "; the running router is unchanged", Err: err}
	}
	return c.JSON(fiber.Map{"active": loaded})
}

func (s *Server) disablePlugin(c *fiber.Ctx) error {
	if err := s.cfg.Admin.DisablePlugin(c.UserContext(), actor(c)); err != nil {
		return &apiError{Status: fiber.StatusConflict, Code: "conflict", Message: "disable plugin: " + err.Error(), Err: err}
	}
	return c.JSON(fiber.Map{"disabled": true})
}

// actor names who made an admin change, for the audit trail. There is no
// admin authentication yet (the API listens on loopback), so it is the
// caller's own claim.
func actor(c *fiber.Ctx) string {
	if a := c.Get("x-switchyard-actor"); a != "" {
		return a
	}
	return "api"
}
