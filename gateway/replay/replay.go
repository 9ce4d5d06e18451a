// Package replay re-runs the deterministic parts of recorded decisions
// from the event log and holds them to what was recorded: a routing
// plugin's decision, with the module, configuration, targets, facts,
// clock and seed the gateway recorded, must choose the same targets for
// the same reason; a JS policy's verdict, with the source, input, clock
// and seed recorded, must be the same decision, reason and annotations,
// and fail or not as it did; a budget admission, with the limits, scope
// state, estimate and clock recorded, must admit or refuse the call as it
// did, a refusal by the same scope, limit and period with the same cap,
// amount in use and retry-after. A difference is a nondeterminism error
// naming the event and both values. A replay never calls a provider.
//
// What a replay cannot re-run it says so, per decision, verdict or check:
// the static router's decisions depend on the gateway's configuration at
// the time, which the log does not record; a plugin whose module is
// nowhere to be found by its digest cannot be loaded; a verdict recorded
// before inputs were has no input to give the policy, nor a budget
// refusal recorded before its check was.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/plugins/js"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// Modules finds a routing plugin's module by its digest ("sha256:..."),
// given the routing.plugin.loaded event that named it.
type Modules func(loaded *event.RoutingPluginLoaded) ([]byte, error)

// Mismatch is a replayed value that differs from the recorded one.
type Mismatch struct {
	Position uint64 `json:"position"`
	EventID  string `json:"event_id"`
	// Type is the recorded event's: routing.decided, policy.verdict,
	// model.call.started or budget.exceeded.
	Type   string `json:"type"`
	CallID string `json:"call_id"`
	// Policy names a verdict's policy.
	Policy string `json:"policy,omitempty"`
	// Field is what differs: a decision's targets, reason or
	// plugin_error; a verdict's error, decision, reason or annotations;
	// a budget check's outcome, or its denial's scope, limit, period,
	// max, current or retry_after.
	Field    string `json:"field"`
	Recorded string `json:"recorded"`
	Replayed string `json:"replayed"`
}

func (m Mismatch) Error() string {
	what := m.Type + " " + m.EventID
	if m.CallID != "" {
		what += ", call " + m.CallID
	}
	if m.Policy != "" {
		what += ", policy " + m.Policy
	}
	return fmt.Sprintf("nondeterminism at position %d (%s): %s was %q, the replay gives %q",
		m.Position, what, m.Field, m.Recorded, m.Replayed)
}

// Decision is the replay of one recorded routing decision.
type Decision struct {
	Position uint64 `json:"position"`
	CallID   string `json:"call_id"`
	Turn     string `json:"turn,omitempty"`
	Router   string `json:"router"`
	// Replayed is false when the decision could not be re-run; Why says
	// why.
	Replayed   bool       `json:"replayed"`
	Why        string     `json:"why,omitempty"`
	Targets    []string   `json:"targets"`
	Reason     string     `json:"reason,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// Report is a session's replay.
type Report struct {
	Session string `json:"session"`
	// Turn is the decision replayed, 0 for all of them.
	Turn      int        `json:"turn,omitempty"`
	Decisions []Decision `json:"decisions"`
	// Verdicts are the policy verdicts, in log order.
	Verdicts []Verdict `json:"verdicts"`
	// BudgetChecks are the budget admissions, in log order: those of
	// calls admitted by a check that a rule applied to, and refusals.
	BudgetChecks []BudgetCheck `json:"budget_checks"`
	// Replayed, NotReplayable and Mismatches count routing decisions,
	// policy verdicts and budget checks together.
	Replayed      int     `json:"replayed"`
	NotReplayable int     `json:"not_replayable"`
	Mismatches    int     `json:"mismatches"`
	ElapsedMS     float64 `json:"elapsed_ms"`
}

// OK reports whether every replayed decision, verdict and check matched.
func (r *Report) OK() bool { return r.Mismatches == 0 }

// First returns the first difference in log order, if there is one.
func (r *Report) First() (Mismatch, bool) {
	var first Mismatch
	found := false
	consider := func(ms []Mismatch) {
		if len(ms) > 0 && (!found || ms[0].Position < first.Position) {
			first, found = ms[0], true
		}
	}
	for _, d := range r.Decisions {
		consider(d.Mismatches)
	}
	for _, v := range r.Verdicts {
		consider(v.Mismatches)
	}
	for _, b := range r.BudgetChecks {
		consider(b.Mismatches)
	}
	return first, found
}

// Replayer re-runs decisions and verdicts. Plugins and policies it loads
// are kept for the next replay of the same module or source and
// configuration, until Close.
type Replayer struct {
	Store   eventstore.Reader
	Host    *wasm.Host
	Modules Modules
	// PolicyTimeout bounds one replayed policy call; default 1s. A
	// replay is not on a request's path: a policy gets far longer than
	// its live budget, so that a slow machine does not make a verdict
	// look different.
	PolicyTimeout time.Duration

	plugins  map[string]*wasm.Plugin // by digest and config digest
	policies map[policyKey]*js.Policy
}

// Close unloads the policies the replayer loaded. (The plugins are the
// Host's, closed with it.)
func (rp *Replayer) Close() {
	for _, p := range rp.policies {
		p.Close()
	}
	rp.policies = nil
}

// Session replays the routing decisions, policy verdicts and budget
// checks of session id's model calls, those of one turn when turn > 0,
// and the verdicts the session's own stream holds (its tool calls' and
// its start's and end's; those of a turn's tool calls when turn > 0).
func (rp *Replayer) Session(ctx context.Context, id string, turn int) (*Report, error) {
	began := time.Now()
	keyID, err := tape.SessionKey(ctx, rp.Store, id)
	if err != nil {
		return nil, err
	}
	loaded, err := rp.loadedPlugins(ctx)
	if err != nil {
		return nil, err
	}
	want := ""
	if turn > 0 {
		want = fmt.Sprint(turn)
	}
	rep := &Report{Session: id, Turn: turn, Decisions: []Decision{}, Verdicts: []Verdict{}, BudgetChecks: []BudgetCheck{}}
	addCheck := func(rc recordedCheck) {
		if want != "" && rc.turn != want {
			return
		}
		b := budgetCheck(rc)
		if b.Replayed {
			rep.Replayed++
			rep.Mismatches += len(b.Mismatches)
		} else {
			rep.NotReplayable++
		}
		rep.BudgetChecks = append(rep.BudgetChecks, b)
	}
	turns := map[string]string{}
	var verdicts []recordedVerdict
	for e, err := range rp.Store.ReadStream(ctx, "calls-"+keyID, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break // no model call yet
		}
		if err != nil {
			return nil, err
		}
		switch e.Type {
		case "model.call.started":
			var s event.ModelCallStarted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return nil, fmt.Errorf("model.call.started at position %d: %w", e.Position, err)
			}
			turns[s.CallID] = s.Tags["turn"]
			if s.BudgetCheck != nil {
				addCheck(recordedCheck{e: &e, callID: s.CallID, turn: s.Tags["turn"], check: s.BudgetCheck})
			}
		case "budget.exceeded":
			d := &event.BudgetExceeded{}
			if err := json.Unmarshal(e.Data, d); err != nil {
				return nil, fmt.Errorf("budget.exceeded at position %d: %w", e.Position, err)
			}
			addCheck(recordedCheck{e: &e, callID: d.CallID, turn: d.Tags["turn"], check: d.BudgetCheck, denied: d})
		case "routing.decided":
			var d event.RoutingDecided
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return nil, fmt.Errorf("routing.decided at position %d: %w", e.Position, err)
			}
			if want != "" && turns[d.CallID] != want {
				continue
			}
			dec := rp.decision(ctx, loaded, &e, &d)
			dec.Turn = turns[d.CallID]
			switch {
			case !dec.Replayed:
				rep.NotReplayable++
			default:
				rep.Replayed++
				rep.Mismatches += len(dec.Mismatches)
			}
			rep.Decisions = append(rep.Decisions, dec)
		case "policy.verdict":
			v, err := decodeVerdict(&e)
			if err != nil {
				return nil, err
			}
			verdicts = append(verdicts, v)
		}
	}
	more, err := sessionVerdicts(ctx, rp.Store, id)
	if err != nil {
		return nil, err
	}
	verdicts = append(verdicts, more...)
	if len(verdicts) > 0 {
		if err := rp.replayVerdicts(ctx, rep, verdicts, turns, want); err != nil {
			return nil, err
		}
	}
	rep.ElapsedMS = float64(time.Since(began).Microseconds()) / 1000
	return rep, nil
}

// Decide re-runs one recorded decision with the plugin the log names,
// and returns the targets it chooses (as "provider/model") and its
// reason. err is the plugin's own failure.
func (rp *Replayer) Decide(ctx context.Context, loaded *event.RoutingPluginLoaded, d *event.RoutingDecided) (targets []string, reason string, err error) {
	p, err := rp.plugin(ctx, loaded)
	if err != nil {
		return nil, "", err
	}
	return Run(ctx, p, loaded, d)
}

// Run re-runs decision d (whose plugin was loaded as `loaded`) with p,
// which may be another plugin: what-if uses it so.
func Run(ctx context.Context, p *wasm.Plugin, loaded *event.RoutingPluginLoaded, d *event.RoutingDecided) (targets []string, reason string, err error) {
	facts, err := wasm.ReplayFacts(loaded, d)
	if err != nil {
		return nil, "", &NotReplayable{Why: err.Error()}
	}
	var out abi.Decision
	if err := p.Decide(ctx, facts, &out); err != nil {
		return nil, "", err
	}
	for _, i := range out.Targets {
		if i < 0 || i >= len(facts.Targets) {
			return nil, "", fmt.Errorf("the plugin chose target %d of %d", i, len(facts.Targets))
		}
		targets = append(targets, facts.Targets[i].Provider+"/"+facts.Targets[i].Model)
	}
	return targets, out.Reason, nil
}

// NotReplayable is a decision the replay cannot re-run, and why.
type NotReplayable struct{ Why string }

func (e *NotReplayable) Error() string { return e.Why }

func (rp *Replayer) decision(ctx context.Context, loaded loadedRouting, e *event.Event, d *event.RoutingDecided) Decision {
	dec := Decision{Position: e.Position, CallID: d.CallID, Router: d.Router, Targets: event.TargetNames(d.Targets), Reason: d.Reason}
	mismatch := func(field, recorded, replayed string) {
		dec.Mismatches = append(dec.Mismatches, Mismatch{Position: e.Position, EventID: e.ID.String(), Type: e.Type, CallID: d.CallID, Field: field, Recorded: recorded, Replayed: replayed})
	}
	if d.PluginDigest == "" {
		if d.Router != route.StaticRouter || d.RoutesDigest == "" {
			dec.Why = "decided by the " + d.Router + " router, by a gateway that did not record its routes (before routing.routes.loaded)"
			return dec
		}
		l := loaded.routes[d.RoutesDigest]
		if l == nil {
			dec.Why = fmt.Sprintf("no routing.routes.loaded event has the routes %s", d.RoutesDigest)
			return dec
		}
		static, err := route.StaticFromLoaded(l)
		if err != nil {
			dec.Why = fmt.Sprintf("the routes %s do not load: %v", d.RoutesDigest, err)
			return dec
		}
		dec.Replayed = true
		got, err := static.Route(ctx, &route.Facts{CallID: d.CallID, RequestedModel: d.RequestModel, Seed: d.Seed})
		if err != nil {
			mismatch("targets", strings.Join(dec.Targets, ", "), err.Error())
			return dec
		}
		names := make([]string, len(got.Targets))
		for i, t := range got.Targets {
			names[i] = t.String()
		}
		compareRoute(d, dec.Targets, names, got.Reason, mismatch)
		return dec
	}
	if d.PluginFacts == nil {
		dec.Why = "the decision records no plugin facts (written by a gateway that predates them)"
		return dec
	}
	var l *event.RoutingPluginLoaded
	for _, c := range loaded.plugins[d.PluginDigest] {
		if c.ConfigDigest == d.PluginConfigDigest && c.TargetsDigest == d.PluginFacts.TargetsDigest {
			l = c
		}
	}
	if l == nil {
		dec.Why = fmt.Sprintf("no routing.plugin.loaded event names plugin %s with config %s over targets %s", d.PluginDigest, d.PluginConfigDigest, d.PluginFacts.TargetsDigest)
		return dec
	}
	targets, reason, err := rp.Decide(ctx, l, d)
	var nr *NotReplayable
	if errors.As(err, &nr) {
		dec.Why = nr.Why
		return dec
	}
	dec.Replayed = true
	switch {
	case err != nil && d.PluginError == "":
		mismatch("plugin_error", "", err.Error())
		return dec
	case err != nil:
		return dec // failed then, fails now: the default route was used both times
	case d.PluginError != "":
		mismatch("plugin_error", d.PluginError, "")
		return dec
	}
	compareRoute(d, dec.Targets, targets, reason, mismatch)
	return dec
}

// compareRoute compares recorded decision d (whose targets are
// recorded) with the targets and reason its router gives again.
func compareRoute(d *event.RoutingDecided, recorded, targets []string, reason string, mismatch func(field, recorded, replayed string)) {
	// The gateway leaves out targets it may not use (cooling down, not
	// allowed for the key) and records them as skipped.
	skipped := map[string]bool{}
	for _, s := range d.Skipped {
		t, _, _ := strings.Cut(s, ": ")
		skipped[t] = true
	}
	kept := slices.DeleteFunc(slices.Clone(targets), func(t string) bool { return skipped[t] })
	if !slices.Equal(kept, recorded) {
		mismatch("targets", strings.Join(recorded, ", "), strings.Join(kept, ", "))
	}
	if reason != d.Reason {
		mismatch("reason", d.Reason, reason)
	}
}

// plugin loads (once) the plugin routing.plugin.loaded names.
func (rp *Replayer) plugin(ctx context.Context, l *event.RoutingPluginLoaded) (*wasm.Plugin, error) {
	key := l.Digest + " " + l.ConfigDigest
	if p := rp.plugins[key]; p != nil {
		return p, nil
	}
	module, err := rp.Modules(l)
	if err != nil {
		return nil, &NotReplayable{Why: fmt.Sprintf("the module of plugin %s (%s) is not to be found: %v", l.Name, l.Digest, err)}
	}
	if got := wasm.Digest(module); got != l.Digest {
		return nil, &NotReplayable{Why: fmt.Sprintf("the module found for plugin %s is %s, not the %s that decided", l.Name, got, l.Digest)}
	}
	p, err := rp.Host.Load(ctx, l.Name, module, l.Config)
	if err != nil {
		return nil, &NotReplayable{Why: fmt.Sprintf("plugin %s (%s) does not load: %v", l.Name, l.Digest, err)}
	}
	if rp.plugins == nil {
		rp.plugins = map[string]*wasm.Plugin{}
	}
	rp.plugins[key] = p
	return p, nil
}

// loadedRouting is what went live to decide routes: the plugins of the
// routing.plugin.loaded events and the static routes of the
// routing.routes.loaded events, by digest.
type loadedRouting struct {
	plugins map[string][]*event.RoutingPluginLoaded
	routes  map[string]*event.RoutingRoutesLoaded
}

// loadedPlugins reads every routing.plugin.loaded and
// routing.routes.loaded event.
func (rp *Replayer) loadedPlugins(ctx context.Context) (loadedRouting, error) {
	out := map[string][]*event.RoutingPluginLoaded{}
	routes := map[string]*event.RoutingRoutesLoaded{}
	for e, err := range rp.Store.ReadStream(ctx, event.RoutingPluginsStream, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return loadedRouting{}, err
		}
		switch e.Type {
		case "routing.plugin.loaded":
			l := &event.RoutingPluginLoaded{}
			if err := json.Unmarshal(e.Data, l); err != nil {
				return loadedRouting{}, fmt.Errorf("routing.plugin.loaded at position %d: %w", e.Position, err)
			}
			out[l.Digest] = append(out[l.Digest], l)
		case "routing.routes.loaded":
			l := &event.RoutingRoutesLoaded{}
			if err := json.Unmarshal(e.Data, l); err != nil {
				return loadedRouting{}, fmt.Errorf("routing.routes.loaded at position %d: %w", e.Position, err)
			}
			routes[l.Digest] = l
		}
	}
	return loadedRouting{plugins: out, routes: routes}, nil
}

// ErrNoSession is returned for a session the log does not have.
var ErrNoSession = tape.ErrNoSession
