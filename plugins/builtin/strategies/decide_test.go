package main

import (
	"testing"

	"github.com/switchyard/switchyard/sdk/routing"
)

// BenchmarkDecide is a decision without the host: the configuration of the
// seeds' cases, a quick task (rules, then cheapest capable, then
// failover). Natively it shows what the code costs; compiled to
// WebAssembly it shows what the guest costs, which is what the gateway
// pays for:
//
//	go build -o /tmp/wazero github.com/tetratelabs/wazero/cmd/wazero
//	GOOS=wasip1 GOARCH=wasm go test -exec "/tmp/wazero run -mount /:/" -run '^$' -bench . ./plugins/builtin/strategies
//
// (145 ns natively, 1.4–1.9 µs under wazero on the 2-core VM, 2.9 µs
// before picks and tags were parsed into what deciding compares cheaply.)
func BenchmarkDecide(b *testing.B) {
	p, err := parse([]byte(`{"rules": [{"when": {"task": "complex"}, "prefer": ["anthropic", "gemini"]}, {"when": {"task": "quick"}, "pick": "cheapest"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	f := &routing.Facts{Model: "auto", API: "anthropic.messages", EstimatedTokens: 3000, TaskType: "quick",
		Tags: []routing.Tag{{Key: "task", Value: "quick"}, {Key: "team", Value: "finance"}},
		Targets: []routing.Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Tools: true, LatencyMS: 900, InputUSDPerMTok: 3, OutputUSDPerMTok: 15, ContextWindow: 200000},
			{Provider: "openai", Model: "gpt-5-mini", Tools: true, LatencyMS: 700, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2, ContextWindow: 400000},
			{Provider: "gemini", Model: "gemini-2.5-flash-lite", LatencyMS: 300, InputUSDPerMTok: 0.1, OutputUSDPerMTok: 0.4, ContextWindow: 1000000},
			{Provider: "local", Model: "qwen", InputUSDPerMTok: -1, OutputUSDPerMTok: -1},
		},
		Default: []int{0, 1}}
	want := []int{2, 1, 0, 3} // gemini, openai, anthropic, local: cheapest first
	b.ReportAllocs()
	for b.Loop() {
		d := p.decide(f)
		if len(d.Targets) != len(want) || d.Targets[0] != want[0] {
			b.Fatalf("decided %v, want %v", d.Targets, want)
		}
	}
}
