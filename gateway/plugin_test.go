package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/builtin"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// A routing plugin decides through the whole gateway, its decision is on
// record with the plugin's digest, reason and clock, and a plugin that
// fails leaves the call on the static route.
func TestRoutingPluginDecidesAndFailsSafe(t *testing.T) {
	module := wasmtest.Build(t, wasmtest.Behaviours)
	path := filepath.Join(t.TempDir(), "behaviours.wasm")
	if err := os.WriteFile(path, module, 0o644); err != nil {
		t.Fatal(err)
	}
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{gatewaytest.ProviderSim("a")},
			Routes: []route.Rule{
				{Model: "panic", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
				{Model: "loop", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
				{Model: "alloc", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
				{Model: "garbage", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
				{Model: "exit", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
				{Model: "sleep", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}},
			},
			RoutingPlugin: &gateway.PluginConfig{Path: path, Instances: 2},
		},
	})

	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("cheapest", "hi", false))
	if c.Status != 200 {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	evs := s.Events(c.ID())
	d := gatewaytest.Find[event.RoutingDecided](t, evs, "routing.decided")
	if d.Router != "plugin:behaviours" || d.PluginDigest != wasm.Digest(module) || d.Reason != "cheapest healthy" || d.ClockUnixMS == 0 {
		t.Fatalf("decision %+v", d)
	}
	done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed")
	if done.Provider != "a" {
		t.Fatalf("completed %+v", done)
	}

	// The behaviours plugin does what the requested model says; each of
	// these fails, and the call must still be served on the static route.
	// A failed instance is replaced in the background, so (slowly, under
	// -race) a call may find none free; after five failures in a row the
	// plugin is quarantined and calls do not even ask it.
	decided := func(model string) event.RoutingDecided {
		t.Helper()
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody(model, "hi", false))
		if c.Status != 200 {
			t.Fatalf("%s: a failing plugin failed the call: %d %s", model, c.Status, c.Body)
		}
		d := gatewaytest.Find[event.RoutingDecided](t, s.Events(c.ID()), "routing.decided")
		if !strings.Contains(d.Reason, "routing plugin behaviours failed") || d.PluginError == "" || d.Targets[0].Model != "sim-large" || d.PluginDigest == "" {
			t.Fatalf("%s: decision after a plugin failure %+v", model, d)
		}
		return d
	}
	for _, tc := range []struct{ model, why string }{
		{"panic", "plugin panicked: boom"}, {"loop", "overran its time budget"}, {"alloc", ""},
		{"garbage", "out of range"}, {"exit", ""}, {"sleep", "overran its time budget"},
	} {
		d := decided(tc.model)
		if e := d.PluginError; !strings.Contains(e, tc.why) && !strings.Contains(e, "no plugin instance became free") && !strings.Contains(e, "quarantined") {
			t.Fatalf("%s: plugin_error %q, want one saying %q", tc.model, e, tc.why)
		}
	}
	for i := 0; !strings.Contains(decided("panic").PluginError, "quarantined after repeated failures"); i++ {
		if i == 20 {
			t.Fatal("the plugin failed 26 times and was not quarantined")
		}
	}
}

// newWith returns a function that builds a gateway on an empty store, with
// one unreachable sim provider and what set adds, and returns New's error:
// for the tests of config errors.
func newWith(t *testing.T) func(set func(*gateway.Config)) error {
	t.Helper()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return func(set func(*gateway.Config)) error {
		cfg := gateway.Config{Providers: []provider.Config{{Kind: "sim", BaseURL: "http://127.0.0.1:1", Models: []string{"m"}}}}
		set(&cfg)
		g, err := gateway.New(cfg, gateway.Options{Store: st})
		if err == nil {
			g.Close(context.Background())
		}
		return err
	}
}

func TestRoutingPluginConfigErrors(t *testing.T) {
	newErr := newWith(t)
	for _, tc := range []struct {
		pc   gateway.PluginConfig
		want string
	}{
		{gateway.PluginConfig{}, "give path (a plugin's .wasm file) or builtin"},
		{gateway.PluginConfig{Path: "x.wasm", Builtin: "rules"}, "not both"},
		{gateway.PluginConfig{Builtin: "smartest"}, `"smartest" is not a built-in strategy`},
		{gateway.PluginConfig{Path: "/nonexistent/p.wasm"}, "read the plugin"},
		{gateway.PluginConfig{Path: "gateway_test.go"}, "not a valid WASM module"},
	} {
		err := newErr(func(c *gateway.Config) { c.RoutingPlugin = &tc.pc })
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gateway.routing_plugin") {
			t.Errorf("%+v: error %v, want one saying gateway.routing_plugin ... %q", tc.pc, err, tc.want)
		}
	}
}

// requireBuiltins skips a test when the binary has no built-in plugins
// (gen:builtin has not run), or fails it under go tool task test, which
// always builds them.
func requireBuiltins(t *testing.T) {
	t.Helper()
	if _, err := builtin.Module("rules"); err != nil {
		if realclients.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// The seeds' case through the whole gateway with the built-in rules:
// complex tasks to the premium provider, quick ones to the cheap one, and
// the configuration's digest on every decision and in
// routing.plugin.loaded.
func TestBuiltinRulesThroughTheGateway(t *testing.T) {
	requireBuiltins(t)
	config := `{"rules": [{"when": {"task": "complex"}, "prefer": ["premium"]}, {"when": {"task": "quick"}, "prefer": ["cheap"]}]}`
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"premium": {}, "cheap": {}},
		Gateway: gateway.Config{
			Providers:     []provider.Config{gatewaytest.ProviderSim("premium"), gatewaytest.ProviderSim("cheap")},
			RoutingPlugin: &gateway.PluginConfig{Builtin: "rules", Config: json.RawMessage(config), Instances: 1},
		},
	})
	var decisions []event.RoutingDecided
	for task, want := range map[string]string{"complex": "premium", "quick": "cheap"} {
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi", false), "x-switchyard-tags", "task="+task)
		if c.Status != 200 {
			t.Fatalf("%s: status %d: %s", task, c.Status, c.Body)
		}
		d := gatewaytest.Find[event.RoutingDecided](t, s.Events(c.ID()), "routing.decided")
		if d.Router != "plugin:rules" || d.Targets[0].Provider != want || !strings.HasPrefix(d.Reason, "rule ") || d.PluginConfigDigest == "" {
			t.Fatalf("%s: decision %+v, want %s first, by a rule, with the config's digest", task, d, want)
		}
		decisions = append(decisions, d)
	}
	var loaded event.RoutingPluginLoaded
	for ev, err := range s.Store.ReadStream(context.Background(), event.RoutingPluginsStream, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ev.Data, &loaded); err != nil {
			t.Fatal(err)
		}
	}
	if loaded.Source != "builtin:rules" || loaded.Manifest.Name != "strategies" || !strings.Contains(string(loaded.Config), `"strategy":"rules"`) || loaded.ConfigDigest != wasm.Digest(loaded.Config) {
		t.Fatalf("routing.plugin.loaded %+v", loaded)
	}

	// Each decision re-runs from the log alone: the module and config
	// routing.plugin.loaded names, the facts rebuilt from the two events.
	module, err := builtin.Module("rules")
	if err != nil {
		t.Fatal(err)
	}
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "strategies", module, loaded.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range decisions {
		if p.Digest != d.PluginDigest || p.ConfigDigest != d.PluginConfigDigest {
			t.Fatalf("the replay's plugin is %s with config %s; the decision's %s with %s", p.Digest, p.ConfigDigest, d.PluginDigest, d.PluginConfigDigest)
		}
		facts, err := wasm.ReplayFacts(&loaded, &d)
		if err != nil {
			t.Fatal(err)
		}
		var again abi.Decision
		if err := p.Decide(context.Background(), facts, &again); err != nil {
			t.Fatal(err)
		}
		var targets []event.RouteTarget
		for _, i := range again.Targets {
			targets = append(targets, event.RouteTarget{Provider: facts.Targets[i].Provider, Model: facts.Targets[i].Model})
		}
		if !slices.Equal(targets, d.Targets) || again.Reason != d.Reason {
			t.Fatalf("replayed %v (%q); the gateway decided %v (%q)", targets, again.Reason, d.Targets, d.Reason)
		}
	}
}

func TestBuiltinConfigErrors(t *testing.T) {
	requireBuiltins(t)
	newErr := newWith(t)
	for _, tc := range []struct {
		pc   gateway.PluginConfig
		want string
	}{
		{gateway.PluginConfig{Builtin: "weighted"}, "the weighted pick needs weights"},
		{gateway.PluginConfig{Builtin: "cheapest", Config: json.RawMessage(`{"strategy": "fastest"}`)}, "config.strategy is \"fastest\" but builtin is \"cheapest\""},
		{gateway.PluginConfig{Builtin: "rules", Config: json.RawMessage(`[1]`)}, "take an object"},
	} {
		err := newErr(func(c *gateway.Config) { c.RoutingPlugin = &tc.pc })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one saying %q", tc.pc, err, tc.want)
		}
	}
}
