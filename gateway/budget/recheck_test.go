package budget_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/budget"
)

// Every check Admit records, run again by Recheck on the record alone,
// comes out the same: admitted, or refused with the same scope, limit,
// period, cap, amount in use, retry-after, reset and message. The calls
// are random, over scopes with spend caps of each period, requests and
// tokens per minute, with spend applied from events, holds, pending
// costs, a rule change, and a clock that crosses a day and a month.
func TestRecheckAgreesWithAdmit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := newClock(time.Date(2026, 11, 30, 23, 40, 0, 0, time.UTC))
	rules := []budget.Rule{
		{Scope: "key:k1", SpendUSD: 1, Period: "day", RequestsPerMinute: 15},
		{Scope: "team:f", SpendUSD: 4, Period: "total", TokensPerMinute: 40000},
		{Scope: "user:u", SpendUSD: 2.5, Period: "month", RequestsPerMinute: 60, TokensPerMinute: 90000},
	}
	m, err := budget.New(budget.Config{Rules: rules, PendingTimeout: 30 * time.Second}, c.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"key:k1", "team:f", "user:u", "agent:a"}
	type settled struct {
		e  *event.Event
		at time.Time
	}
	var unapplied []settled
	seen := map[string]int{}
	pos := uint64(0)
	for i := range 3000 {
		c.Add(time.Duration(rng.Int64N(int64(3 * time.Second))))
		if i == 1500 { // a rate limit changes: its arrival times are rescaled
			rules[2].RequestsPerMinute = 45
			if err := m.Update(budget.Config{Rules: rules, PendingTimeout: 30 * time.Second}); err != nil {
				t.Fatal(err)
			}
		}
		// Events come late, or never (the pending cost times out).
		for len(unapplied) > 0 && c.Now().Sub(unapplied[0].at) > time.Duration(rng.Int64N(int64(40*time.Second))) {
			if rng.IntN(10) > 0 {
				apply(t, m, unapplied[0].e)
			}
			unapplied = unapplied[1:]
		}
		var scopes []string
		for _, s := range all {
			if rng.IntN(3) > 0 {
				scopes = append(scopes, s)
			}
		}
		est := budget.Estimate{CostNanoUSD: rng.Int64N(budget.NanoUSD(0.05)), Tokens: rng.IntN(3000)}
		if rng.IntN(50) == 0 {
			est.Tokens = 50000 // never fits team:f's tokens per minute
		}
		id := fmt.Sprint("c", i)
		tk, rec, err := m.AdmitRecorded(id, scopes, est)
		ruled := strings.Contains(strings.Join(scopes, " "), ":k1") || strings.Contains(strings.Join(scopes, " "), ":f") || strings.Contains(strings.Join(scopes, " "), ":u")
		if (rec != nil) != ruled {
			t.Fatalf("call %d on %v: record %+v, want one exactly when a rule applies", i, scopes, rec)
		}
		if rec == nil {
			seen["no rule"]++
			continue
		}
		got, rerr := budget.Recheck(rec)
		if rerr != nil {
			t.Fatalf("call %d: Recheck(%+v): %v", i, rec, rerr)
		}
		var d *budget.Denial
		switch {
		case err == nil && got != nil:
			t.Fatalf("call %d: admitted, and the recheck of %+v refuses it: %+v", i, rec, got)
		case err == nil:
			seen["admitted"]++
			if rng.IntN(4) > 0 {
				cost := rng.Float64() * 0.03
				tk.Settle(budget.NanoUSD(cost), rng.IntN(4000))
				pos++
				unapplied = append(unapplied, settled{call{id: id, key: "k1", team: "f", user: "u", cost: cost, at: c.Now()}.ev(pos), c.Now()})
			} else {
				tk.Release()
			}
		case !errors.As(err, &d):
			t.Fatalf("call %d: %v", i, err)
		case got == nil:
			t.Fatalf("call %d: refused (%v), and the recheck of %+v admits it", i, err, rec)
		case *got != *d:
			t.Fatalf("call %d: refused with\n%+v\nthe recheck refuses with\n%+v", i, *d, *got)
		default:
			seen[d.Limit+" "+d.Period]++
			if d.Limit == budget.LimitTokens && d.RetryAfter == 0 {
				seen["never"]++
			}
		}
	}
	t.Logf("calls: %v", seen)
	for _, want := range []string{"admitted", "no rule", "spend day", "spend month", "spend total", "requests_per_minute ", "tokens_per_minute ", "never"} {
		if seen[want] == 0 {
			t.Errorf("no call was %q: %v", want, seen)
		}
	}
}

// A call no rule applies to records nothing and, as with Admit, costs no
// allocation; a call some do records those scopes only, in order, and what
// the check read of each: its limits, and the state those limits read.
func TestAdmitRecorded(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c,
		budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "month"},
		budget.Rule{Scope: "agent:a", RequestsPerMinute: 60})
	if n := testing.AllocsPerRun(100, func() {
		if tk, rec, err := m.AdmitRecorded("x", []string{"key:k1", "user:u"}, budget.Estimate{CostNanoUSD: 5, Tokens: 5}); tk == nil || rec != nil || err != nil {
			t.Fatalf("no rule: %v %+v %v", tk, rec, err)
		}
	}); n != 0 {
		t.Fatalf("a call without a rule: %v allocations", n)
	}
	apply(t, m, call{id: "old", key: "k1", team: "f", cost: 2}.ev(1))
	admit(t, m, "held", []string{"team:f"}, 1.5, 0)
	_, rec, err := m.AdmitRecorded("c", []string{"key:k1", "team:f", "user:u", "agent:a"}, budget.Estimate{CostNanoUSD: budget.NanoUSD(0.25), Tokens: 300})
	if err != nil {
		t.Fatal(err)
	}
	want := event.BudgetCheck{ClockUnixNS: t0.UnixNano(), CostNanoUSD: budget.NanoUSD(0.25), Tokens: 300, Scopes: []event.BudgetScope{
		{Scope: "team:f", CapMonthNanoUSD: 10e9, SpentMonthNanoUSD: 2e9, ReservedNanoUSD: 1.5e9},
		{Scope: "agent:a", RequestsPerMinute: 60},
	}}
	if fmt.Sprint(*rec) != fmt.Sprint(want) {
		t.Fatalf("record\n%+v\nwant\n%+v", *rec, want)
	}
	// The next call sees this one's hold and rate.
	_, rec, _ = m.AdmitRecorded("d", []string{"team:f", "agent:a"}, budget.Estimate{CostNanoUSD: budget.NanoUSD(9), Tokens: 1})
	if rec.Scopes[0].ReservedNanoUSD != 1.75e9 || rec.Scopes[1].RequestsTATUnixNS != t0.UnixNano()+int64(time.Second) {
		t.Fatalf("record of the next call %+v", rec)
	}
	d, err := budget.Recheck(rec)
	if err != nil || d == nil || d.Scope != "team:f" || d.Limit != budget.LimitSpend || d.Current != 3.75 || !strings.Contains(d.Message, "spent $2.00 of $10.00 this month") {
		t.Fatalf("recheck of a refusal: %+v, %v", d, err)
	}
}

// A record no gateway writes is not checked: Recheck says what is wrong
// with it.
func TestRecheckRefusesImpossibleRecords(t *testing.T) {
	ok := func() *event.BudgetCheck {
		return &event.BudgetCheck{ClockUnixNS: t0.UnixNano(), CostNanoUSD: 100, Tokens: 10,
			Scopes: []event.BudgetScope{{Scope: "key:k1", CapTotalNanoUSD: 1e9, SpentTotalNanoUSD: 5, RequestsPerMinute: 5}}}
	}
	if d, err := budget.Recheck(ok()); d != nil || err != nil {
		t.Fatalf("a good record: %v %v", d, err)
	}
	for _, tc := range []struct {
		name string
		edit func(r *event.BudgetCheck)
		want string
	}{
		{"none", func(r *event.BudgetCheck) { *r = event.BudgetCheck{} }, "records no scope"},
		{"negative cost", func(r *event.BudgetCheck) { r.CostNanoUSD = -1 }, "cost_nano_usd is -1"},
		{"too many tokens", func(r *event.BudgetCheck) { r.Tokens = 1e12 }, "tokens is 1000000000000"},
		{"cap over the bound", func(r *event.BudgetCheck) { r.Scopes[0].CapTotalNanoUSD = 2e18 }, `scope "key:k1" has cap_total_nano_usd 2000000000000000000`},
		{"negative spend", func(r *event.BudgetCheck) { r.Scopes[0].SpentTotalNanoUSD = -5 }, "spent_total_nano_usd -5"},
		{"negative rate", func(r *event.BudgetCheck) { r.Scopes[0].RequestsPerMinute = -5 }, "requests_per_minute -5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok()
			tc.edit(r)
			_, err := budget.Recheck(r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not written by a gateway") {
				t.Fatalf("Recheck: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := budget.Recheck(nil); err == nil {
		t.Fatal("Recheck(nil): no error")
	}
}
