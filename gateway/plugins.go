package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/plugins/wasm"
)

// Installed routing plugins: modules uploaded through the admin API
// (`switchyard plugin install`), kept in Options.PluginDir under their
// digest, and at most one of them enabled as the router over the config
// file's routing_plugin. Their state is the routing-plugins stream: the
// gateway rebuilds it from the events at Start, so an enabled plugin stays
// enabled across restarts.

// InstalledPlugin is a routing plugin uploaded to the gateway.
type InstalledPlugin struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Size   int    `json:"size"`
	// Config is what it was installed with, the default when enabled.
	Config      json.RawMessage      `json:"config,omitempty"`
	Manifest    event.PluginManifest `json:"manifest,omitzero"`
	InstalledAt time.Time            `json:"installed_at"`
}

// PluginState is what `switchyard plugin list` shows.
type PluginState struct {
	Installed []InstalledPlugin `json:"installed"`
	// Enabled names the installed plugin enabled over the config file's,
	// if any.
	Enabled string `json:"enabled,omitempty"`
	// Active is the plugin deciding routes now (nil: the static routes).
	Active *event.RoutingPluginLoaded `json:"active,omitempty"`
}

// ErrPluginNotFound is returned for a name nothing was installed under.
var ErrPluginNotFound = errors.New("no routing plugin is installed under that name")

var pluginName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// pluginRegistry is the installed plugins and the enabled one.
type pluginRegistry struct {
	mu        sync.Mutex // serialises install, enable and disable
	installed map[string]InstalledPlugin
	enabled   *event.RoutingPluginEnabled // under Gateway.mu too: build reads it
}

// modulePath is where an installed module is kept.
func (g *Gateway) modulePath(digest string) string {
	return filepath.Join(g.opts.PluginDir, strings.TrimPrefix(digest, "sha256:")+".wasm")
}

// InstallPlugin checks module as the gateway would load it (with config,
// which may be nil), keeps it, and records routing.plugin.installed. A
// name installed before gets the new module; an enabled plugin keeps
// running the module it was enabled with until it is enabled again.
func (g *Gateway) InstallPlugin(ctx context.Context, name string, module []byte, config json.RawMessage, actor string) (InstalledPlugin, error) {
	if g.opts.PluginDir == "" {
		return InstalledPlugin{}, errors.New("this gateway has no plugin directory (serve sets <data>/plugins)")
	}
	if !pluginName.MatchString(name) {
		return InstalledPlugin{}, fmt.Errorf("plugin name %q: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	config = compactJSON(config)
	// Load it once, as the gateway will: a module that does not compile,
	// speak the ABI or accept its config is refused here, not at enable.
	h, err := wasm.NewHost(ctx, wasm.Config{CacheDir: g.opts.PluginCacheDir, Instances: 1}, g.log.With("component", "plugins"))
	if err != nil {
		return InstalledPlugin{}, err
	}
	defer h.Close(context.WithoutCancel(ctx))
	p, err := h.Load(ctx, name, module, config)
	if err != nil {
		return InstalledPlugin{}, err
	}
	ip := InstalledPlugin{Name: name, Digest: p.Digest, Size: len(module), Config: config, Manifest: event.PluginManifest(p.Manifest), InstalledAt: g.now().UTC()}
	if err := os.MkdirAll(g.opts.PluginDir, 0o755); err != nil {
		return InstalledPlugin{}, err
	}
	path := g.modulePath(ip.Digest)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, module, 0o644); err != nil {
		return InstalledPlugin{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return InstalledPlugin{}, err
	}
	g.reg.mu.Lock()
	defer g.reg.mu.Unlock()
	if err := g.appendPluginEvent(ctx, "routing.plugin.installed", event.RoutingPluginInstalled{
		Name: name, Digest: ip.Digest, Size: ip.Size, Config: config, Manifest: ip.Manifest,
	}, actor); err != nil {
		return InstalledPlugin{}, err
	}
	g.reg.installed[name] = ip
	g.log.Info("routing plugin installed", "plugin", name, "digest", ip.Digest, "actor", actor)
	return ip, nil
}

// EnablePlugin makes the installed plugin name the router, over the
// config file's routing_plugin, with config (nil: its installed config).
// The swap is the same as a config reload: calls in flight finish on the
// old router. It fails, changing nothing, when the plugin does not load.
func (g *Gateway) EnablePlugin(ctx context.Context, name string, config json.RawMessage, actor string) (*event.RoutingPluginLoaded, error) {
	g.reg.mu.Lock()
	defer g.reg.mu.Unlock()
	ip, ok := g.reg.installed[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (see `switchyard plugin list`)", ErrPluginNotFound, name)
	}
	if config = compactJSON(config); config == nil {
		config = ip.Config
	}
	en := &event.RoutingPluginEnabled{Name: name, Digest: ip.Digest, Config: config}
	if err := g.switchPlugin(en); err != nil {
		return nil, err
	}
	if err := g.appendPluginEvent(ctx, "routing.plugin.enabled", *en, actor); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.loaded, nil
}

// DisablePlugin turns the enabled plugin off: the config file's
// routing_plugin (or the static routes) decides again.
func (g *Gateway) DisablePlugin(ctx context.Context, actor string) error {
	g.reg.mu.Lock()
	defer g.reg.mu.Unlock()
	g.mu.Lock()
	en := g.reg.enabled
	g.mu.Unlock()
	if en == nil {
		return errors.New("no installed plugin is enabled")
	}
	if err := g.switchPlugin(nil); err != nil {
		return err
	}
	return g.appendPluginEvent(ctx, "routing.plugin.disabled", event.RoutingPluginDisabled{Name: en.Name}, actor)
}

// switchPlugin rebuilds the gateway with en enabled (nil: none), and
// restores the previous state if that fails.
func (g *Gateway) switchPlugin(en *event.RoutingPluginEnabled) error {
	g.mu.Lock()
	prev, cfg := g.reg.enabled, g.cfg
	g.reg.enabled = en
	g.mu.Unlock()
	if err := g.Apply(cfg); err != nil {
		g.mu.Lock()
		g.reg.enabled = prev
		g.mu.Unlock()
		return err
	}
	return nil
}

// Plugins returns the installed plugins and the active one.
func (g *Gateway) Plugins() PluginState {
	g.reg.mu.Lock()
	defer g.reg.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := PluginState{Installed: []InstalledPlugin{}, Active: g.loaded}
	for _, ip := range g.reg.installed {
		st.Installed = append(st.Installed, ip)
	}
	slices.SortFunc(st.Installed, func(a, b InstalledPlugin) int { return strings.Compare(a.Name, b.Name) })
	if g.reg.enabled != nil {
		st.Enabled = g.reg.enabled.Name
	}
	return st
}

// restorePlugins rebuilds the registry from the routing-plugins stream
// and, if a plugin was enabled, enables it again. A plugin that no longer
// loads is logged and left disabled: the gateway starts on its config.
func (g *Gateway) restorePlugins(ctx context.Context) error {
	var enabled *event.RoutingPluginEnabled
	installed := map[string]InstalledPlugin{}
	for ev, err := range g.opts.Store.ReadStream(ctx, event.RoutingPluginsStream, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break // nothing was ever installed
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", event.RoutingPluginsStream, err)
		}
		switch ev.Type {
		case "routing.plugin.installed":
			var e event.RoutingPluginInstalled
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return fmt.Errorf("%s event %s: %w", ev.Type, ev.ID, err)
			}
			installed[e.Name] = InstalledPlugin{Name: e.Name, Digest: e.Digest, Size: e.Size, Config: e.Config, Manifest: e.Manifest, InstalledAt: ev.Time}
		case "routing.plugin.enabled":
			var e event.RoutingPluginEnabled
			if err := json.Unmarshal(ev.Data, &e); err != nil {
				return fmt.Errorf("%s event %s: %w", ev.Type, ev.ID, err)
			}
			enabled = &e
		case "routing.plugin.disabled":
			enabled = nil
		}
	}
	g.reg.mu.Lock()
	defer g.reg.mu.Unlock()
	g.reg.installed = installed
	if enabled == nil {
		return nil
	}
	if err := g.switchPlugin(enabled); err != nil {
		g.log.Error("the enabled routing plugin does not load; the config file's routing is used until it is enabled again or disabled",
			"plugin", enabled.Name, "digest", enabled.Digest, "err", err)
	}
	return nil
}

// enabledPluginConfig is the routing_plugin setting for the enabled
// installed plugin: its stored module, its config, and the config file's
// limits, if it sets any.
func (g *Gateway) enabledPluginConfig(en *event.RoutingPluginEnabled, file *PluginConfig) PluginConfig {
	pc := PluginConfig{Path: g.modulePath(en.Digest), Name: en.Name, Config: en.Config}
	if file != nil {
		pc.Timeout, pc.Instances, pc.MemoryMB = file.Timeout, file.Instances, file.MemoryMB
	}
	return pc
}

func (g *Gateway) appendPluginEvent(ctx context.Context, typ string, data any, actor string) error {
	p, err := event.New(typ, data, event.Metadata{Actor: actor})
	if err != nil {
		return err
	}
	if _, err := g.opts.Store.Append(ctx, event.RoutingPluginsStream, eventstore.Any, p); err != nil {
		return fmt.Errorf("record %s: %w", typ, err)
	}
	return nil
}

// compactJSON returns b without insignificant space, so the same config
// has the same digest; nil for none.
func compactJSON(b json.RawMessage) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b // not JSON: the plugin says what is wrong with it
	}
	return out.Bytes()
}
