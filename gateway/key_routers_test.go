package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/builtin"
)

// A key's own tags pick its calls' model (proxy.ModelTag) and the
// installed routing plugin that decides them (proxy.RoutingPluginTag),
// as a fork's key does; the same tags sent by a request change nothing,
// and a plugin not installed fails the key's calls, saying so. The
// gateway-wide router is untouched, and after a config change the key's
// plugin is loaded again over the new targets.
func TestKeyRoutingOverrides(t *testing.T) {
	requireBuiltins(t)
	cfg := gateway.Config{Providers: []provider.Config{gatewaytest.ProviderSim("premium"), gatewaytest.ProviderSim("cheap")}}
	s := gatewaytest.New(t, gatewaytest.Config{Sims: map[string]sim.Config{"premium": {}, "cheap": {}}, Gateway: cfg})
	ctx := context.Background()
	module, err := builtin.Module("rules")
	if err != nil {
		t.Fatal(err)
	}
	config := json.RawMessage(`{"strategy": "rules", "rules": [{"when": {"model": "sim-large"}, "prefer": ["cheap/sim-large"]}]}`)
	if _, err := s.GW.InstallPlugin(ctx, "tocheap", module, config, "test"); err != nil {
		t.Fatal(err)
	}
	key := func(tags map[string]string) string {
		t.Helper()
		_, secret, err := s.GW.CreateKey(ctx, keys.Spec{Name: "overrides", Tags: tags}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	decision := func(secret string, hdr ...string) event.RoutingDecided {
		t.Helper()
		c := s.Post("/v1/chat/completions", secret, gatewaytest.ChatBody("sim-small", "hi", false), hdr...)
		if c.Status != 200 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		return gatewaytest.Find[event.RoutingDecided](t, s.Events(c.ID()), "routing.decided")
	}

	tagged := key(map[string]string{proxy.RoutingPluginTag: "tocheap", proxy.ModelTag: "sim-large"})
	d := decision(tagged)
	if d.Router != "plugin:tocheap" || d.PluginDigest == "" || d.RequestModel != "sim-large" || d.Targets[0] != (event.RouteTarget{Provider: "cheap", Model: "sim-large"}) {
		t.Fatalf("the tagged key's decision: %+v", d)
	}
	// Tags a request sends are not the key's.
	d = decision(s.Key, "x-switchyard-tags", proxy.RoutingPluginTag+"=tocheap,"+proxy.ModelTag+"=sim-large")
	if d.Router == "plugin:tocheap" || d.RequestModel != "sim-small" || d.Targets[0].Provider != "premium" {
		t.Fatalf("a request's tags changed its routing: %+v", d)
	}
	// A config change: the key's plugin is loaded again, over the new
	// routes (a model only premium serves now).
	cfg2 := cfg
	cfg2.Providers = []provider.Config{gatewaytest.ProviderSim("premium"), gatewaytest.ProviderSim("cheap")}
	cfg2.Providers[1].Models = []string{"sim-small"}
	for i, name := range []string{"premium", "cheap"} {
		cfg2.Providers[i].BaseURL = s.Sims[name].URL
	}
	if err := s.GW.Apply(cfg2); err != nil {
		t.Fatal(err)
	}
	if d = decision(tagged); d.Router != "plugin:tocheap" || d.Targets[0] != (event.RouteTarget{Provider: "premium", Model: "sim-large"}) {
		t.Fatalf("after a config change, the tagged key's decision: %+v", d)
	}

	c := s.Post("/v1/chat/completions", key(map[string]string{proxy.RoutingPluginTag: "nosuch"}), gatewaytest.ChatBody("sim-small", "hi", false))
	if c.Status != 500 || !strings.Contains(string(c.Body), `routing plugin \"nosuch\"`) {
		t.Fatalf("a key naming a plugin not installed: status %d: %s", c.Status, c.Body)
	}
}
