package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// A session's routing decisions re-run from the log alone and match; a
// recorded decision that differs from what its plugin decides is named,
// with both values.
func TestReplaySession(t *testing.T) {
	module := wasmtest.Build(t, wasmtest.Behaviours)
	path := filepath.Join(t.TempDir(), "behaviours.wasm")
	if err := os.WriteFile(path, module, 0o644); err != nil {
		t.Fatal(err)
	}
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": {}, "b": {}},
		Gateway: gateway.Config{
			Providers:     []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")},
			Routes:        []route.Rule{{Model: "facts", Targets: []route.Target{{Provider: "b", Model: "sim-small"}, {Provider: "a", Model: "sim-large"}}}},
			RoutingPlugin: &gateway.PluginConfig{Path: path, Instances: 1},
		},
	})
	ctx := context.Background()
	// The session whose key the test's key stands for.
	created := event.Proposed{Type: "session.created", Data: json.RawMessage(`{"id":"s1","key_id":"` + s.KeyID + `"}`)}
	if _, err := s.Store.Append(ctx, "session-s1", eventstore.NoStream, created); err != nil {
		t.Fatal(err)
	}
	var last string
	for i, model := range []string{"cheapest", "facts", "cheapest"} {
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody(model, "hi", false), "x-switchyard-tags", "turn="+string(rune('1'+i/2)))
		if c.Status != 200 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		last = c.ID()
	}
	if err := s.GW.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s.GW.ReplaySession(ctx, "s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Replayed != 3 || len(rep.Decisions) != 3 {
		t.Fatalf("replay %+v", rep)
	}
	if rep, err := s.GW.ReplaySession(ctx, "s1", 2); err != nil || rep.Replayed != 1 || rep.Decisions[0].Turn != "2" {
		t.Fatalf("replay of turn 2: %+v, %v", rep, err)
	}

	// A record that says otherwise: the last call's decision, with
	// another reason and the targets reversed.
	d := decisionOf(t, s, last)
	forged := d
	forged.Reason = "most expensive"
	forged.Targets = []event.RouteTarget{{Provider: "x", Model: "y"}}
	p, _ := event.New("routing.decided", forged, event.Metadata{CorrelationID: last})
	res, err := s.Store.Append(ctx, "calls-"+s.KeyID, eventstore.Any, p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = s.GW.ReplaySession(ctx, "s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Mismatches != 2 {
		t.Fatalf("a forged decision went unnoticed: %+v", rep)
	}
	bad := rep.Decisions[len(rep.Decisions)-1].Mismatches
	if bad[0].Position != res.Positions[0] || bad[0].Field != "targets" || bad[0].Recorded != "x/y" || bad[1].Field != "reason" ||
		bad[1].Recorded != "most expensive" || bad[1].Replayed != d.Reason || !strings.Contains(bad[0].Error(), "nondeterminism at position") {
		t.Fatalf("mismatches %+v", bad)
	}

	if _, err := s.GW.ReplaySession(ctx, "nope", 0); err == nil || !strings.Contains(err.Error(), replay.ErrNoSession.Error()) {
		t.Fatalf("an unknown session: %v", err)
	}
}

// The static router's decisions re-run from the routes the log recorded
// (routing.routes.loaded): an alias, a weighted pick (by the call's
// seed), a provider's own model, and after a config change the new
// routes for the calls made since, the old ones for those before. A
// forged decision is named; one whose routes the log does not have is not
// replayable, saying why.
func TestReplayStaticDecisions(t *testing.T) {
	cfg := gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")},
		Routes: []route.Rule{
			{Model: "fast", Targets: []route.Target{{Provider: "a", Model: "sim-small"}, {Provider: "b", Model: "sim-small"}}},
			{Model: "mixed", Weighted: true, Targets: []route.Target{{Provider: "a", Model: "sim-large", Weight: 1}, {Provider: "b", Model: "sim-large", Weight: 3}}},
		},
	}
	s := gatewaytest.New(t, gatewaytest.Config{Sims: map[string]sim.Config{"a": {}, "b": {}}, Gateway: cfg})
	ctx := context.Background()
	created := event.Proposed{Type: "session.created", Data: json.RawMessage(`{"id":"s1","key_id":"` + s.KeyID + `"}`)}
	if _, err := s.Store.Append(ctx, "session-s1", eventstore.NoStream, created); err != nil {
		t.Fatal(err)
	}
	call := func(model string) string {
		t.Helper()
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody(model, "hi", false), "x-switchyard-tags", "turn=1")
		if c.Status != 200 {
			t.Fatalf("%s: status %d: %s", model, c.Status, c.Body)
		}
		return c.ID()
	}
	for range 10 { // b is picked 3 times in 4: all a, one time in a million
		call("mixed")
	}
	call("fast")
	call("sim-large")
	// A config change: "fast" goes to b first now.
	cfg2 := cfg
	cfg2.Providers = []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")}
	for i, name := range []string{"a", "b"} {
		cfg2.Providers[i].BaseURL = s.Sims[name].URL
	}
	cfg2.Routes = []route.Rule{{Model: "fast", Targets: []route.Target{{Provider: "b", Model: "sim-small"}}}}
	if err := s.GW.Apply(cfg2); err != nil {
		t.Fatal(err)
	}
	last := call("fast")
	if err := s.GW.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s.GW.ReplaySession(ctx, "s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Replayed != 13 || rep.NotReplayable != 0 {
		t.Fatalf("replay %+v", rep)
	}
	var picks []string
	for _, d := range rep.Decisions {
		if d.Router != route.StaticRouter {
			t.Fatalf("decision %+v", d)
		}
		picks = append(picks, d.Targets[0])
	}
	if !strings.Contains(strings.Join(picks[:10], " "), "b/sim-large") || picks[10] != "a/sim-small" || picks[11] != "a/sim-large" || picks[12] != "b/sim-small" {
		t.Fatalf("the decisions' first targets: %v", picks)
	}

	// The last decision, forged to the old routes' answer; and one that
	// names routes the log does not have.
	d := decisionOf(t, s, last)
	forged := d
	forged.Targets = []event.RouteTarget{{Provider: "a", Model: "sim-small"}, {Provider: "b", Model: "sim-small"}}
	unknown := d
	unknown.RoutesDigest = "sha256:0000"
	for _, f := range []event.RoutingDecided{forged, unknown} {
		p, _ := event.New("routing.decided", f, event.Metadata{CorrelationID: last})
		if _, err := s.Store.Append(ctx, "calls-"+s.KeyID, eventstore.Any, p); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = s.GW.ReplaySession(ctx, "s1", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := len(rep.Decisions)
	bad := rep.Decisions[n-2].Mismatches
	if rep.Mismatches != 1 || len(bad) != 1 || bad[0].Field != "targets" || bad[0].Recorded != "a/sim-small, b/sim-small" || bad[0].Replayed != "b/sim-small" {
		t.Fatalf("a forged decision: %+v", rep.Decisions[n-2])
	}
	if u := rep.Decisions[n-1]; u.Replayed || !strings.Contains(u.Why, "no routing.routes.loaded event has the routes sha256:0000") {
		t.Fatalf("a decision of unknown routes: %+v", u)
	}
}

// decisionOf returns the routing.decided of call id, made with the
// stack's key (the last one recorded, forged ones included).
func decisionOf(t *testing.T, s *gatewaytest.Stack, id string) event.RoutingDecided {
	t.Helper()
	var d event.RoutingDecided
	for e, err := range s.Store.ReadStream(context.Background(), "calls-"+s.KeyID, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "routing.decided" && strings.Contains(string(e.Data), id) {
			json.Unmarshal(e.Data, &d)
		}
	}
	return d
}
