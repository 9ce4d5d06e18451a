package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/route"

	_ "github.com/switchyard/switchyard/gateway/provider/all"
	_ "github.com/switchyard/switchyard/gateway/wire/anthropic"
)

// benchKeys finds a key by its secret.
type benchKeys map[string]*keys.Key

func (k benchKeys) Lookup(secret string) (*keys.Key, bool) { key, ok := k[secret]; return key, ok }

type benchPricer struct{}

func (benchPricer) Price(string, string, llm.Usage) event.CallUsage {
	return event.CallUsage{CostUSD: 0.01}
}
func (benchPricer) Estimate(string, string, int, int) int64 { return 10_000_000 }

// benchSink builds every event (as the recorder's caller does) and drops
// it.
type benchSink struct{ events, bytes atomic.Int64 }

func (s *benchSink) Record(_ string, p event.Proposed) error {
	s.events.Add(1)
	s.bytes.Add(int64(len(p.Data)))
	return nil
}

// upstream answers every request with one canned answer, from memory.
type upstream struct{ body []byte }

func (u upstream) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(bytes.NewReader(u.body)), Request: r}, nil
}

// benchAnswer is a streamed Messages answer: twenty text deltas and a
// tool call, as a coding agent's turn often is.
func benchAnswer() []byte {
	var b strings.Builder
	ev := func(name, data string) { fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", name, data) }
	ev("message_start", `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-bench","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9000,"output_tokens":1}}}`)
	ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	for i := range 20 {
		ev("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word %d of the plan, "}}`, i))
	}
	ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
	ev("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_bench","name":"Bash","input":{}}}`)
	ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\":\"go test ./...\"}"}}`)
	ev("content_block_stop", `{"type":"content_block_stop","index":1}`)
	ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":120}}`)
	ev("message_stop", `{"type":"message_stop"}`)
	return []byte(b.String())
}

// benchRequest is a streamed Messages request the size of a coding
// agent's in the middle of a session: a 10 KB system prompt, 12 tools,
// and 24 messages of text, tool calls and tool results (about 45 KB).
func benchRequest() []byte {
	line := "You are a coding agent working in /data/sessions/s0123456789abcdef/workspace on 2026-12-03. "
	var tools []map[string]any
	for i := range 12 {
		tools = append(tools, map[string]any{"name": fmt.Sprintf("Tool%d", i), "description": strings.Repeat("Does a thing with files. ", 20),
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{"command": map[string]any{"type": "string"}}}})
	}
	var msgs []map[string]any
	msgs = append(msgs, map[string]any{"role": "user", "content": "Fix the failing test in the parser package."})
	for i := range 11 {
		id := fmt.Sprintf("toolu_%02d", i)
		msgs = append(msgs,
			map[string]any{"role": "assistant", "content": []map[string]any{
				{"type": "text", "text": "Let me look at the files involved and run the tests again."},
				{"type": "tool_use", "id": id, "name": "Tool1", "input": map[string]any{"command": "go test ./parser/..."}}}},
			map[string]any{"role": "user", "content": []map[string]any{
				{"type": "tool_result", "tool_use_id": id, "content": strings.Repeat("ok  \tgithub.com/example/parser\t0.012s\n", 60)}}})
	}
	msgs = append(msgs, map[string]any{"role": "assistant", "content": "The tests pass now."})
	b, _ := json.Marshal(map[string]any{"model": "claude-bench", "max_tokens": 32000, "stream": true,
		"system":   []map[string]any{{"type": "text", "text": "You are Claude Code."}, {"type": "text", "text": strings.Repeat(line, 110)}},
		"tools":    tools,
		"messages": msgs,
		"metadata": map[string]any{"user_id": `{"session_id":"0e4b7d7e-8d0e-4c57-9d1e-1c5f6b2a9e11"}`}})
	return b
}

// BenchmarkHandleStream is the gateway's request path for a streamed
// Messages call of a coding agent's size, upstream answering from
// memory: everything but the network and the provider. "plain" is a
// call with a key of no session; "session" one with a session's key,
// whose answer is recorded for harness replay (record_answers:
// sessions, the default).
func BenchmarkHandleStream(b *testing.B) {
	body, answer := benchRequest(), benchAnswer()
	p, err := provider.New(provider.Config{Name: "up", Kind: "anthropic", BaseURL: "http://upstream.invalid", APIKey: "k", Models: []string{"claude-bench"}})
	if err != nil {
		b.Fatal(err)
	}
	router, err := route.NewStatic(route.StaticConfig{ProviderModels: map[string][]string{"up": {"claude-bench"}}, ProviderOrder: []string{"up"}})
	if err != nil {
		b.Fatal(err)
	}
	ks := benchKeys{
		"plain":   {ID: "key_plain", Spec: keys.Spec{Name: "plain"}},
		"session": {ID: "key_session", Spec: keys.Spec{Name: "session", Tags: map[string]string{"session": "s0123456789abcdef"}}},
	}
	for _, name := range []string{"plain", "session", "budget-elsewhere", "budget"} {
		b.Run(name, func(b *testing.B) {
			sink := &benchSink{}
			deps := proxy.Deps{
				Providers: map[string]provider.Provider{"up": p}, Router: router, Keys: ks, Pricer: benchPricer{}, Sink: sink,
				Client: &http.Client{Transport: upstream{answer}},
			}
			key := name
			switch name {
			case "budget-elsewhere": // budgets, none of them the key's
				key, deps.Admission = "plain", benchAdmission(b, budget.Rule{Scope: "team:other", SpendUSD: 100, Period: "day"})
			case "budget": // a spend cap and a rate limit on the key
				key, deps.Admission = "plain", benchAdmission(b, budget.Rule{Scope: "key:key_plain", SpendUSD: 1e6, Period: "month", RequestsPerMinute: 1e9})
			}
			g, err := proxy.New(proxy.Config{}, deps)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			w := bufio.NewWriter(io.Discard)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				resp := g.Handle(ctx, &proxy.Request{API: llm.APIAnthropicMessages, Body: bytes.Clone(body), Key: key,
					Client: "claude-cli", ClientSessionID: "0e4b7d7e-8d0e-4c57-9d1e-1c5f6b2a9e11", Tags: "turn=3"})
				if resp.Status != 200 || resp.Stream == nil {
					b.Fatalf("status %d: %s", resp.Status, resp.Body)
				}
				resp.Stream(w)
			}
			b.ReportMetric(float64(sink.events.Load())/float64(b.N), "events/op")
			b.ReportMetric(float64(sink.bytes.Load())/float64(b.N), "event-B/op")
		})
	}
}

// admission adapts a budget.Manager to proxy.Admission, as the gateway
// does.
type admission struct{ m *budget.Manager }

// benchAdmission is the budgets of rules, with settled calls' holds
// dropped at once (no event comes to end them).
func benchAdmission(b *testing.B, rules ...budget.Rule) proxy.Admission {
	m, err := budget.New(budget.Config{Rules: rules, PendingTimeout: time.Nanosecond}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return admission{m}
}

func (a admission) Admit(callID string, scopes []string, est int64, tokens int) (proxy.Ticket, *event.BudgetCheck, *proxy.Denied) {
	t, rec, err := a.m.AdmitRecorded(callID, scopes, budget.Estimate{CostNanoUSD: est, Tokens: tokens})
	if err != nil {
		d := err.(*budget.Denial)
		return nil, rec, &proxy.Denied{Err: d.LLMError(), Scope: d.Scope, Limit: d.Limit, Max: d.Max, Current: d.Current, Period: d.Period, RetryAfter: d.RetryAfter}
	}
	return t, rec, nil
}

func (a admission) RemainingUSD(scopes []string) float64 {
	least := -1.0
	for _, s := range scopes {
		if usd, ok := a.m.Remaining(s); ok && (least < 0 || usd < least) {
			least = usd
		}
	}
	return least
}
