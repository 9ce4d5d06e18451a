package costs_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
)

// Fleet is a synthetic month of agent traffic: sessions of a few turns,
// a few calls a turn, over agents, users, models and tags. Calls is how
// many model calls; a call is some three events in the log (started,
// routing decided, completed), so 3.3M calls stand for a 10M-event log.
type Fleet struct {
	Calls int
	Seed  uint64
}

// Events yields the fleet's call events in time order.
func (f Fleet) Events(tb testing.TB, yield func(*event.Event)) {
	rng := rand.New(rand.NewPCG(f.Seed, 7))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := 30 * 24 * time.Hour / time.Duration(f.Calls)
	models := []struct{ provider, model string }{{"anthropic", "claude-sonnet-4-5"}, {"anthropic", "claude-haiku-4-5"}, {"openai", "gpt-5"},
		{"openai", "gpt-5-mini"}, {"gemini", "gemini-2.5-pro"}, {"gemini", "gemini-2.5-flash"}, {"openrouter", "llama-4"}, {"openrouter", "qwen-3"}}
	var md event.Metadata
	var tags map[string]string
	var key string
	session, turn, left := 0, 0, 0
	for i := range f.Calls {
		if left == 0 { // next turn, sometimes next session
			if turn == 0 || rng.IntN(4) == 0 {
				session++
				turn = 0
				agent := rng.IntN(50)
				md = event.Metadata{Agent: "agent-" + strconv.Itoa(agent), Team: "team-" + strconv.Itoa(agent%10),
					User: "user-" + strconv.Itoa(rng.IntN(100)), Session: fmt.Sprintf("s%016x", session)}
				key = fmt.Sprintf("k%015x", session)
			}
			turn++
			left = 1 + rng.IntN(9)
			tags = map[string]string{"session": md.Session, "turn": strconv.Itoa(turn), "env": []string{"prod", "staging"}[rng.IntN(2)],
				"tier": []string{"gold", "silver", "free"}[rng.IntN(3)]}
		}
		left--
		m := models[rng.IntN(len(models))]
		via := ""
		if rng.IntN(20) == 0 {
			via = []string{"retry", "fallback"}[rng.IntN(2)]
		}
		c := event.ModelCallCompleted{CallID: "c" + strconv.Itoa(i), CallAttribution: event.CallAttribution{KeyID: key, Tags: tags},
			API: "anthropic.messages", Provider: m.provider, RequestModel: "default", ResponseModel: m.model,
			CallRoute: event.CallRoute{TargetModel: m.model, Via: via},
			CallUsage: event.CallUsage{InputTokens: 1000 + rng.IntN(50000), OutputTokens: rng.IntN(4000), CacheReadTokens: rng.IntN(30000),
				CostUSD: float64(rng.IntN(100000)) / 1e6, InputCostUSD: 0.001, OutputCostUSD: 0.002},
			LatencyMS: float64(rng.IntN(100000)) / 10, Attempts: 1}
		if via != "" {
			c.Attempts = 2
		}
		p, err := event.New("model.call.completed", c, md)
		if err != nil {
			tb.Fatal(err)
		}
		e := event.Event{ID: p.ID, Type: p.Type, Stream: "calls-" + key, Position: uint64(3*i + 3), Time: start.Add(time.Duration(i) * step),
			Data: p.Data, Metadata: p.Metadata}
		yield(&e)
	}
}

// BenchmarkApply is the fold of one call event.
func BenchmarkApply(b *testing.B) {
	var evs []event.Event
	Fleet{Calls: 100_000, Seed: 1}.Events(b, func(e *event.Event) { evs = append(evs, *e) })
	m := costs.New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := m.Apply(&evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
}

var (
	bigOnce  sync.Once
	bigModel *costs.Model
)

// big is the read model of a 10M-event log (3.3M calls), built once; set
// SWITCHYARD_BENCH_CALLS to change the size.
func big(b *testing.B) *costs.Model {
	bigOnce.Do(func() {
		n := 3_300_000
		if s := os.Getenv("SWITCHYARD_BENCH_CALLS"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		m := costs.New()
		began := time.Now()
		Fleet{Calls: n, Seed: 2}.Events(b, func(e *event.Event) {
			if err := m.Apply(e); err != nil {
				b.Fatal(err)
			}
		})
		snap, _ := m.Snapshot()
		b.Logf("built the read model of %d calls in %s; snapshot %d MB", n, time.Since(began).Round(time.Millisecond), len(snap)>>20)
		bigModel = m
	})
	return bigModel
}

// BenchmarkQuery runs the questions of issue 6 against the read model of
// a 10M-event log, and reports how many rows each read.
func BenchmarkQuery(b *testing.B) {
	m := big(b)
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, by string
		where    []string
		since    time.Duration
	}{
		{"by=agent,model/since=7d", "agent,model", nil, 7 * 24 * time.Hour},
		{"by=day/agent=X/since=30d", "day,model", []string{"agent=agent-7"}, 30 * 24 * time.Hour},
		{"by=tag:tier,provider/all", "tag:tier,provider", nil, 0},
		{"by=decision/agent=X/since=1d", "decision", []string{"agent=agent-7"}, 24 * time.Hour},
		{"by=session/since=7d", "session", nil, 7 * 24 * time.Hour},
		{"by=model/session=X", "model", []string{"session=s0000000000000400"}, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := costs.Query{}
			q.By, _ = costs.ParseBy(c.by)
			for _, w := range c.where {
				f, _ := costs.ParseFilter(w)
				q.Where = append(q.Where, f)
			}
			if c.since > 0 {
				q.Since = until.Add(-c.since)
			}
			var r *costs.Report
			for b.Loop() {
				var err error
				if r, err = m.Query(q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.Scanned), "rows-read")
			b.ReportMetric(float64(len(r.Rows)), "groups")
		})
	}
}

// BenchmarkSnapshot is saving and restoring the 10M-event read model, as
// a checkpoint does.
func BenchmarkSnapshot(b *testing.B) {
	m := big(b)
	var snap []byte
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			snap, _ = m.Snapshot()
		}
		b.ReportMetric(float64(len(snap))/(1<<20), "MB")
	})
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			if err := costs.New().Restore(snap); err != nil {
				b.Fatal(err)
			}
		}
	})
}
