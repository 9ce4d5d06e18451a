package budget

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Period names, for Rule.Period.
const (
	PeriodTotal = "total" // never resets
	PeriodDay   = "day"   // resets at 00:00 UTC
	PeriodMonth = "month" // resets at 00:00 UTC on the first of the month
)

// Scope kinds: a scope is "<kind>:<name>", e.g. "team:finance".
const (
	ScopeKey   = "key"
	ScopeTeam  = "team"
	ScopeUser  = "user"
	ScopeAgent = "agent"
)

// MaxSpendUSD is the largest cap a rule may set; money is counted in int64
// nano-USD, and a smaller bound keeps every sum far from overflow.
const MaxSpendUSD = 1e9

// Defaults.
const (
	DefaultReserveOutputTokens = 4096
	DefaultPendingTimeout      = 10 * time.Minute
)

// Rule limits one scope. A rule sets at least one of SpendUSD,
// RequestsPerMinute and TokensPerMinute. A scope may have several rules,
// e.g. a daily and a monthly cap, but one spend cap per period and one
// rule for each rate.
type Rule struct {
	// Scope is what the rule limits: "key:<id>", "team:<name>",
	// "user:<name>" or "agent:<name>".
	Scope string `json:"scope"`
	// SpendUSD caps the spend in Period; 0 means no cap.
	SpendUSD float64 `json:"spend_usd,omitempty"`
	// Period is "total", "day" or "month" (calendar periods in UTC). It is
	// required with SpendUSD.
	Period string `json:"period,omitempty"`
	// RequestsPerMinute caps admitted calls per minute; 0 means no limit.
	RequestsPerMinute int `json:"requests_per_minute,omitempty"`
	// TokensPerMinute caps tokens per minute, counted from the estimate at
	// admission and corrected by the actual usage at settlement; 0 means
	// no limit.
	TokensPerMinute int `json:"tokens_per_minute,omitempty"`
}

// Config configures a Manager.
type Config struct {
	// Rules are the limits. Scopes without a rule are not limited.
	Rules []Rule `json:"rules,omitempty"`
	// DefaultReserveOutputTokens is how many output tokens to reserve for
	// a request that does not set max_tokens (see
	// Manager.ReserveOutputTokens); default 4096.
	DefaultReserveOutputTokens int `json:"default_reserve_output_tokens,omitempty"`
	// PendingTimeout is how long a settled call's cost is held against its
	// caps while waiting for its model.call event to be applied; after
	// that it is dropped (and logged), since the log, which lacks the
	// event, is the record of spend. Default 10m.
	PendingTimeout time.Duration `json:"pending_timeout,omitempty"`
}

func (c *Config) setDefaults() {
	if c.DefaultReserveOutputTokens == 0 {
		c.DefaultReserveOutputTokens = DefaultReserveOutputTokens
	}
	if c.PendingTimeout == 0 {
		c.PendingTimeout = DefaultPendingTimeout
	}
}

// Validate reports every mistake in c, each naming the rule index and
// field.
func (c *Config) Validate() error {
	var errs []error
	if c.DefaultReserveOutputTokens < 0 {
		errs = append(errs, fmt.Errorf("default_reserve_output_tokens is %d: give a positive number of tokens, or 0 for the default %d", c.DefaultReserveOutputTokens, DefaultReserveOutputTokens))
	}
	if c.PendingTimeout < 0 {
		errs = append(errs, fmt.Errorf("pending_timeout is %s: give a positive duration, or 0 for the default %s", c.PendingTimeout, DefaultPendingTimeout))
	}
	type key struct{ scope, what string }
	seen := map[key]int{}
	dup := func(i int, r Rule, what, field string) {
		k := key{r.Scope, what}
		if j, ok := seen[k]; ok {
			errs = append(errs, fmt.Errorf("rules[%d].%s: scope %q already has one in rules[%d]: merge the two rules", i, field, r.Scope, j))
			return
		}
		seen[k] = i
	}
	for i, r := range c.Rules {
		if err := ValidateScope(r.Scope); err != nil {
			errs = append(errs, fmt.Errorf("rules[%d].scope: %w", i, err))
		}
		if r.SpendUSD == 0 && r.RequestsPerMinute == 0 && r.TokensPerMinute == 0 {
			errs = append(errs, fmt.Errorf("rules[%d] (scope %q) sets no limit: set spend_usd, requests_per_minute or tokens_per_minute", i, r.Scope))
		}
		switch {
		case math.IsNaN(r.SpendUSD) || r.SpendUSD < 0 || r.SpendUSD > MaxSpendUSD:
			errs = append(errs, fmt.Errorf("rules[%d].spend_usd is %v: give a cap between 0 and %.0f dollars", i, r.SpendUSD, MaxSpendUSD))
		case r.SpendUSD > 0 && r.Period == "":
			errs = append(errs, fmt.Errorf("rules[%d].period is empty: say whether the $%v cap is per %q, %q or %q", i, r.SpendUSD, PeriodDay, PeriodMonth, PeriodTotal))
		case r.SpendUSD > 0:
			dup(i, r, "spend "+r.Period, "spend_usd")
		}
		switch r.Period {
		case "", PeriodTotal, PeriodDay, PeriodMonth:
			if r.Period != "" && r.SpendUSD == 0 {
				errs = append(errs, fmt.Errorf("rules[%d].period is %q but spend_usd is 0: the period applies to a spend cap, so set spend_usd or drop period", i, r.Period))
			}
		default:
			errs = append(errs, fmt.Errorf("rules[%d].period is %q: use %q, %q or %q", i, r.Period, PeriodTotal, PeriodDay, PeriodMonth))
		}
		if r.RequestsPerMinute < 0 {
			errs = append(errs, fmt.Errorf("rules[%d].requests_per_minute is %d: give a positive limit, or 0 for none", i, r.RequestsPerMinute))
		} else if r.RequestsPerMinute > 0 {
			dup(i, r, "rpm", "requests_per_minute")
		}
		if r.TokensPerMinute < 0 {
			errs = append(errs, fmt.Errorf("rules[%d].tokens_per_minute is %d: give a positive limit, or 0 for none", i, r.TokensPerMinute))
		} else if r.TokensPerMinute > 0 {
			dup(i, r, "tpm", "tokens_per_minute")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("budget config: %w", err)
	}
	return nil
}

// ValidateScope reports whether s names a scope: "key:", "team:", "user:"
// or "agent:" followed by a non-empty name.
func ValidateScope(s string) error {
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return fmt.Errorf("scope %q is not <kind>:<name>: write e.g. \"team:finance\" or \"key:k_abc\"", s)
	}
	switch kind {
	case ScopeKey, ScopeTeam, ScopeUser, ScopeAgent:
		return nil
	}
	return fmt.Errorf("scope %q has kind %q: use key, team, user or agent", s, kind)
}

// Scopes lists the scopes of a call made with key keyID by the given team,
// user and agent, leaving out the empty ones. The gateway admits a call with
// this list, and Apply charges an event's cost to the same list.
func Scopes(keyID, team, user, agent string) []string {
	out := make([]string, 0, 4)
	for _, p := range [...]struct{ kind, name string }{{ScopeKey, keyID}, {ScopeTeam, team}, {ScopeUser, user}, {ScopeAgent, agent}} {
		if p.name != "" {
			out = append(out, p.kind+":"+p.name)
		}
	}
	return out
}

// NanoUSD converts dollars to nano-dollars, rounding to the nearest.
func NanoUSD(usd float64) int64 { return int64(math.Round(usd * 1e9)) }

// USD converts nano-dollars to dollars.
func USD(nano int64) float64 { return float64(nano) / 1e9 }
