package budget_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/budget"
)

// hammer runs goroutines that admit, settle and log calls against one team
// cap and per-key caps while one goroutine applies the log, as the
// projection runner does, and others read. It returns the team's spend once
// every event is applied.
type hammer struct {
	goroutines, calls int
	teamCap, keyCap   float64
	est               int64 // nano-USD, fixed
	overshoot         int64 // actual = est + up to this much
	releaseOneIn      int   // 0: never release
}

func (h hammer) run(t *testing.T) (teamSpent float64, keySpent []float64, denied int64) {
	t.Helper()
	keys := []string{"k0", "k1", "k2", "k3"}
	rules := []budget.Rule{{Scope: "team:f", SpendUSD: h.teamCap, Period: "total"}}
	for _, k := range keys {
		rules = append(rules, budget.Rule{Scope: "key:" + k, SpendUSD: h.keyCap, Period: "total"})
	}
	m := newManager(t, newClock(t0), rules...)

	log := make(chan *event.Event, 256)
	applied := make(chan struct{})
	var overCap atomic.Value
	go func() { // the projection
		defer close(applied)
		for e := range log {
			if err := m.Apply(e); err != nil {
				overCap.Store(err.Error())
				continue
			}
			if h.overshoot == 0 {
				if s := m.Spent("team:f", "total"); s > h.teamCap {
					overCap.Store(fmt.Sprintf("team spend $%v is over the $%v cap with exact estimates", s, h.teamCap))
				}
			}
		}
	}()
	stopReaders := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // routing reads budget left; checkpoints snapshot; config reloads
		defer readers.Done()
		for n := 0; ; n++ {
			select {
			case <-stopReaders:
				return
			default:
			}
			m.Remaining("team:f")
			if _, err := m.Snapshot(); err != nil {
				overCap.Store(err.Error())
			}
			if n%16 == 0 {
				if err := m.Update(budget.Config{Rules: rules}); err != nil {
					overCap.Store(err.Error())
				}
			}
			runtime.Gosched()
		}
	}()

	var wg sync.WaitGroup
	var deniedN atomic.Int64
	for g := range h.goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			key := keys[g%len(keys)]
			scopes := []string{"key:" + key, "team:f"}
			for i := range h.calls {
				id := fmt.Sprintf("g%d-%d", g, i)
				tk, err := m.Admit(id, scopes, budget.Estimate{CostNanoUSD: h.est})
				if err != nil {
					var d *budget.Denial
					if !errors.As(err, &d) {
						overCap.Store(err.Error())
						return
					}
					deniedN.Add(1)
					continue
				}
				if rng.IntN(2) == 0 {
					runtime.Gosched() // the call takes a while
				}
				// Never on the last call, so that a goroutine that frees a
				// hold tries again and the cap is used up.
				if h.releaseOneIn > 0 && i < h.calls-1 && rng.IntN(h.releaseOneIn) == 0 {
					tk.Release() // never reached a provider: no event
					continue
				}
				actual := h.est
				if h.overshoot > 0 {
					actual += rng.Int64N(h.overshoot + 1)
				}
				e := call{id: id, key: key, team: "f", cost: budget.USD(actual)}.ev(0)
				if rng.IntN(4) == 0 {
					log <- e // the event can be applied before Settle
					tk.Settle(actual, 0)
				} else {
					tk.Settle(actual, 0)
					log <- e
				}
			}
		}()
	}
	wg.Wait()
	close(log)
	<-applied
	close(stopReaders)
	readers.Wait()
	if msg := overCap.Load(); msg != nil {
		t.Fatal(msg)
	}
	if calls, held := m.InFlight(); calls != 0 || held != 0 {
		t.Fatalf("after every event: %d calls still hold $%v", calls, held)
	}
	for _, k := range keys {
		keySpent = append(keySpent, m.Spent("key:"+k, "total"))
	}
	return m.Spent("team:f", "total"), keySpent, deniedN.Load()
}

func TestHammerExactEstimatesNeverExceedCap(t *testing.T) {
	h := hammer{goroutines: 16, calls: 300, teamCap: 10, keyCap: 3, est: budget.NanoUSD(0.013)}
	team, keys, denied := h.run(t)
	// Never over; and the cap is used up to within one call (Admit refused
	// every goroutine's last calls, and holds only ever turned into spend).
	if team > h.teamCap || team <= h.teamCap-budget.USD(h.est) {
		t.Fatalf("team spent $%v, want within one call ($%v) under the $%v cap", team, budget.USD(h.est), h.teamCap)
	}
	for i, k := range keys {
		if k > h.keyCap {
			t.Errorf("key k%d spent $%v, over its $%v cap", i, k, h.keyCap)
		}
	}
	if denied == 0 {
		t.Fatal("no call was refused")
	}
}

func TestHammerOvershootIsBounded(t *testing.T) {
	tests := []struct {
		name string
		h    hammer
	}{
		// One goroutine: a cap is overshot by at most one call's overshoot.
		{"sequential", hammer{goroutines: 1, calls: 2000, teamCap: 10, keyCap: 100, est: budget.NanoUSD(0.01), overshoot: budget.NanoUSD(0.05), releaseOneIn: 10}},
		// In parallel: by at most the overshoots of the calls in flight
		// together, at most one per goroutine.
		{"parallel", hammer{goroutines: 16, calls: 300, teamCap: 10, keyCap: 100, est: budget.NanoUSD(0.01), overshoot: budget.NanoUSD(0.05), releaseOneIn: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			team, _, denied := tc.h.run(t)
			bound := tc.h.teamCap + float64(tc.h.goroutines)*budget.USD(tc.h.overshoot)
			if team > bound {
				t.Fatalf("team spent $%v, over the bound $%v (cap + %d overshoots)", team, bound, tc.h.goroutines)
			}
			if team < tc.h.teamCap-budget.USD(tc.h.est) || denied == 0 {
				t.Fatalf("team spent $%v with %d refusals: the cap was not reached", team, denied)
			}
		})
	}
}
