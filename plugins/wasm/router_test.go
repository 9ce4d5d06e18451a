package wasm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/wasm"
)

func router(t *testing.T, cfg wasm.Config) *wasm.Router {
	t.Helper()
	p := load(t, cfg)
	def, err := route.NewStatic(route.StaticConfig{
		Rules: []route.Rule{
			{Model: "cheapest", Targets: []route.Target{{Provider: "anthropic", Model: "claude-sonnet-4-5"}}},
			{Model: "panic", Targets: []route.Target{{Provider: "anthropic", Model: "claude-sonnet-4-5"}}},
			{Model: "none", Targets: []route.Target{{Provider: "anthropic", Model: "claude-sonnet-4-5"}}},
			{Model: "echo", Targets: []route.Target{{Provider: "local", Model: "llama-3"}}},
		},
		ProviderOrder: []string{"anthropic", "openai", "local"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return wasm.NewRouter(p, def, []wasm.Deployment{
		{Target: route.Target{Provider: "anthropic", Model: "claude-sonnet-4-5"}, Tools: true, InputUSDPerMTok: 3, OutputUSDPerMTok: 15},
		{Target: route.Target{Provider: "openai", Model: "gpt-5-mini"}, Tools: true, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2},
		{Target: route.Target{Provider: "gemini", Model: "gemini-2.5-flash-lite"}, InputUSDPerMTok: 0.1, OutputUSDPerMTok: 0.4},
	})
}

func routeFacts(model string) *route.Facts {
	return &route.Facts{
		CallID: "c1", RequestedModel: model, Now: time.Now(), Seed: 7, BudgetLeftUSD: -1,
		Tags: map[string]string{"task": "lookup", "env": "prod"},
		Health: func(t route.Target) route.Health {
			if t.Provider == "gemini" {
				return route.Health{RateLimited: true}
			}
			return route.Health{EWMALatency: 300 * time.Millisecond}
		},
	}
}

func TestRouterAsksThePlugin(t *testing.T) {
	r := router(t, wasm.Config{Instances: 1})
	d, err := r.Route(context.Background(), routeFacts("cheapest"))
	if err != nil {
		t.Fatal(err)
	}
	// gemini is cheaper but rate limited.
	if len(d.Targets) != 1 || d.Targets[0].String() != "openai/gpt-5-mini" || d.Reason != "cheapest healthy" {
		t.Fatalf("decision %+v", d)
	}
	if d.Router != "plugin:behaviours" || d.PluginDigest != r.Plugin().Digest {
		t.Fatalf("decision names router %q digest %q", d.Router, d.PluginDigest)
	}
}

// The default route reaches the plugin, including a target that is not a
// listed deployment, and comes back when the plugin keeps it.
func TestRouterPassesTheDefaultRoute(t *testing.T) {
	r := router(t, wasm.Config{Instances: 1})
	d, err := r.Route(context.Background(), routeFacts("echo"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Targets) != 1 || d.Targets[0].String() != "local/llama-3" {
		t.Fatalf("decision %+v, want the default local/llama-3", d)
	}
}

func TestRouterFallsBackWhenThePluginFails(t *testing.T) {
	r := router(t, wasm.Config{Instances: 1, QuarantineAfter: 100})
	var failures []error
	r.OnFailure = func(err error) { failures = append(failures, err) }
	d, err := r.Route(context.Background(), routeFacts("panic"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Targets) != 1 || d.Targets[0].String() != "anthropic/claude-sonnet-4-5" {
		t.Fatalf("decision %+v, want the default route", d)
	}
	if !strings.Contains(d.Reason, "routing plugin behaviours failed: plugin error: plugin panicked: boom") || d.PluginDigest == "" {
		t.Fatalf("reason %q digest %q: the failure must be on record", d.Reason, d.PluginDigest)
	}
	if len(failures) != 1 {
		t.Fatalf("OnFailure saw %d failures", len(failures))
	}
}

func TestRouterNoTargetIsNoRoute(t *testing.T) {
	r := router(t, wasm.Config{Instances: 1})
	_, err := r.Route(context.Background(), routeFacts("none"))
	if !errors.Is(err, route.ErrNoRoute) || !strings.Contains(err.Error(), "nothing fits") {
		t.Fatalf("err %v, want ErrNoRoute with the plugin's reason", err)
	}
}

// BenchmarkRouter is what a routing plugin costs the gateway per call:
// the static default route, the facts (health of every deployment, sorted
// tags), the decision, and the answer turned back into targets.
func BenchmarkRouter(b *testing.B) {
	p := benchPlugin(b)
	def, err := route.NewStatic(route.StaticConfig{ProviderOrder: []string{"anthropic", "openai", "gemini"},
		ProviderModels: map[string][]string{"anthropic": {"claude-sonnet-4-5"}, "openai": {"gpt-5-mini"}, "gemini": {"gemini-2.5-flash-lite"}}})
	if err != nil {
		b.Fatal(err)
	}
	r := wasm.NewRouter(p, def, []wasm.Deployment{
		{Target: route.Target{Provider: "anthropic", Model: "claude-sonnet-4-5"}, Tools: true, InputUSDPerMTok: 3, OutputUSDPerMTok: 15},
		{Target: route.Target{Provider: "openai", Model: "gpt-5-mini"}, Tools: true, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2},
		{Target: route.Target{Provider: "gemini", Model: "gemini-2.5-flash-lite"}, InputUSDPerMTok: 0.1, OutputUSDPerMTok: 0.4},
	})
	for _, model := range []string{"gpt-5-mini", "cheapest"} {
		b.Run(model, func(b *testing.B) {
			f := routeFacts(model)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Route(context.Background(), f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("static-only", func(b *testing.B) {
		f := routeFacts("gpt-5-mini")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := def.Route(context.Background(), f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
