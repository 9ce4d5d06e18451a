package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/pricing"
	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/plugins/wasm"
)

// maxSamples bounds the example calls a what-if lists.
const maxSamples = 20

// WhatIf runs routing plugin module (with config) over the calls of
// [since, until) and reports which targets would change, what the calls
// would have cost and which key budgets they would have broken. No model
// is called; see replay.WhatIf for how calls are decided and priced.
func (g *Gateway) WhatIf(ctx context.Context, name string, module, config []byte, since, until time.Time) (*replay.WhatIf, error) {
	g.mu.Lock()
	cfg := g.cfg
	g.mu.Unlock()
	cfg.RoutingPlugin, cfg.Policies = nil, nil
	b, err := g.build(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("what-if: today's configuration: %w", err)
	}
	defer b.close()
	host, err := wasm.NewHost(ctx, wasm.Config{CacheDir: g.opts.PluginCacheDir, Instances: 1, Timeout: replayTimeout}, g.log.With("component", "whatif"))
	if err != nil {
		return nil, fmt.Errorf("what-if: start a plugin host: %w", err)
	}
	defer host.Close(context.WithoutCancel(ctx))
	p, err := host.Load(ctx, cmp.Or(name, "whatif"), module, config)
	if err != nil {
		return nil, fmt.Errorf("what-if: the plugin does not load: %w", err)
	}
	router := wasm.NewRouter(p, b.static, b.deps)
	kinds := map[string]string{}
	for name, pv := range b.provs {
		kinds[name] = pv.Kind()
	}

	from := uint64(1)
	if !since.IsZero() {
		if from, err = eventstore.PositionAt(ctx, g.opts.Store, since); err != nil {
			return nil, err
		}
	}
	w := &whatIf{g: g, plugin: p, router: router, kinds: kinds, prices: b.prices,
		rep:    &replay.WhatIf{Plugin: p.Name, Digest: p.Digest, Since: since, Until: until, NotEvaluated: map[string]int{}, Moves: []replay.Move{}, Breaches: []replay.Breach{}},
		loaded: map[string]*event.RoutingPluginLoaded{}, calls: map[string]*pastCall{}, moves: map[[2]string]*replay.Move{}, spend: map[string]*keySpend{}}
	for e, err := range g.opts.Store.ReadAll(ctx, eventstore.ReadOptions{From: from}) {
		if err != nil {
			return nil, err
		}
		if !until.IsZero() && !e.Time.Before(until) {
			break
		}
		if err := w.fold(ctx, &e); err != nil {
			return nil, err
		}
	}
	w.finish()
	return w.rep, nil
}

type whatIf struct {
	g      *Gateway
	plugin *wasm.Plugin
	router *wasm.Router
	kinds  map[string]string
	prices *pricing.Table
	rep    *replay.WhatIf
	loaded map[string]*event.RoutingPluginLoaded // by targets digest
	calls  map[string]*pastCall                  // calls begun, by id
	moves  map[[2]string]*replay.Move
	spend  map[string]*keySpend // by key id
}

// pastCall is what the log said of a call before it ended.
type pastCall struct {
	started *event.ModelCallStarted
	decided *event.RoutingDecided
	at      time.Time
	to      string // the what-if's first target, "" if not evaluated
	reason  string // the plugin's reason for it
	why     string // why not evaluated
}

// keySpend is a key's recorded and what-if spend, by budget bucket.
type keySpend struct {
	recorded, whatif map[string]float64
}

func (w *whatIf) fold(ctx context.Context, e *event.Event) error {
	switch e.Type {
	case "routing.plugin.loaded":
		var l event.RoutingPluginLoaded
		if err := json.Unmarshal(e.Data, &l); err != nil {
			return fmt.Errorf("routing.plugin.loaded at position %d: %w", e.Position, err)
		}
		w.loaded[l.TargetsDigest] = &l
	case "model.call.started":
		var s event.ModelCallStarted
		if err := json.Unmarshal(e.Data, &s); err != nil {
			return fmt.Errorf("model.call.started at position %d: %w", e.Position, err)
		}
		w.calls[s.CallID] = &pastCall{started: &s, at: e.Time}
	case "routing.decided":
		var d event.RoutingDecided
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("routing.decided at position %d: %w", e.Position, err)
		}
		c := w.calls[d.CallID]
		if c == nil {
			return nil // begun before the period
		}
		c.decided = &d
		w.decide(ctx, c, e)
	case "model.call.completed", "model.call.failed":
		v, err := event.Decode(e)
		if err != nil {
			return err
		}
		var id, provider, model string
		var u event.CallUsage
		switch d := v.(type) {
		case *event.ModelCallCompleted:
			id, provider, model, u = d.CallID, d.Provider, cmp.Or(d.TargetModel, d.ResponseModel), d.CallUsage
		case *event.ModelCallFailed:
			id, provider, model, u = d.CallID, d.Provider, d.TargetModel, d.CallUsage
		}
		c := w.calls[id]
		delete(w.calls, id)
		if c == nil {
			return nil
		}
		w.rep.Calls++
		w.settle(c, e, provider+"/"+model, u)
	}
	return nil
}

// decide asks the plugin what it would have chosen for the call.
func (w *whatIf) decide(ctx context.Context, c *pastCall, e *event.Event) {
	d := c.decided
	if d.PluginFacts != nil {
		if l := w.loaded[d.PluginFacts.TargetsDigest]; l != nil {
			targets, reason, err := replay.Run(ctx, w.plugin, l, d)
			var nr *replay.NotReplayable
			switch {
			case errors.As(err, &nr):
				c.why = nr.Why
			case err != nil, len(targets) == 0:
				c.why = "plugin error"
			default:
				w.rep.Exact++
				c.to, c.reason = targets[0], reason
			}
			return
		}
	}
	s := c.started
	if s == nil {
		c.why = "no model.call.started recorded"
		return
	}
	f := &route.Facts{CallID: s.CallID, RequestedModel: s.RequestModel, API: llm.API(s.API), EstimatedTokens: s.EstimatedInputTokens,
		Stream: s.Stream, KeyID: s.KeyID, Agent: e.Metadata.Agent, Team: e.Metadata.Team, User: e.Metadata.User, Tags: s.Tags,
		BudgetLeftUSD: -1, Now: c.at, Seed: route.SeedFor(s.CallID),
		Health: func(route.Target) route.Health { return route.Health{} }}
	if d.ClockUnixMS != 0 {
		f.Now = time.UnixMilli(d.ClockUnixMS)
	}
	nd, err := w.router.Route(ctx, f)
	switch {
	case errors.Is(err, route.ErrNoRoute):
		c.why = "no route in today's configuration for model " + s.RequestModel
	case err != nil || nd.PluginError != "":
		c.why = "plugin error"
	default:
		w.rep.Reconstructed++
		c.to, c.reason = nd.Targets[0].String(), nd.Reason
	}
}

// settle prices a finished call both ways and counts it.
func (w *whatIf) settle(c *pastCall, e *event.Event, served string, u event.CallUsage) {
	rep := w.rep
	recorded, whatif := u.CostUSD, u.CostUSD
	if c.to == "" {
		if c.why == "plugin error" {
			rep.PluginErrors++
		} else {
			rep.NotEvaluated[cmp.Or(c.why, "no routing decision recorded")]++
		}
	} else {
		rep.Evaluated++
		if c.to != served && !strings.HasSuffix(served, "/") {
			rep.Changed++
			provider, model, _ := strings.Cut(c.to, "/")
			if cost, ok := w.price(provider, model, u); ok {
				whatif = cost
			} else {
				rep.Unpriced++
			}
			k := [2]string{served, c.to}
			m := w.moves[k]
			if m == nil {
				m = &replay.Move{From: served, To: c.to}
				w.moves[k] = m
			}
			m.Calls++
			m.RecordedCostUSD += recorded
			m.WhatIfCostUSD += whatif
			if len(rep.Samples) < maxSamples {
				rep.Samples = append(rep.Samples, replay.Changed{Position: e.Position, CallID: c.started.CallID, From: served, To: c.to, Reason: c.reason})
			}
		}
	}
	rep.RecordedCostUSD += recorded
	rep.WhatIfCostUSD += whatif
	if c.started != nil && c.started.KeyID != "" {
		w.addSpend(c.started.KeyID, e.Time, recorded, whatif)
	}
}

// price is what usage u would have cost on provider's model.
func (w *whatIf) price(provider, model string, u event.CallUsage) (float64, bool) {
	kind, ok := w.kinds[provider]
	if !ok {
		return 0, false
	}
	pr, ok := w.prices.Lookup(kind, model)
	if !ok {
		return 0, false
	}
	lu := llm.Usage{InputTokens: u.InputTokens - u.CacheReadTokens - u.CacheWriteTokens, OutputTokens: u.OutputTokens,
		CacheReadTokens: u.CacheReadTokens, CacheWriteTokens: u.CacheWriteTokens, ReasoningTokens: u.ReasoningTokens}
	return pricing.Cost(pr, lu).Total, true
}

func (w *whatIf) addSpend(keyID string, at time.Time, recorded, whatif float64) {
	s := w.spend[keyID]
	if s == nil {
		s = &keySpend{recorded: map[string]float64{}, whatif: map[string]float64{}}
		w.spend[keyID] = s
	}
	for _, b := range []string{"total", at.UTC().Format("2006-01-02"), at.UTC().Format("2006-01")} {
		s.recorded[b] += recorded
		s.whatif[b] += whatif
	}
}

// finish sorts the moves and finds the budgets broken.
func (w *whatIf) finish() {
	rep := w.rep
	for _, m := range w.moves {
		rep.Moves = append(rep.Moves, *m)
	}
	slices.SortFunc(rep.Moves, func(a, b replay.Move) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	rep.DeltaUSD = rep.WhatIfCostUSD - rep.RecordedCostUSD
	for _, k := range w.g.keys.List() {
		s := w.spend[k.ID]
		if s == nil || k.MaxBudgetUSD <= 0 {
			continue
		}
		period := cmp.Or(k.BudgetPeriod, "total")
		buckets := make([]string, 0, len(s.whatif))
		for b := range s.whatif {
			if period == "total" && b == "total" || period == "day" && len(b) == 10 || period == "month" && len(b) == 7 {
				buckets = append(buckets, b)
			}
		}
		slices.Sort(buckets)
		for _, b := range buckets {
			if s.whatif[b] > k.MaxBudgetUSD && s.recorded[b] <= k.MaxBudgetUSD {
				rep.Breaches = append(rep.Breaches, replay.Breach{KeyID: k.ID, Name: k.Name, Period: period, Bucket: b,
					MaxUSD: k.MaxBudgetUSD, RecordedCostUSD: s.recorded[b], WhatIfCostUSD: s.whatif[b]})
			}
		}
	}
}
