// Package budget enforces spend caps and rate limits on model calls through
// the gateway, per scope: a virtual key ("key:<id>"), a team ("team:<name>"),
// a user ("user:<name>") or an agent ("agent:<name>").
//
// # Admission and settlement
//
// The gateway admits every call before it goes to a provider and settles it
// after:
//
//	t, err := m.Admit(callID, budget.Scopes(keyID, team, user, agent), est)
//	if err != nil { ... errors.As(err, &denial); answer denial.LLMError() }
//	defer t.Release() // no-op once settled
//	... call the provider ...
//	t.Settle(actualNanoUSD, actualTokens)
//
// A call carries the scopes it belongs to; every scope with a [Rule] must
// admit it, and scopes without one cost nothing (no lock, no allocation).
// Admission is atomic across the call's scopes: one mutex guards all live
// state, and Admit checks every limit before it reserves anything, so two
// parallel calls can never both spend the last dollar. A single mutex keeps
// Admit+Settle well under a microsecond (see the benchmarks); per-scope
// locks would buy nothing at that cost.
//
// A spend cap admits a call when spent + held + estimate <= cap, where held
// is the estimates of calls admitted and not yet settled. An admitted call
// holds its estimate; Settle replaces it with the actual cost. The actual
// may exceed the estimate: a running call is never cut, it is charged in
// full and the next call is refused. So a cap can be overshot by at most
// the overshoot of the calls in progress together, and never when
// estimates are upper bounds.
//
// # Spend is counted from events only
//
// Spend is added in one place: [Manager.Apply], which folds the
// model.call.completed and model.call.failed events into per-scope
// counters. Settle does not add spend; it moves the call's hold from the
// estimate to the actual cost, and the hold stays until the call's event
// (matched by call_id) is applied, when Apply drops the hold and adds the
// event's cost. Between Settle and Apply the cost counts against the caps
// exactly once, as a hold; after Apply, exactly once, as spend. If the
// event is applied before Settle, Apply ends the hold and Settle does
// nothing.
//
// The Manager is a projection.Projection (name "gateway.budget") meant to
// run under a projection.Runner. Its snapshot holds only the spend counters,
// which are a pure fold of the log up to the checkpoint's position, never
// live holds. So a restart (Restore the checkpoint, apply the later events)
// counts every call in the log once and only once, and a rebuild from
// position 0 gives the same counters as the live Manager. The price of this
// choice: the gateway must run the runner (without it nothing is ever
// spent), and spend recorded on other gateway nodes counts here only once
// their events are applied. Wait for the runner to reach the log's head
// (Runner.WaitFor) before admitting calls at start-up, or the first calls
// see less spend than there is.
//
// The alternative, adding spend at Settle and applying only events written
// before start-up, would double count whenever a checkpoint is taken after a
// live settle but before its event, and would never see other nodes' spend.
//
// A settled call whose event is not applied within Config.PendingTimeout
// (the event writer failed) stops being held, with a warning in the log:
// the log does not record it, so a rebuild would not count it either.
//
// # Rate limits
//
// Requests per minute and tokens per minute use GCRA (the generic cell rate
// algorithm), a token bucket of one minute's capacity that refills
// continuously: exact, O(1) memory per scope, no per-request log. A limit of
// 60 requests per minute admits a burst of 60, then one a second. Tokens
// are charged at admission by the estimate and corrected at settlement by
// actual - estimate. A denial's RetryAfter is exactly when the call fits
// every limit of its scopes; a call whose estimate alone exceeds a
// tokens-per-minute limit can never fit and is refused without one. Denied
// calls use nothing; admitted calls count even if they are released.
// Limiters are in memory only and start empty after a restart.
//
// # Periods
//
// A "day" or "month" cap covers the calendar period in UTC containing the
// clock's now; an event counts in the period containing its time. A
// "total" cap never resets. Holds of calls in progress count in every
// period.
//
// # Replay
//
// Admission is a pure function of the scopes of the call that have a rule
// (their limits, and their spend, holds and limiters at that instant), the
// estimate and the clock. [Manager.AdmitRecorded] admits as Admit does and
// also returns those inputs, read under the lock, as an
// event.BudgetCheck; the gateway records it on the call's
// model.call.started or budget.exceeded. [Recheck] runs the same check
// again on a record alone, so that `switchyard replay` can hold the
// recorded outcome to it. Recording costs one allocation for a call with a
// rule, and nothing for one without.
//
// # Several gateway nodes
//
// Each node runs its own Manager over the shared log: spend caps are global
// up to event lag and other nodes' calls in progress; rate limits are per
// node (a 60 rpm limit on three nodes admits up to 180 a minute).
package budget
