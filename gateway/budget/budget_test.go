package budget_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/llm"
)

func TestSpendCap(t *testing.T) {
	team := []string{"key:k1", "team:f"}
	total10 := budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "total"}
	tests := []struct {
		name  string
		rules []budget.Rule
		setup func(t *testing.T, m *budget.Manager)
		cost  float64
		// want is the denial message; empty means admitted.
		want        string
		wantCurrent float64
	}{
		{
			name:  "scope without rule is not limited",
			rules: []budget.Rule{{Scope: "team:other", SpendUSD: 1, Period: "total"}},
			cost:  1e6,
		},
		{
			name:  "fits the cap exactly",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) { apply(t, m, call{id: "a", key: "k1", team: "f", cost: 9}.ev(1)) },
			cost:  1,
		},
		{
			name:        "one nano-dollar over",
			rules:       []budget.Rule{total10},
			setup:       func(t *testing.T, m *budget.Manager) { apply(t, m, call{id: "a", key: "k1", team: "f", cost: 9}.ev(1)) },
			cost:        1.000000001,
			want:        `budget exceeded for team "f": spent $9.00 of $10.00 in total, and this call may cost up to $1.00; raise the cap`,
			wantCurrent: 9,
		},
		{
			name:  "call in progress holds its estimate",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) { admit(t, m, "a", team, 6, 0) },
			cost:  5,
			want:  `budget exceeded for team "f": spent $0.00 of $10.00 in total, $6.00 more is held by calls in progress, and this call may cost up to $5.00; raise the cap`,
			// Current is spent plus held.
			wantCurrent: 6,
		},
		{
			name:  "settled call counts before its event is applied",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) { admit(t, m, "a", team, 6, 0).Settle(budget.NanoUSD(7), 0) },
			cost:  4, want: `budget exceeded for team "f": spent $7.00 of $10.00 in total, and this call may cost up to $4.00; raise the cap`,
			wantCurrent: 7,
		},
		{
			name:  "released call frees its hold",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) { admit(t, m, "a", team, 6, 0).Release() },
			cost:  10,
		},
		{
			name:  "overshoot is charged and the next call refused",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) {
				admit(t, m, "a", team, 2, 0).Settle(budget.NanoUSD(12), 0)
				apply(t, m, call{id: "a", key: "k1", team: "f", cost: 12}.ev(1))
			},
			cost:        0.01,
			want:        `budget exceeded for team "f": spent $12.00 of $10.00 in total; raise the cap`,
			wantCurrent: 12,
		},
		{
			name:  "monthly cap",
			rules: []budget.Rule{{Scope: "team:f", SpendUSD: 10, Period: "month"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", team: "f", cost: 10.02, at: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}.ev(1))
			},
			cost:        0.5,
			want:        `budget exceeded for team "f": spent $10.02 of $10.00 this month (resets 2026-12-01T00:00:00Z); raise the cap or wait`,
			wantCurrent: 10.02,
		},
		{
			name:  "last month's spend does not count this month",
			rules: []budget.Rule{{Scope: "team:f", SpendUSD: 10, Period: "month"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", team: "f", cost: 50, at: time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)}.ev(1))
			},
			cost: 10,
		},
		{
			name:  "daily cap counts today only",
			rules: []budget.Rule{{Scope: "team:f", SpendUSD: 1, Period: "day"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m,
					call{id: "a", team: "f", cost: 5, at: t0.Add(-11 * time.Hour)}.ev(1),
					call{id: "b", team: "f", cost: 0.75, at: t0.Add(-time.Hour)}.ev(2),
				)
			},
			cost:        0.3,
			want:        `budget exceeded for team "f": spent $0.75 of $1.00 today, and this call may cost up to $0.30 (resets 2026-11-15T00:00:00Z); raise the cap or wait`,
			wantCurrent: 0.75,
		},
		{
			name:  "the tightest of several caps refuses",
			rules: []budget.Rule{{Scope: "team:f", SpendUSD: 100, Period: "month"}, {Scope: "team:f", SpendUSD: 2, Period: "day"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", team: "f", cost: 1.5}.ev(1))
			},
			cost:        0.6,
			want:        `budget exceeded for team "f": spent $1.50 of $2.00 today, and this call may cost up to $0.60 (resets 2026-11-15T00:00:00Z); raise the cap or wait`,
			wantCurrent: 1.5,
		},
		{
			name:  "of several caps refusing, the one that resets last is named",
			rules: []budget.Rule{{Scope: "team:f", SpendUSD: 2, Period: "day"}, {Scope: "team:f", SpendUSD: 3, Period: "month"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", team: "f", cost: 3.5}.ev(1))
			},
			cost:        0.1,
			want:        `budget exceeded for team "f": spent $3.50 of $3.00 this month (resets 2026-12-01T00:00:00Z); raise the cap or wait`,
			wantCurrent: 3.5,
		},
		{
			name:  "amounts under a cent keep their digits",
			rules: []budget.Rule{{Scope: "key:k1", SpendUSD: 0.01, Period: "total"}},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", key: "k1", cost: 0.0042}.ev(1))
			},
			cost:        0.006,
			want:        `budget exceeded for key "k1": spent $0.0042 of $0.01 in total, and this call may cost up to $0.006; raise the cap`,
			wantCurrent: 0.0042,
		},
		{
			name:  "spend of the key's other scopes does not count",
			rules: []budget.Rule{total10},
			setup: func(t *testing.T, m *budget.Manager) {
				apply(t, m, call{id: "a", key: "k1", team: "g", user: "u", agent: "x", cost: 100}.ev(1))
			},
			cost: 10,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, newClock(t0), tc.rules...)
			if tc.setup != nil {
				tc.setup(t, m)
			}
			tk, err := m.Admit("call", team, budget.Estimate{CostNanoUSD: budget.NanoUSD(tc.cost)})
			if tc.want == "" {
				if err != nil || tk == nil {
					t.Fatalf("Admit = %v, want admitted", err)
				}
				return
			}
			if tk != nil {
				t.Fatalf("Admit returned a ticket with error %v", err)
			}
			d := denial(t, err)
			if d.Message != tc.want || d.Error() != tc.want {
				t.Fatalf("denial message\n got %s\nwant %s", d.Message, tc.want)
			}
			if d.Limit != budget.LimitSpend || d.RetryAfter != 0 || math.Abs(d.Current-tc.wantCurrent) > 1e-9 {
				t.Fatalf("denial = %+v, want limit spend, current %v, no retry-after", d, tc.wantCurrent)
			}
		})
	}
}

func TestAdmissionIsAtomicAcrossScopes(t *testing.T) {
	m := newManager(t, newClock(t0),
		budget.Rule{Scope: "key:k1", SpendUSD: 100, Period: "total", RequestsPerMinute: 10},
		budget.Rule{Scope: "team:f", SpendUSD: 1, Period: "total"},
	)
	_, err := m.Admit("big", []string{"key:k1", "team:f"}, budget.Estimate{CostNanoUSD: budget.NanoUSD(2)})
	if d := denial(t, err); d.Scope != "team:f" {
		t.Fatalf("denied by %s, want team:f", d.Scope)
	}
	if got := remaining(t, m, "key:k1"); got != 100 {
		t.Fatalf("key:k1 remaining %v after a refused call, want 100 (nothing reserved)", got)
	}
	// The refused call used no request either: 10 more fit.
	for i := range 10 {
		admit(t, m, fmt.Sprint("c", i), []string{"key:k1"}, 0, 0)
	}
	if _, err := m.Admit("c10", []string{"key:k1"}, budget.Estimate{}); err == nil {
		t.Fatal("11th call in a minute admitted under a limit of 10")
	}
}

func TestRequestsPerMinute(t *testing.T) {
	tests := []struct {
		name      string
		limit     int
		burst     int           // calls admitted back to back at t0
		wait      time.Duration // then this much later
		wantRetry time.Duration // the next call's RetryAfter; 0 = admitted
		wantMsg   string
	}{
		{name: "burst of the limit fits", limit: 3, burst: 2},
		{name: "one over the burst waits for one slot", limit: 3, burst: 3, wantRetry: 20 * time.Second,
			wantMsg: `rate limit for key "k1": 3 requests per minute; retry after 20s`},
		{name: "part of the wait passed", limit: 3, burst: 3, wait: 15 * time.Second, wantRetry: 5 * time.Second,
			wantMsg: `rate limit for key "k1": 3 requests per minute; retry after 5s`},
		{name: "a slot has freed", limit: 3, burst: 3, wait: 20 * time.Second},
		{name: "sub-second wait is rounded up in the message", limit: 60, burst: 60, wait: 300 * time.Millisecond, wantRetry: 700 * time.Millisecond,
			wantMsg: `rate limit for key "k1": 60 requests per minute; retry after 1s`},
		{name: "a quiet minute refills the bucket", limit: 3, burst: 3, wait: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock(t0)
			m := newManager(t, c, budget.Rule{Scope: "key:k1", RequestsPerMinute: tc.limit})
			for i := range tc.burst {
				admit(t, m, fmt.Sprint("c", i), []string{"key:k1"}, 0, 0).Release()
			}
			c.Add(tc.wait)
			_, err := m.Admit("next", []string{"key:k1"}, budget.Estimate{})
			if tc.wantRetry == 0 {
				if err != nil {
					t.Fatalf("Admit = %v, want admitted", err)
				}
				return
			}
			d := denial(t, err)
			if d.Limit != budget.LimitRequests || d.RetryAfter != tc.wantRetry || d.Message != tc.wantMsg || d.Max != float64(tc.limit) || d.Current != float64(tc.limit) {
				t.Fatalf("denial = %+v\nwant limit %s, retry after %v, max=current=%d, message %q", d, budget.LimitRequests, tc.wantRetry, tc.limit, tc.wantMsg)
			}
			// RetryAfter is exact: the call fits then, and not a nanosecond before.
			c.Add(tc.wantRetry - 1)
			if _, err := m.Admit("next", []string{"key:k1"}, budget.Estimate{}); err == nil {
				t.Fatal("admitted a nanosecond before RetryAfter")
			}
			c.Add(1)
			if _, err := m.Admit("next", []string{"key:k1"}, budget.Estimate{}); err != nil {
				t.Fatalf("after RetryAfter: %v", err)
			}
		})
	}
}

func TestTokensPerMinute(t *testing.T) {
	scopes := []string{"key:k1"}
	tests := []struct {
		name string
		// do runs before the call of 600 tokens under a limit of 1000.
		do        func(t *testing.T, m *budget.Manager, c *clock)
		tokens    int
		wantRetry time.Duration
		wantMsg   string
	}{
		{name: "fits", tokens: 600, do: func(t *testing.T, m *budget.Manager, c *clock) {}},
		{name: "estimate in use refuses", tokens: 600,
			do:        func(t *testing.T, m *budget.Manager, c *clock) { admit(t, m, "a", scopes, 0, 600) },
			wantRetry: 12 * time.Second, // 200 tokens over: 200/1000 of a minute
			wantMsg:   `rate limit for key "k1": 1000 tokens per minute, and this call may use up to 600; retry after 12s`},
		{name: "settle refunds an over-estimate", tokens: 600,
			do: func(t *testing.T, m *budget.Manager, c *clock) { admit(t, m, "a", scopes, 0, 600).Settle(0, 100) }},
		{name: "release refunds all tokens", tokens: 900,
			do: func(t *testing.T, m *budget.Manager, c *clock) { admit(t, m, "a", scopes, 0, 600).Release() }},
		{name: "settle charges an under-estimate", tokens: 600,
			do:        func(t *testing.T, m *budget.Manager, c *clock) { admit(t, m, "a", scopes, 0, 100).Settle(0, 700) },
			wantRetry: 18 * time.Second,
			wantMsg:   `rate limit for key "k1": 1000 tokens per minute, and this call may use up to 600; retry after 18s`},
		{name: "the event corrects a call settled after it", tokens: 600,
			do: func(t *testing.T, m *budget.Manager, c *clock) {
				tk := admit(t, m, "a", scopes, 0, 600)
				apply(t, m, call{id: "a", key: "k1", inputTokens: 50, outTokens: 50}.ev(1))
				tk.Settle(0, 5000) // no-op: the event came first
			}},
		{name: "a call bigger than the limit never fits", tokens: 1001,
			do:      func(t *testing.T, m *budget.Manager, c *clock) {},
			wantMsg: `rate limit for key "k1": 1000 tokens per minute, and this call may use up to 1001, so it can never fit; raise the limit or lower max_tokens`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock(t0)
			m := newManager(t, c, budget.Rule{Scope: "key:k1", TokensPerMinute: 1000})
			tc.do(t, m, c)
			_, err := m.Admit("next", scopes, budget.Estimate{Tokens: tc.tokens})
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("Admit = %v, want admitted", err)
				}
				return
			}
			d := denial(t, err)
			if d.Limit != budget.LimitTokens || d.RetryAfter != tc.wantRetry || d.Message != tc.wantMsg {
				t.Fatalf("denial = %+v\nwant retry after %v, message %q", d, tc.wantRetry, tc.wantMsg)
			}
		})
	}
}

func TestRetryAfterIsWhenEveryLimitFits(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c,
		budget.Rule{Scope: "key:k1", RequestsPerMinute: 2},  // frees a slot after 30s
		budget.Rule{Scope: "team:f", RequestsPerMinute: 1},  // after 60s
		budget.Rule{Scope: "agent:a", RequestsPerMinute: 6}, // after 10s
	)
	scopes := []string{"key:k1", "team:f", "agent:a"}
	admit(t, m, "a", scopes, 0, 0)
	_, err := m.Admit("b", scopes, budget.Estimate{})
	if d := denial(t, err); d.Scope != "team:f" || d.RetryAfter != time.Minute {
		t.Fatalf("denied by %s retry after %v, want team:f after 1m", d.Scope, d.RetryAfter)
	}
}

func TestTicketIsIdempotent(t *testing.T) {
	scopes := []string{"team:f"}
	tests := []struct {
		name string
		end  func(tk *budget.Ticket)
		want float64 // remaining of $10 afterwards, before any event
	}{
		{"settle twice", func(tk *budget.Ticket) { tk.Settle(budget.NanoUSD(3), 0); tk.Settle(budget.NanoUSD(5), 0) }, 7},
		{"release after settle", func(tk *budget.Ticket) { tk.Settle(budget.NanoUSD(3), 0); tk.Release() }, 7},
		{"settle after release", func(tk *budget.Ticket) { tk.Release(); tk.Settle(budget.NanoUSD(3), 0) }, 10},
		{"release twice", func(tk *budget.Ticket) { tk.Release(); tk.Release() }, 10},
		{"settle at zero cost", func(tk *budget.Ticket) { tk.Settle(0, 0) }, 10},
		{"negative actual counts as zero", func(tk *budget.Ticket) { tk.Settle(-5, -5) }, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newManager(t, newClock(t0), budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "total"})
			tk := admit(t, m, "a", scopes, 4, 0)
			if got := remaining(t, m, "team:f"); got != 6 {
				t.Fatalf("remaining while admitted = %v, want 6", got)
			}
			tc.end(tk)
			if got := remaining(t, m, "team:f"); got != tc.want {
				t.Fatalf("remaining = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNoRuleTicketDoesNothing(t *testing.T) {
	m := newManager(t, newClock(t0), budget.Rule{Scope: "team:f", SpendUSD: 1, Period: "total"})
	tk := admit(t, m, "a", []string{"key:k1", "user:u"}, 1e6, 1e6)
	tk.Settle(budget.NanoUSD(1e6), 1e6)
	tk.Release()
	var nilTicket *budget.Ticket
	nilTicket.Release()
	if calls, held := m.InFlight(); calls != 0 || held != 0 {
		t.Fatalf("InFlight = %d calls, $%v, want none", calls, held)
	}
	// The same id again is fine: nothing was in progress.
	admit(t, m, "a", []string{"key:k1"}, 1, 1)
}

func TestAdmitRejectsBadCallIDs(t *testing.T) {
	m := newManager(t, newClock(t0), budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "total"})
	if _, err := m.Admit("", []string{"team:f"}, budget.Estimate{}); err == nil || !strings.Contains(err.Error(), "call id is empty") {
		t.Fatalf("empty id: %v", err)
	}
	admit(t, m, "a", []string{"team:f"}, 1, 0)
	_, err := m.Admit("a", []string{"team:f"}, budget.Estimate{})
	var d *budget.Denial
	if err == nil || errors.As(err, &d) || !strings.Contains(err.Error(), `call "a": a call with this id is already in progress`) {
		t.Fatalf("duplicate id: %v, want a plain error", err)
	}
}

func TestEventBeforeSettle(t *testing.T) {
	m := newManager(t, newClock(t0), budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "total"})
	tk := admit(t, m, "a", []string{"team:f"}, 4, 0)
	apply(t, m, call{id: "a", team: "f", cost: 3}.ev(1))
	if got := remaining(t, m, "team:f"); got != 7 {
		t.Fatalf("remaining after the event = %v, want 7", got)
	}
	tk.Settle(budget.NanoUSD(3), 0)
	if got := remaining(t, m, "team:f"); got != 7 {
		t.Fatalf("remaining after a late Settle = %v, want 7 (counted once)", got)
	}
	if calls, _ := m.InFlight(); calls != 0 {
		t.Fatalf("%d calls in flight, want 0", calls)
	}
}

func TestPendingTimeout(t *testing.T) {
	c := newClock(t0)
	m, err := budget.New(budget.Config{Rules: []budget.Rule{{Scope: "team:f", SpendUSD: 10, Period: "total"}}, PendingTimeout: time.Minute}, c.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	admit(t, m, "lost", []string{"team:f"}, 4, 0).Settle(budget.NanoUSD(4), 0)
	c.Add(30 * time.Second)
	admit(t, m, "found", []string{"team:f"}, 2, 0).Settle(budget.NanoUSD(2), 0)
	apply(t, m, call{id: "found", team: "f", cost: 2}.ev(1))
	if got := remaining(t, m, "team:f"); got != 4 {
		t.Fatalf("remaining = %v, want 4 ($4 pending, $2 spent)", got)
	}
	c.Add(30 * time.Second)
	// Expiry runs at admission.
	admit(t, m, "next", []string{"team:f"}, 0, 0).Release()
	if got := remaining(t, m, "team:f"); got != 8 {
		t.Fatalf("remaining after the timeout = %v, want 8 (the lost call's hold dropped)", got)
	}
	// Its event arriving late still counts it, once.
	apply(t, m, call{id: "lost", team: "f", cost: 4}.ev(2))
	if got := remaining(t, m, "team:f"); got != 4 {
		t.Fatalf("remaining after the late event = %v, want 4", got)
	}
}

func TestUpdate(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c,
		budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "month"},
		budget.Rule{Scope: "key:k1", RequestsPerMinute: 4},
	)
	apply(t, m, call{id: "a", key: "k1", team: "f", user: "u", cost: 6}.ev(1))
	admit(t, m, "held", []string{"team:f"}, 1, 0)
	admit(t, m, "r1", []string{"key:k1"}, 0, 0)
	admit(t, m, "r2", []string{"key:k1"}, 0, 0)

	if err := m.Update(budget.Config{Rules: []budget.Rule{{Scope: "team:f", SpendUSD: 8, Period: "month"}, {Scope: "key:k1", RequestsPerMinute: 3}}}); err != nil {
		t.Fatal(err)
	}
	if got := remaining(t, m, "team:f"); got != 1 {
		t.Fatalf("team:f remaining after lowering the cap = %v, want 1 (spend $6 and hold $1 kept)", got)
	}
	// Two of 3 per minute are in use: one more fits.
	admit(t, m, "r3", []string{"key:k1"}, 0, 0)
	if _, err := m.Admit("r4", []string{"key:k1"}, budget.Estimate{}); err == nil {
		t.Fatal("rate limiter state was reset by Update")
	}

	// A new rule on a scope that already spent sees that spend.
	if err := m.Update(budget.Config{Rules: []budget.Rule{{Scope: "user:u", SpendUSD: 7, Period: "total"}}}); err != nil {
		t.Fatal(err)
	}
	if got := remaining(t, m, "user:u"); got != 1 {
		t.Fatalf("user:u remaining = %v, want 1", got)
	}
	// Removed rules no longer limit.
	if _, ok := m.Remaining("team:f"); ok {
		t.Fatal("team:f still has a cap after its rule was removed")
	}
	admit(t, m, "free", []string{"team:f", "key:k1"}, 1e6, 0)

	if err := m.Update(budget.Config{Rules: []budget.Rule{{Scope: "team:f"}}}); err == nil {
		t.Fatal("Update accepted an invalid config")
	}
	if got := remaining(t, m, "user:u"); got != 1 {
		t.Fatalf("a refused Update changed the rules: user:u remaining = %v", got)
	}
}

func TestRemaining(t *testing.T) {
	m := newManager(t, newClock(t0),
		budget.Rule{Scope: "team:f", SpendUSD: 100, Period: "month"},
		budget.Rule{Scope: "team:f", SpendUSD: 5, Period: "day"},
		budget.Rule{Scope: "key:k1", RequestsPerMinute: 5},
	)
	apply(t, m, call{id: "a", team: "f", cost: 1.25}.ev(1))
	admit(t, m, "b", []string{"team:f"}, 0.5, 0)
	tests := []struct {
		scope  string
		want   float64
		wantOK bool
	}{
		{"team:f", 3.25, true},
		{"key:k1", 0, false}, // a rate limit only
		{"team:nobody", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			got, ok := m.Remaining(tc.scope)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("Remaining(%s) = %v, %v; want %v, %v", tc.scope, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	if got := m.Spent("team:f", budget.PeriodMonth); got != 1.25 {
		t.Fatalf("Spent = %v, want 1.25", got)
	}
}

func TestDenialLLMError(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c, budget.Rule{Scope: "team:f", SpendUSD: 1, Period: "total"}, budget.Rule{Scope: "key:k1", RequestsPerMinute: 1})
	tests := []struct {
		name      string
		scopes    []string
		cost      float64
		wantKind  llm.ErrorKind
		wantRetry time.Duration
	}{
		{"spend", []string{"team:f"}, 2, llm.ErrBudget, 0},
		{"rate", []string{"key:k1"}, 0, llm.ErrRateLimit, time.Minute},
	}
	admit(t, m, "first", []string{"key:k1"}, 0, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Admit("x", tc.scopes, budget.Estimate{CostNanoUSD: budget.NanoUSD(tc.cost)})
			d := denial(t, err)
			le := d.LLMError()
			if le.Kind != tc.wantKind || le.Status != http.StatusTooManyRequests || le.RetryAfter != tc.wantRetry || le.Message != d.Message {
				t.Fatalf("LLMError = %+v, want kind %s, 429, retry after %v", le, tc.wantKind, tc.wantRetry)
			}
			ev := d.Event("x", "k1")
			if ev.Scope != d.Scope || ev.Limit != d.Limit || ev.Max != d.Max || ev.Current != d.Current || ev.Message != d.Message || ev.CallID != "x" || ev.KeyID != "k1" {
				t.Fatalf("Event = %+v for denial %+v", ev, d)
			}
		})
	}
}

func TestPeriodRollover(t *testing.T) {
	c := newClock(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	m := newManager(t, c,
		budget.Rule{Scope: "team:d", SpendUSD: 1, Period: "day"},
		budget.Rule{Scope: "team:m", SpendUSD: 1, Period: "month"},
		budget.Rule{Scope: "team:t", SpendUSD: 1, Period: "total"},
	)
	for _, s := range []string{"d", "m", "t"} {
		apply(t, m, call{id: "spend-" + s, team: s, cost: 1, at: c.Now()}.ev(1))
	}
	steps := []struct {
		name string
		at   time.Time
		// wantAdmitted per scope d, m, t for a call of $0.01.
		want [3]bool
	}{
		{"same day", time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), [3]bool{false, false, false}},
		{"next day, next month, next year", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), [3]bool{true, true, false}},
		{"clock back in the old day (skew)", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), [3]bool{false, false, false}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.Set(st.at)
			for i, s := range []string{"d", "m", "t"} {
				tk, err := m.Admit("probe", []string{"team:" + s}, budget.Estimate{CostNanoUSD: budget.NanoUSD(0.01)})
				if got := err == nil; got != st.want[i] {
					t.Errorf("team:%s admitted = %v, want %v (%v)", s, got, st.want[i], err)
				}
				if tk != nil {
					tk.Release()
				}
			}
		})
	}
	// An event in the new day resets the day bucket; the month counter
	// follows the event's month.
	c.Set(time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC))
	apply(t, m, call{id: "new", team: "d", cost: 0.4, at: c.Now()}.ev(2))
	apply(t, m, call{id: "late", team: "d", cost: 7, at: time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)}.ev(3))
	if got := m.Spent("team:d", "day"); got != 0.4 {
		t.Fatalf("day spend = %v, want 0.4 (a late event for yesterday does not count today)", got)
	}
	if got := m.Spent("team:d", "total"); got != 8.4 {
		t.Fatalf("total spend = %v, want 8.4", got)
	}
}

func TestHugeValuesDoNotOverflow(t *testing.T) {
	c := newClock(t0)
	m := newManager(t, c,
		budget.Rule{Scope: "team:f", SpendUSD: 10, Period: "total"},
		budget.Rule{Scope: "key:k1", TokensPerMinute: 1},
	)
	if _, err := m.Admit("a", []string{"team:f"}, budget.Estimate{CostNanoUSD: math.MaxInt64}); err == nil {
		t.Fatal("admitted an estimate of MaxInt64 nano-dollars under a $10 cap")
	}
	admit(t, m, "b", []string{"team:f"}, 1, 0).Settle(math.MaxInt64, 0)
	admit(t, m, "c", []string{"key:k1"}, 0, 1).Settle(0, math.MaxInt)
	if err := m.Update(budget.Config{Rules: []budget.Rule{{Scope: "team:f", SpendUSD: 10, Period: "total"}, {Scope: "key:k1", TokensPerMinute: 2}}}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Admit("d", []string{"key:k1"}, budget.Estimate{Tokens: 1})
	if d := denial(t, err); d.RetryAfter <= 0 || d.RetryAfter > 367*24*time.Hour {
		t.Fatalf("RetryAfter = %v, want positive and bounded", d.RetryAfter)
	}
	if got := remaining(t, m, "team:f"); got != 0 {
		t.Fatalf("remaining = %v, want 0", got)
	}
}
