package proxy

import (
	"sync"
	"time"
)

// retryBudget limits retries per key, in the manner of gRPC's retry
// throttling and Finagle's retry budgets: each call deposits RetryRatio of
// a token, each retry withdraws one, and a floor of RetryFloor tokens per
// second refills regardless, so a quiet key can still retry. When a
// provider is down every call fails and the budget empties: retries stop
// adding load while first attempts (and fallbacks to other targets, which
// are not retries of the same request to the same place) go on.
type retryBudget struct {
	mu    sync.Mutex
	keys  map[string]*bucket
	ratio float64
	floor float64
	max   float64
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRetryBudget(ratio, floorPerSec float64) *retryBudget {
	return &retryBudget{keys: map[string]*bucket{}, ratio: ratio, floor: floorPerSec, max: max(10, floorPerSec*10)}
}

func (r *retryBudget) get(key string, now time.Time) *bucket {
	b, ok := r.keys[key]
	if !ok {
		b = &bucket{tokens: r.max / 2, last: now}
		r.keys[key] = b
	}
	b.tokens = min(r.max, b.tokens+now.Sub(b.last).Seconds()*r.floor)
	b.last = now
	return b
}

// Deposit credits one call.
func (r *retryBudget) Deposit(key string, now time.Time) {
	r.mu.Lock()
	b := r.get(key, now)
	b.tokens = min(r.max, b.tokens+r.ratio)
	r.mu.Unlock()
}

// Withdraw takes one retry, reporting whether there was one to take.
func (r *retryBudget) Withdraw(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.get(key, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
