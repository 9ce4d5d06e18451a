package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
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
			Providers:     []provider.Config{gatewaytest.ProviderSim("a")},
			Routes:        []route.Rule{{Model: "panic", Targets: []route.Target{{Provider: "a", Model: "sim-large"}}}},
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

	c = s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("panic", "hi", false))
	if c.Status != 200 {
		t.Fatalf("a failing plugin failed the call: %d %s", c.Status, c.Body)
	}
	d = gatewaytest.Find[event.RoutingDecided](t, s.Events(c.ID()), "routing.decided")
	if !strings.Contains(d.Reason, "routing plugin behaviours failed") || d.Targets[0].Model != "sim-large" || d.PluginDigest == "" {
		t.Fatalf("decision after a plugin failure %+v", d)
	}
}

func TestRoutingPluginConfigErrors(t *testing.T) {
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		pc   gateway.PluginConfig
		want string
	}{
		{gateway.PluginConfig{}, "path is required"},
		{gateway.PluginConfig{Path: "/nonexistent/p.wasm"}, "read the plugin"},
		{gateway.PluginConfig{Path: "gateway_test.go"}, "not a valid WASM module"},
	} {
		cfg := gateway.Config{Providers: []provider.Config{{Kind: "sim", BaseURL: "http://127.0.0.1:1", Models: []string{"m"}}}, RoutingPlugin: &tc.pc}
		_, err := gateway.New(cfg, gateway.Options{Store: st})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "gateway.routing_plugin") {
			t.Errorf("%+v: error %v, want one saying gateway.routing_plugin ... %q", tc.pc, err, tc.want)
		}
	}
}
