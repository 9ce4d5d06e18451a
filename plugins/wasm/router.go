package wasm

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// Deployment is a target the gateway can use and what a plugin may want
// to know of it that does not change from call to call.
type Deployment struct {
	route.Target
	Tools bool
	// Prices in US dollars per million tokens; negative when unpriced.
	InputUSDPerMTok, OutputUSDPerMTok float64
	ContextWindow                     int
}

// Router is a route.Router that asks a plugin. The gateway's static
// router gives the default route: the plugin sees it, and it is what the
// call gets when the plugin fails (trap, overrun, garbage, quarantine),
// with the failure named in the decision's reason.
type Router struct {
	plugin      *Plugin
	def         route.Router
	deployments []Deployment
	// targets are the deployments as routing.plugin.loaded records them,
	// and targetsDigest their digest, which each decision names.
	targets       []event.PluginTarget
	targetsDigest string
	scratch       sync.Pool // *scratch
	// OnFailure, if set, is told of every failed plugin call (metrics).
	OnFailure func(error)
}

type scratch struct {
	facts abi.Facts
	dec   abi.Decision
	// extra are default targets that are not deployments (a pattern
	// route passing the requested model on): they follow the deployments
	// in the facts.
	extra []route.Target
}

// NewRouter returns a router that asks p, over deployments, with def as
// the default route.
func NewRouter(p *Plugin, def route.Router, deployments []Deployment) *Router {
	r := &Router{plugin: p, def: def, deployments: slices.Clone(deployments)}
	for _, d := range deployments {
		r.targets = append(r.targets, event.PluginTarget{
			Provider: d.Provider, Model: d.Model, Tools: d.Tools, ContextWindow: d.ContextWindow,
			InputUSDPerMTok: d.InputUSDPerMTok, OutputUSDPerMTok: d.OutputUSDPerMTok,
		})
	}
	b, _ := json.Marshal(r.targets)
	r.targetsDigest = Digest(b)
	return r
}

// Targets returns the deployments a plugin is shown on every call, as
// routing.plugin.loaded records them, and their digest.
func (r *Router) Targets() ([]event.PluginTarget, string) { return r.targets, r.targetsDigest }

// Plugin returns the router's plugin.
func (r *Router) Plugin() *Plugin { return r.plugin }

// Name is what decisions name as their router.
func (r *Router) Name() string { return "plugin:" + r.plugin.Name }

// Route implements route.Router.
func (r *Router) Route(ctx context.Context, f *route.Facts) (route.Decision, error) {
	def, defErr := r.def.Route(ctx, f)
	s, _ := r.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	defer r.scratch.Put(s)
	r.fill(s, f, def.Targets)
	err := r.plugin.Decide(ctx, &s.facts, &s.dec)
	if err != nil {
		if r.OnFailure != nil {
			r.OnFailure(err)
		}
		if defErr != nil {
			return def, defErr
		}
		def.Reason = fmt.Sprintf("routing plugin %s failed: %v; the default route is used (%s)", r.plugin.Name, err, def.Reason)
		def.PluginDigest, def.PluginConfigDigest, def.PluginError = r.plugin.Digest, r.plugin.ConfigDigest, err.Error()
		def.PluginFacts = r.record(s, f)
		return def, nil
	}
	d := route.Decision{Reason: s.dec.Reason, Router: r.Name(), PluginDigest: r.plugin.Digest, PluginConfigDigest: r.plugin.ConfigDigest,
		PluginFacts: r.record(s, f)}
	if len(s.dec.Targets) == 0 {
		reason := s.dec.Reason
		if reason == "" {
			reason = "the plugin chose no target"
		}
		return d, fmt.Errorf("%w: routing plugin %s: %s", route.ErrNoRoute, r.plugin.Name, reason)
	}
	d.Targets = make([]route.Target, len(s.dec.Targets))
	for i, idx := range s.dec.Targets {
		if idx < len(r.deployments) {
			d.Targets[i] = r.deployments[idx].Target
		} else {
			d.Targets[i] = s.extra[idx-len(r.deployments)]
		}
	}
	return d, nil
}

// Clock is the clock a plugin sees for a call at time t: milliseconds,
// as routing.decided records it, so a replay can give the same.
func Clock(f *route.Facts) int64 { return f.Now.UnixMilli() * 1e6 }

func (r *Router) fill(s *scratch, f *route.Facts, def []route.Target) {
	a := &s.facts
	a.Clock = Clock(f)
	a.Seed = f.Seed
	a.Model, a.API, a.EstimatedTokens = f.RequestedModel, string(f.API), f.EstimatedTokens
	a.Tools, a.Stream = f.HasTools, f.Stream
	a.CallID, a.KeyID, a.Agent, a.Team, a.User = f.CallID, f.KeyID, f.Agent, f.Team, f.User
	a.TaskType = f.Tags["task"]
	a.Tags = appendTags(a.Tags[:0], f.Tags)
	a.BudgetLeftUSD = f.BudgetLeftUSD
	a.Targets = a.Targets[:0]
	for i := range r.deployments {
		t := staticTarget(r.targets[i])
		if f.Health != nil {
			h := f.Health(r.deployments[i].Target)
			t.RateLimited = h.RateLimited
			t.CoolingDown = h.CoolingUntil.After(f.Now)
			t.LatencyMS = float64(h.EWMALatency.Microseconds()) / 1000
			t.ErrorRate = h.ErrorRate
		}
		a.Targets = append(a.Targets, t)
	}
	a.Default = a.Default[:0]
	s.extra = s.extra[:0]
next:
	for _, t := range def {
		for i := range r.deployments {
			if r.deployments[i].Provider == t.Provider && r.deployments[i].Model == t.Model {
				a.Default = append(a.Default, i)
				continue next
			}
		}
		a.Default = append(a.Default, len(a.Targets))
		a.Targets = append(a.Targets, extraTarget(t.Provider, t.Model))
		s.extra = append(s.extra, t)
	}
}

// Live decisions (fill) and replays (ReplayFacts) build the facts with
// the same three pieces, so that the two lay out the same bytes.

// staticTarget is a deployment in the facts, before its health is added.
func staticTarget(t event.PluginTarget) abi.Target {
	return abi.Target{
		Provider: t.Provider, Model: t.Model, Tools: t.Tools, ContextWindow: t.ContextWindow,
		InputUSDPerMTok: t.InputUSDPerMTok, OutputUSDPerMTok: t.OutputUSDPerMTok,
	}
}

// extraTarget is a target of the default route that is no deployment (a
// pattern route passing the requested model on): nothing is known of it.
func extraTarget(provider, model string) abi.Target {
	return abi.Target{Provider: provider, Model: model, InputUSDPerMTok: -1, OutputUSDPerMTok: -1}
}

// appendTags appends the tags of m in key order: a map's order is random,
// and a replay must give the plugin the same facts.
func appendTags(dst []abi.Tag, m map[string]string) []abi.Tag {
	for k, v := range m {
		dst = append(dst, abi.Tag{Key: k, Value: v})
	}
	slices.SortFunc(dst, func(x, y abi.Tag) int { return strings.Compare(x.Key, y.Key) })
	return dst
}

// record copies what the plugin was asked with, beyond the call id,
// model, clock and seed routing.decided has anyway, and the deployments
// routing.plugin.loaded has: enough for ReplayFacts to rebuild the facts.
func (r *Router) record(s *scratch, f *route.Facts) *event.PluginFacts {
	a := &s.facts
	pf := &event.PluginFacts{
		TargetsDigest: r.targetsDigest, API: a.API, EstimatedTokens: a.EstimatedTokens, Tools: a.Tools, Stream: a.Stream,
		KeyID: a.KeyID, Agent: a.Agent, Team: a.Team, User: a.User, Tags: f.Tags, BudgetLeftUSD: a.BudgetLeftUSD,
		Default: slices.Clone(a.Default),
	}
	known := func(t *abi.Target) bool {
		return t.LatencyMS != 0 || t.ErrorRate != 0 || t.RateLimited || t.CoolingDown
	}
	n := 0
	for i := range r.deployments {
		if known(&a.Targets[i]) {
			n++
		}
	}
	if n > 0 {
		pf.Health = make([]event.TargetHealth, 0, n) // one allocation, not one per doubling
	}
	for i := range r.deployments {
		if t := &a.Targets[i]; known(t) {
			pf.Health = append(pf.Health, event.TargetHealth{Target: i, LatencyMS: t.LatencyMS, ErrorRate: t.ErrorRate, RateLimited: t.RateLimited, CoolingDown: t.CoolingDown})
		}
	}
	for _, t := range s.extra {
		pf.Extra = append(pf.Extra, event.RouteTarget{Provider: t.Provider, Model: t.Model})
	}
	return pf
}

// ReplayFacts rebuilds the facts a routing plugin decided on from what
// the gateway recorded: the routing.decided event, and the
// routing.plugin.loaded event whose targets it names by digest. Laid out
// for the plugin (abi.AppendFacts), they are the same bytes the plugin
// was given, so loading the module and configuration the two events name
// and deciding again re-runs the decision exactly.
func ReplayFacts(loaded *event.RoutingPluginLoaded, d *event.RoutingDecided) (*abi.Facts, error) {
	pf := d.PluginFacts
	switch {
	case pf == nil:
		return nil, errors.New("the decision records no plugin facts: it was not a plugin's, or the gateway that made it predates plugin_facts")
	case pf.TargetsDigest != loaded.TargetsDigest:
		return nil, fmt.Errorf("the decision was made over targets %s, and this routing.plugin.loaded event has %s: use the one with its digest", pf.TargetsDigest, cmp.Or(loaded.TargetsDigest, "none"))
	}
	f := &abi.Facts{
		Clock: d.ClockUnixMS * 1e6, Seed: d.Seed, Model: d.RequestModel, API: pf.API,
		EstimatedTokens: pf.EstimatedTokens, Tools: pf.Tools, Stream: pf.Stream,
		CallID: d.CallID, KeyID: pf.KeyID, Agent: pf.Agent, Team: pf.Team, User: pf.User,
		TaskType: pf.Tags["task"], BudgetLeftUSD: pf.BudgetLeftUSD, Default: pf.Default,
	}
	f.Tags = appendTags(nil, pf.Tags)
	for _, t := range loaded.Targets {
		f.Targets = append(f.Targets, staticTarget(t))
	}
	for _, h := range pf.Health {
		if h.Target < 0 || h.Target >= len(f.Targets) {
			return nil, fmt.Errorf("plugin_facts.health names target %d of %d", h.Target, len(f.Targets))
		}
		t := &f.Targets[h.Target]
		t.LatencyMS, t.ErrorRate, t.RateLimited, t.CoolingDown = h.LatencyMS, h.ErrorRate, h.RateLimited, h.CoolingDown
	}
	for _, t := range pf.Extra {
		f.Targets = append(f.Targets, extraTarget(t.Provider, t.Model))
	}
	for _, i := range f.Default {
		if i < 0 || i >= len(f.Targets) {
			return nil, fmt.Errorf("plugin_facts.default names target %d of %d", i, len(f.Targets))
		}
	}
	return f, nil
}
