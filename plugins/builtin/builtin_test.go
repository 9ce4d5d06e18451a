package builtin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/switchyard/switchyard/conformance/routing"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/plugins/builtin"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// source is the strategies' AssemblyScript build configuration, which
// names the sources.
const source = "strategies/asconfig.json"

var cacheDir string

func TestMain(m *testing.M) { os.Exit(wasmtest.RunWithCache(m, &cacheDir)) }

// module is the strategies plugin built from source with the pinned
// AssemblyScript compiler, so the tests do not depend on gen:builtin
// having run.
func module(t testing.TB) []byte { return wasmtest.BuildAS(t, source) }

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

// Deciding allocates nothing in the guest: its memory never grows between
// calls, so a call never pays for growing it, and nothing piles up. The
// module has no garbage collector for the host to run (AssemblyScript's
// stub runtime never frees), so the host's count of guest collections
// would say nothing; this test asks the allocator instead. It runs the
// module on wazero directly, where it can call the ABI's exports itself:
// sy_input's buffer is the last block the allocator gave out, and the
// allocator takes that block back when sy_input grows it, so a second
// sy_input that outgrows the first starts where the first did only if
// nothing was allocated in between.
func TestDecisionsDoNotAllocate(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, module(t))
	if err != nil {
		t.Fatal(err)
	}
	call := func(m api.Module, name string, arg uint64) uint32 {
		t.Helper()
		stack := []uint64{arg}
		if err := m.ExportedFunction(name).CallWithStack(ctx, stack); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return uint32(stack[0])
	}
	// Two configurations and three tasks, 10,000 decisions each: the
	// rules with their preferred targets, the cheapest pick and the
	// default route, and the weighted pick with its random draws.
	for _, config := range []string{seedsConfig, `{"strategy": "weighted", "weights": {"openai": 3, "anthropic": 1}}`} {
		m, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
		if err != nil {
			t.Fatal(err)
		}
		m.Memory().Write(call(m, "sy_input", uint64(len(config))), []byte(config))
		if msg, ok := m.Memory().ReadUint64Le(call(m, "sy_configure", uint64(len(config))) + 8); !ok || msg != 0 {
			t.Fatalf("config %s refused (%d bytes of reason)", config, msg)
		}
		route := m.ExportedFunction("sy_route")
		for j, task := range []string{"complex", "quick", "chat"} {
			base := call(m, "sy_input", 1<<(16+2*j)) // outgrows the buffer before
			f := facts(task)
			buf := abi.AppendFacts(nil, f, base)
			m.Memory().Write(base, buf)
			size, decisions := m.Memory().Size(), 10000
			stack := make([]uint64, 1)
			for i := range decisions {
				m.Memory().WriteUint64Le(base+8, uint64(i)) // the seed
				stack[0] = uint64(len(buf))
				if err := route.CallWithStack(ctx, stack); err != nil {
					t.Fatal(err)
				}
			}
			var d abi.Decision
			if err := abi.ReadDecision(m.Memory(), uint32(stack[0]), &d, len(f.Targets)); err != nil || d.Error != "" || len(d.Targets) == 0 {
				t.Fatalf("config %.40q, task %s: decided %+v, %v", config, task, d, err)
			}
			if grown := m.Memory().Size(); grown != size {
				t.Errorf("config %.40q, task %s: the memory grew from %d to %d bytes in %d decisions: a decision allocates", config, task, size, grown, decisions)
			}
			if again := call(m, "sy_input", 1<<(17+2*j)); again != base {
				t.Errorf("config %.40q, task %s: after %d decisions a grown input buffer starts at %d, not %d: a decision allocates", config, task, decisions, again, base)
			}
		}
		m.Close(ctx)
	}
}

// A bad configuration stops the load with the plugin's reason, which says
// what is wrong and what to write instead. The configuration is read as
// the Go version of the strategies read it, with encoding/json, so a JSON
// error is worded as Go words it.
func TestBadConfigIsRefusedWithTheReason(t *testing.T) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, CacheDir: cacheDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	for _, c := range []struct{ config, want string }{
		{`{"strategy": "smartest"}`, `strategy "smartest" is unknown`},
		{`{"rules": [{"when": {"task": "x"}}]}`, "rules[0]: give prefer"},
		{`{"rules": [{"pick": "random"}]}`, `rules[0]: pick "random" is unknown: use default, cheapest, fastest or weighted`},
		{`{"strategy": "weighted"}`, "needs weights"},
		{`{"weights": {"openai": -1.5}}`, `weights["openai"] is -1.5; a weight is a finite number, 0 or more`},
		{`{"rule": []}`, `json: unknown field "rule"`},
		{`{"rules": [{"when": {"min_tokens": 9, "max_tokens": 2}, "pick": "default"}]}`, "max_tokens 2 is below min_tokens 9"},
		{`{"rules": [{"prefer": ["/x"]}]}`, `"/x" is not "provider" or "provider/model"`},
		{`{"otherwise": {}}`, "otherwise: give prefer"},
		{`{"rules": [{"when": {"tools": "yes"}, "pick": "default"}]}`, "json: cannot unmarshal string into Go struct field match.rules.when.tools of type bool"},
		{`{"rules": [{"when": {"min_tokens": 1.5}, "pick": "default"}]}`, "json: cannot unmarshal number 1.5 into Go struct field match.rules.when.min_tokens of type int"},
		{`not json`, "invalid character 'o' in literal null (expecting 'u')"},
		{`{"rules": [`, "unexpected EOF"},
	} {
		_, err := h.Load(context.Background(), "strategies", module(t), []byte(c.config))
		if err == nil || !strings.Contains(err.Error(), "refused its configuration: config: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %s: error %v, want the plugin's refusal saying %q", c.config, err, c.want)
		}
	}
	for _, config := range []string{"", " \n", "null", "{}", `{"strategy": "fastest"}`, `{"strategy": "weighted", "weights": {"a": 1}}`, `{"STRATEGY": "cheapest"}`} {
		p, err := h.Load(context.Background(), "strategies", module(t), []byte(config))
		if err != nil {
			t.Errorf("config %q: %v", config, err)
			continue
		}
		p.Close(context.Background())
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

// BenchmarkRulesCold is BenchmarkRules with other work between the
// decisions, as in the running gateway, where some 500 µs of it evict the
// guest's code and data from the caches before every call: it walks 8 MB,
// checks some JSON, sorts and formats numbers (allocating nothing, so the
// allocations reported are the decisions'). What a decision costs there
// depends on how much code and memory it touches, which the warm
// benchmark hides: on the 2-core VM, busy with other tests, the Go
// version of the strategies took 11–20 µs a decision here, the WAT plugin
// (plugins/wasm/testdata/wat) 2–7 µs, these 3–10 µs.
func BenchmarkRulesCold(b *testing.B) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, CacheDir: cacheDir, Timeout: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "strategies", module(b), []byte(seedsConfig))
	if err != nil {
		b.Fatal(err)
	}
	f := facts("quick")
	other, doc := make([]byte, 8<<20), []byte(seedsConfig)
	ints, sorted, num := make([]int, 4096), make([]int, 4096), make([]byte, 0, 64)
	for i := range ints {
		ints[i] = (i * 7919) % 4096
	}
	var d abi.Decision
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := 0; i < len(other); i += 64 {
			other[i]++
		}
		for i := range 64 {
			if !json.Valid(doc) {
				b.Fatal("invalid JSON")
			}
			num = strconv.AppendFloat(num[:0], float64(i)/3, 'g', -1, 64)
		}
		copy(sorted, ints)
		slices.Sort(sorted)
		start := time.Now()
		if err := p.Decide(context.Background(), f, &d); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	b.ReportMetric(0, "ns/op") // the other work's
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "ns/decision")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns/decision")
}
