package replay_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/js"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// benchPolicy is the kind of policy a gateway runs before every call:
// a condition or two on the call, and an annotation.
const benchPolicy = `
function before_model_call(call) {
  if (call.model === "gpt-4o" && call.tags.team === "interns") return deny("interns use gpt-4o-mini")
  if (call.tags.turn === "3") return annotate({review: "yes", at: new Date().toISOString()})
}
`

// session200 writes a session of 200 model calls judged by a JS policy,
// routed by the behaviours plugin and admitted by a budget (the verdicts,
// decisions and checks made live by a js.Policy, a wasm.Router and a
// budget.Manager, recorded as the gateway records them) and returns the
// store and the module.
func session200(b *testing.B) (*embedded.Store, []byte) {
	ctx := context.Background()
	module := wasmtest.Build(b, wasmtest.Behaviours)
	st, err := embedded.Open(embedded.Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	host, err := wasm.NewHost(ctx, wasm.Config{Instances: 1, Timeout: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close(ctx)
	p, err := host.Load(ctx, "behaviours", module, nil)
	if err != nil {
		b.Fatal(err)
	}
	deps := []wasm.Deployment{
		{Target: route.Target{Provider: "anthropic", Model: "claude-sonnet-4-5"}, Tools: true, InputUSDPerMTok: 3, OutputUSDPerMTok: 15},
		{Target: route.Target{Provider: "openai", Model: "gpt-5-mini"}, Tools: true, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2},
		{Target: route.Target{Provider: "gemini", Model: "gemini-2.5-flash"}, InputUSDPerMTok: 0.3, OutputUSDPerMTok: 2.5},
	}
	static, err := route.NewStatic(route.StaticConfig{Rules: []route.Rule{{Model: "cheapest", Targets: []route.Target{deps[0].Target}}},
		ProviderOrder: []string{"anthropic", "openai", "gemini"}})
	if err != nil {
		b.Fatal(err)
	}
	r := wasm.NewRouter(p, static, deps)
	targets, digest := r.Targets()
	loaded, _ := event.New("routing.plugin.loaded", event.RoutingPluginLoaded{Name: "behaviours", Source: "file:behaviours.wasm",
		Digest: p.Digest, ConfigDigest: p.ConfigDigest, Targets: targets, TargetsDigest: digest}, event.Metadata{})
	if _, err := st.Append(ctx, event.RoutingPluginsStream, eventstore.Any, loaded); err != nil {
		b.Fatal(err)
	}
	pol, err := js.Load("guard", []byte(benchPolicy), js.Config{Timeout: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer pol.Close()
	pl, _ := event.New("policy.loaded", event.PolicyLoaded{Name: "guard", Digest: pol.Digest(), Source: pol.Source(),
		Hooks: []string{"before_model_call"}, Config: event.PolicyConfig{OnError: "allow", TimeoutMS: 1000, Runtimes: 4}}, event.Metadata{})
	if _, err := st.Append(ctx, event.PoliciesStream, eventstore.Any, pl); err != nil {
		b.Fatal(err)
	}
	created := event.Proposed{Type: "session.created", Data: []byte(`{"id":"s1","key_id":"k1"}`)}
	if _, err := st.Append(ctx, "session-s1", eventstore.NoStream, created); err != nil {
		b.Fatal(err)
	}
	// The key's budget: a monthly cap and a rate limit, checked as the
	// gateway checks them.
	budgets, err := budget.New(budget.Config{Rules: []budget.Rule{{Scope: "key:k1", SpendUSD: 1000, Period: "month", RequestsPerMinute: 1000}}}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	var evs []event.Proposed
	for i := range 200 {
		callID := fmt.Sprintf("c%03d", i)
		f := &route.Facts{CallID: callID, RequestedModel: "cheapest", Now: time.Now(), Seed: uint64(i), BudgetLeftUSD: -1, KeyID: "k1",
			Tags: map[string]string{"session": "s1", "turn": fmt.Sprint(1 + i/10)}, EstimatedTokens: 1000 + i,
			Health: func(t route.Target) route.Health {
				return route.Health{EWMALatency: time.Duration(i) * time.Millisecond}
			}}
		v := pol.Evaluate(ctx, &js.ModelCall{CallID: callID, Model: "cheapest", KeyID: "k1", Session: "s1", Tags: f.Tags,
			EstimatedTokens: f.EstimatedTokens, BudgetLeftUSD: -1, Now: f.Now, Seed: f.Seed})
		if v.Err != nil {
			b.Fatal(v.Err)
		}
		verdict, err := event.New("policy.verdict", v.Event(), event.Metadata{})
		if err != nil {
			b.Fatal(err)
		}
		d, err := r.Route(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		t, check, err := budgets.AdmitRecorded(callID, []string{"key:k1", "team:t"}, budget.Estimate{CostNanoUSD: budget.NanoUSD(0.05), Tokens: 5096})
		if err != nil {
			b.Fatal(err)
		}
		t.Settle(budget.NanoUSD(0.01), 1200)
		started, _ := event.New("model.call.started", event.ModelCallStarted{CallID: callID, CallAttribution: event.CallAttribution{KeyID: "k1", Tags: f.Tags},
			RequestModel: "cheapest", BudgetCheck: check}, event.Metadata{})
		decided, _ := event.New("routing.decided", event.RoutingDecided{CallID: callID, Router: d.Router, RequestModel: "cheapest",
			Targets: []event.RouteTarget{{Provider: d.Targets[0].Provider, Model: d.Targets[0].Model}}, Reason: d.Reason,
			PluginDigest: d.PluginDigest, PluginConfigDigest: d.PluginConfigDigest, PluginFacts: d.PluginFacts, Seed: f.Seed, ClockUnixMS: f.Now.UnixMilli()}, event.Metadata{})
		evs = append(evs, verdict, started, decided)
	}
	if _, err := st.Append(ctx, "calls-k1", eventstore.NoStream, evs...); err != nil {
		b.Fatal(err)
	}
	return st, module
}

// BenchmarkReplay200Calls replays a session of 200 plugin-routed model
// calls, each judged by a policy and admitted by a budget: reading its
// events, loading the plugin and the policy, and re-running every
// decision, verdict and budget check. "cold" starts
// a plugin host each time, as a replay through the server does (with the
// server's compilation cache warm); "warm" reuses one with the plugin and
// policy loaded.
func BenchmarkReplay200Calls(b *testing.B) {
	st, module := session200(b)
	ctx := context.Background()
	cache := b.TempDir()
	modules := func(*event.RoutingPluginLoaded) ([]byte, error) { return module, nil }
	check := func(rep *replay.Report, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.Replayed != 600 {
			b.Fatalf("replay %d decisions, %d differences, %d not replayable", rep.Replayed, rep.Mismatches, rep.NotReplayable)
		}
	}
	// The server's compilation cache has the module from when the gateway
	// loaded it to route: fill this one the same way first.
	warmup, err := wasm.NewHost(ctx, wasm.Config{Instances: 1, CacheDir: cache}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warmup.Load(ctx, "behaviours", module, nil); err != nil {
		b.Fatal(err)
	}
	warmup.Close(ctx)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			host, err := wasm.NewHost(ctx, wasm.Config{Instances: 1, CacheDir: cache, Timeout: time.Second}, nil)
			if err != nil {
				b.Fatal(err)
			}
			rp := &replay.Replayer{Store: st, Host: host, Modules: modules}
			check(rp.Session(ctx, "s1", 0))
			rp.Close()
			host.Close(ctx)
		}
	})
	b.Run("warm", func(b *testing.B) {
		host, err := wasm.NewHost(ctx, wasm.Config{Instances: 1, CacheDir: cache, Timeout: time.Second}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer host.Close(ctx)
		rp := &replay.Replayer{Store: st, Host: host, Modules: modules}
		defer rp.Close()
		for b.Loop() {
			check(rp.Session(ctx, "s1", 0))
		}
	})
}
