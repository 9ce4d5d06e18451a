package budget_test

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/budget"
)

// t0 is 2026-11-14 10:00 UTC, mid-day and mid-month.
var t0 = time.Date(2026, 11, 14, 10, 0, 0, 0, time.UTC)

// clock is a settable clock for the Manager.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *clock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }

func newManager(t testing.TB, c *clock, rules ...budget.Rule) *budget.Manager {
	t.Helper()
	m, err := budget.New(budget.Config{Rules: rules}, c.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// call describes a model call's event.
type call struct {
	typ                    string // "model.call.completed" (default) or "model.call.failed"
	id                     string
	key, team, user, agent string
	cost                   float64
	inputTokens, outTokens int
	at                     time.Time
}

// ev builds the call's event as the gateway writes it.
func (c call) ev(pos uint64) *event.Event {
	usage := event.CallUsage{CostUSD: c.cost, InputTokens: c.inputTokens, OutputTokens: c.outTokens}
	attr := event.CallAttribution{KeyID: c.key}
	var data any = event.ModelCallCompleted{CallID: c.id, CallAttribution: attr, CallUsage: usage, Provider: "sim", RequestModel: "m"}
	typ := "model.call.completed"
	if c.typ == "model.call.failed" {
		typ = c.typ
		data = event.ModelCallFailed{CallID: c.id, CallAttribution: attr, CallUsage: usage, ErrorKind: "server", Message: "boom"}
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	at := c.at
	if at.IsZero() {
		at = t0
	}
	return &event.Event{
		ID: event.NewID(), Type: typ, Stream: "calls-" + c.key, Position: pos, Time: at, Data: b,
		Metadata: event.Metadata{Team: c.team, User: c.user, Agent: c.agent, Schema: 1},
	}
}

func apply(t testing.TB, m *budget.Manager, evs ...*event.Event) {
	t.Helper()
	for _, e := range evs {
		if err := m.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
}

func admit(t testing.TB, m *budget.Manager, id string, scopes []string, cost float64, tokens int) *budget.Ticket {
	t.Helper()
	tk, err := m.Admit(id, scopes, budget.Estimate{CostNanoUSD: budget.NanoUSD(cost), Tokens: tokens})
	if err != nil {
		t.Fatalf("Admit(%s, %v, $%v, %d tokens) = %v, want admitted", id, scopes, cost, tokens, err)
	}
	return tk
}

func denial(t testing.TB, err error) *budget.Denial {
	t.Helper()
	var d *budget.Denial
	if !errors.As(err, &d) {
		t.Fatalf("error %v, want a *budget.Denial", err)
	}
	return d
}

func remaining(t testing.TB, m *budget.Manager, scope string) float64 {
	t.Helper()
	usd, ok := m.Remaining(scope)
	if !ok {
		t.Fatalf("Remaining(%s): no spend cap", scope)
	}
	return usd
}
