package route

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testStatic(t *testing.T) *Static {
	t.Helper()
	s, err := NewStatic(StaticConfig{
		ProviderOrder:  []string{"anthropic", "openai", "sim"},
		ProviderModels: map[string][]string{"sim": {"sim-small", "sim-large"}, "openai": {"gpt-5"}},
		Rules: []Rule{
			{Model: "smart", Targets: []Target{{Provider: "anthropic", Model: "claude-sonnet-4-5"}, {Provider: "openai", Model: "gpt-5"}}},
			{Model: "claude-*", PassModel: true, Targets: []Target{{Provider: "anthropic"}, {Provider: "sim", Model: "sim-large"}}},
			{Model: "claude-haiku*", PassModel: true, Targets: []Target{{Provider: "sim"}}},
			{Model: "mix", Weighted: true, Targets: []Target{{Provider: "sim", Model: "a", Weight: 3}, {Provider: "sim", Model: "b", Weight: 1}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStaticRoute(t *testing.T) {
	s := testStatic(t)
	for _, tc := range []struct{ model, want string }{
		{"smart", "anthropic/claude-sonnet-4-5 openai/gpt-5"},
		{"claude-opus-4-1", "anthropic/claude-opus-4-1 sim/sim-large"},
		{"claude-haiku-4-5", "sim/claude-haiku-4-5"},
		{"sim-small", "sim/sim-small"},
		{"gpt-5", "openai/gpt-5"},
		{"openai/gpt-4.1", "openai/gpt-4.1"},
	} {
		t.Run(tc.model, func(t *testing.T) {
			d, err := s.Route(context.Background(), &Facts{RequestedModel: tc.model})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range d.Targets {
				got = append(got, tg.String())
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("targets %v, want %s", got, tc.want)
			}
		})
	}
	for _, model := range []string{"gpt-9", "nope/x", ""} {
		if _, err := s.Route(context.Background(), &Facts{RequestedModel: model}); !errors.Is(err, ErrNoRoute) {
			t.Errorf("%q: err = %v, want ErrNoRoute", model, err)
		}
	}
}

func TestWeightedFollowsWeightsAndSeed(t *testing.T) {
	s := testStatic(t)
	counts := map[string]int{}
	for i := range 4000 {
		d, _ := s.Route(context.Background(), &Facts{RequestedModel: "mix", Seed: SeedFor(fmt.Sprint("call-", i))})
		counts[d.Targets[0].Model]++
		if len(d.Targets) != 2 || d.Targets[0] == d.Targets[1] {
			t.Fatalf("targets %v", d.Targets)
		}
	}
	if counts["a"] < 2800 || counts["a"] > 3200 {
		t.Fatalf("primary picks %v, want about 3000 of 4000 for weight 3 of 4", counts)
	}
	a, _ := s.Route(context.Background(), &Facts{RequestedModel: "mix", Seed: 42})
	b, _ := s.Route(context.Background(), &Facts{RequestedModel: "mix", Seed: 42})
	if a.Targets[0] != b.Targets[0] || a.Reason != b.Reason {
		t.Fatal("same seed, different decision")
	}
}

func TestStaticConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want string
	}{
		{Rule{Targets: []Target{{Provider: "sim", Model: "x"}}}, "routes[0]: model is required"},
		{Rule{Model: "m"}, "targets must list at least one"},
		{Rule{Model: "m", Targets: []Target{{Provider: "nope", Model: "x"}}}, `unknown provider "nope"; configured: sim`},
		{Rule{Model: "m", Targets: []Target{{Provider: "sim"}}}, "model is required (or set pass_model)"},
		{Rule{Model: "m", Targets: []Target{{Provider: "sim", Model: "x", Weight: -1}}}, "weight -1 is negative"},
	} {
		_, err := NewStatic(StaticConfig{ProviderOrder: []string{"sim"}, Rules: []Rule{tc.rule}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.rule, err, tc.want)
		}
	}
}

func BenchmarkStaticRoute(b *testing.B) {
	s, _ := NewStatic(StaticConfig{ProviderOrder: []string{"sim"}, Rules: []Rule{{Model: "fast", Targets: []Target{{Provider: "sim", Model: "sim-small"}}}}})
	f := &Facts{RequestedModel: "fast"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Route(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
}
