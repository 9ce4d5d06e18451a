package builtin_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/conformance/routing"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/plugins/builtin"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

const source = "github.com/switchyard/switchyard/plugins/builtin/strategies"

var cacheDir string

func TestMain(m *testing.M) { os.Exit(wasmtest.RunWithCache(m, &cacheDir)) }

// module is the strategies plugin built from source, so the tests do not
// depend on gen:builtin having run.
func module(t testing.TB) []byte { return wasmtest.Build(t, source) }

// The embedded module, when there is one, is the source's: a stale one
// would ship behaviour nobody tested.
func TestEmbeddedModuleIsCurrent(t *testing.T) {
	embedded, err := builtin.Module("rules")
	if err != nil {
		if realclients.Required() {
			t.Fatalf("%v (go tool task test runs gen:builtin first)", err)
		}
		t.Skip(err)
	}
	if !bytes.Equal(embedded, module(t)) {
		t.Fatal("plugins/builtin/wasm/strategies.wasm differs from a build of plugins/builtin/strategies: run `go tool task gen:builtin`")
	}
	if _, err := builtin.Module("smartest"); err == nil || !strings.Contains(err.Error(), "cheapest") {
		t.Fatalf("an unknown built-in gave %v, want an error listing the built-ins", err)
	}
}

// load loads the strategies with config. The tests check answers, not
// speed (the conformance suite holds them to the 10 ms budget), so a call
// gets a second: a loaded CI machine must not fail them.
func load(t *testing.T, config string) *wasm.Plugin {
	t.Helper()
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, CacheDir: cacheDir, Timeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	p, err := h.Load(context.Background(), "strategies", module(t), []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// facts: Claude (pricey, tools, 200k), a cheap OpenAI model (tools, 400k),
// Gemini (cheapest, fastest, no tools, 1M) and an unpriced local model.
func facts(task string, mutate ...func(*abi.Facts)) *abi.Facts {
	f := &abi.Facts{
		Clock: 1764720000000000000, Seed: 7, Model: "auto", API: "anthropic.messages", EstimatedTokens: 3000,
		TaskType: task, Tags: []abi.Tag{{Key: "task", Value: task}, {Key: "team", Value: "finance"}},
		BudgetLeftUSD: -1,
		Targets: []abi.Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Tools: true, LatencyMS: 900, InputUSDPerMTok: 3, OutputUSDPerMTok: 15, ContextWindow: 200000},
			{Provider: "openai", Model: "gpt-5-mini", Tools: true, LatencyMS: 700, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2, ContextWindow: 400000},
			{Provider: "gemini", Model: "gemini-2.5-flash-lite", LatencyMS: 300, InputUSDPerMTok: 0.1, OutputUSDPerMTok: 0.4, ContextWindow: 1000000},
			{Provider: "local", Model: "qwen", InputUSDPerMTok: -1, OutputUSDPerMTok: -1},
		},
		Default: []int{0, 1},
	}
	for _, m := range mutate {
		m(f)
	}
	return f
}

func decide(t *testing.T, p *wasm.Plugin, f *abi.Facts) abi.Decision {
	t.Helper()
	var d abi.Decision
	if err := p.Decide(context.Background(), f, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func targets(f *abi.Facts, d abi.Decision) string {
	var names []string
	for _, i := range d.Targets {
		names = append(names, f.Targets[i].Provider)
	}
	return strings.Join(names, ",")
}

// The seeds' case: complex tasks to Claude, quick ones to a cheap model,
// Gemini when Claude is rate limited.
const seedsConfig = `{
  "rules": [
    {"when": {"task": "complex"}, "prefer": ["anthropic", "gemini"]},
    {"when": {"task": "quick"}, "pick": "cheapest"}
  ],
  "otherwise": {"pick": "default"}
}`

func TestStrategies(t *testing.T) {
	noTools := func(f *abi.Facts) { f.Tools = false }
	withTools := func(f *abi.Facts) { f.Tools = true }
	claudeLimited := func(f *abi.Facts) { f.Targets[0].RateLimited = true }
	huge := func(f *abi.Facts) { f.EstimatedTokens = 300000 }
	for _, c := range []struct {
		name, config string
		facts        *abi.Facts
		want, reason string
	}{
		{"complex to Claude", seedsConfig, facts("complex"), "anthropic,gemini", "rule 1 (task complex): prefer anthropic, gemini"},
		{"Gemini on 429", seedsConfig, facts("complex", claudeLimited), "gemini,anthropic", "rule 1 (task complex): prefer anthropic, gemini; rate-limited or cooling targets moved last"},
		{"quick to the cheapest", seedsConfig, facts("quick", noTools), "gemini,openai,anthropic,local", "rule 2 (task quick): cheapest capable"},
		{"cheapest takes tools into account", seedsConfig, facts("quick", withTools), "openai,anthropic,local", "rule 2 (task quick): cheapest capable"},
		{"cheapest takes the context window into account", `{"strategy": "cheapest"}`, facts("", huge), "gemini,openai,local", "cheapest capable"},
		{"otherwise the default route", seedsConfig, facts("chat"), "anthropic,openai", "no rule matched: the default route"},
		{"tags and tokens", `{"rules": [{"when": {"tags": {"team": "finance"}, "min_tokens": 1000}, "prefer": ["anthropic/claude-sonnet-4-5"]}]}`, facts(""), "anthropic", "rule 1 (team=finance, ≥1000 tokens): prefer anthropic/claude-sonnet-4-5"},
		{"fastest", `{"strategy": "fastest"}`, facts("", noTools), "gemini,openai,anthropic,local", "lowest latency"},
		{"errors count as slow", `{"strategy": "fastest"}`, facts("", noTools, func(f *abi.Facts) { f.Targets[2].ErrorRate = 0.5 }), "openai,anthropic,gemini,local", "lowest latency"},
		{"failover", `{"strategy": "failover"}`, facts("", claudeLimited), "openai,anthropic", "the default route; rate-limited or cooling targets moved last"},
		{"nothing preferred exists", `{"rules": [{"when": {}, "prefer": ["mistral"]}]}`, facts(""), "anthropic,openai", "rule 1 (always): prefer mistral"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, c.config)
			d := decide(t, p, c.facts)
			if got := targets(c.facts, d); got != c.want || d.Reason != c.reason {
				t.Fatalf("answered %s (%q), want %s (%q)", got, d.Reason, c.want, c.reason)
			}
		})
	}
}

// The weighted pick follows the weights over many calls, and a replay of
// one call (same seed) gives the same answer.
func TestWeighted(t *testing.T) {
	p := load(t, `{"strategy": "weighted", "weights": {"openai": 3, "anthropic": 1}}`)
	first := map[string]int{}
	for seed := range uint64(2000) {
		f := facts("", func(f *abi.Facts) { f.Seed = seed })
		d := decide(t, p, f)
		if again := decide(t, p, f); targets(f, again) != targets(f, d) {
			t.Fatalf("seed %d: %s, then %s", seed, targets(f, d), targets(f, again))
		}
		first[f.Targets[d.Targets[0]].Provider]++
	}
	// 3:1 gives openai 75% of first places; 2,000 draws put it within ±5%.
	if share := float64(first["openai"]) / 2000; share < 0.70 || share > 0.80 {
		t.Fatalf("openai came first in %.0f%% of calls, want about 75%% (%v)", share*100, first)
	}
	if first["gemini"]+first["local"] > 0 {
		t.Fatalf("a target without weight came first: %v", first)
	}
}

// Deciding allocates nothing in the guest: its memory never grows, so the
// host never has to collect its garbage between calls (a collection costs
// milliseconds of CPU beside the gateway's calls).
func TestDecisionsDoNotAllocate(t *testing.T) {
	for _, config := range []string{seedsConfig, `{"strategy": "weighted", "weights": {"openai": 3, "anthropic": 1}}`} {
		p := load(t, config)
		for _, task := range []string{"complex", "quick", "chat"} {
			f := facts(task)
			for range 20000 {
				decide(t, p, f)
			}
		}
		if st := p.Stats(); st.Collections != 0 {
			t.Errorf("config %.40q: %d guest collections in %d decisions, want 0: a decision allocates", config, st.Collections, st.Calls)
		}
	}
}

// A bad configuration stops the load with the plugin's reason (the
// reasons themselves are checked natively, in strategies/policy_test.go).
func TestBadConfigIsRefusedWithTheReason(t *testing.T) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, CacheDir: cacheDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	_, err = h.Load(context.Background(), "strategies", module(t), []byte(`{"strategy": "smartest"}`))
	if err == nil || !strings.Contains(err.Error(), `refused its configuration: config: strategy "smartest" is unknown`) {
		t.Fatalf("error %v, want the plugin's refusal", err)
	}
}

// The strategies pass the suite every plugin must pass: the rules (with
// the cheapest pick and failover) and the weighted pick, the one that uses
// randomness. The other strategies are the same module's other branches,
// checked for their answers above; under -race each suite run takes tens
// of seconds.
func TestConformance(t *testing.T) {
	for _, config := range []string{seedsConfig, `{"strategy": "weighted", "weights": {"openai": 1, "anthropic": 1}}`} {
		t.Run(strings.NewReplacer("/", "_", " ", "").Replace(config[:min(len(config), 30)]), func(t *testing.T) {
			routing.Run(t, module(t), routing.Options{Config: []byte(config), CacheDir: cacheDir})
		})
	}
}

func BenchmarkRules(b *testing.B) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, CacheDir: cacheDir, Timeout: 1e9}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "strategies", module(b), []byte(seedsConfig))
	if err != nil {
		b.Fatal(err)
	}
	for _, task := range []string{"complex", "quick"} {
		b.Run(task, func(b *testing.B) {
			f := facts(task)
			var d abi.Decision
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Decide(context.Background(), f, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
