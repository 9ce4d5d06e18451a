package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/pricing"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/recorder"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/builtin"
	"github.com/switchyard/switchyard/plugins/wasm"

	// The built-in providers and wire formats.
	_ "github.com/switchyard/switchyard/gateway/provider/all"
	_ "github.com/switchyard/switchyard/gateway/wire/anthropic"
	_ "github.com/switchyard/switchyard/gateway/wire/gemini"
	_ "github.com/switchyard/switchyard/gateway/wire/openai"
	_ "github.com/switchyard/switchyard/gateway/wire/responses"
)

// Store is what the gateway needs of the event log.
type Store interface {
	eventstore.Appender
	eventstore.Reader
	projection.Source
	projection.CheckpointStore
}

// Options are the gateway's run-time dependencies.
type Options struct {
	Store Store
	// ConfigPath is the file Reload re-reads; empty disables Reload.
	ConfigPath string
	Log        *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Observe receives every finished call (metrics).
	Observe func(proxy.Outcome)
	// PluginCacheDir keeps compiled routing plugins across restarts;
	// empty compiles them at every start.
	PluginCacheDir string
	// PluginDir keeps installed routing plugins' modules; empty refuses
	// installs.
	PluginDir string
	// Projections, if set, is a group the gateway's read models (keys,
	// budgets) join, so that they fold the caller's subscription to the
	// log instead of one of their own (a rebuild reads and decodes the
	// log once, not twice): New adds them, the caller runs the group,
	// and Start waits for them to catch up. Nil: Start runs a group of
	// its own.
	Projections *projection.Group
}

// Gateway is the assembled data plane. Create it with New, call Start,
// and Close it after the HTTP server has drained.
type Gateway struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	keys   *keys.Registry
	budget *budget.Manager
	prices atomic.Pointer[pricing.Table]
	rec    *recorder.Recorder
	proxy  *proxy.Gateway

	mu       sync.Mutex // serialises Reload and key changes
	cfg      Config
	plugins  *wasm.Host                 // the routing plugin's host, if one is configured
	policies *policySet                 // the JS policies, if any are configured
	loaded   *event.RoutingPluginLoaded // what routing.plugin.loaded last said; under mu
	routes   string                     // the digest routing.routes.loaded last said; under mu
	reg      pluginRegistry
	models   atomic.Pointer[[]string]

	tapes      tapes      // the harness replays running
	keyRouters keyRouters // the routing plugins keys name

	runners []*projection.Runner
	started atomic.Bool // caught up: key changes refresh budgets
	stop    context.CancelFunc
	done    sync.WaitGroup
	recDone chan struct{}
}

// New builds a gateway from cfg. Nothing runs until Start.
func New(cfg Config, opts Options) (_ *Gateway, err error) {
	if opts.Store == nil {
		return nil, errors.New("gateway: no event store")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &Gateway{opts: opts, log: opts.Log, now: opts.Now, keys: keys.NewRegistry()}
	b, err := g.build(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	provs, router := b.provs, b.router
	g.plugins, g.policies = b.plugins, b.policies
	defer func() {
		if err != nil {
			b.close() // New failed after loading the plugin and policies
		}
	}()
	g.prices.Store(b.prices)
	g.budget, err = budget.New(budget.Config{Rules: cfg.Budgets}, opts.Now, opts.Log.With("component", "budget"))
	if err != nil {
		return nil, fmt.Errorf("gateway.budgets: %w", err)
	}
	g.rec = recorder.New(opts.Store, cfg.Recorder, opts.Log.With("component", "recorder"))
	g.proxy, err = proxy.New(cfg.Proxy, proxy.Deps{
		Providers: provs, Router: router, Keys: g.keys, Pricer: (*pricer)(g),
		Admission: (*admission)(g), Policy: b.policies.asPolicy(), Sink: g.rec, Now: opts.Now,
		Log: opts.Log.With("component", "proxy"), Observe: opts.Observe,
		Replays: &g.tapes, KeyRouters: g, Answers: cfg.answers(),
	})
	if err != nil {
		return nil, err
	}
	if err := g.recordPluginLoaded(context.Background(), nil, b.loaded); err != nil {
		return nil, fmt.Errorf("gateway: record the routing plugin: %w", err)
	}
	last, err := lastRoutesDigest(context.Background(), opts.Store)
	if err != nil {
		return nil, fmt.Errorf("gateway: read the static routes last recorded: %w", err)
	}
	if err := g.recordRoutesLoaded(context.Background(), last, &b.routes); err != nil {
		return nil, fmt.Errorf("gateway: record the static routes: %w", err)
	}
	g.loaded, g.routes = b.loaded, b.routes.Digest
	g.cfg = cfg
	g.setModels(cfg)
	if opts.Projections != nil {
		g.join(opts.Projections)
	}
	return g, nil
}

// built is what a config describes, ready to swap in.
type built struct {
	provs    map[string]provider.Provider
	router   route.Router
	prices   *pricing.Table
	plugins  *wasm.Host // nil without a routing plugin
	policies *policySet // nil without policies
	// loaded describes the routing plugin, for routing.plugin.loaded.
	loaded *event.RoutingPluginLoaded
	// static is the static router and deps the deployments a plugin is
	// shown, kept for what-if.
	static route.Router
	deps   []wasm.Deployment
	// routes are the static routes, for routing.routes.loaded.
	routes event.RoutingRoutesLoaded
}

// close releases what b loaded: its plugin host and policies.
func (b *built) close() {
	if b.plugins != nil {
		b.plugins.Close(context.Background())
	}
	b.policies.close()
}

// deployments are the targets a routing plugin is shown: every model of
// every provider, in the providers' order, with its price.
func deployments(order []string, models map[string][]string, provs map[string]provider.Provider, prices *pricing.Table) []wasm.Deployment {
	var deps []wasm.Deployment
	for _, name := range order {
		for _, m := range models[name] {
			d := wasm.Deployment{Target: route.Target{Provider: name, Model: m}, InputUSDPerMTok: -1, OutputUSDPerMTok: -1}
			if pr, ok := prices.Lookup(provs[name].Kind(), m); ok {
				d.InputUSDPerMTok, d.OutputUSDPerMTok = pr.InputPerToken*1e6, pr.OutputPerToken*1e6
				d.ContextWindow, d.Tools = pr.MaxInputTokens, pr.SupportsTools
			}
			deps = append(deps, d)
		}
	}
	return deps
}

// build makes what a config describes, failing on the first problem.
func (g *Gateway) build(ctx context.Context, cfg Config) (*built, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	provs := make(map[string]provider.Provider, len(cfg.Providers))
	order := make([]string, 0, len(cfg.Providers))
	models := map[string][]string{}
	for i, pc := range cfg.Providers {
		p, err := provider.New(pc)
		if err != nil {
			return nil, fmt.Errorf("gateway.providers[%d]: %w", i, err)
		}
		provs[p.Name()] = p
		order = append(order, p.Name())
		models[p.Name()] = pc.Models
	}
	static, err := route.NewStatic(route.StaticConfig{Rules: cfg.Routes, ProviderModels: models, ProviderOrder: order})
	if err != nil {
		return nil, fmt.Errorf("gateway.%w", err)
	}
	prices := pricing.Builtin()
	if cfg.PricesFile != "" {
		f, err := os.Open(cfg.PricesFile)
		if err != nil {
			return nil, fmt.Errorf("gateway.prices_file: %w", err)
		}
		t, err := pricing.LoadLiteLLM(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("gateway.prices_file %s: %w", cfg.PricesFile, err)
		}
		prices.Merge(t)
	}
	b := &built{provs: provs, router: static, prices: prices}
	g.mu.Lock()
	if en := g.reg.enabled; en != nil {
		pc := g.enabledPluginConfig(en, cfg.RoutingPlugin)
		cfg.RoutingPlugin = &pc
	}
	g.mu.Unlock()
	b.deps = deployments(order, models, provs, prices)
	b.static, b.routes = static, static.Loaded()
	if cfg.RoutingPlugin != nil {
		host, router, err := g.loadPlugin(ctx, *cfg.RoutingPlugin, static, b.deps)
		if err != nil {
			return nil, fmt.Errorf("gateway.routing_plugin: %w", err)
		}
		b.router, b.plugins = router, host
		p := router.Plugin()
		targets, targetsDigest := router.Targets()
		b.loaded = &event.RoutingPluginLoaded{
			Name: p.Name, Source: g.pluginLabel(*cfg.RoutingPlugin), Digest: p.Digest,
			Config: p.Config, ConfigDigest: p.ConfigDigest, Manifest: event.PluginManifest(p.Manifest),
			Targets: targets, TargetsDigest: targetsDigest,
		}
	}
	if b.policies, err = g.loadPolicies(cfg.Policies); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// loadPlugin starts a plugin host for one routing plugin and wraps it
// around the static router.
func (g *Gateway) loadPlugin(ctx context.Context, pc PluginConfig, static route.Router, deps []wasm.Deployment) (*wasm.Host, *wasm.Router, error) {
	module, config, name, err := pluginSource(pc)
	if err != nil {
		return nil, nil, err
	}
	host, err := wasm.NewHost(ctx, wasm.Config{
		CacheDir: g.opts.PluginCacheDir, MemoryLimitMB: pc.MemoryMB, Instances: pc.Instances, Timeout: pc.Timeout.D(),
	}, g.log.With("component", "plugins"))
	if err != nil {
		return nil, nil, err
	}
	p, err := host.Load(ctx, name, module, config)
	if err != nil {
		host.Close(ctx)
		return nil, nil, fmt.Errorf("%s: %w", cmp.Or(pc.Path, "builtin "+pc.Builtin), err)
	}
	r := wasm.NewRouter(p, static, deps)
	r.OnFailure = func(err error) {
		g.log.Warn("routing plugin failed; the static route is used", "plugin", name, "err", err)
	}
	return host, r, nil
}

// pluginLabel says where a plugin comes from, for routing.plugin.loaded.
func (g *Gateway) pluginLabel(pc PluginConfig) string {
	switch {
	case pc.Builtin != "":
		return "builtin:" + pc.Builtin
	case g.opts.PluginDir != "" && filepath.Dir(pc.Path) == filepath.Clean(g.opts.PluginDir):
		return "installed:" + pc.Name
	}
	return "file:" + pc.Path
}

// recordPluginLoaded appends routing.plugin.loaded when the plugin that
// goes live differs from the one before (prev; nil for none), or is shown
// other targets (providers, models or prices changed).
func (g *Gateway) recordPluginLoaded(ctx context.Context, prev, now *event.RoutingPluginLoaded) error {
	if now == nil || prev != nil && prev.Digest == now.Digest && prev.ConfigDigest == now.ConfigDigest && prev.Source == now.Source && prev.TargetsDigest == now.TargetsDigest {
		return nil
	}
	return g.appendPluginEvent(ctx, "routing.plugin.loaded", *now, "gateway")
}

// recordRoutesLoaded appends routing.routes.loaded when the static
// routes that go live are not those of digest prev (at start, the last
// the log has), so that `switchyard replay` can re-run the static
// router's decisions. A gateway with no provider has nothing to record.
func (g *Gateway) recordRoutesLoaded(ctx context.Context, prev string, now *event.RoutingRoutesLoaded) error {
	if now.Digest == prev || len(now.Providers) == 0 {
		return nil
	}
	return g.appendPluginEvent(ctx, "routing.routes.loaded", *now, "gateway")
}

// lastRoutesDigest returns the digest of the last routing.routes.loaded
// event, or "" if there is none.
func lastRoutesDigest(ctx context.Context, r eventstore.Reader) (string, error) {
	for e, err := range r.ReadStream(ctx, event.RoutingPluginsStream, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if e.Type == "routing.routes.loaded" {
			var l event.RoutingRoutesLoaded
			if err := json.Unmarshal(e.Data, &l); err != nil {
				return "", fmt.Errorf("routing.routes.loaded at position %d: %w", e.Position, err)
			}
			return l.Digest, nil
		}
	}
	return "", nil
}

// pluginSource returns a routing plugin's module, its configuration as
// JSON, and its name. A built-in's configuration gets its strategy.
func pluginSource(pc PluginConfig) (module, config []byte, name string, err error) {
	config = bytes.TrimSpace(pc.Config)
	if pc.Builtin == "" {
		if module, err = os.ReadFile(pc.Path); err != nil {
			return nil, nil, "", fmt.Errorf("read the plugin: %w", err)
		}
		name = cmp.Or(pc.Name, strings.TrimSuffix(filepath.Base(pc.Path), ".wasm"))
		return module, config, name, nil
	}
	if module, err = builtin.Module(pc.Builtin); err != nil {
		return nil, nil, "", err
	}
	fields := map[string]json.RawMessage{}
	if len(config) > 0 && string(config) != "null" {
		if err := json.Unmarshal(config, &fields); err != nil {
			return nil, nil, "", fmt.Errorf("config: the built-in strategies take an object: %w", err)
		}
	}
	strategy, _ := json.Marshal(pc.Builtin)
	if s, ok := fields["strategy"]; ok && !bytes.Equal(s, strategy) {
		return nil, nil, "", fmt.Errorf("config.strategy is %s but builtin is %s: drop one", s, strategy)
	}
	fields["strategy"] = strategy
	config, _ = json.Marshal(fields) // sorted keys: the same config, the same digest
	return module, config, cmp.Or(pc.Name, pc.Builtin), nil
}

func (g *Gateway) setModels(cfg Config) {
	seen := map[string]bool{}
	for _, p := range cfg.Providers {
		for _, m := range p.Models {
			seen[m] = true
		}
	}
	for _, r := range cfg.Routes {
		if !strings.HasSuffix(r.Model, "*") {
			seen[r.Model] = true
		}
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	g.models.Store(&out)
}

// Models implements httpapi.Gateway.
func (g *Gateway) Models() []string { return *g.models.Load() }

// Handle implements httpapi.Gateway.
func (g *Gateway) Handle(ctx context.Context, r *proxy.Request) *proxy.Response {
	return g.proxy.Handle(ctx, r)
}

// Start catches the keys and budgets up with the log, then keeps them
// current and starts the event writer. It returns once the gateway can
// take calls: every key and every recorded cost is known.
func (g *Gateway) Start(ctx context.Context) error {
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	g.stop = stop
	g.recDone = make(chan struct{})
	go func() { defer close(g.recDone); g.rec.Run() }()
	head, err := eventstore.Head(ctx, g.opts.Store)
	if err != nil {
		return fmt.Errorf("gateway start: %w", err)
	}
	if err := g.restorePlugins(ctx); err != nil {
		return fmt.Errorf("gateway start: %w", err)
	}
	if g.opts.Projections == nil {
		// Keys and budgets fold one subscription: the log is read and
		// decoded once for both.
		group := projection.NewGroup(g.opts.Store, g.opts.Store, g.log.With("component", "projection"))
		g.join(group)
		g.done.Add(1)
		go func() {
			defer g.done.Done()
			if err := group.Run(rctx); err != nil && rctx.Err() == nil {
				g.log.Error("projections stopped", "err", err)
			}
		}()
	}
	if err := projection.CatchUp(ctx, head, g.log, g.runners...); err != nil {
		return fmt.Errorf("gateway start: catching up with the event log: %w", err)
	}
	// From here on each key change refreshes the budget rules; the
	// changes folded before are refreshed once, below, not once each
	// (a log of many session keys would make the catch-up quadratic).
	g.started.Store(true)
	g.refreshKeyBudgets()
	return nil
}

// join adds the gateway's read models, keys and budgets, to group.
func (g *Gateway) join(group *projection.Group) {
	for _, p := range []projection.Projection{&keyProjection{g}, g.budget} {
		g.runners = append(g.runners, group.Add(p, projection.RunnerConfig{}))
	}
}

// Close stops the projections (those of its own group: a caller's group,
// Options.Projections, is the caller's to stop) and writes the queued
// events. Call it after the HTTP server has drained; also when Start was
// not called, or failed.
func (g *Gateway) Close(ctx context.Context) error {
	if g.recDone == nil {
		// Never started: the event writer has nothing to write, and
		// must run to see that its queue is closed.
		go g.rec.Run()
	}
	err := g.rec.Close(ctx)
	g.mu.Lock()
	if g.plugins != nil {
		err = errors.Join(err, g.plugins.Close(ctx))
		g.plugins = nil
	}
	g.policies.close()
	g.policies = nil
	g.mu.Unlock()
	g.keyRouters.close(ctx)
	if g.stop != nil {
		g.stop()
		g.done.Wait()
	}
	return err
}

// Flush waits until every event recorded so far is in the log.
func (g *Gateway) Flush(ctx context.Context) error { return g.rec.Flush(ctx) }

// RecorderStats reports the event writer's counters.
func (g *Gateway) RecorderStats() recorder.Stats { return g.rec.Stats() }

// Reload re-reads the config file and swaps providers, routes, prices and
// budget rules. On any error the running config stays as it was.
func (g *Gateway) Reload(ctx context.Context) error {
	if g.opts.ConfigPath == "" {
		return errors.New("no config file to reload: the gateway was started without --config")
	}
	cfg, err := LoadFile(g.opts.ConfigPath)
	if err != nil {
		return err
	}
	return g.Apply(cfg)
}

// Apply swaps in cfg (its providers, routes, prices, budgets and what
// answers are recorded; proxy and recorder tuning need a restart).
func (g *Gateway) Apply(cfg Config) error {
	b, err := g.build(context.Background(), cfg)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.budget.Update(budget.Config{Rules: append(slices.Clone(cfg.Budgets), g.keyRules()...)}); err != nil {
		b.close()
		return fmt.Errorf("gateway.budgets: %w", err)
	}
	g.prices.Store(b.prices)
	g.proxy.Swap(b.provs, b.router, b.policies.asPolicy())
	g.keyRouters.stale()
	g.proxy.SetAnswers(cfg.answers())
	// Calls in flight finish on the old plugin and policies (closing
	// waits for their instances and runtimes), then they go.
	go (&built{plugins: g.plugins, policies: g.policies}).close()
	g.plugins, g.policies = b.plugins, b.policies
	if err := g.recordPluginLoaded(context.Background(), g.loaded, b.loaded); err != nil {
		g.log.Error("could not record the routing plugin that went live", "err", err)
	}
	if err := g.recordRoutesLoaded(context.Background(), g.routes, &b.routes); err != nil {
		g.log.Error("could not record the static routes that went live", "err", err)
	}
	g.loaded, g.routes = b.loaded, b.routes.Digest
	g.cfg = cfg
	g.setModels(cfg)
	g.log.Info("gateway config applied", "providers", len(b.provs), "routes", len(cfg.Routes), "budgets", len(cfg.Budgets))
	return nil
}

// keyRules turns the keys' own limits into budget rules.
func (g *Gateway) keyRules() []budget.Rule {
	var rules []budget.Rule
	now := g.now()
	for _, k := range g.keys.List() {
		if !k.Active(now) || (k.MaxBudgetUSD == 0 && k.RPM == 0 && k.TPM == 0) {
			continue
		}
		r := budget.Rule{Scope: "key:" + k.ID, SpendUSD: k.MaxBudgetUSD, RequestsPerMinute: k.RPM, TokensPerMinute: k.TPM}
		if r.SpendUSD > 0 {
			r.Period = k.BudgetPeriod
			if r.Period == "" {
				r.Period = budget.PeriodTotal
			}
		}
		rules = append(rules, r)
	}
	return rules
}

func (g *Gateway) refreshKeyBudgets() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.budget.Update(budget.Config{Rules: append(slices.Clone(g.cfg.Budgets), g.keyRules()...)}); err != nil {
		g.log.Error("key budgets not applied", "err", err)
	}
}

// CreateKey implements httpapi.Admin.
func (g *Gateway) CreateKey(ctx context.Context, spec keys.Spec, actor string) (keys.Key, string, error) {
	k, secret, err := g.keys.Create(ctx, g.opts.Store, spec, actor, g.now())
	if err != nil {
		return keys.Key{}, "", err
	}
	g.refreshKeyBudgets()
	return k, secret, nil
}

// ListKeys implements httpapi.Admin.
func (g *Gateway) ListKeys() []keys.Key { return g.keys.List() }

// RevokeKey implements httpapi.Admin.
func (g *Gateway) RevokeKey(ctx context.Context, id, reason, actor string) error {
	if err := g.keys.Revoke(ctx, g.opts.Store, id, reason, actor, g.now()); err != nil {
		return err
	}
	g.refreshKeyBudgets()
	return nil
}

// keyProjection runs the key registry as a projection and refreshes the
// keys' budget rules when a key changes after start-up.
type keyProjection struct{ g *Gateway }

func (p *keyProjection) Name() string { return p.g.keys.Name() }
func (p *keyProjection) Apply(e *event.Event) error {
	if err := p.g.keys.Apply(e); err != nil {
		return err
	}
	if strings.HasPrefix(e.Type, "key.") && p.g.started.Load() {
		p.g.refreshKeyBudgets()
	}
	return nil
}
func (p *keyProjection) Snapshot() ([]byte, error) { return p.g.keys.Snapshot() }
func (p *keyProjection) Restore(b []byte) error    { return p.g.keys.Restore(b) }

// pricer adapts the price table to proxy.Pricer.
type pricer Gateway

func (p *pricer) lookup(kind, model string) (pricing.Price, bool) {
	return p.prices.Load().Lookup(kind, model)
}

func (p *pricer) Price(kind, model string, u llm.Usage) event.CallUsage {
	pr, ok := p.lookup(kind, model)
	if !ok {
		return event.CallUsage{Unpriced: true}
	}
	b := pricing.Cost(pr, u)
	return event.CallUsage{
		CostUSD: b.Total, InputCostUSD: b.Input, CacheReadCostUSD: b.CacheRead,
		CacheWriteCostUSD: b.CacheWrite, OutputCostUSD: b.Output, ReasoningCostUSD: b.Reasoning,
	}
}

func (p *pricer) Estimate(kind, model string, in, out int) int64 {
	pr, ok := p.lookup(kind, model)
	if !ok {
		return 0
	}
	return budget.NanoUSD(pricing.Estimate(pr, in, out))
}

// admission adapts the budget manager to proxy.Admission.
type admission Gateway

func (a *admission) Admit(callID string, scopes []string, est int64, tokens int) (proxy.Ticket, *event.BudgetCheck, *proxy.Denied) {
	t, rec, err := a.budget.AdmitRecorded(callID, scopes, budget.Estimate{CostNanoUSD: est, Tokens: tokens})
	if err == nil {
		return t, rec, nil
	}
	var d *budget.Denial
	if errors.As(err, &d) {
		return nil, rec, &proxy.Denied{Err: d.LLMError(), Scope: d.Scope, Limit: d.Limit, Max: d.Max, Current: d.Current, Period: d.Period, RetryAfter: d.RetryAfter}
	}
	return nil, nil, &proxy.Denied{Err: &llm.Error{Kind: llm.ErrInternal, Status: 500, Message: err.Error()}, Scope: "?", Limit: "internal"}
}

func (a *admission) RemainingUSD(scopes []string) float64 {
	least := -1.0
	for _, s := range scopes {
		if usd, ok := a.budget.Remaining(s); ok && (least < 0 || usd < least) {
			least = usd
		}
	}
	return least
}

// BudgetRemaining is what scope may still spend under its tightest cap,
// or -1 if it has none.
func (g *Gateway) BudgetRemaining(scope string) float64 {
	if usd, ok := g.budget.Remaining(scope); ok {
		return usd
	}
	return -1
}
