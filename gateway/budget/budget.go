package budget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// window is the rate limiters' window: limits are per minute.
const window = int64(time.Minute)

// maxTokens bounds a token count so that tokens × window fits an int64.
const maxTokens = 100_000_000

// maxNano bounds an estimate or actual cost, so that sums never overflow.
const maxNano = int64(MaxSpendUSD * 1e9)

// maxBacklog bounds how far ahead of now a rate limiter's arrival time may
// run (a call that used far more than its limit), so sums never overflow.
const maxBacklog = int64(366 * 24 * time.Hour)

// Estimate is the most a call may cost, priced by the caller before the
// call goes to a provider: input tokens plus the output it may generate.
type Estimate struct {
	// CostNanoUSD is the price at most, in nano-dollars (see NanoUSD).
	CostNanoUSD int64
	// Tokens is the input plus output tokens at most.
	Tokens int
}

// Manager admits and settles model calls against spend caps and rate
// limits. It is safe for concurrent use. Spend is counted only from
// model.call events (see Apply and the package doc): run it with a
// projection.Runner, or nothing is ever spent.
type Manager struct {
	clock func() time.Time
	log   *slog.Logger

	rules atomic.Pointer[ruleSet] // read without a lock by Admit

	mu      sync.Mutex
	scopes  map[string]*scope  // every scope with a rule or with spend
	nameBuf []byte             // Apply's scratch for scope names, under mu
	live    map[string]*Ticket // admitted calls whose event is not applied yet, by call id
	queue   []*Ticket          // settled calls in settle order, for PendingTimeout
	ttl     int64              // PendingTimeout in ns
}

// ruleSet is the rules in force, immutable once published: the scopes
// with a rule, pointing at their state in Manager.scopes, and the config.
type ruleSet struct {
	byScope map[string]*scope
	cfg     Config
}

// period indexes a scope's caps.
type period uint8

const (
	total period = iota
	day
	month
	numPeriods
)

var periodNames = [numPeriods]string{PeriodTotal, PeriodDay, PeriodMonth}

func parsePeriod(s string) period {
	switch s {
	case PeriodDay:
		return day
	case PeriodMonth:
		return month
	}
	return total
}

// scope is everything known about one scope. All fields are guarded by
// Manager.mu; name is immutable.
type scope struct {
	name string

	// The limits in force; 0 = none.
	caps     [numPeriods]int64 // nano-USD
	rpm, tpm int64

	// Spend folded from events: the projection's state.
	spent spend

	// Live state of this process, never snapshotted.
	reserved int64 // estimates of admitted calls not yet settled
	pending  int64 // actual cost of settled calls whose event is not applied yet
	rpmTAT   int64 // GCRA theoretical arrival times, unix ns
	tpmTAT   int64
}

// spend is a scope's spend in total and in its latest day and month.
type spend struct {
	total      int64
	dayStart   int64 // unix seconds of the day of dayNano
	dayNano    int64
	monthStart int64 // unix seconds of the month of monthNano
	monthNano  int64
}

func (s *spend) add(nano int64, t time.Time) {
	s.total += nano
	if ds := dayStart(t); ds > s.dayStart {
		s.dayStart, s.dayNano = ds, nano
	} else if ds == s.dayStart {
		s.dayNano += nano
	}
	if ms := monthStart(t); ms > s.monthStart {
		s.monthStart, s.monthNano = ms, nano
	} else if ms == s.monthStart {
		s.monthNano += nano
	}
}

// in returns the spend in the period p that contains now. A bucket from a
// later period (an event stamped by a clock ahead of ours) still counts.
func (s *spend) in(p period, now time.Time) int64 {
	switch p {
	case day:
		if s.dayStart >= dayStart(now) {
			return s.dayNano
		}
		return 0
	case month:
		if s.monthStart >= monthStart(now) {
			return s.monthNano
		}
		return 0
	}
	return s.total
}

func dayStart(t time.Time) int64 {
	u := t.Unix()
	d := u % 86400
	if d < 0 {
		d += 86400
	}
	return u - d
}

func monthStart(t time.Time) int64 {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Unix()
}

// resetOf returns when period p containing now ends; zero for total.
func resetOf(p period, now time.Time) time.Time {
	switch p {
	case day:
		return time.Unix(dayStart(now)+86400, 0).UTC()
	case month:
		y, m, _ := now.UTC().Date()
		return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

// New returns a Manager enforcing cfg. A nil clock means time.Now; a nil
// log discards.
func New(cfg Config, clock func() time.Time, log *slog.Logger) (*Manager, error) {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{clock: clock, log: log, scopes: map[string]*scope{}, live: map[string]*Ticket{}}
	m.rules.Store(&ruleSet{})
	if err := m.Update(cfg); err != nil {
		return nil, err
	}
	return m, nil
}

// Update replaces the rules. Spend counters, calls in progress and rate
// limiter state are kept; a rate limiter whose limit changes keeps the
// requests or tokens already counted in the last minute.
func (m *Manager) Update(cfg Config) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.Rules = slices.Clone(cfg.Rules)
	now := m.clock().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	type limits struct {
		caps     [numPeriods]int64
		rpm, tpm int64
	}
	next := map[string]*limits{}
	for _, r := range cfg.Rules {
		l := next[r.Scope]
		if l == nil {
			l = &limits{}
			next[r.Scope] = l
		}
		if r.SpendUSD > 0 {
			l.caps[parsePeriod(r.Period)] = NanoUSD(r.SpendUSD)
		}
		l.rpm = max(l.rpm, int64(r.RequestsPerMinute))
		l.tpm = max(l.tpm, int64(r.TokensPerMinute))
	}
	for name, s := range m.rules.Load().byScope {
		if next[name] == nil {
			s.caps, s.rpm, s.tpm = [numPeriods]int64{}, 0, 0
		}
	}
	rs := &ruleSet{byScope: make(map[string]*scope, len(next)), cfg: cfg}
	for name, l := range next {
		s := m.scope(name)
		s.caps = l.caps
		s.rpmTAT = rescale(s.rpmTAT, now, s.rpm, l.rpm)
		s.tpmTAT = rescale(s.tpmTAT, now, s.tpm, l.tpm)
		s.rpm, s.tpm = l.rpm, l.tpm
		rs.byScope[name] = s
	}
	m.ttl = int64(cfg.PendingTimeout)
	m.rules.Store(rs)
	return nil
}

// scope returns the state of name, creating it. Call with m.mu held.
func (m *Manager) scope(name string) *scope {
	s := m.scopes[name]
	if s == nil {
		s = &scope{name: name}
		m.scopes[name] = s
	}
	return s
}

// rescale converts a GCRA arrival time from limit old to limit new, so
// that the amount counted in the window stays the same.
func rescale(tat, now, old, new int64) int64 {
	if old == 0 || new == 0 || tat <= now {
		return min(tat, now)
	}
	return now + int64(min(float64(tat-now)*float64(old)/float64(new), float64(maxBacklog)))
}

// ReserveOutputTokens is how many output tokens to price into an Estimate
// for a request asking for at most maxTokens (0: not set).
func (m *Manager) ReserveOutputTokens(maxTokens int) int {
	if maxTokens > 0 {
		return maxTokens
	}
	return m.rules.Load().cfg.DefaultReserveOutputTokens
}

// Ticket is an admitted call's hold on its scopes' budgets. Settle or
// Release it when the call ends; both are idempotent (only the first call
// counts, and Release after Settle does nothing), so `defer t.Release()`
// right after Admit is the safe pattern. A Ticket is safe to use from any
// goroutine.
type Ticket struct {
	m      *Manager
	id     string
	scopes []*scope
	buf    [4]*scope
	cost   int64 // reserved nano-USD
	tokens int64 // reserved tokens

	// Guarded by m.mu.
	state    ticketState
	actual   int64 // settled cost, while pending
	deadline int64 // unix ns when a pending cost is dropped
}

type ticketState uint8

const (
	reserved ticketState = iota // admitted, not settled
	pending                     // settled, waiting for its event
	done                        // event applied, released, or timed out
)

// noTicket is what calls with no rule on any scope get: it does nothing.
var noTicket = &Ticket{}

// Admit admits call callID on scopes, or refuses it with a *Denial. Every
// scope with a rule must admit it: spent + held + est.CostNanoUSD must fit
// every spend cap, and the call must fit every rate limit. Admission across
// the scopes is atomic, and an admitted call holds est against its scopes
// until it is settled. callID is the call_id the call's model.call.* events
// will carry; it must be unique among calls in progress.
//
// Scopes without a rule cost nothing: when no scope has one, Admit takes no
// lock and allocates nothing.
func (m *Manager) Admit(callID string, scopes []string, est Estimate) (*Ticket, error) {
	t, _, err := m.admit(callID, scopes, est, false)
	return t, err
}

// AdmitRecorded is Admit, and also returns what the check read (see
// event.BudgetCheck), whether it admitted the call or not, so that
// Recheck can run the check again: the clock, the estimate, and each
// scope with a rule, with its limits and state as they were under the
// lock. rec is nil when no scope of the call has a rule (and when the call
// id is in progress already): then, as Admit, AdmitRecorded takes no lock
// and allocates nothing. Recording costs one allocation.
func (m *Manager) AdmitRecorded(callID string, scopes []string, est Estimate) (t *Ticket, rec *event.BudgetCheck, err error) {
	return m.admit(callID, scopes, est, true)
}

func (m *Manager) admit(callID string, scopes []string, est Estimate, recorded bool) (*Ticket, *event.BudgetCheck, error) {
	if callID == "" {
		return nil, nil, errors.New("admit call: call id is empty: pass the call_id its model.call events will carry")
	}
	rs := m.rules.Load()
	var buf [4]*scope
	matched := buf[:0]
	for _, name := range scopes {
		if s := rs.byScope[name]; s != nil && !slices.Contains(matched, s) {
			matched = append(matched, s)
		}
	}
	if len(matched) == 0 {
		return noTicket, nil, nil
	}
	cost := min(max(est.CostNanoUSD, 0), maxNano)
	tokens := int64(min(max(est.Tokens, 0), maxTokens))
	now := m.clock()
	ns := now.UnixNano()
	var rec *event.BudgetCheck
	if recorded {
		rec = newRecord(len(matched))
	}

	m.mu.Lock()
	m.expire(ns)
	if _, dup := m.live[callID]; dup {
		m.mu.Unlock()
		return nil, nil, fmt.Errorf("admit call %q: a call with this id is already in progress: admit each call once, with its own id", callID)
	}
	if rec != nil {
		record(rec, matched, cost, tokens, now)
	}
	if d := check(matched, cost, tokens, now, ns); d != nil {
		m.mu.Unlock()
		d.format()
		return nil, rec, d
	}
	t := &Ticket{m: m, id: callID, cost: cost, tokens: tokens}
	t.scopes = append(t.buf[:0], matched...)
	for _, s := range matched {
		s.reserved += cost
		if s.rpm > 0 {
			s.rpmTAT = max(s.rpmTAT, ns) + window/s.rpm
		}
		if s.tpm > 0 {
			s.tpmTAT = max(s.tpmTAT, ns) + tokens*window/s.tpm
		}
	}
	m.live[callID] = t
	m.mu.Unlock()
	return t, rec, nil
}

// check returns why the call may not go ahead, or nil. A spend cap wins
// over a rate limit (waiting would not help); among rate limits, the one
// that frees up last wins, so RetryAfter is when the call fits them all.
// Call with m.mu held; Recheck calls it on scopes of its own.
func check(matched []*scope, cost, tokens int64, now time.Time, ns int64) *Denial {
	var rate *Denial
	var rateWait int64
	limit := func(s *scope, kind string, tat, inc, lim, weight int64) {
		wait, used := gcra(tat, ns, inc, lim)
		if wait > rateWait {
			rateWait = wait
			rate = &Denial{Scope: s.name, Limit: kind, Max: float64(lim), Current: float64(used), cost: weight}
		}
	}
	for _, s := range matched {
		// Longest period first: when several caps refuse, name the one
		// that resets last.
		for _, p := range [...]period{total, month, day} {
			c := s.caps[p]
			if c == 0 {
				continue
			}
			spent := s.spent.in(p, now) + s.pending
			if spent+s.reserved+cost > c {
				return &Denial{
					Scope: s.name, Limit: LimitSpend, Period: periodNames[p],
					Max: USD(c), Current: USD(spent + s.reserved), ResetsAt: resetOf(p, now),
					spent: spent, held: s.reserved, cost: cost,
				}
			}
		}
		if s.rpm > 0 {
			limit(s, LimitRequests, s.rpmTAT, window/s.rpm, s.rpm, 1)
		}
		if s.tpm > 0 {
			limit(s, LimitTokens, s.tpmTAT, tokens*window/s.tpm, s.tpm, tokens)
		}
	}
	if rate != nil {
		if rateWait == never {
			rate.never = true
		} else {
			rate.RetryAfter = time.Duration(rateWait)
		}
	}
	return rate
}

// never is gcra's wait for a call that can never fit.
const never = math.MaxInt64

// gcra checks a call of weight inc (in ns of the window) against a limiter
// at arrival time tat (the generic cell rate algorithm: the limiter is a
// bucket of one window that drains in real time). wait is 0 if the call fits
// now, the ns until it fits, or never if inc alone is more than the window.
// used is how much of the limit is in use, rounded up.
func gcra(tat, now, inc, limit int64) (wait, used int64) {
	backlog := max(tat-now, 0)
	used = (backlog*limit + window - 1) / window
	switch {
	case inc > window:
		return never, used
	case backlog+inc > window:
		return backlog + inc - window, used
	}
	return 0, used
}

// expire drops the pending cost of settled calls whose event has not come
// within PendingTimeout. Call with m.mu held.
func (m *Manager) expire(now int64) {
	for len(m.queue) > 0 {
		t := m.queue[0]
		if t.state == pending {
			if t.deadline > now {
				return
			}
			for _, s := range t.scopes {
				s.pending -= t.actual
			}
			delete(m.live, t.id)
			t.state = done
			if m.log.Enabled(context.Background(), slog.LevelWarn) {
				m.log.Warn("budget: a settled call's event never arrived; its cost no longer counts against its caps",
					"call_id", t.id, "cost_usd", USD(t.actual), "waited", time.Duration(m.ttl))
			}
		}
		m.queue[0] = nil
		m.queue = m.queue[1:]
	}
}

// Settle ends the call with its actual cost and tokens: the estimate's
// hold is dropped, the actual is held until the call's model.call event is
// applied (which is what counts it as spent), and the tokens-per-minute
// limiters are corrected by actual - estimate. The actual may exceed the
// estimate: the call is charged in full and later calls are refused.
func (t *Ticket) Settle(actualNanoUSD int64, tokens int) {
	if t == nil || t.m == nil {
		return
	}
	m := t.m
	actualNanoUSD = min(max(actualNanoUSD, 0), maxNano)
	tokens = min(max(tokens, 0), maxTokens)
	now := m.clock().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.state != reserved {
		return
	}
	t.release(int64(tokens), now)
	if actualNanoUSD == 0 {
		t.state = done
		delete(m.live, t.id)
		return
	}
	for _, s := range t.scopes {
		s.pending += actualNanoUSD
	}
	t.state, t.actual, t.deadline = pending, actualNanoUSD, now+m.ttl
	m.queue = append(m.queue, t)
}

// Release ends a call that cost nothing (it never reached a provider): it
// is Settle(0, 0). After Settle it does nothing.
func (t *Ticket) Release() { t.Settle(0, 0) }

// release drops the reservation and corrects the token limiters to tokens.
// Call with m.mu held, in state reserved.
func (t *Ticket) release(tokens, now int64) {
	for _, s := range t.scopes {
		s.reserved -= t.cost
		if s.tpm > 0 {
			s.tpmTAT = min(s.tpmTAT+(tokens-t.tokens)*window/s.tpm, now+maxBacklog)
		}
	}
}

// Remaining returns how much scope may still spend before its tightest
// cap, net of calls in progress; ok is false when scope has no spend cap.
func (m *Manager) Remaining(scope string) (usd float64, ok bool) {
	s := m.rules.Load().byScope[scope]
	if s == nil {
		return 0, false
	}
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	left := int64(-1)
	for p := range numPeriods {
		if c := s.caps[p]; c > 0 {
			l := max(c-s.spent.in(p, now)-s.pending-s.reserved, 0)
			if left < 0 || l < left {
				left = l
			}
		}
	}
	if left < 0 {
		return 0, false
	}
	return USD(left), true
}

// Spent returns what scope has spent in period ("total", "day" or "month",
// the one containing the clock's now) by the events applied so far.
func (m *Manager) Spent(scope, period string) float64 {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.scopes[scope]
	if s == nil {
		return 0
	}
	return USD(s.spent.in(parsePeriod(period), now))
}

// InFlight returns the number of calls admitted and not yet matched by
// their event, and what they hold against their caps (estimates of
// unsettled calls plus actuals of settled ones) summed over calls.
func (m *Manager) InFlight() (calls int, heldUSD float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var held int64
	for _, t := range m.live {
		if t.state == pending {
			held += t.actual
		} else {
			held += t.cost
		}
	}
	return len(m.live), USD(held)
}
