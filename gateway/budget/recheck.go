package budget

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// newRecord returns a record with room for n scopes, made with one
// allocation sized to the common cases: a rule on one or two of a call's
// scopes.
func newRecord(n int) *event.BudgetCheck {
	switch n {
	case 1:
		r := &struct {
			c event.BudgetCheck
			b [1]event.BudgetScope
		}{}
		r.c.Scopes = r.b[:0]
		return &r.c
	case 2:
		r := &struct {
			c event.BudgetCheck
			b [2]event.BudgetScope
		}{}
		r.c.Scopes = r.b[:0]
		return &r.c
	}
	r := &struct {
		c event.BudgetCheck
		b [4]event.BudgetScope
	}{}
	r.c.Scopes = r.b[:0]
	return &r.c
}

// record writes into rec what check reads of matched: the clock, the
// estimate, each scope's limits, and its state where a limit reads it.
// Call with m.mu held.
func record(rec *event.BudgetCheck, matched []*scope, cost, tokens int64, now time.Time) {
	rec.ClockUnixNS, rec.CostNanoUSD, rec.Tokens = now.UnixNano(), cost, tokens
	rec.Scopes = rec.Scopes[:0]
	for _, s := range matched {
		r := event.BudgetScope{
			Scope:           s.name,
			CapTotalNanoUSD: s.caps[total], CapMonthNanoUSD: s.caps[month], CapDayNanoUSD: s.caps[day],
			RequestsPerMinute: s.rpm, TokensPerMinute: s.tpm,
		}
		if s.caps != [numPeriods]int64{} {
			if s.caps[total] > 0 {
				r.SpentTotalNanoUSD = s.spent.in(total, now)
			}
			if s.caps[month] > 0 {
				r.SpentMonthNanoUSD = s.spent.in(month, now)
			}
			if s.caps[day] > 0 {
				r.SpentDayNanoUSD = s.spent.in(day, now)
			}
			r.PendingNanoUSD, r.ReservedNanoUSD = s.pending, s.reserved
		}
		if s.rpm > 0 {
			r.RequestsTATUnixNS = s.rpmTAT
		}
		if s.tpm > 0 {
			r.TokensTATUnixNS = s.tpmTAT
		}
		rec.Scopes = append(rec.Scopes, r)
	}
}

// Recheck runs a recorded admission check again (see
// Manager.AdmitRecorded): the code Admit runs, on scopes rebuilt from
// rec, with its estimate and clock. It returns nil when the check admits
// the call, else why not, as Admit's *Denial (with its Message). It is a
// pure function of rec. err says why rec cannot be checked: it holds a
// value no gateway records.
func Recheck(rec *event.BudgetCheck) (*Denial, error) {
	if err := validRecord(rec); err != nil {
		return nil, err
	}
	now := time.Unix(0, rec.ClockUnixNS).UTC()
	scopes := make([]scope, len(rec.Scopes))
	matched := make([]*scope, len(rec.Scopes))
	for i := range rec.Scopes {
		r, s := &rec.Scopes[i], &scopes[i]
		s.name = r.Scope
		s.caps[total], s.caps[month], s.caps[day] = r.CapTotalNanoUSD, r.CapMonthNanoUSD, r.CapDayNanoUSD
		s.rpm, s.tpm = r.RequestsPerMinute, r.TokensPerMinute
		// The spend in the periods containing the clock, which is what
		// the check reads of it.
		s.spent = spend{
			total:    r.SpentTotalNanoUSD,
			dayStart: dayStart(now), dayNano: r.SpentDayNanoUSD,
			monthStart: monthStart(now), monthNano: r.SpentMonthNanoUSD,
		}
		s.pending, s.reserved = r.PendingNanoUSD, r.ReservedNanoUSD
		s.rpmTAT, s.tpmTAT = r.RequestsTATUnixNS, r.TokensTATUnixNS
		matched[i] = s
	}
	d := check(matched, rec.CostNanoUSD, rec.Tokens, now, rec.ClockUnixNS)
	if d != nil {
		d.format()
	}
	return d, nil
}

// validRecord reports a value in rec that Admit never records: beyond the
// bounds it holds estimates, caps and amounts to, so that no sum
// overflows.
func validRecord(rec *event.BudgetCheck) error {
	const fix = "the event was changed after it was written, or not written by a gateway"
	switch {
	case rec == nil:
		return errors.New("no budget check is recorded")
	case len(rec.Scopes) == 0:
		return errors.New("the budget check records no scope: a check is recorded only for a call that a rule applies to; " + fix)
	case rec.CostNanoUSD < 0 || rec.CostNanoUSD > maxNano:
		return fmt.Errorf("the budget check's cost_nano_usd is %d, outside 0 to %d; %s", rec.CostNanoUSD, maxNano, fix)
	case rec.Tokens < 0 || rec.Tokens > maxTokens:
		return fmt.Errorf("the budget check's tokens is %d, outside 0 to %d; %s", rec.Tokens, maxTokens, fix)
	}
	for i := range rec.Scopes {
		r := &rec.Scopes[i]
		for _, f := range [...]struct {
			name     string
			v, limit int64
		}{
			{"cap_total_nano_usd", r.CapTotalNanoUSD, maxNano},
			{"cap_month_nano_usd", r.CapMonthNanoUSD, maxNano},
			{"cap_day_nano_usd", r.CapDayNanoUSD, maxNano},
			{"requests_per_minute", r.RequestsPerMinute, math.MaxInt64},
			{"tokens_per_minute", r.TokensPerMinute, math.MaxInt64},
			{"spent_total_nano_usd", r.SpentTotalNanoUSD, maxSpent},
			{"spent_month_nano_usd", r.SpentMonthNanoUSD, maxSpent},
			{"spent_day_nano_usd", r.SpentDayNanoUSD, maxSpent},
			{"pending_nano_usd", r.PendingNanoUSD, maxSpent},
			{"reserved_nano_usd", r.ReservedNanoUSD, maxSpent},
		} {
			if f.v < 0 || f.v > f.limit {
				return fmt.Errorf("the budget check's scope %q has %s %d, outside 0 to %d; %s", r.Scope, f.name, f.v, f.limit, fix)
			}
		}
	}
	return nil
}

// maxSpent bounds a recorded amount of spend so that the check's sums of
// three of them and an estimate cannot overflow.
const maxSpent = (1<<63 - 1) / 4
