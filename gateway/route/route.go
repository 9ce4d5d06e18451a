// Package route decides where a model call goes: the Router interface, the
// facts a router sees, and the static router built from config (model
// aliases, ordered fallback lists, weighted targets).
//
// WASM routing plugins implement the same Router interface, so the gateway
// does not know which kind decided; the decision names it.
package route

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
)

// Target is one place a call can go: a configured provider and the model
// name that provider knows.
type Target struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// Weight is the share of primary picks among a route's weighted
	// targets; 0 means 1.
	Weight int `json:"weight,omitempty"`
}

func (t Target) String() string { return t.Provider + "/" + t.Model }

// Health is what the gateway knows of a target right now.
type Health struct {
	// CoolingUntil is set while a failing target rests.
	CoolingUntil time.Time
	// EWMALatency is the smoothed latency of recent calls; ErrorRate the
	// smoothed share of failed ones (0..1).
	EWMALatency time.Duration
	ErrorRate   float64
	// RateLimited reports a 429 within the cool-down window.
	RateLimited bool
}

// Facts is what a router may look at. Routers must not keep it.
type Facts struct {
	CallID          string
	RequestedModel  string
	API             llm.API
	EstimatedTokens int
	HasTools        bool
	Stream          bool
	KeyID           string
	Agent           string
	Team            string
	User            string
	Tags            map[string]string
	// BudgetLeftUSD is the smallest remaining spend of the caller's
	// scopes, negative if no cap applies.
	BudgetLeftUSD float64
	// Health reports a target's health; never nil when the gateway calls.
	Health func(Target) Health
	// Now and Seed are the clock and randomness a router must use, so
	// that a decision can be re-run exactly.
	Now  time.Time
	Seed uint64
}

// Decision is a router's answer: targets in the order to try them.
type Decision struct {
	Targets []Target
	Reason  string
	// Router names who decided ("gateway.routers.static"); PluginDigest
	// identifies a plugin's content and PluginConfigDigest its
	// configuration's (empty without one).
	Router             string
	PluginDigest       string
	PluginConfigDigest string
	// PluginError says why the plugin failed, when the default route was
	// used instead of its answer.
	PluginError string
	// PluginFacts are what the plugin was asked with, for the record, so
	// that its decision can be re-run.
	PluginFacts *event.PluginFacts
	// RoutesDigest names the static routes that decided
	// (routing.routes.loaded), so that the decision can be re-run.
	RoutesDigest string
}

// Router picks targets for a call.
//
// Route is called on the request path for every call and must be fast and
// safe for concurrent use. It returns ErrNoRoute (wrapped) when it has no
// target for the requested model; the gateway answers 404 then. ctx bounds
// plugin routers; a static router ignores it.
type Router interface {
	Route(ctx context.Context, f *Facts) (Decision, error)
}

// ErrNoRoute means no target serves the requested model.
var ErrNoRoute = fmt.Errorf("no route for the model")

// Rule is one entry of the static routing table.
type Rule struct {
	// Model is the name clients ask for: an alias ("fast"), a real model
	// name, or a pattern ending in "*" ("claude-*").
	Model string `json:"model"`
	// Targets in fallback order; with Weighted, the primary is drawn by
	// weight and the rest follow by descending weight.
	Targets  []Target `json:"targets"`
	Weighted bool     `json:"weighted,omitempty"`
	// PassModel sends the requested model name to targets whose Model is
	// empty (useful with patterns: "claude-*" → anthropic, same name).
	PassModel bool `json:"pass_model,omitempty"`
}

// StaticConfig configures the static router.
type StaticConfig struct {
	Rules []Rule `json:"routes,omitempty"`
	// ProviderModels maps provider name → models it serves; a requested
	// model that no rule matches goes to the providers listing it, in
	// the order given by ProviderOrder.
	ProviderModels map[string][]string `json:"-"`
	ProviderOrder  []string            `json:"-"`
}

// Static routes by a fixed table. Build it with NewStatic.
type Static struct {
	exact    map[string]*Rule
	patterns []*Rule // longest prefix first
	direct   map[string][]Target
	provs    map[string]bool
	loaded   event.RoutingRoutesLoaded
}

// NewStatic validates cfg and builds the router.
func NewStatic(cfg StaticConfig) (*Static, error) {
	s := &Static{exact: map[string]*Rule{}, direct: map[string][]Target{}, provs: map[string]bool{}}
	for _, p := range cfg.ProviderOrder {
		s.provs[p] = true
		for _, m := range cfg.ProviderModels[p] {
			s.direct[m] = append(s.direct[m], Target{Provider: p, Model: m})
		}
	}
	for i := range cfg.Rules {
		r := cfg.Rules[i]
		where := fmt.Sprintf("routes[%d] (model %q)", i, r.Model)
		if r.Model == "" {
			return nil, fmt.Errorf("routes[%d]: model is required: the name clients ask for", i)
		}
		if len(r.Targets) == 0 {
			return nil, fmt.Errorf("%s: targets must list at least one {provider, model}", where)
		}
		for j, t := range r.Targets {
			if !s.provs[t.Provider] {
				return nil, fmt.Errorf("%s: targets[%d]: unknown provider %q; configured: %s", where, j, t.Provider, strings.Join(cfg.ProviderOrder, ", "))
			}
			if t.Model == "" && !r.PassModel {
				return nil, fmt.Errorf("%s: targets[%d]: model is required (or set pass_model)", where, j)
			}
			if t.Weight < 0 {
				return nil, fmt.Errorf("%s: targets[%d]: weight %d is negative", where, j, t.Weight)
			}
		}
		if strings.HasSuffix(r.Model, "*") {
			s.patterns = append(s.patterns, &r)
			continue
		}
		if _, dup := s.exact[r.Model]; dup {
			return nil, fmt.Errorf("%s: the model has two routes; merge them", where)
		}
		s.exact[r.Model] = &r
	}
	sort.SliceStable(s.patterns, func(i, j int) bool { return len(s.patterns[i].Model) > len(s.patterns[j].Model) })
	s.loaded = routesLoaded(cfg)
	return s, nil
}

// routesLoaded is cfg as routing.routes.loaded records it, with its
// digest.
func routesLoaded(cfg StaticConfig) event.RoutingRoutesLoaded {
	l := event.RoutingRoutesLoaded{Providers: make([]event.ProviderModels, 0, len(cfg.ProviderOrder))}
	for _, r := range cfg.Rules {
		rr := event.RouteRule{Model: r.Model, Weighted: r.Weighted, PassModel: r.PassModel, Targets: make([]event.RouteRuleTarget, len(r.Targets))}
		for i, t := range r.Targets {
			rr.Targets[i] = event.RouteRuleTarget{Provider: t.Provider, Model: t.Model, Weight: t.Weight}
		}
		l.Routes = append(l.Routes, rr)
	}
	for _, p := range cfg.ProviderOrder {
		l.Providers = append(l.Providers, event.ProviderModels{Provider: p, Models: cfg.ProviderModels[p]})
	}
	b, _ := json.Marshal(l) // plain data: it does not fail
	sum := sha256.Sum256(b)
	l.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return l
}

// Loaded returns the routes as routing.routes.loaded records them; the
// decisions of s name them by its Digest.
func (s *Static) Loaded() event.RoutingRoutesLoaded { return s.loaded }

// StaticFromLoaded builds the static router routing.routes.loaded
// recorded, to re-run its decisions. It refuses an event whose digest
// does not match its routes.
func StaticFromLoaded(l *event.RoutingRoutesLoaded) (*Static, error) {
	cfg := StaticConfig{ProviderModels: map[string][]string{}}
	for _, p := range l.Providers {
		cfg.ProviderOrder = append(cfg.ProviderOrder, p.Provider)
		cfg.ProviderModels[p.Provider] = p.Models
	}
	for _, r := range l.Routes {
		rule := Rule{Model: r.Model, Weighted: r.Weighted, PassModel: r.PassModel}
		for _, t := range r.Targets {
			rule.Targets = append(rule.Targets, Target{Provider: t.Provider, Model: t.Model, Weight: t.Weight})
		}
		cfg.Rules = append(cfg.Rules, rule)
	}
	s, err := NewStatic(cfg)
	if err != nil {
		return nil, err
	}
	if s.loaded.Digest != l.Digest {
		return nil, fmt.Errorf("the routes recorded as %s have the digest %s: the event was changed after it was written", l.Digest, s.loaded.Digest)
	}
	return s, nil
}

// Route implements Router.
func (s *Static) Route(_ context.Context, f *Facts) (Decision, error) {
	model := f.RequestedModel
	if r, ok := s.exact[model]; ok {
		return s.fromRule(r, f, "route "+r.Model), nil
	}
	for _, r := range s.patterns {
		if strings.HasPrefix(model, strings.TrimSuffix(r.Model, "*")) {
			return s.fromRule(r, f, "route "+r.Model), nil
		}
	}
	if ts, ok := s.direct[model]; ok {
		return Decision{Targets: ts, Router: StaticRouter, Reason: "provider model list", RoutesDigest: s.loaded.Digest}, nil
	}
	// "provider/model" addresses a provider directly.
	if p, m, ok := strings.Cut(model, "/"); ok && s.provs[p] && m != "" {
		return Decision{Targets: []Target{{Provider: p, Model: m}}, Router: StaticRouter, Reason: "provider/model", RoutesDigest: s.loaded.Digest}, nil
	}
	return Decision{}, fmt.Errorf("%w %q", ErrNoRoute, model)
}

func (s *Static) fromRule(r *Rule, f *Facts, reason string) Decision {
	ts := make([]Target, len(r.Targets))
	copy(ts, r.Targets)
	if r.PassModel {
		for i := range ts {
			if ts[i].Model == "" {
				ts[i].Model = f.RequestedModel
			}
		}
	}
	if r.Weighted && len(ts) > 1 {
		ts = weighted(ts, f.Seed)
		reason += fmt.Sprintf(" (weighted pick %s)", ts[0])
	}
	return Decision{Targets: ts, Router: StaticRouter, Reason: reason, RoutesDigest: s.loaded.Digest}
}

// StaticRouter is the name a static decision's Router has.
const StaticRouter = "gateway.routers.static"

// weighted draws the primary by weight with the call's seed and orders the
// rest by descending weight (stable), so the fallbacks are predictable.
func weighted(ts []Target, seed uint64) []Target {
	total := 0
	for _, t := range ts {
		total += max(t.Weight, 1)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5157))
	pick := rng.IntN(total)
	primary := 0
	for i, t := range ts {
		pick -= max(t.Weight, 1)
		if pick < 0 {
			primary = i
			break
		}
	}
	out := make([]Target, 0, len(ts))
	out = append(out, ts[primary])
	rest := append(append([]Target{}, ts[:primary]...), ts[primary+1:]...)
	sort.SliceStable(rest, func(i, j int) bool { return max(rest[i].Weight, 1) > max(rest[j].Weight, 1) })
	return append(out, rest...)
}

// SeedFor derives a call's seed from its id, so a recorded call can be
// re-routed identically.
func SeedFor(callID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(callID))
	return h.Sum64()
}
