package replay

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/budget"
)

// Outcomes of a budget check, for BudgetCheck.Outcome.
const (
	Admitted = "admitted"
	Denied   = "denied"
)

// BudgetCheck is the replay of one recorded budget admission: a call's
// model.call.started (it was admitted) or budget.exceeded (it was not),
// with the check's inputs the event recorded.
type BudgetCheck struct {
	Position uint64 `json:"position"`
	EventID  string `json:"event_id"`
	// Type is the recorded event's: model.call.started or
	// budget.exceeded.
	Type   string `json:"type"`
	CallID string `json:"call_id"`
	Turn   string `json:"turn,omitempty"`
	// Outcome is the recorded one, admitted or denied; a denial's Scope,
	// Limit and Period say by what.
	Outcome string `json:"outcome"`
	Scope   string `json:"scope,omitempty"`
	Limit   string `json:"limit,omitempty"`
	Period  string `json:"period,omitempty"`
	// Scopes are the scopes with a rule that the check checked.
	Scopes []string `json:"scopes,omitempty"`
	// Replayed is false when the check could not be re-run; Why says why.
	Replayed   bool       `json:"replayed"`
	Why        string     `json:"why,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// recordedCheck is a budget check as a model.call.started or
// budget.exceeded event recorded it.
type recordedCheck struct {
	e      *event.Event
	callID string
	turn   string
	check  *event.BudgetCheck
	// denied is the refusal, nil for an admitted call.
	denied *event.BudgetExceeded
}

// newer says why an event of a schema newer than this build's is not
// re-run, or "" for one it knows.
func newer(e *event.Event) string {
	if t, ok := event.Lookup(e.Type); ok && e.Metadata.Schema > t.Schema {
		return fmt.Sprintf("the event's schema (%d) is newer than this build's (%d): replay it with a newer switchyard", e.Metadata.Schema, t.Schema)
	}
	return ""
}

// budgetCheck re-runs a recorded check and compares: the outcome, and for
// a denial the scope, limit, period, cap, amount in use and retry-after.
func budgetCheck(rc recordedCheck) BudgetCheck {
	out := BudgetCheck{Position: rc.e.Position, EventID: rc.e.ID.String(), Type: rc.e.Type, CallID: rc.callID, Turn: rc.turn, Outcome: Admitted}
	if d := rc.denied; d != nil {
		out.Outcome, out.Scope, out.Limit, out.Period = Denied, d.Scope, d.Limit, d.Period
	}
	if rc.check != nil {
		for _, s := range rc.check.Scopes {
			out.Scopes = append(out.Scopes, s.Scope)
		}
	}
	if why := newer(rc.e); why != "" {
		out.Why = why
		return out
	}
	if rc.check == nil {
		// Only a refusal gets here: an admitted call without a record is
		// one no rule applied to, or one from before checks were
		// recorded, and is not listed.
		out.Why = "the refusal records no budget check (written by a gateway that predates recording it)"
		if rc.denied.Limit == "internal" {
			out.Why = "the gateway refused the call before its budgets were checked: " + rc.denied.Message
		}
		return out
	}
	got, err := budget.Recheck(rc.check)
	if err != nil {
		out.Why = err.Error()
		return out
	}
	out.Replayed = true
	mismatch := func(field, recorded, replayed string) {
		out.Mismatches = append(out.Mismatches, Mismatch{Position: rc.e.Position, EventID: out.EventID, Type: rc.e.Type,
			CallID: rc.callID, Field: field, Recorded: recorded, Replayed: replayed})
	}
	d := rc.denied
	switch {
	case d == nil && got == nil:
	case d == nil:
		mismatch("outcome", Admitted, denial(got.Scope, got.Limit, got.Period))
	case got == nil:
		mismatch("outcome", denial(d.Scope, d.Limit, d.Period), Admitted)
	default:
		same := func(field, recorded, replayed string) {
			if recorded != replayed {
				mismatch(field, recorded, replayed)
			}
		}
		same("scope", d.Scope, got.Scope)
		same("limit", d.Limit, got.Limit)
		same("period", d.Period, got.Period)
		same("max", number(d.Max), number(got.Max))
		same("current", number(d.Current), number(got.Current))
		same("retry_after", time.Duration(d.RetryAfterNS).String(), got.RetryAfter.String())
	}
	return out
}

// Summary is the recorded outcome in words: "admitted", or "denied by
// key:k1 (spend, month)".
func (b *BudgetCheck) Summary() string {
	if b.Outcome == Denied {
		return denial(b.Scope, b.Limit, b.Period)
	}
	return b.Outcome
}

// denial names a refusal: "denied by key:k1 (spend, month)".
func denial(scope, limit, period string) string {
	what := []string{limit}
	if period != "" {
		what = append(what, period)
	}
	return Denied + " by " + scope + " (" + strings.Join(what, ", ") + ")"
}

func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
