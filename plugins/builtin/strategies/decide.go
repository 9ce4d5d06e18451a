package main

import (
	"math"
	"slices"

	"github.com/switchyard/switchyard/sdk/routing"
)

// Scratch space, reused by every decision so that deciding allocates
// nothing in the guest (the host would have to collect it).
var (
	order  []int     // the answer being built
	taken  []bool    // by target index: already in order
	scores []float64 // by target index: the pick's sort key
	sick   []int     // healthyFirst's targets to move last
)

func (p *Policy) decide(f *routing.Facts) routing.Decision {
	rule, a := -1, &p.Otherwise
	for i := range p.Rules {
		if p.Rules[i].When.holds(f) {
			rule, a = i, &p.Rules[i].action
			break
		}
	}
	n := len(f.Targets)
	order = order[:0]
	taken = slices.Grow(taken[:0], n)[:n]
	clear(taken)
	for _, name := range a.prefer {
		for i := range f.Targets {
			t := &f.Targets[i]
			if !taken[i] && t.Provider == name.provider && (name.model == "" || t.Model == name.model) {
				order, taken[i] = append(order, i), true
			}
		}
	}
	switch a.pick {
	case pickDefault:
		for _, i := range f.Default {
			if !taken[i] {
				order, taken[i] = append(order, i), true
			}
		}
	case pickCheapest, pickFastest, pickWeighted:
		p.rank(f, a.pick)
	}
	if len(order) == 0 {
		// Nothing preferred exists and nothing is capable: the default
		// route is better than no route.
		order = append(order, f.Default...)
	}
	moved := 0
	if p.Failover && healthyFirst(f, order) {
		moved = 1
	}
	return routing.Choose(p.reasons[rule+1][moved], order...)
}

// capable reports whether t can take the call: its context window holds
// the estimated input, and it takes tools if the request has them. What
// is unknown (no context window, an unpriced model's tool support) does
// not rule a target out.
func capable(f *routing.Facts, t *routing.Target) bool {
	if t.ContextWindow > 0 && f.EstimatedTokens > t.ContextWindow {
		return false
	}
	return !f.Tools || t.Tools || t.InputUSDPerMTok < 0
}

// rank appends the capable targets not yet taken, best first.
func (p *Policy) rank(f *routing.Facts, by pick) {
	start := len(order)
	scores = slices.Grow(scores[:0], len(f.Targets))[:len(f.Targets)]
	var rng interface{ Float64() float64 }
	if by == pickWeighted {
		rng = routing.Rand(f)
	}
	for i := range f.Targets {
		t := &f.Targets[i]
		if taken[i] || !capable(f, t) {
			continue
		}
		switch by {
		case pickCheapest:
			// The blended price, 3:1 input to output, is what a typical
			// agent call's tokens cost; unpriced targets go last.
			if t.InputUSDPerMTok < 0 || t.OutputUSDPerMTok < 0 {
				scores[i] = math.Inf(1)
			} else {
				scores[i] = (3*t.InputUSDPerMTok + t.OutputUSDPerMTok) / 4
			}
		case pickFastest:
			// Smoothed latency, with errors counted as slow; an unmeasured
			// target (0) goes after the measured ones.
			if t.LatencyMS <= 0 {
				scores[i] = math.Inf(1)
			} else {
				scores[i] = t.LatencyMS * (1 + 4*t.ErrorRate)
			}
		case pickWeighted:
			// Weighted sampling without replacement (Efraimidis–Spirakis):
			// sort by -u^(1/w), seeded by the call, so a replay agrees.
			w := p.weight(t)
			if w <= 0 {
				scores[i] = math.Inf(1)
			} else {
				scores[i] = -math.Pow(rng.Float64(), 1/w)
			}
		}
		order, taken[i] = append(order, i), true
	}
	// An insertion sort: stable, and without a comparison function to
	// call (calls are what Go's wasm code is slow at); there are few
	// targets.
	ranked := order[start:]
	for i := 1; i < len(ranked); i++ {
		for j := i; j > 0 && scores[ranked[j]] < scores[ranked[j-1]]; j-- {
			ranked[j], ranked[j-1] = ranked[j-1], ranked[j]
		}
	}
}

func (p *Policy) weight(t *routing.Target) float64 {
	if w, ok := p.weights[name{t.Provider, t.Model}]; ok {
		return w
	}
	return p.weights[name{provider: t.Provider}]
}

// healthyFirst moves rate-limited and cooling targets behind the healthy
// ones, keeping the order within each group, and reports whether it
// moved any.
func healthyFirst(f *routing.Facts, order []int) bool {
	sick = sick[:0]
	n, moved := 0, false
	for _, i := range order {
		if t := &f.Targets[i]; t.RateLimited || t.CoolingDown {
			sick = append(sick, i)
		} else {
			order[n] = i
			n++
			moved = moved || len(sick) > 0
		}
	}
	copy(order[n:], sick)
	return moved
}
