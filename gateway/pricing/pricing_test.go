package pricing

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
)

func builtinPrice(t testing.TB, provider, model string) Price {
	t.Helper()
	p, ok := Builtin().Lookup(provider, model)
	if !ok {
		t.Fatalf("built-in table has no price for %s/%s", provider, model)
	}
	return p
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestCost(t *testing.T) {
	t.Parallel()
	custom := Price{InputPerToken: 1e-6, OutputPerToken: 2e-6, ReasoningPerToken: 4e-6}
	for _, tc := range []struct {
		name      string
		price     Price
		usage     llm.Usage
		want      Breakdown
		wantNanos int64
	}{
		{
			name:  "plain input and output (gpt-5)",
			price: builtinPrice(t, "openai", "gpt-5"),
			usage: llm.Usage{InputTokens: 1000, OutputTokens: 500},
			// 1000 × $1.25/M + 500 × $10/M
			want:      Breakdown{Input: 0.00125, Output: 0.005, Total: 0.00625},
			wantNanos: 6_250_000,
		},
		{
			name:  "cache reads and writes (claude-sonnet-4-5)",
			price: builtinPrice(t, "anthropic", "claude-sonnet-4-5"),
			usage: llm.Usage{InputTokens: 2000, CacheReadTokens: 10000, CacheWriteTokens: 5000, OutputTokens: 1000},
			// 2000 × $3/M + 10000 × $0.30/M + 5000 × $3.75/M + 1000 × $15/M
			want:      Breakdown{Input: 0.006, CacheRead: 0.003, CacheWrite: 0.01875, Output: 0.015, Total: 0.04275},
			wantNanos: 42_750_000,
		},
		{
			name:  "reasoning at its own price",
			price: custom,
			usage: llm.Usage{InputTokens: 0, OutputTokens: 1000, ReasoningTokens: 400},
			// 600 × $2/M + 400 × $4/M
			want:      Breakdown{Output: 0.0012, Reasoning: 0.0016, Total: 0.0028},
			wantNanos: 2_800_000,
		},
		{
			name:  "reasoning at the output price when none is listed (gpt-5)",
			price: builtinPrice(t, "openai", "gpt-5"),
			usage: llm.Usage{OutputTokens: 1000, ReasoningTokens: 400},
			want:  Breakdown{Output: 0.006, Reasoning: 0.004, Total: 0.01},
		},
		{
			name:  "reasoning beyond output is not charged twice",
			price: custom,
			usage: llm.Usage{OutputTokens: 100, ReasoningTokens: 300},
			want:  Breakdown{Reasoning: 0.0004, Total: 0.0004},
		},
		{
			name:  "sim-large, every kind of token",
			price: builtinPrice(t, "sim", "sim-large"),
			usage: llm.Usage{InputTokens: 1000, CacheReadTokens: 1000, CacheWriteTokens: 1000, OutputTokens: 1000, ReasoningTokens: 500},
			// $3/M, $0.30/M, $3.75/M, 500 × $15/M, 500 × $15/M
			want:      Breakdown{Input: 0.003, CacheRead: 0.0003, CacheWrite: 0.00375, Output: 0.0075, Reasoning: 0.0075, Total: 0.02205},
			wantNanos: 22_050_000,
		},
		{
			name:  "sim-small",
			price: builtinPrice(t, "sim", "sim-small"),
			usage: llm.Usage{InputTokens: 1_000_000, CacheReadTokens: 1_000_000, CacheWriteTokens: 1_000_000, OutputTokens: 1_000_000},
			want:  Breakdown{Input: 0.5, CacheRead: 0.05, CacheWrite: 0.625, Output: 1.5, Total: 2.675},
		},
		{
			name:  "unlisted cache prices fall back to input",
			price: Price{InputPerToken: 1e-6, OutputPerToken: 2e-6},
			usage: llm.Usage{CacheReadTokens: 1000, CacheWriteTokens: 1000},
			want:  Breakdown{CacheRead: 0.001, CacheWrite: 0.001, Total: 0.002},
		},
		{
			name:  "200k tier applies to every token (gemini-2.5-pro)",
			price: builtinPrice(t, "gemini", "gemini-2.5-pro"),
			usage: llm.Usage{InputTokens: 150_000, CacheReadTokens: 60_000, OutputTokens: 2000, ReasoningTokens: 1000},
			// prompt 210k > 200k: 150000 × $2.50/M + 60000 × $0.25/M + 1000 × $15/M + 1000 × $15/M
			want:      Breakdown{Input: 0.375, CacheRead: 0.015, Output: 0.015, Reasoning: 0.015, Total: 0.42},
			wantNanos: 420_000_000,
		},
		{
			name:  "exactly 200k stays in the base tier",
			price: builtinPrice(t, "gemini", "gemini-2.5-pro"),
			usage: llm.Usage{InputTokens: 200_000},
			want:  Breakdown{Input: 0.25, Total: 0.25},
		},
		{
			name:  "200k tier with cache writes (claude-sonnet-4-5)",
			price: builtinPrice(t, "anthropic", "claude-sonnet-4-5-20250929"),
			usage: llm.Usage{InputTokens: 1000, CacheWriteTokens: 250_000, CacheReadTokens: 10_000, OutputTokens: 100},
			// $6/M, $7.50/M, $0.60/M, $22.50/M
			want: Breakdown{Input: 0.006, CacheWrite: 1.875, CacheRead: 0.006, Output: 0.00225, Total: 1.88925},
		},
		{
			name:  "zero usage costs nothing",
			price: builtinPrice(t, "openai", "o3"),
			want:  Breakdown{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Cost(tc.price, tc.usage)
			if !near(got.Input, tc.want.Input) || !near(got.CacheRead, tc.want.CacheRead) ||
				!near(got.CacheWrite, tc.want.CacheWrite) || !near(got.Output, tc.want.Output) ||
				!near(got.Reasoning, tc.want.Reasoning) || !near(got.Total, tc.want.Total) {
				t.Fatalf("Cost = %+v\nwant   %+v", got, tc.want)
			}
			if tc.wantNanos != 0 && got.TotalNanos() != tc.wantNanos {
				t.Fatalf("TotalNanos = %d, want %d", got.TotalNanos(), tc.wantNanos)
			}
		})
	}
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	sonnet := builtinPrice(t, "anthropic", "claude-sonnet-4-5")
	for _, tc := range []struct {
		name          string
		price         Price
		input, output int
		want          float64
	}{
		// Prompt at the cache-write rate ($3.75/M, dearer than $3/M input).
		{"prompt at the cache-write rate", sonnet, 1000, 500, 1000*3.75e-6 + 500*1.5e-5},
		{"long prompt in the 200k tier", sonnet, 300_000, 0, 300_000 * 7.5e-6},
		{"output at the reasoning rate when dearer", Price{InputPerToken: 1e-6, OutputPerToken: 2e-6, ReasoningPerToken: 4e-6}, 0, 1000, 0.004},
		{"no cache prices: input rate", builtinPrice(t, "openai", "gpt-4o"), 1000, 1000, 1000*2.5e-6 + 1000*1e-5},
		{"negative counts are zero", sonnet, -5, -5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Estimate(tc.price, tc.input, tc.output); !near(got, tc.want) {
				t.Fatalf("Estimate = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("estimate bounds the cost", func(t *testing.T) {
		u := llm.Usage{InputTokens: 400, CacheWriteTokens: 600, OutputTokens: 500, ReasoningTokens: 200}
		if c, e := Cost(sonnet, u).Total, Estimate(sonnet, u.TotalInput(), u.OutputTokens); c > e {
			t.Fatalf("cost %v exceeds estimate %v", c, e)
		}
	})
}

func TestNanos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		usd  float64
		want int64
	}{
		{0, 0},
		{1, 1_000_000_000},
		{0.00625, 6_250_000},
		{1e-9, 1},
		{4e-10, 0},
		{6e-10, 1},
		{0.1 + 0.2, 300_000_000}, // float noise rounds away
	} {
		t.Run(fmt.Sprint(tc.usd), func(t *testing.T) {
			if got := Nanos(tc.usd); got != tc.want {
				t.Fatalf("Nanos(%v) = %d, want %d", tc.usd, got, tc.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	table := Builtin()
	for _, tc := range []struct {
		name, provider, model string
		wantInput             float64 // 0: want a miss
	}{
		{"bare OpenAI name", "openai", "gpt-5", 1.25e-6},
		{"case-insensitive", "OpenAI", "GPT-5-Mini", 2.5e-7},
		{"OpenAI date suffix", "openai", "gpt-4.1-2025-04-14", 2e-6},
		{"date suffix keeps the variant", "openai", "gpt-4.1-mini-2025-04-14", 4e-7},
		{"openai-compatible kind finds the bare name", "openai-compatible", "gpt-4o-mini", 1.5e-7},
		{"Anthropic date suffix", "anthropic", "claude-sonnet-4-5-20250929", 3e-6},
		{"Anthropic dated point release", "anthropic", "claude-opus-4-1-20250805", 1.5e-5},
		{"Vertex @date suffix", "vertex", "claude-sonnet-4-5@20250929", 3e-6},
		{"alias from a dated key", "anthropic", "claude-opus-4", 1.5e-5},
		{"alias claude-sonnet-4", "anthropic", "claude-sonnet-4", 3e-6},
		{"alias claude-3-5-haiku", "anthropic", "claude-3-5-haiku", 8e-7},
		{"exact dated key", "anthropic", "claude-3-5-haiku-20241022", 8e-7},
		{"provider-prefixed key", "gemini", "gemini-2.5-pro", 1.25e-6},
		{"Gemini resource name", "gemini", "models/gemini-2.5-flash", 3e-7},
		{"full key without provider", "", "gemini/gemini-2.5-flash-lite", 1e-7},
		{"sim provider", "sim", "sim-small", 5e-7},
		{"sim upper case", "SIM", "Sim-Large", 3e-6},
		{"no cross-provider match", "openai", "gemini-2.5-pro", 0},
		{"no prefix match", "openai", "o3-mini", 0},
		{"not a date: version number", "openai", "gpt-4-1106", 0},
		{"unknown model", "openai", "gpt-9", 0},
		{"empty model", "openai", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := table.Lookup(tc.provider, tc.model)
			if tc.wantInput == 0 {
				if ok {
					t.Fatalf("Lookup(%q, %q) found %+v, want a miss", tc.provider, tc.model, p)
				}
				return
			}
			if !ok {
				t.Fatalf("Lookup(%q, %q): not found", tc.provider, tc.model)
			}
			if p.InputPerToken != tc.wantInput {
				t.Fatalf("Lookup(%q, %q) input = %v, want %v", tc.provider, tc.model, p.InputPerToken, tc.wantInput)
			}
		})
	}
}

func TestLookupZeroTable(t *testing.T) {
	t.Parallel()
	var table Table
	if _, ok := table.Lookup("openai", "gpt-5"); ok {
		t.Fatal("empty table found a price")
	}
	if table.Len() != 0 {
		t.Fatalf("Len = %d", table.Len())
	}
}

func TestAliasPrefersLatestDate(t *testing.T) {
	t.Parallel()
	table := NewTable(map[string]Price{
		"m-20240101": {InputPerToken: 1},
		"m-20250101": {InputPerToken: 2},
		"m-20230101": {InputPerToken: 3},
		"x-20250101": {InputPerToken: 4},
		"x":          {InputPerToken: 5},
	})
	if p, _ := table.Lookup("", "m"); p.InputPerToken != 2 {
		t.Fatalf("alias m = %v, want the latest (2)", p.InputPerToken)
	}
	if p, _ := table.Lookup("", "x"); p.InputPerToken != 5 {
		t.Fatalf("x = %v, want the exact key (5), not the alias", p.InputPerToken)
	}
	if p, _ := table.Lookup("", "m-20240101"); p.InputPerToken != 1 {
		t.Fatalf("exact dated key = %v, want 1", p.InputPerToken)
	}
}

func TestCaseCollisionsAreDeterministic(t *testing.T) {
	t.Parallel()
	for range 20 {
		table := NewTable(map[string]Price{
			"together_ai/BAAI/bge-base-en-v1.5": {InputPerToken: 1},
			"together_ai/baai/bge-base-en-v1.5": {InputPerToken: 2},
		})
		if p, _ := table.Lookup("together_ai", "BAAI/bge-base-en-v1.5"); p.InputPerToken != 2 || table.Len() != 1 {
			t.Fatalf("got %v of %d keys, want the lower-case key's 2 of 1", p.InputPerToken, table.Len())
		}
	}
}

func TestStripDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5", true},
		{"gpt-4o-2024-08-06", "gpt-4o", true},
		{"claude-sonnet-4-5@20250929", "claude-sonnet-4-5", true},
		{"gpt-oss-20b", "gpt-oss-20b", false},
		{"gpt-4-1106-preview", "gpt-4-1106-preview", false},
		{"model-20251399", "model-20251399", false},
		{"model-1999-01-01", "model-1999-01-01", false},
		{"20250929", "20250929", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := stripDate(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("stripDate(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	table := Builtin()
	for _, q := range [][2]string{
		{"openai", "gpt-5"},
		{"Anthropic", "Claude-Sonnet-4-5-20250929"},
		{"anthropic", "claude-opus-4"},
		{"gemini", "models/gemini-2.5-pro"},
		{"openai", "no-such-model-2025-01-01"},
	} {
		allocs := testing.AllocsPerRun(100, func() { table.Lookup(q[0], q[1]) })
		if allocs != 0 {
			t.Errorf("Lookup(%q, %q) allocates %v times", q[0], q[1], allocs)
		}
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	table := Builtin()
	before := table.Len()
	override, err := LoadLiteLLM(strings.NewReader(`{
		"gpt-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 9e-6, "litellm_provider": "openai"},
		"acme/rocket-1": {"input_cost_per_token": 2e-6, "output_cost_per_token": 4e-6}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	table.Merge(override)
	if table.Len() != before+1 {
		t.Fatalf("Len after merge = %d, want %d", table.Len(), before+1)
	}
	if p, _ := table.Lookup("openai", "gpt-5"); p.InputPerToken != 1e-6 || p.OutputPerToken != 9e-6 || p.CacheReadPerToken != 0 {
		t.Fatalf("gpt-5 after merge = %+v, want the file's price (replaced whole)", p)
	}
	if p, ok := table.Lookup("acme", "rocket-1"); !ok || p.InputPerToken != 2e-6 {
		t.Fatalf("acme/rocket-1 = %+v, %v", p, ok)
	}
	if p, _ := table.Lookup("openai", "gpt-5-mini"); p.InputPerToken != 2.5e-7 {
		t.Fatalf("gpt-5-mini changed by merge: %+v", p)
	}
	// Builtin hands out independent tables.
	if p, _ := Builtin().Lookup("openai", "gpt-5"); p.InputPerToken != 1.25e-6 {
		t.Fatalf("merge leaked into a fresh Builtin table: %+v", p)
	}
	table.Merge(nil)
	table.Merge(table)
	if table.Len() != before+1 {
		t.Fatalf("Len after no-op merges = %d", table.Len())
	}
}

// TestConcurrentLookupAndMerge hammers readers against writers; run with
// -race.
func TestConcurrentLookupAndMerge(t *testing.T) {
	t.Parallel()
	table := Builtin()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, ok := table.Lookup("anthropic", "claude-sonnet-4-5-20250929")
				if !ok || (p.InputPerToken != 3e-6 && p.InputPerToken != 1) {
					t.Errorf("reader saw %+v, %v", p, ok)
					return
				}
			}
		}()
	}
	for i := range 200 {
		table.Set(fmt.Sprintf("extra-%d", i), Price{InputPerToken: 1})
		if i == 100 {
			table.Merge(NewTable(map[string]Price{"claude-sonnet-4-5": {InputPerToken: 1}}))
		}
	}
	close(stop)
	wg.Wait()
	if p, _ := table.Lookup("anthropic", "claude-sonnet-4-5"); p.InputPerToken != 1 {
		t.Fatalf("final price %v, want the merged 1", p.InputPerToken)
	}
}

func TestBuiltinPrices(t *testing.T) {
	t.Parallel()
	table := Builtin()
	want := map[string][]string{
		"openai":    {"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5-codex", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini"},
		"anthropic": {"claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4", "claude-haiku-4-5", "claude-3-5-haiku"},
		"gemini":    {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"},
		"sim":       {"sim-small", "sim-large"},
	}
	for provider, models := range want {
		for _, model := range models {
			t.Run(provider+"/"+model, func(t *testing.T) {
				p, ok := table.Lookup(provider, model)
				if !ok {
					t.Fatal("missing")
				}
				if p.Provider != provider {
					t.Errorf("litellm_provider = %q, want %q", p.Provider, provider)
				}
				if p.Mode == "" || p.MaxOutputTokens == 0 && provider != "sim" {
					t.Errorf("mode %q, max output %d: want both", p.Mode, p.MaxOutputTokens)
				}
			})
		}
	}
	for _, key := range table.Keys() {
		t.Run("positive/"+key, func(t *testing.T) {
			p, _ := table.Lookup("", key)
			if p.InputPerToken <= 0 || p.OutputPerToken <= 0 {
				t.Fatalf("input %v, output %v: both must be > 0", p.InputPerToken, p.OutputPerToken)
			}
			if p.InputPerToken > 1e-4 || p.OutputPerToken > 1e-3 {
				t.Fatalf("input %v, output %v: implausible, per million instead of per token?", p.InputPerToken, p.OutputPerToken)
			}
		})
	}
}

func TestLoadLiteLLMExcerpt(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/litellm_excerpt.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := LoadLiteLLM(f)
	if err != nil {
		t.Fatal(err)
	}
	if table.Len() != 8 {
		t.Fatalf("Len = %d, want 8 (sample_spec skipped): %v", table.Len(), table.Keys())
	}
	if _, ok := table.Lookup("", "sample_spec"); ok {
		t.Fatal("sample_spec was loaded")
	}

	sonnet, ok := table.Lookup("anthropic", "claude-sonnet-4-5")
	if !ok {
		t.Fatal("claude-sonnet-4-5 not found through the dated key's alias")
	}
	wantSonnet := Price{
		Provider: "anthropic", Mode: "chat",
		InputPerToken: 3e-6, OutputPerToken: 1.5e-5, CacheReadPerToken: 3e-7, CacheWritePerToken: 3.75e-6,
		MaxInputTokens: 200000, MaxOutputTokens: 64000,
		SupportsTools: true, SupportsReasoning: true, SupportsPromptCaching: true, SupportsVision: true,
	}
	gotTiers := sonnet.Tiers
	sonnet.Tiers = nil
	if !reflect.DeepEqual(sonnet, wantSonnet) {
		t.Fatalf("claude-sonnet-4-5-20250929 =\n%+v\nwant\n%+v", sonnet, wantSonnet)
	}
	wantTier := Tier{AboveTokens: 200000, InputPerToken: 6e-6, OutputPerToken: 2.25e-5, CacheReadPerToken: 6e-7, CacheWritePerToken: 7.5e-6}
	if len(gotTiers) != 1 || gotTiers[0] != wantTier {
		t.Fatalf("tiers = %+v, want [%+v] (the 1-hour cache-write price is not a tier)", gotTiers, wantTier)
	}

	for _, tc := range []struct {
		name, provider, model string
		check                 func(Price) bool
	}{
		{"272k tier", "openai", "gpt-5.4", func(p Price) bool {
			return len(p.Tiers) == 1 && p.Tiers[0] == Tier{AboveTokens: 272000, InputPerToken: 5e-6, OutputPerToken: 2.25e-5, CacheReadPerToken: 5e-7}
		}},
		{"priority and flex variants ignored", "openai", "gpt-5-mini", func(p Price) bool {
			return p.InputPerToken == 2.5e-7 && p.CacheReadPerToken == 2.5e-8 && p.OutputPerToken == 2e-6 && len(p.Tiers) == 0
		}},
		{"gemini tier ignores _priority", "gemini", "gemini-2.5-pro", func(p Price) bool {
			return len(p.Tiers) == 1 && p.Tiers[0].InputPerToken == 2.5e-6 && p.Tiers[0].OutputPerToken == 1.5e-5 && p.MaxOutputTokens == 65535
		}},
		{"reasoning price", "gemini", "gemini-2.5-flash", func(p Price) bool { return p.ReasoningPerToken == 2.5e-6 }},
		{"tiered_pricing arrays tolerated", "dashscope", "qwen-flash", func(p Price) bool {
			return p.InputPerToken == 0 && p.SupportsReasoning && p.MaxInputTokens == 997952
		}},
		{"non-token entry kept", "", "1024-x-1024/dall-e-2", func(p Price) bool { return p.Mode == "image_generation" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := table.Lookup(tc.provider, tc.model)
			if !ok || !tc.check(p) {
				t.Fatalf("%s/%s = %+v, %v", tc.provider, tc.model, p, ok)
			}
		})
	}
}

func TestLoadLiteLLMValues(t *testing.T) {
	t.Parallel()
	table, err := LoadLiteLLM(strings.NewReader(`{
		"strings": {"input_cost_per_token": "3e-06", "output_cost_per_token": " 0.000015 ", "max_input_tokens": "1000", "supports_vision": "true"},
		"nulls": {"input_cost_per_token": null, "litellm_provider": null, "supports_vision": null, "max_output_tokens": null},
		"float-int": {"max_input_tokens": 128000.0}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := table.Lookup("", "strings"); p.InputPerToken != 3e-6 || p.OutputPerToken != 1.5e-5 || p.MaxInputTokens != 1000 || !p.SupportsVision {
		t.Fatalf("string-typed values: %+v", p)
	}
	if p, ok := table.Lookup("", "nulls"); !ok || p.InputPerToken != 0 || p.Provider != "" {
		t.Fatalf("nulls: %+v, %v", p, ok)
	}
	if p, _ := table.Lookup("", "float-int"); p.MaxInputTokens != 128000 {
		t.Fatalf("float-int: %+v", p)
	}
}

func TestLoadLiteLLMErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"not JSON", `{`, []string{"want a JSON object"}},
		{"top-level array", `[]`, []string{"want a JSON object"}},
		{"entry not an object", `{"gpt-x": 3}`, []string{`"gpt-x"`, "want a JSON object of fields"}},
		{"price not a number", `{"gpt-x": {"input_cost_per_token": "cheap"}}`, []string{`"gpt-x"`, `"input_cost_per_token"`, "want a number", "cheap"}},
		{"price an object", `{"gpt-x": {"output_cost_per_token": {"usd": 1}}}`, []string{`"gpt-x"`, `"output_cost_per_token"`}},
		{"tier price not a number", `{"m": {"input_cost_per_token_above_200k_tokens": true}}`, []string{`"m"`, `"input_cost_per_token_above_200k_tokens"`}},
		{"negative price", `{"m": {"input_cost_per_token": -1e-6}}`, []string{`"m"`, "negative"}},
		{"fractional token limit", `{"m": {"max_input_tokens": 1.5}}`, []string{`"m"`, `"max_input_tokens"`, "whole number"}},
		{"token limit is prose", `{"m": {"max_output_tokens": "lots"}}`, []string{`"m"`, `"max_output_tokens"`}},
		{"bool not a bool", `{"m": {"supports_vision": "yes"}}`, []string{`"m"`, `"supports_vision"`, "true or false"}},
		{"provider not a string", `{"m": {"litellm_provider": 5}}`, []string{`"m"`, `"litellm_provider"`, "want a string"}},
		{"empty model name", `{"": {}}`, []string{"empty model name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadLiteLLM(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	table := Builtin()
	for _, q := range [][2]string{
		{"openai", "gpt-5"},
		{"anthropic", "claude-sonnet-4-5-20250929"},
		{"anthropic", "claude-opus-4"},
		{"gemini", "gemini-2.5-pro"},
		{"openai", "unknown-model"},
	} {
		b.Run(q[0]+"/"+q[1], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				table.Lookup(q[0], q[1])
			}
		})
	}
}

func BenchmarkCost(b *testing.B) {
	p := builtinPrice(b, "gemini", "gemini-2.5-pro")
	u := llm.Usage{InputTokens: 150_000, CacheReadTokens: 60_000, OutputTokens: 2000, ReasoningTokens: 1000}
	b.ReportAllocs()
	for b.Loop() {
		Cost(p, u)
	}
}
