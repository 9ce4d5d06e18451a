package event

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkNewID is the cost of an event id: the gateway takes three or
// more a call.
func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewID()
	}
}

// BenchmarkNew is the cost of building the events the gateway records on
// every call (appendjson.go writes them by hand).
func BenchmarkNew(b *testing.B) {
	attr := CallAttribution{KeyID: "key_13a5912e3427", Tags: map[string]string{"env": "prod", "task": "review"}, Client: "claude-code", ClientSessionID: "9f1c2e7a-5b8d-4c3e-a1f0-7d6e5c4b3a29"}
	for _, c := range []struct {
		name, typ string
		data      any
	}{
		{"started", "model.call.started", ModelCallStarted{CallID: "01a23b83-4ed7-7dda-a93d-47ca1c30619f", CallAttribution: attr, API: "anthropic.messages", Operation: "chat", RequestModel: "claude-sonnet-4-5", Stream: true, MaxTokens: 32000, EstimatedInputTokens: 18250, ReservedUSD: 0.5348}},
		{"started+budget", "model.call.started", ModelCallStarted{CallID: "01a23b83-4ed7-7dda-a93d-47ca1c30619f", CallAttribution: attr, API: "anthropic.messages", Operation: "chat", RequestModel: "claude-sonnet-4-5", Stream: true, MaxTokens: 32000, EstimatedInputTokens: 18250,
			BudgetCheck: &BudgetCheck{ClockUnixNS: 1796294790871234567, CostNanoUSD: 534800000, Tokens: 50250, Scopes: []BudgetScope{
				{Scope: "key:key_13a5912e3427", CapMonthNanoUSD: 200e9, RequestsPerMinute: 60, SpentMonthNanoUSD: 41234567890, PendingNanoUSD: 18430000, ReservedNanoUSD: 1069600000, RequestsTATUnixNS: 1796294791871234567},
				{Scope: "team:payments", CapDayNanoUSD: 50e9, SpentDayNanoUSD: 7345678901, ReservedNanoUSD: 2139200000},
			}}}},
		{"decided", "routing.decided", RoutingDecided{CallID: "01a23b83-4ed7-7dda-a93d-47ca1c30619f", Router: "plugin:rules", RequestModel: "claude-sonnet-4-5",
			Targets: []RouteTarget{{"anthropic", "claude-sonnet-4-5"}, {"gemini", "gemini-2.5-flash"}}, Reason: "rule 1 (task complex): prefer anthropic, gemini",
			PluginDigest: "sha256:bd19790360188b3447a2fb013f55a43eaa5eefadd97e654fea56808672862b23", Seed: 14365437525520236224, ClockUnixMS: 1796294790871,
			PluginFacts: &PluginFacts{TargetsDigest: "sha256:1776e84b7671e36448df7b8ba86417e1c7ac50686a6f5043a8fa425f15532c86", API: "anthropic.messages", EstimatedTokens: 18250,
				Tools: true, Stream: true, KeyID: attr.KeyID, Team: "payments", User: "ana", Tags: attr.Tags, BudgetLeftUSD: 412.5,
				Health: []TargetHealth{{Target: 0, LatencyMS: 812.3}, {Target: 1, LatencyMS: 420.1, ErrorRate: 0.02}}, Default: []int{0, 1}}}},
		{"completed", "model.call.completed", ModelCallCompleted{CallID: "01a23b83-4ed7-7dda-a93d-47ca1c30619f", CallAttribution: attr, API: "anthropic.messages",
			Provider: "anthropic", RequestModel: "claude-sonnet-4-5", ResponseModel: "claude-sonnet-4-5-20250929", ResponseID: "msg_01XFDUDYJgAACzvnptvVoYEL", FinishReason: "tool_use",
			CallUsage: CallUsage{InputTokens: 18250, OutputTokens: 412, CacheReadTokens: 16000, CostUSD: 0.01843, InputCostUSD: 0.00675, CacheReadCostUSD: 0.0048, OutputCostUSD: 0.00618},
			Stream:    true, LatencyMS: 5123.4, TTFTMS: 812.3, OverheadMS: 0.21, Attempts: 1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := New(c.typ, c.data, Metadata{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkComputeHash hashes an event the size of a model call's (700
// bytes of data), as the audit model does for every event of the log.
func BenchmarkComputeHash(b *testing.B) {
	e := Event{Type: "model.call.completed", Stream: "calls-key_0001", StreamVersion: 7, Time: time.Now(),
		Data:     []byte(`{"call_id":"` + strings.Repeat("x", 680) + `"}`),
		Metadata: Metadata{CorrelationID: "call_1", Actor: "key:k1", Agent: "reviewer", Session: "s1", Team: "core", User: "alice", Schema: 1}}
	b.ReportAllocs()
	for b.Loop() {
		e.ComputeHash()
	}
}
