package gateway_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/replay"
)

// A session's budget checks (calls admitted, one refused by a spend cap,
// one by a rate limit) re-run from the log alone to the same outcomes. A
// check the log says otherwise about is a nondeterminism error naming the
// event and both values; a refusal recorded without its check, or with a
// check no gateway writes, is listed as not replayable, with why.
func TestReplayBudgetChecks(t *testing.T) {
	ctx := context.Background()
	s := gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim")},
		// sim-small's estimate (4096 output tokens reserved) is some
		// $0.006, sim-large's $0.06.
		Budgets: []budget.Rule{
			{Scope: "team:eng", SpendUSD: 0.05, Period: "total"},
			{Scope: "user:ana", RequestsPerMinute: 3},
		},
	}})
	created := event.Proposed{Type: "session.created", Data: json.RawMessage(`{"id":"s1","key_id":"` + s.KeyID + `"}`)}
	if _, err := s.Store.Append(ctx, "session-s1", eventstore.NoStream, created); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		model, turn string
		limit       string // the refusal's, "" for admitted
	}{
		{"sim-small", "1", ""},
		{"sim-large", "1", budget.LimitSpend},
		{"sim-small", "2", ""},
		{"sim-small", "2", ""},
		{"sim-small", "2", budget.LimitRequests}, // the fourth in a minute
	}
	var ids []string
	for i, c := range calls {
		r := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody(c.model, "hi", false), "x-switchyard-tags", "turn="+c.turn)
		if want := map[bool]int{true: 200, false: 429}[c.limit == ""]; r.Status != want {
			t.Fatalf("call %d (%s): %d %s", i, c.model, r.Status, r.Body)
		}
		ids = append(ids, r.ID())
	}

	rep := replaySession(t, s, 0)
	if !rep.OK() || len(rep.BudgetChecks) != 5 || rep.Replayed != 8 || rep.NotReplayable != 0 { // and the static router's 3 decisions
		t.Fatalf("replay %+v", rep)
	}
	for i, b := range rep.BudgetChecks {
		c := calls[i]
		typ, outcome := "model.call.started", replay.Admitted
		if c.limit != "" {
			typ, outcome = "budget.exceeded", replay.Denied
		}
		if !b.Replayed || b.CallID != ids[i] || b.Turn != c.turn || b.Type != typ || b.Outcome != outcome || b.Limit != c.limit ||
			!slices.Equal(b.Scopes, []string{"team:eng", "user:ana"}) || len(b.Mismatches) != 0 {
			t.Fatalf("check %d: %+v", i, b)
		}
	}
	if b := rep.BudgetChecks[1]; b.Scope != "team:eng" || b.Period != budget.PeriodTotal || b.Summary() != "denied by team:eng (spend, total)" {
		t.Fatalf("the spend cap's refusal: %+v", b)
	}
	if b := rep.BudgetChecks[4]; b.Scope != "user:ana" || b.Period != "" {
		t.Fatalf("the rate limit's refusal: %+v", b)
	}
	if rep := replaySession(t, s, 2); !rep.OK() || len(rep.BudgetChecks) != 3 || rep.BudgetChecks[0].CallID != ids[2] || rep.Replayed != 5 { // and 2 static decisions
		t.Fatalf("replay of turn 2: %+v", rep)
	}

	// What the events record: the check's inputs, and a refusal's tags,
	// period and retry-after.
	recorded := func(typ, callID string, v any) {
		t.Helper()
		for e, err := range s.Store.ReadStream(ctx, "calls-"+s.KeyID, eventstore.ReadOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Type == typ && strings.Contains(string(e.Data), callID) {
				if err := json.Unmarshal(e.Data, v); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no %s of call %s", typ, callID)
	}
	var started event.ModelCallStarted
	recorded("model.call.started", ids[3], &started)
	if bc := started.BudgetCheck; bc == nil || len(bc.Scopes) != 2 || bc.Scopes[0].CapTotalNanoUSD != 5e7 || bc.Scopes[0].ReservedNanoUSD != 0 ||
		bc.Scopes[1].RequestsPerMinute != 3 || bc.Scopes[1].RequestsTATUnixNS <= bc.ClockUnixNS || bc.CostNanoUSD <= 0 || bc.Tokens <= 4096 {
		t.Fatalf("the check model.call.started records: %+v", started.BudgetCheck)
	}
	var rate, spend event.BudgetExceeded
	recorded("budget.exceeded", ids[4], &rate)
	recorded("budget.exceeded", ids[1], &spend)
	if rate.RetryAfterNS <= 0 || rate.RetryAfterNS > int64(20*time.Second) || rate.Tags["turn"] != "2" || rate.BudgetCheck == nil || spend.Period != "total" || spend.BudgetCheck == nil {
		t.Fatalf("the refusals record %+v and %+v", rate, spend)
	}

	// Forgeries: an admitted call said to have spent all but the cap; a
	// refusal by the spend cap said to be by the day's, with more in use;
	// a refusal by the rate limit whose limiter is a request emptier. And
	// refusals there is nothing to re-run: one from before checks were
	// recorded, one with a check no gateway writes.
	forgedStart := started
	forgedStart.BudgetCheck.Scopes[0].SpentTotalNanoUSD = 4.9e7
	forgedSpend := spend
	forgedSpend.Period, forgedSpend.Current = budget.PeriodDay, spend.Current+1
	forgedRate := rate
	forgedRate.BudgetCheck.Scopes[1].RequestsTATUnixNS -= int64(20 * time.Second)
	var old, impossible event.BudgetExceeded
	recorded("budget.exceeded", ids[4], &old)
	old.Period, old.RetryAfterNS, old.Tags, old.BudgetCheck = "", 0, nil, nil // as a gateway that predates them wrote it
	recorded("budget.exceeded", ids[4], &impossible)
	impossible.BudgetCheck.Scopes[0].SpentTotalNanoUSD = -1
	var evs []event.Proposed
	for _, f := range []struct {
		typ  string
		data any
	}{{"model.call.started", forgedStart}, {"budget.exceeded", forgedSpend}, {"budget.exceeded", forgedRate}, {"budget.exceeded", old}, {"budget.exceeded", impossible}} {
		p, err := event.New(f.typ, f.data, event.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, p)
	}
	res, err := s.Store.Append(ctx, "calls-"+s.KeyID, eventstore.Any, evs...)
	if err != nil {
		t.Fatal(err)
	}
	rep = replaySession(t, s, 0)
	if rep.OK() || len(rep.BudgetChecks) != 10 || rep.Replayed != 11 || rep.NotReplayable != 2 || rep.Mismatches != 4 { // and 3 static decisions
		t.Fatalf("forged checks went unnoticed: %+v", rep)
	}
	type diff struct{ field, recorded, replayed string }
	for i, want := range [][]diff{
		{{"outcome", "admitted", "denied by team:eng (spend, total)"}},
		{{"period", "day", "total"}, {"current", number(spend.Current + 1), number(spend.Current)}},
		{{"outcome", "denied by user:ana (requests_per_minute)", "admitted"}},
	} {
		b := rep.BudgetChecks[5+i]
		var got []diff
		for _, m := range b.Mismatches {
			got = append(got, diff{m.Field, m.Recorded, m.Replayed})
			if m.Position != res.Positions[i] || m.EventID != evs[i].ID.String() || m.Type != evs[i].Type || m.CallID != b.CallID {
				t.Fatalf("mismatch %+v names another event than %s at %d", m, evs[i].ID, res.Positions[i])
			}
		}
		if !slices.Equal(got, want) || !b.Replayed {
			t.Fatalf("forgery %d: mismatches %+v, want %+v", i, got, want)
		}
	}
	wantErr := `nondeterminism at position ` + itoa(res.Positions[0]) + ` (model.call.started ` + evs[0].ID.String() + `, call ` + ids[3] + `): outcome was "admitted", the replay gives "denied by team:eng (spend, total)"`
	if first, ok := rep.First(); !ok || first.Error() != wantErr {
		t.Fatalf("first difference:\n%v\nwant\n%s", first.Error(), wantErr)
	}
	for i, why := range []string{"the refusal records no budget check (written by a gateway that predates recording it)", `scope "team:eng" has spent_total_nano_usd -1`} {
		if b := rep.BudgetChecks[8+i]; b.Replayed || !strings.Contains(b.Why, why) {
			t.Fatalf("check %d: %+v, want it not replayed as %s", 8+i, b, why)
		}
	}
	// The refusal without tags has no turn: a turn's replay leaves it out.
	if rep := replaySession(t, s, 2); len(rep.BudgetChecks) != 6 {
		t.Fatalf("replay of turn 2 after the forgeries: %d checks, want 6: %+v", len(rep.BudgetChecks), rep.BudgetChecks)
	}
}

func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
