package budget_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/budget"
)

var benchScopes = []string{"key:k1", "team:f", "user:u", "agent:a"}

func benchRules(n int) []budget.Rule {
	all := []budget.Rule{
		{Scope: "key:k1", SpendUSD: 1e6, Period: "month", RequestsPerMinute: 1e9, TokensPerMinute: 1e9},
		{Scope: "team:f", SpendUSD: 1e6, Period: "day"},
		{Scope: "user:u", SpendUSD: 1e6, Period: "total"},
		{Scope: "agent:a", RequestsPerMinute: 1e9},
	}
	return all[:n]
}

var benchIDs = func() []string {
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprint("call-", i)
	}
	return ids
}()

// BenchmarkAdmitSettle is one call's whole in-memory life in steady state:
// Admit, Settle with a cost, and (one PendingTimeout later, in a later
// Admit) the drop of its hold, which costs what Apply's match does. Each
// call has the four scopes of benchScopes; the sub-benchmark name says how
// many have a rule, and ",recorded" that the check is recorded for replay
// (AdmitRecorded, as the gateway admits calls).
func BenchmarkAdmitSettle(b *testing.B) {
	for _, n := range []int{0, 1, 4} {
		for _, recorded := range []bool{false, true} {
			name := fmt.Sprintf("rules=%d", n)
			if recorded {
				name += ",recorded"
			}
			b.Run(name, func(b *testing.B) {
				c := newClock(t0)
				m, err := budget.New(budget.Config{Rules: benchRules(n), PendingTimeout: time.Millisecond}, c.Now, nil)
				if err != nil {
					b.Fatal(err)
				}
				est := budget.Estimate{CostNanoUSD: 1000, Tokens: 100}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c.Add(time.Microsecond)
					var t *budget.Ticket
					var err error
					if recorded {
						t, _, err = m.AdmitRecorded(benchIDs[i&(len(benchIDs)-1)], benchScopes, est)
					} else {
						t, err = m.Admit(benchIDs[i&(len(benchIDs)-1)], benchScopes, est)
					}
					if err != nil {
						b.Fatal(err)
					}
					t.Settle(900, 90)
				}
			})
		}
	}
}

// BenchmarkRecheck is the replay of one recorded check of a call with
// four scopes with rules.
func BenchmarkRecheck(b *testing.B) {
	c := newClock(t0)
	m, err := budget.New(budget.Config{Rules: benchRules(4)}, c.Now, nil)
	if err != nil {
		b.Fatal(err)
	}
	_, rec, err := m.AdmitRecorded("c", benchScopes, budget.Estimate{CostNanoUSD: 1000, Tokens: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, err := budget.Recheck(rec); d != nil || err != nil {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkAdmitSettleParallel is BenchmarkAdmitSettle with four rules from
// GOMAXPROCS goroutines, all on the same four scopes: the mutex's worst case.
func BenchmarkAdmitSettleParallel(b *testing.B) {
	c := newClock(t0)
	m, err := budget.New(budget.Config{Rules: benchRules(4), PendingTimeout: time.Millisecond}, c.Now, nil)
	if err != nil {
		b.Fatal(err)
	}
	est := budget.Estimate{CostNanoUSD: 1000, Tokens: 100}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			c.Add(time.Microsecond)
			t, err := m.Admit(benchIDs[i&int64(len(benchIDs)-1)], benchScopes, est)
			if err != nil {
				b.Error(err)
				return
			}
			t.Settle(900, 90)
		}
	})
}

// BenchmarkApply is the projection's cost per model.call.completed event,
// which bounds the rebuild rate.
func BenchmarkApply(b *testing.B) {
	m, err := budget.New(budget.Config{Rules: benchRules(4)}, newClock(t0).Now, nil)
	if err != nil {
		b.Fatal(err)
	}
	e := call{id: "c", key: "k1", team: "f", user: "u", agent: "a", cost: 0.0123, inputTokens: 1000, outTokens: 100}.ev(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Apply(e); err != nil {
			b.Fatal(err)
		}
	}
}
