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
//					return routing.Decision{Targets: []int{i}, Reason: "reviews go to Claude"}
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
// other languages.
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

// Route runs the registered function on encoded facts and appends the
// encoded decision to out. The wasip1 exports call it; tests may too. A
// panic in the function becomes an error decision, so the host sees the
// message instead of a trap.
func Route(in []byte, facts *Facts, out []byte) (res []byte) {
	if err := abi.DecodeFacts(in, facts, true); err != nil {
		return abi.AppendDecision(out, &Decision{Error: "decode facts: " + err.Error()})
	}
	if handler == nil {
		return abi.AppendDecision(out, &Decision{Error: "the plugin registered no function: call routing.Handle in init"})
	}
	defer func() {
		if p := recover(); p != nil {
			res = abi.AppendDecision(out[:0], &Decision{Error: panicMessage(p)})
		}
	}()
	d := handler(facts)
	return abi.AppendDecision(out, &d)
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
