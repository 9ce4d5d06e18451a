// Package routing is how a routing plugin is written in Go. A plugin is a
// function from the facts of a call to a decision: which of the gateway's
// targets to try, in order, and why. Build it as a WASM module:
//
//	package main
//
//	import "github.com/switchyard/switchyard/sdk/routing"
//
//	func init() {
//		routing.Handle(func(f *routing.Facts) routing.Decision {
//			if f.TaskType == "review" {
//				if i := routing.Find(f, "anthropic", ""); i >= 0 {
//					return routing.Choose("reviews go to Claude", i)
//				}
//			}
//			return routing.Decision{Targets: f.Default, Reason: "default route"}
//		})
//	}
//
//	func main() {}
//
// and build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// (`switchyard plugin build` runs that). The ABI (sy_abi_version, sy_input,
// sy_route) is implemented here; docs/routing-plugins.md specifies it for
// other languages. The facts are not decoded: the host lays them out in
// the plugin's memory as a Facts value, and the plugin reads them there.
//
// A decision must depend only on the facts: use Facts.Clock and Facts.Seed
// (or Rand) for time and randomness, so the gateway can replay it exactly.
// The facts, and the strings in them, are valid only during the call; copy
// what you keep. Nothing else survives between calls unless the plugin
// keeps it in package variables, which it must declare in its manifest.
package routing

import (
	"math/rand/v2"
	"time"

	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// Facts, Target, Tag and Decision are the ABI's types.
type (
	Facts    = abi.Facts
	Target   = abi.Target
	Tag      = abi.Tag
	Decision = abi.Decision
)

// Func decides a call's route.
type Func func(*Facts) Decision

var handler Func

// Handle sets the plugin's routing function. Call it from init.
func Handle(f Func) { handler = f }

// Route runs the registered function on f and stores its decision in d.
// The wasip1 exports call it; tests may too. A panic in the function
// becomes an error decision, so the host sees the message instead of a
// trap.
func Route(f *Facts, d *Decision) {
	if handler == nil {
		*d = Decision{Error: "the plugin registered no function: call routing.Handle in init"}
		return
	}
	defer func() {
		if p := recover(); p != nil {
			*d = Decision{Error: panicMessage(p)}
		}
	}()
	*d = handler(f)
}

func panicMessage(p any) string {
	switch v := p.(type) {
	case error:
		return "plugin panicked: " + v.Error()
	case string:
		return "plugin panicked: " + v
	}
	return "plugin panicked"
}

// chosen backs the decisions Choose returns.
var chosen []int

// Choose returns a decision for targets, in order, without allocating: the
// decision's slice is reused by the next call to Choose, which is safe
// because the host reads a decision before the next call. Returning
// Decision{Targets: []int{i}} allocates in the guest instead, and the host
// has to collect that garbage between calls.
func Choose(reason string, targets ...int) Decision {
	chosen = append(chosen[:0], targets...)
	return Decision{Targets: chosen, Reason: reason}
}

// Now returns the call's clock as a time.
func Now(f *Facts) time.Time { return time.Unix(0, f.Clock).UTC() }

// Rand returns a random source seeded by the call's seed: the same facts
// give the same numbers.
func Rand(f *Facts) *rand.Rand { return rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15)) }

// Find returns the index of the first target of provider (and model, if
// not empty), or -1.
func Find(f *Facts, provider, model string) int {
	for i := range f.Targets {
		t := &f.Targets[i]
		if t.Provider == provider && (model == "" || t.Model == model) {
			return i
		}
	}
	return -1
}

// Healthy reports whether a target is neither cooling down nor rate limited.
func Healthy(t *Target) bool { return !t.CoolingDown && !t.RateLimited }
