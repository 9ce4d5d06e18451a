// Package costs is the cost read model: a projection of the gateway's
// model.call.completed and model.call.failed events into totals of calls,
// tokens and dollars, by agent, team, user, key, tag, model, provider,
// inbound API, session, decision and hour.
//
// # What a row is
//
// The model keeps three tables of totals, each keyed by an hour (UTC) and
// interned dimension values:
//
//   - the summary table keys by agent, team, model, provider and inbound
//     API, so the common questions ("agent X by model since 7d") add up
//     few rows;
//   - the coarse table also keys by user and tag set;
//   - the fine table also by key, session and decision, so it answers
//     "what did this session, or this decision, cost".
//
// A query reads the smallest table that has the dimensions it groups and
// filters by, and only the hours in its time range. The tables hold the
// same totals.
//
// A decision is one turn of a session ("<session>/<turn>", from the
// session and turn tags the session's key and harness put on each call).
// A call made outside a session has no decision: its own events are its
// trace.
//
// # Money
//
// Dollars are summed as integer nano-dollars, so totals do not depend on
// the order events were folded in and a rebuild from position 0 gives the
// same figures to the last digit. A call's cost is what its event says the
// gateway priced it at; the model never re-prices.
//
// Retries and fallbacks are counted (failed attempts the gateway followed
// by a retry of the same target, or by a move to the next), and the cost
// of calls that were answered only after one is kept apart
// (RetryCost, FallbackCost), as is the cost of calls that failed for good
// after using tokens (FailedCost): that is what retries, fallbacks and
// failures cost.
package costs
