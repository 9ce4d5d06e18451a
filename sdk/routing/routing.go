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

var (
	handler   Func
	configure func(config []byte) error
	manifest  Manifest
)

// Handle sets the plugin's routing function. Call it from init.
func Handle(f Func) { handler = f }

// Configure sets the function that takes the plugin's configuration (the
// gateway's routing_plugin.config, as JSON) once per instance, before any
// decision. An error refuses the configuration: the gateway does not load
// the plugin and shows the message. Without Configure the plugin takes no
// configuration. Call it from init.
func Configure(f func(config []byte) error) { configure = f }

// Manifest is what a plugin declares about itself; `switchyard plugin
// list` shows it.
type Manifest struct {
	Name, Version, Description string
	// Stateful declares that the plugin keeps state from one call to the
	// next on purpose (a round-robin counter, say). Its decisions then
	// depend on the calls before them and cannot be replayed alone; the
	// conformance suite skips its no-state check. Undeclared state is a
	// bug the suite reports.
	Stateful bool
}

// Declare sets the plugin's manifest. Call it from init.
func Declare(m Manifest) { manifest = m }

// configureWith runs the registered Configure function; the guest export
// calls it.
func configureWith(config []byte) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = panicMessage(p)
		}
	}()
	switch {
	case configure != nil:
		if err := configure(config); err != nil {
			return err.Error()
		}
	case len(config) > 0:
		return "this plugin takes no configuration"
	}
	return ""
}

// manifestJSON is the manifest as the host reads it.
func manifestJSON() string {
	b := []byte(`{"name":`)
	b = appendJSONString(b, manifest.Name)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, manifest.Version)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, manifest.Description)
	if manifest.Stateful {
		b = append(b, `,"stateful":true`...)
	}
	return string(append(b, '}'))
}

// appendJSONString quotes s for JSON (encoding/json would add half a
// megabyte to every plugin).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

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

// pcg and rng back Rand: one generator, reseeded for each call, so that
// asking for randomness allocates nothing.
var (
	pcg = rand.NewPCG(0, 0)
	rng = rand.New(pcg)
)

// Rand returns a random source seeded by the call's seed: the same facts
// give the same numbers. It is the same generator on every call, reseeded
// by each call to Rand; use it within the call.
func Rand(f *Facts) *rand.Rand {
	pcg.Seed(f.Seed, f.Seed^0x9e3779b97f4a7c15)
	return rng
}

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
