package budget

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
)

// Limit names, for Denial.Limit (and event.BudgetExceeded.Limit).
const (
	LimitSpend    = "spend"
	LimitRequests = "requests_per_minute"
	LimitTokens   = "tokens_per_minute"
)

// Denial is why Admit refused a call. Match it with errors.As.
type Denial struct {
	// Scope is the scope that refused, e.g. "team:finance".
	Scope string
	// Limit is LimitSpend, LimitRequests or LimitTokens.
	Limit string
	// Max is the cap in dollars or the limit per minute; Current is what
	// is in use: dollars spent plus held by calls in progress, or requests
	// or tokens in the last minute.
	Max, Current float64
	// RetryAfter is when the call would fit a rate limit; 0 for a spend
	// cap, and for a call too big to ever fit a tokens-per-minute limit.
	RetryAfter time.Duration
	// Period is the spend cap's period ("total", "day", "month") and
	// ResetsAt when that period ends (zero for total).
	Period   string
	ResetsAt time.Time
	// Message says what happened and what to do.
	Message string

	spent, held, cost int64 // for the message: nano-USD, or cost = requests/tokens
	never             bool  // the call can never fit the rate limit
}

func (d *Denial) Error() string { return d.Message }

// LLMError returns the error to answer the client with: kind ErrBudget for
// a spend cap, ErrRateLimit for a rate limit, both 429, with RetryAfter.
func (d *Denial) LLMError() *llm.Error {
	kind := llm.ErrRateLimit
	if d.Limit == LimitSpend {
		kind = llm.ErrBudget
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: d.Message, RetryAfter: d.RetryAfter}
}

// Event returns the budget.exceeded event data recording d for call
// callID made with key keyID.
func (d *Denial) Event(callID, keyID string) event.BudgetExceeded {
	return event.BudgetExceeded{CallID: callID, KeyID: keyID, Scope: d.Scope, Limit: d.Limit, Max: d.Max, Current: d.Current, Message: d.Message,
		Period: d.Period, RetryAfterNS: int64(d.RetryAfter)}
}

// format writes d.Message.
func (d *Denial) format() {
	who := describeScope(d.Scope)
	var b strings.Builder
	switch d.Limit {
	case LimitSpend:
		fmt.Fprintf(&b, "budget exceeded for %s: spent %s of %s %s", who, dollars(d.spent), dollars(NanoUSD(d.Max)), periodPhrase[d.Period])
		if d.held > 0 {
			fmt.Fprintf(&b, ", %s more is held by calls in progress", dollars(d.held))
		}
		if d.spent+d.held < NanoUSD(d.Max) {
			fmt.Fprintf(&b, ", and this call may cost up to %s", dollars(d.cost))
		}
		if !d.ResetsAt.IsZero() {
			fmt.Fprintf(&b, " (resets %s); raise the cap or wait", d.ResetsAt.Format(time.RFC3339))
		} else {
			b.WriteString("; raise the cap")
		}
	case LimitRequests:
		fmt.Fprintf(&b, "rate limit for %s: %d requests per minute; retry after %s", who, int64(d.Max), seconds(d.RetryAfter))
	case LimitTokens:
		if d.never {
			fmt.Fprintf(&b, "rate limit for %s: %d tokens per minute, and this call may use up to %d, so it can never fit; raise the limit or lower max_tokens", who, int64(d.Max), d.cost)
		} else {
			fmt.Fprintf(&b, "rate limit for %s: %d tokens per minute, and this call may use up to %d; retry after %s", who, int64(d.Max), d.cost, seconds(d.RetryAfter))
		}
	}
	d.Message = b.String()
}

var periodPhrase = map[string]string{PeriodTotal: "in total", PeriodDay: "today", PeriodMonth: "this month"}

// describeScope writes "team:finance" as `team "finance"`.
func describeScope(s string) string {
	kind, name, _ := strings.Cut(s, ":")
	return kind + " " + strconv.Quote(name)
}

// dollars formats nano-USD with cents, or with up to six decimals for
// amounts under a dollar that are not whole cents.
func dollars(nano int64) string {
	if nano >= 1e9 || nano%1e7 == 0 {
		return "$" + strconv.FormatFloat(USD(nano), 'f', 2, 64)
	}
	s := strconv.FormatFloat(USD(nano), 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	if i := strings.IndexByte(s, '.'); len(s)-i < 3 {
		s += strings.Repeat("0", 3-(len(s)-i))
	}
	return "$" + s
}

// seconds rounds d up to whole seconds, at least 1s.
func seconds(d time.Duration) time.Duration {
	return max(((d+time.Second-1)/time.Second)*time.Second, time.Second)
}
