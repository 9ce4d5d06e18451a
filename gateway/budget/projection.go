package budget

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// ProjectionName is the Manager's projection (and checkpoint) name.
const ProjectionName = "gateway.budget"

var _ projection.Projection = (*Manager)(nil)

// Name implements projection.Projection.
func (m *Manager) Name() string { return ProjectionName }

// callEvent is the part of model.call.completed and model.call.failed
// that budgets read.
type callEvent struct {
	// CallID and KeyID are the members' contents, in the event's data
	// when they have no escapes (nearly always): a rebuild folds
	// millions of these, and two strings each were its budget fold's
	// only allocations.
	CallID, KeyID []byte
	CostUSD       float64
	InputTokens   int
	OutputTokens  int
}

// decode reads the members budgets need from a call event's data and
// skips the rest without decoding it. encoding/json decoded the whole
// event, some 7 µs a call (4% of the gateway's CPU under load); this takes
// a fraction of that. It reads what encoding/json would, except that
// member names must match exactly (encoding/json also takes other cases)
// and that it stops at the last member it needs: the call's latency,
// attempts and cost breakdown come after them, unread (a sixth of a
// rebuild's budget fold). So a member repeated after all five were read
// does not count (encoding/json takes the last), and what follows them
// is not checked: the gateway writes these events, once each member; the
// cost model, which reads them whole, refuses a broken one.
func (c *callEvent) decode(data []byte) error {
	var err error
	var seen uint8
	const all = 1<<5 - 1
	scanErr := jsonscan.Members(data, func(key []byte, start, end int) bool {
		v := data[start:end]
		switch string(key) {
		case "call_id":
			err, seen = jsonscan.Text(v, &c.CallID), seen|1
		case "key_id":
			err, seen = jsonscan.Text(v, &c.KeyID), seen|2
		case "cost_usd":
			err, seen = jsonscan.Float(v, &c.CostUSD), seen|4
		case "gen_ai.usage.input_tokens":
			err, seen = jsonscan.Int(v, &c.InputTokens), seen|8
		case "gen_ai.usage.output_tokens":
			err, seen = jsonscan.Int(v, &c.OutputTokens), seen|16
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", key, err)
		}
		return err == nil && seen != all
	})
	return cmp.Or(scanErr, err)
}

// Apply implements projection.Projection: it adds the cost of a
// model.call.completed or model.call.failed event to the spend of its key,
// team, user and agent (see Scopes) in the periods containing the event's
// time, and ends the hold of the call's Ticket if it is in progress here.
// Other events are ignored.
func (m *Manager) Apply(e *event.Event) error {
	if e.Type != "model.call.completed" && e.Type != "model.call.failed" {
		return nil
	}
	if t, ok := event.Lookup(e.Type); ok && e.Metadata.Schema > t.Schema {
		return fmt.Errorf("%s event has schema %d, newer than this build knows (%d): upgrade switchyard", e.Type, e.Metadata.Schema, t.Schema)
	}
	var c callEvent
	if err := c.decode(e.Data); err != nil {
		return fmt.Errorf("decode %s event: %w", e.Type, err)
	}
	if c.CostUSD < 0 || c.CostUSD > MaxSpendUSD || math.IsNaN(c.CostUSD) {
		return fmt.Errorf("%s event for call %q costs %v dollars: a cost is between 0 and %.0f; fix the event's writer", e.Type, c.CallID, c.CostUSD, MaxSpendUSD)
	}
	cost := NanoUSD(c.CostUSD)

	now := m.clock().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.live[string(c.CallID)]; t != nil && len(c.CallID) > 0 {
		delete(m.live, t.id)
		switch t.state {
		case reserved: // the event came before Settle
			t.release(int64(min(max(c.InputTokens+c.OutputTokens, 0), maxTokens)), now)
		case pending:
			for _, s := range t.scopes {
				s.pending -= t.actual
			}
		}
		t.state = done
	}
	if cost > 0 {
		// The scopes of Scopes, looked up without making their names:
		// only a new scope's is kept.
		add := func() {
			s := m.scopes[string(m.nameBuf)]
			if s == nil {
				s = m.scope(string(m.nameBuf))
			}
			s.spent.add(cost, e.Time)
		}
		if len(c.KeyID) > 0 {
			m.nameBuf = append(append(append(m.nameBuf[:0], ScopeKey...), ':'), c.KeyID...)
			add()
		}
		for _, p := range [...]struct{ kind, name string }{{ScopeTeam, e.Metadata.Team}, {ScopeUser, e.Metadata.User}, {ScopeAgent, e.Metadata.Agent}} {
			if p.name == "" {
				continue
			}
			m.nameBuf = append(append(append(m.nameBuf[:0], p.kind...), ':'), p.name...)
			add()
		}
	}
	return nil
}

// snapshot is the Manager's checkpoint state: the spend of each scope by
// period, as folded from events. Calls in progress and rate limiters are
// not part of it (see the package doc).
type snapshot struct {
	Version int                      `json:"version"`
	Scopes  map[string]scopeSnapshot `json:"scopes"`
}

type scopeSnapshot struct {
	TotalNanoUSD int64 `json:"total_nano_usd"`
	// Day is the UTC day of DayNanoUSD, "2006-01-02".
	Day        string `json:"day,omitempty"`
	DayNanoUSD int64  `json:"day_nano_usd,omitempty"`
	// Month is the UTC month of MonthNanoUSD, "2006-01".
	Month        string `json:"month,omitempty"`
	MonthNanoUSD int64  `json:"month_nano_usd,omitempty"`
}

const snapshotVersion = 1

// Snapshot implements projection.Projection.
func (m *Manager) Snapshot() ([]byte, error) {
	m.mu.Lock()
	snap := snapshot{Version: snapshotVersion, Scopes: make(map[string]scopeSnapshot, len(m.scopes))}
	for name, s := range m.scopes {
		sp := s.spent
		if sp == (spend{}) {
			continue
		}
		ss := scopeSnapshot{TotalNanoUSD: sp.total, DayNanoUSD: sp.dayNano, MonthNanoUSD: sp.monthNano}
		if sp.dayStart != 0 || sp.dayNano != 0 {
			ss.Day = time.Unix(sp.dayStart, 0).UTC().Format(time.DateOnly)
		}
		if sp.monthStart != 0 || sp.monthNano != 0 {
			ss.Month = time.Unix(sp.monthStart, 0).UTC().Format("2006-01")
		}
		snap.Scopes[name] = ss
	}
	m.mu.Unlock()
	return json.Marshal(snap)
}

// Restore implements projection.Projection. It replaces the spend
// counters and keeps calls in progress and rate limiters.
func (m *Manager) Restore(state []byte) error {
	next := map[string]spend{}
	if state != nil {
		var snap snapshot
		if err := json.Unmarshal(state, &snap); err != nil {
			return fmt.Errorf("restore budget snapshot: %w", err)
		}
		if snap.Version != snapshotVersion {
			return fmt.Errorf("restore budget snapshot: version %d, this build reads %d: rebuild the projection", snap.Version, snapshotVersion)
		}
		for name, ss := range snap.Scopes {
			sp := spend{total: ss.TotalNanoUSD, dayNano: ss.DayNanoUSD, monthNano: ss.MonthNanoUSD}
			if ss.Day != "" {
				d, err := time.Parse(time.DateOnly, ss.Day)
				if err != nil {
					return fmt.Errorf("restore budget snapshot: scope %q: day: %w", name, err)
				}
				sp.dayStart = d.Unix()
			}
			if ss.Month != "" {
				mo, err := time.Parse("2006-01", ss.Month)
				if err != nil {
					return fmt.Errorf("restore budget snapshot: scope %q: month: %w", name, err)
				}
				sp.monthStart = mo.Unix()
			}
			next[name] = sp
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.scopes {
		s.spent = spend{}
	}
	for name, sp := range next {
		m.scope(name).spent = sp
	}
	return nil
}
