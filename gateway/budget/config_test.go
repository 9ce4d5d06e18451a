package budget_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/budget"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  budget.Config
		// want lists substrings of the error, in order; none means valid.
		want []string
	}{
		{name: "empty", cfg: budget.Config{}},
		{name: "every kind of limit", cfg: budget.Config{Rules: []budget.Rule{
			{Scope: "team:finance", SpendUSD: 10, Period: "month"},
			{Scope: "team:finance", SpendUSD: 1, Period: "day"},
			{Scope: "key:k_abc", RequestsPerMinute: 60, TokensPerMinute: 100000},
			{Scope: "user:alice", SpendUSD: 5, Period: "total"},
			{Scope: "agent:reviewer", TokensPerMinute: 1},
		}}},
		{name: "scope without kind", cfg: budget.Config{Rules: []budget.Rule{{Scope: "finance", SpendUSD: 1, Period: "day"}}},
			want: []string{`rules[0].scope: scope "finance" is not <kind>:<name>`}},
		{name: "unknown kind", cfg: budget.Config{Rules: []budget.Rule{{Scope: "org:x", RequestsPerMinute: 1}}},
			want: []string{`rules[0].scope: scope "org:x" has kind "org": use key, team, user or agent`}},
		{name: "empty name", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:", RequestsPerMinute: 1}}},
			want: []string{`rules[0].scope: scope "team:" is not <kind>:<name>`}},
		{name: "no limit", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", RequestsPerMinute: 1}, {Scope: "team:b"}}},
			want: []string{`rules[1] (scope "team:b") sets no limit`}},
		{name: "cap without period", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", SpendUSD: 5}}},
			want: []string{`rules[0].period is empty: say whether the $5 cap is per "day", "month" or "total"`}},
		{name: "unknown period", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", SpendUSD: 5, Period: "week"}}},
			want: []string{`rules[0].period is "week": use "total", "day" or "month"`}},
		{name: "period without cap", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", Period: "day", RequestsPerMinute: 1}}},
			want: []string{`rules[0].period is "day" but spend_usd is 0`}},
		{name: "negative values", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", SpendUSD: -1, Period: "day", RequestsPerMinute: -2, TokensPerMinute: -3}}},
			want: []string{"rules[0].spend_usd is -1", "rules[0].requests_per_minute is -2", "rules[0].tokens_per_minute is -3"}},
		{name: "cap too large", cfg: budget.Config{Rules: []budget.Rule{{Scope: "team:a", SpendUSD: 2e9, Period: "day"}}},
			want: []string{"rules[0].spend_usd is 2e+09: give a cap between 0 and 1000000000 dollars"}},
		{name: "two caps for one period", cfg: budget.Config{Rules: []budget.Rule{
			{Scope: "team:a", SpendUSD: 5, Period: "day"}, {Scope: "team:b", SpendUSD: 5, Period: "day"}, {Scope: "team:a", SpendUSD: 7, Period: "day"},
		}}, want: []string{`rules[2].spend_usd: scope "team:a" already has one in rules[0]`}},
		{name: "two rate limits", cfg: budget.Config{Rules: []budget.Rule{
			{Scope: "key:a", RequestsPerMinute: 5, TokensPerMinute: 9}, {Scope: "key:a", RequestsPerMinute: 6}, {Scope: "key:a", TokensPerMinute: 6},
		}}, want: []string{`rules[1].requests_per_minute: scope "key:a" already has one in rules[0]`, `rules[2].tokens_per_minute: scope "key:a" already has one in rules[0]`}},
		{name: "negative settings", cfg: budget.Config{DefaultReserveOutputTokens: -1, PendingTimeout: -time.Second},
			want: []string{"default_reserve_output_tokens is -1", "pending_timeout is -1s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tc.want)
			}
			msg, at := err.Error(), 0
			if !strings.HasPrefix(msg, "budget config: ") {
				t.Errorf("error %q does not say it is about the budget config", msg)
			}
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error\n%s\ndoes not have %q (after byte %d)", msg, w, at)
				}
				at += i + len(w)
			}
			if _, err := budget.New(tc.cfg, nil, nil); err == nil {
				t.Fatal("New accepted the config Validate refused")
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	in := `{"rules":[{"scope":"team:finance","spend_usd":10,"period":"month"},{"scope":"key:k_abc","requests_per_minute":60,"tokens_per_minute":100000}],"default_reserve_output_tokens":2048}`
	var cfg budget.Config
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := budget.Config{Rules: []budget.Rule{
		{Scope: "team:finance", SpendUSD: 10, Period: "month"},
		{Scope: "key:k_abc", RequestsPerMinute: 60, TokensPerMinute: 100000},
	}, DefaultReserveOutputTokens: 2048}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("decoded %+v, want %+v", cfg, want)
	}
	out, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("encoded\n%s\nwant\n%s", out, in)
	}
}

func TestReserveOutputTokens(t *testing.T) {
	tests := []struct {
		name      string
		dflt      int
		maxTokens int
		want      int
	}{
		{"request sets max_tokens", 0, 32000, 32000},
		{"default default", 0, 0, budget.DefaultReserveOutputTokens},
		{"configured default", 1000, 0, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := budget.New(budget.Config{DefaultReserveOutputTokens: tc.dflt}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.ReserveOutputTokens(tc.maxTokens); got != tc.want {
				t.Fatalf("ReserveOutputTokens(%d) = %d, want %d", tc.maxTokens, got, tc.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	tests := []struct {
		name                   string
		key, team, user, agent string
		want                   []string
	}{
		{"all", "k1", "f", "alice", "rev", []string{"key:k1", "team:f", "user:alice", "agent:rev"}},
		{"key only", "k1", "", "", "", []string{"key:k1"}},
		{"none", "", "", "", "", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := budget.Scopes(tc.key, tc.team, tc.user, tc.agent); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Scopes = %q, want %q", got, tc.want)
			}
		})
	}
}
