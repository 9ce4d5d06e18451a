package wasm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/sdk/routing/abi"
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
			{Model: "facts", Targets: []route.Target{{Provider: "openai", Model: "gpt-5-mini"}, {Provider: "local", Model: "llama-3"}}},
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

// A decision re-runs from its record: the facts rebuilt from the
// routing.decided and routing.plugin.loaded events, through JSON as the
// log keeps them, are the bytes the plugin was given, and the plugin
// (told to answer with everything it saw) answers the same.
func TestRecordedDecisionReplays(t *testing.T) {
	r := router(t, wasm.Config{Instances: 1})
	f := routeFacts("facts")
	f.EstimatedTokens, f.HasTools, f.Stream, f.BudgetLeftUSD = 1234, true, true, 4.25
	f.KeyID, f.Agent, f.Team, f.User, f.API = "k1", "triage", "finance", "ana", "anthropic.messages"
	f.Health = func(t route.Target) route.Health {
		switch t.Provider {
		case "gemini":
			return route.Health{RateLimited: true, ErrorRate: 0.125}
		case "anthropic":
			return route.Health{EWMALatency: 812345 * time.Microsecond, CoolingUntil: f.Now.Add(time.Second)}
		}
		return route.Health{}
	}
	live, err := r.Route(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if live.PluginFacts == nil || !strings.Contains(live.Reason, "Targets:") {
		t.Fatalf("decision %+v: no facts recorded, or the plugin did not answer with its facts", live)
	}
	targets, digest := r.Targets()
	var loaded event.RoutingPluginLoaded
	var decided event.RoutingDecided
	roundTrip(t, event.RoutingPluginLoaded{Name: "behaviours", Digest: r.Plugin().Digest, Targets: targets, TargetsDigest: digest}, &loaded)
	roundTrip(t, event.RoutingDecided{CallID: f.CallID, RequestModel: f.RequestedModel, Reason: live.Reason,
		PluginDigest: live.PluginDigest, PluginFacts: live.PluginFacts, Seed: f.Seed, ClockUnixMS: f.Now.UnixMilli()}, &decided)

	facts, err := wasm.ReplayFacts(&loaded, &decided)
	if err != nil {
		t.Fatal(err)
	}
	var d abi.Decision
	if err := r.Plugin().Decide(context.Background(), facts, &d); err != nil {
		t.Fatal(err)
	}
	if d.Reason != live.Reason {
		t.Fatalf("the replay saw\n%s\nwhere the live decision saw\n%s", d.Reason, live.Reason)
	}

	// A record over other targets is refused with the digest to look for.
	loaded.TargetsDigest = "sha256:other"
	if _, err := wasm.ReplayFacts(&loaded, &decided); err == nil || !strings.Contains(err.Error(), digest) {
		t.Fatalf("replay over other targets: %v, want an error naming %s", err, digest)
	}
}

func roundTrip[T any](t *testing.T, v T, out *T) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatal(err)
	}
}
