package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/recorder"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/builtin"
)

// Config is the gateway's part of the Switchyard config file, under the
// top-level "gateway" key. JSON is the native form; YAML is read by
// converting it to JSON first.
type Config struct {
	// Providers are the upstreams; each needs a kind, most a key.
	Providers []provider.Config `json:"providers"`
	// Routes map the model names clients ask for to ordered targets.
	Routes []route.Rule `json:"routes,omitempty"`
	// Budgets are spend caps and rate limits per key, team, user or agent.
	// Keys' own limits (set with `switchyard keys create`) are added.
	Budgets []budget.Rule `json:"budgets,omitempty"`
	// PricesFile is a price table in LiteLLM's
	// model_prices_and_context_window.json format, merged over the
	// built-in prices. A relative path is relative to the config file.
	PricesFile string `json:"prices_file,omitempty"`
	// RoutingPlugin, when set, decides every call's route with a WASM
	// plugin (docs/routing-plugins.md); the routes above are its default,
	// used as they are when the plugin fails.
	RoutingPlugin *PluginConfig `json:"routing_plugin,omitempty"`
	// Policies are JS policies run before each call is routed, in order:
	// the first to deny stops the call (docs/policies.md).
	Policies []PolicyConfig `json:"policies,omitempty"`
	// RecordAnswers says whose model answers the gateway records, with a
	// fingerprint of each request, so that a harness replay can serve
	// them again (docs/replay.md): sessions (the default: calls made with
	// a session's key), all, or none.
	RecordAnswers string `json:"record_answers,omitempty"`
	// RecordAnswersMaxBytes bounds one recorded answer; a bigger one is
	// recorded without its content, as not replayable. Default 1 MiB.
	RecordAnswersMaxBytes int `json:"record_answers_max_bytes,omitempty"`
	// Proxy tunes retries, fallbacks and timeouts.
	Proxy proxy.Config `json:"proxy,omitzero"`
	// Recorder tunes the event writer.
	Recorder recorder.Config `json:"recorder,omitzero"`
}

// PluginConfig names a routing plugin, its configuration and its limits.
type PluginConfig struct {
	// Path is the .wasm file; relative to the config file. Builtin names
	// a strategy shipped in the binary instead (rules, cheapest, fastest,
	// weighted, failover). One of the two is required.
	Path    string `json:"path,omitempty"`
	Builtin string `json:"builtin,omitempty"`
	// Config is handed to the plugin once per instance (sy_configure),
	// as JSON; the built-in strategies' format is in
	// docs/routing-plugins.md. A plugin refuses a config it cannot use,
	// and the gateway then does not start or reload.
	Config json.RawMessage `json:"config,omitempty"`
	// Name is how events and logs call it; default: the file's base
	// name, or the built-in's.
	Name string `json:"name,omitempty"`
	// Timeout bounds one decision (default 10ms), Instances how many run
	// at once (default 4), MemoryMB each instance's memory (default 64).
	Timeout   config.Duration `json:"timeout,omitempty"`
	Instances int             `json:"instances,omitempty"`
	MemoryMB  int             `json:"memory_mb,omitempty"`
}

// File is the whole config file. Sections of other subsystems are kept
// raw and ignored here.
type File struct {
	Gateway Config                     `json:"gateway"`
	Other   map[string]json.RawMessage `json:"-"`
}

// Validate checks what can be checked without building anything.
func (c *Config) Validate() error {
	names := map[string]bool{}
	for i, p := range c.Providers {
		name := p.Name
		if name == "" {
			name = p.Kind
		}
		if p.Kind == "" {
			return fmt.Errorf("gateway.providers[%d]: kind is required (one of: %s)", i, strings.Join(provider.Kinds(), ", "))
		}
		if names[name] {
			return fmt.Errorf("gateway.providers[%d]: a provider named %q is already configured; give this one a name", i, name)
		}
		names[name] = true
	}
	for i, pc := range c.Policies {
		if err := pc.validate(i); err != nil {
			return err
		}
	}
	answers := c.answers()
	if err := answers.Validate(); err != nil {
		return fmt.Errorf("gateway.%w", err)
	}
	if rp := c.RoutingPlugin; rp != nil {
		switch {
		case rp.Path == "" && rp.Builtin == "":
			return fmt.Errorf("gateway.routing_plugin: give path (a plugin's .wasm file) or builtin (one of %s); see docs/routing-plugins.md", strings.Join(builtin.Strategies, ", "))
		case rp.Path != "" && rp.Builtin != "":
			return errors.New("gateway.routing_plugin: give path or builtin, not both")
		case rp.Builtin != "" && !slices.Contains(builtin.Strategies, rp.Builtin):
			return fmt.Errorf("gateway.routing_plugin.builtin: %q is not a built-in strategy: use one of %s", rp.Builtin, strings.Join(builtin.Strategies, ", "))
		case rp.Instances < 0, rp.MemoryMB < 0, rp.Timeout < 0:
			return errors.New("gateway.routing_plugin: instances, memory_mb and timeout cannot be negative")
		}
	}
	return nil
}

// answers is what the proxy is told of recording answers.
func (c *Config) answers() proxy.AnswersConfig {
	return proxy.AnswersConfig{Record: c.RecordAnswers, MaxBytes: c.RecordAnswersMaxBytes}
}

// LoadFile reads a config file (.json, .yaml or .yml). Unknown fields in
// the gateway section are errors, so a misspelt setting is not silently
// ignored.
func LoadFile(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(b, filepath.Ext(path))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if rp := cfg.RoutingPlugin; rp != nil && rp.Path != "" && !filepath.IsAbs(rp.Path) {
		rp.Path = filepath.Join(filepath.Dir(path), rp.Path)
	}
	for i := range cfg.Policies {
		if p := &cfg.Policies[i]; p.Path != "" && !filepath.IsAbs(p.Path) {
			p.Path = filepath.Join(filepath.Dir(path), p.Path)
		}
	}
	if cfg.PricesFile != "" && !filepath.IsAbs(cfg.PricesFile) {
		cfg.PricesFile = filepath.Join(filepath.Dir(path), cfg.PricesFile)
	}
	return cfg, nil
}

// Parse decodes a config document; ext (".json", ".yaml", ".yml")
// picks the syntax, JSON if empty.
func Parse(b []byte, ext string) (Config, error) {
	b, err := ToJSON(b, ext)
	if err != nil {
		return Config{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return Config{}, fmt.Errorf("the config must be an object with a \"gateway\" section: %w", err)
	}
	raw, ok := top["gateway"]
	if !ok {
		return Config{}, errors.New(`no "gateway" section: put providers and routes under gateway:`)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("gateway section: %w", err)
	}
	return cfg, cfg.Validate()
}

// ToJSON returns a document as JSON: ext (".json", ".yaml", ".yml")
// picks the syntax, JSON if empty. YAML is converted; JSON is returned as
// it is.
func ToJSON(b []byte, ext string) ([]byte, error) {
	switch strings.ToLower(ext) {
	case ".yaml", ".yml":
		var doc any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("yaml: %w", err)
		}
		j, err := json.Marshal(config.JSONable(doc))
		if err != nil {
			return nil, fmt.Errorf("yaml: %w", err)
		}
		return j, nil
	case "", ".json":
		return b, nil
	}
	return nil, fmt.Errorf("unknown syntax %q: use .json, .yaml or .yml", ext)
}
