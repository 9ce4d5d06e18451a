package gateway

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/wasm"
)

// keyRouters are the routers of the installed plugins that keys name
// (proxy.RoutingPluginTag; a fork with --routing-plugin has such a key),
// loaded at a key's first call and again after a config change (their
// static routes and targets are the config's) or an install of another
// module under the name.
type keyRouters struct {
	gen    atomic.Uint64 // bumped when a config is applied
	mu     sync.Mutex    // serialises loads; taken before Gateway.mu
	loaded map[string]*keyRouter
}

// keyRouter is an installed plugin loaded for keys.
type keyRouter struct {
	digest string
	gen    uint64
	host   *wasm.Host
	router *wasm.Router
}

var _ proxy.KeyRouters = (*Gateway)(nil)

// stale marks the loaded routers out of date: a config was applied.
// Each is loaded again at its next use (calls in flight finish on the
// old one, then its host closes). It takes no lock: Apply calls it
// holding Gateway.mu.
func (k *keyRouters) stale() { k.gen.Add(1) }

// close closes the loaded routers' hosts.
func (k *keyRouters) close(ctx context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for name, r := range k.loaded {
		r.host.Close(ctx)
		delete(k.loaded, name)
	}
}

// KeyRouter implements proxy.KeyRouters: a router deciding with the
// installed plugin name, with its installed config, over the config's
// static routes and targets (the gateway-wide plugin, if any, is not
// involved). Its decisions say `plugin:NAME`, with the module's digest.
func (g *Gateway) KeyRouter(ctx context.Context, name string) (route.Router, error) {
	g.reg.mu.Lock()
	ip, ok := g.reg.installed[name]
	g.reg.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q (see `switchyard plugin list`)", ErrPluginNotFound, name)
	}
	k := &g.keyRouters
	k.mu.Lock()
	defer k.mu.Unlock()
	gen := k.gen.Load()
	if r := k.loaded[name]; r != nil && r.digest == ip.Digest && r.gen == gen {
		return r.router, nil
	}
	g.mu.Lock()
	cfg := g.cfg
	g.mu.Unlock()
	file := cfg.RoutingPlugin
	cfg.RoutingPlugin, cfg.Policies = nil, nil
	b, err := g.build(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("today's configuration: %w", err)
	}
	b.close() // the static routes and targets are all it takes from b
	pc := g.enabledPluginConfig(&event.RoutingPluginEnabled{Name: name, Digest: ip.Digest, Config: ip.Config}, file)
	host, router, err := g.loadPlugin(ctx, pc, b.static, b.deps)
	if err != nil {
		return nil, err
	}
	p := router.Plugin()
	targets, targetsDigest := router.Targets()
	loaded := &event.RoutingPluginLoaded{
		Name: p.Name, Source: "key:installed:" + name, Digest: p.Digest, Config: p.Config, ConfigDigest: p.ConfigDigest,
		Manifest: event.PluginManifest(p.Manifest), Targets: targets, TargetsDigest: targetsDigest,
	}
	// Recorded so that `switchyard replay` can run its decisions again.
	if err := g.recordPluginLoaded(ctx, nil, loaded); err != nil {
		g.log.Error("could not record a key's routing plugin", "plugin", name, "err", err)
	}
	if old := k.loaded[name]; old != nil {
		go old.host.Close(context.Background())
	}
	if k.loaded == nil {
		k.loaded = map[string]*keyRouter{}
	}
	k.loaded[name] = &keyRouter{digest: ip.Digest, gen: gen, host: host, router: router}
	g.log.Info("routing plugin loaded for keys that name it", "plugin", name, "digest", p.Digest)
	return router, nil
}
