package proxy

import (
	"sync"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/route"
)

// healthBook tracks every target's recent behaviour: smoothed latency and
// error rate for routers, and cool-downs for the fallback loop.
type healthBook struct {
	mu      sync.Mutex
	targets map[route.Target]*targetHealth
	cfg     *Config
}

type targetHealth struct {
	route.Health
	consecutive int
}

const ewmaAlpha = 0.2

func newHealthBook(cfg *Config) *healthBook {
	return &healthBook{targets: map[route.Target]*targetHealth{}, cfg: cfg}
}

func key(t route.Target) route.Target { t.Weight = 0; return t }

// Get returns t's health.
func (h *healthBook) Get(t route.Target) route.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	if th, ok := h.targets[key(t)]; ok {
		return th.Health
	}
	return route.Health{}
}

func (h *healthBook) entry(t route.Target) *targetHealth {
	th, ok := h.targets[key(t)]
	if !ok {
		th = &targetHealth{}
		h.targets[key(t)] = th
	}
	return th
}

// Success records a good call.
func (h *healthBook) Success(t route.Target, latency time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	th := h.entry(t)
	th.consecutive = 0
	th.CoolingUntil = time.Time{}
	th.RateLimited = false
	th.ErrorRate *= 1 - ewmaAlpha
	if th.EWMALatency == 0 {
		th.EWMALatency = latency
	} else {
		th.EWMALatency = time.Duration(float64(th.EWMALatency)*(1-ewmaAlpha) + float64(latency)*ewmaAlpha)
	}
}

// Failure records a failed attempt and starts a cool-down when the target
// asked for one (429 with Retry-After) or failed too often in a row. It
// returns the cool-down end, zero if none.
func (h *healthBook) Failure(t route.Target, e *llm.Error, now time.Time) time.Time {
	if !e.Retryable() {
		return time.Time{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	th := h.entry(t)
	th.consecutive++
	th.ErrorRate = th.ErrorRate*(1-ewmaAlpha) + ewmaAlpha
	var until time.Time
	if e.Kind == llm.ErrRateLimit {
		th.RateLimited = true
		if e.RetryAfter > 0 {
			until = now.Add(min(e.RetryAfter, 5*time.Minute))
		}
	}
	if th.consecutive >= h.cfg.FailuresToCool {
		until = later(until, now.Add(h.cfg.Cooldown.D()))
	}
	if until.After(th.CoolingUntil) {
		th.CoolingUntil = until
	}
	return th.CoolingUntil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
