package gateway_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// A week of statically routed calls, and a plugin that would have sent
// them elsewhere: the what-if names the moves, prices them on the calls'
// recorded usage, and finds the key budget the dearer choice would have
// broken. No provider is called by it.
func TestWhatIf(t *testing.T) {
	ctx := context.Background()
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": {}, "b": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")},
			Routes: []route.Rule{
				{Model: "cheapest", Targets: []route.Target{{Provider: "b", Model: "sim-large"}}},
				{Model: "priciest", Targets: []route.Target{{Provider: "a", Model: "sim-small"}}},
			},
			// A small reserve keeps admission's estimate within the tight
			// key's budget.
			Proxy: proxy.Config{ReserveOutputTokens: 40},
		},
	})
	call := func(secret, model string) string {
		t.Helper()
		c := s.Post("/v1/chat/completions", secret, gatewaytest.ChatBody(model, "the same prompt", false))
		if c.Status != 200 {
			t.Fatalf("%s: status %d: %s", model, c.Status, c.Body)
		}
		return c.ID()
	}
	began := time.Now()
	// What one cheap call costs, then a key whose budget three of them fit
	// (with admission's reserve for the last).
	one := gatewaytest.Find[event.ModelCallCompleted](t, s.Events(call(s.Key, "priciest")), "model.call.completed").CostUSD
	if one <= 0 {
		t.Fatal("the sim's call cost nothing: no budget to break")
	}
	_, tight, err := s.GW.CreateKey(ctx, keys.Spec{Name: "tight", MaxBudgetUSD: 5 * one}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		call(tight, "priciest")
		call(s.Key, "cheapest")
	}
	if err := s.GW.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := eventstore.Head(ctx, s.Store)
	if err != nil {
		t.Fatal(err)
	}

	rep, err := s.GW.WhatIf(ctx, "behaviours", wasmtest.Build(t, wasmtest.Behaviours), nil, began, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := eventstore.Head(ctx, s.Store); after != before {
		t.Fatal("the what-if wrote to the log: it made calls")
	}
	if rep.Calls != 7 || rep.Evaluated != 7 || rep.Reconstructed != 7 || rep.Changed != 7 || len(rep.Moves) != 2 {
		t.Fatalf("what-if %+v", rep)
	}
	var cheaper, dearer bool
	for _, m := range rep.Moves {
		switch m.From {
		case "b/sim-large":
			cheaper = m.Calls == 3 && m.WhatIfCostUSD < m.RecordedCostUSD
		case "a/sim-small":
			dearer = m.Calls == 4 && m.WhatIfCostUSD > m.RecordedCostUSD
		}
	}
	if !cheaper || !dearer || math.Abs(rep.DeltaUSD-(rep.WhatIfCostUSD-rep.RecordedCostUSD)) > 1e-12 {
		t.Fatalf("moves %+v", rep.Moves)
	}
	if len(rep.Breaches) != 1 || rep.Breaches[0].Name != "tight" || rep.Breaches[0].Bucket != "total" || rep.Breaches[0].RecordedCostUSD > rep.Breaches[0].MaxUSD {
		t.Fatalf("breaches %+v, want the tight key's total budget", rep.Breaches)
	}
	if len(rep.Samples) != 7 || rep.Samples[0].Reason == "" {
		t.Fatalf("samples %+v", rep.Samples)
	}
	// A period without calls has nothing to say.
	if rep, err := s.GW.WhatIf(ctx, "behaviours", wasmtest.Build(t, wasmtest.Behaviours), nil, time.Now().Add(time.Hour), time.Time{}); err != nil || rep.Calls != 0 {
		t.Fatalf("an empty period: %+v, %v", rep, err)
	}
}
