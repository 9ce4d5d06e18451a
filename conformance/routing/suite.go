// Package routing is the conformance suite every routing plugin must
// pass: well-formed answers for edge inputs, determinism, the time budget,
// and no state carried from one call to the next unless the plugin says
// it keeps some. Run it from a plugin's own test:
//
//	func TestConformance(t *testing.T) {
//		module, _ := os.ReadFile("plugin.wasm")
//		routing.Run(t, module, routing.Options{})
//	}
//
// Check runs the same checks outside go test and returns their results;
// `switchyard plugin test` uses it.
package routing

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// Options describe the plugin under test.
type Options struct {
	// Model is the requested model in the suite's facts; default
	// "claude-sonnet-4-5".
	Model string
	// Config is the configuration to load the plugin with (its
	// sy_configure input); nil for none.
	Config []byte
	// Timeout is the time budget each decision must keep; default 10ms,
	// the gateway's.
	Timeout time.Duration
	// CacheDir keeps compiled modules across runs; default: a temporary
	// directory for the run.
	CacheDir string
}

func (o *Options) setDefaults() {
	if o.Model == "" {
		o.Model = "claude-sonnet-4-5"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Millisecond
	}
}

// tester is what a check needs of a test. *testing.T has all of it, so
// Run hands the checks its subtests; Check, outside go test, hands them a
// checker.
type tester interface {
	Helper()
	Context() context.Context
	Errorf(format string, args ...any)
	// Fatalf and Skip end the check (runtime.Goexit).
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Cleanup(func())
	TempDir() string
}

var _ tester = (*testing.T)(nil)

// checks are the suite, in the order it runs them; stateful is what the
// plugin's manifest says.
var checks = []struct {
	name string
	run  func(t tester, module []byte, o Options, stateful bool)
}{
	{"WellFormed", func(t tester, module []byte, o Options, _ bool) { wellFormed(t, module, o) }},
	{"Deterministic", deterministic},
	{"TimeBudget", func(t tester, module []byte, o Options, _ bool) { timeBudget(t, module, o) }},
	{"NoStateBetweenCalls", func(t tester, module []byte, o Options, stateful bool) {
		// A plugin that keeps state between calls on purpose (a counter
		// for round robin, say) declares it in its manifest.
		if stateful {
			t.Skip("the plugin's manifest declares that it keeps state between calls")
		}
		noState(t, module, o)
	}},
}

// Run runs the suite against module, each check as a subtest.
func Run(t *testing.T, module []byte, o Options) {
	o.setDefaults()
	if o.CacheDir == "" {
		o.CacheDir = t.TempDir() // compile once for the whole run
	}
	stateful := load(t, module, o, 1).Manifest.Stateful
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.run(t, module, o, stateful) })
	}
}

// load loads module with the time budget only TimeBudget holds it to:
// the other checks are about answers, and must not fail on a slow machine.
func load(t tester, module []byte, o Options, instances int) *wasm.Plugin {
	t.Helper()
	return loadWithin(t, module, o, instances, 10*time.Second)
}

func loadWithin(t tester, module []byte, o Options, instances int, budget time.Duration) *wasm.Plugin {
	t.Helper()
	h, err := wasm.NewHost(t.Context(), wasm.Config{CacheDir: o.CacheDir, Instances: instances, Timeout: budget, QuarantineAfter: 1 << 30}, nil)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	p, err := h.Load(t.Context(), "plugin", module, o.Config)
	if err != nil {
		t.Fatalf("the module does not load: %v", err)
	}
	return p
}

// Facts is the suite's typical call: three targets, one rate limited.
func Facts(model string) *abi.Facts {
	return &abi.Facts{
		Clock: time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC).UnixNano(), Seed: 0x5eed,
		Model: model, API: "anthropic.messages", EstimatedTokens: 4000, Tools: true,
		CallID: "conformance", KeyID: "k1", Agent: "reviewer", Team: "eng", User: "ana", TaskType: "review",
		Tags:          []abi.Tag{{Key: "task", Value: "review"}},
		BudgetLeftUSD: 20,
		Targets: []abi.Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Tools: true, LatencyMS: 900, ErrorRate: 0.01, InputUSDPerMTok: 3, OutputUSDPerMTok: 15, ContextWindow: 200000},
			{Provider: "openai", Model: "gpt-5-mini", Tools: true, LatencyMS: 600, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2, ContextWindow: 400000},
			{Provider: "gemini", Model: "gemini-2.5-flash", Tools: true, RateLimited: true, LatencyMS: 450, InputUSDPerMTok: 0.3, OutputUSDPerMTok: 2.5, ContextWindow: 1000000},
		},
		Default: []int{0, 1},
	}
}

// edges are inputs a plugin must answer without failing (an empty answer,
// no route, is an answer).
func edges(model string) map[string]*abi.Facts {
	noneHealthy := Facts(model)
	for i := range noneHealthy.Targets {
		noneHealthy.Targets[i].CoolingDown = true
		noneHealthy.Targets[i].RateLimited = true
	}
	noTags := Facts(model)
	noTags.Tags, noTags.TaskType = nil, ""
	manyTags := Facts(model)
	manyTags.Tags = nil
	for i := range abi.MaxTags {
		manyTags.Tags = append(manyTags.Tags, abi.Tag{Key: "k" + strconv.Itoa(i), Value: "v"})
	}
	noTargets := Facts(model)
	noTargets.Targets, noTargets.Default = nil, nil
	manyTargets := Facts(model)
	for i := range 1000 {
		manyTargets.Targets = append(manyTargets.Targets, abi.Target{Provider: "p" + strconv.Itoa(i), Model: "m", InputUSDPerMTok: -1, OutputUSDPerMTok: -1})
	}
	unpriced := Facts(model)
	for i := range unpriced.Targets {
		unpriced.Targets[i].InputUSDPerMTok, unpriced.Targets[i].OutputUSDPerMTok = -1, -1
	}
	broke := Facts(model)
	broke.BudgetLeftUSD = 0
	return map[string]*abi.Facts{
		"typical": Facts(model), "no target healthy": noneHealthy, "no tags": noTags,
		"4096 tags": manyTags, "no targets": noTargets, "1003 targets": manyTargets,
		"nothing priced": unpriced, "no budget left": broke, "no default route": func() *abi.Facts { f := Facts(model); f.Default = nil; return f }(),
	}
}

func wellFormed(t tester, module []byte, o Options) {
	p := load(t, module, o, 1)
	for name, f := range edges(o.Model) {
		var d abi.Decision
		if err := p.Decide(t.Context(), f, &d); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func deterministic(t tester, module []byte, o Options, stateful bool) {
	// Three separate instances, and three calls on one: the same facts
	// must give the same answer every time, and another seed and clock
	// may give another (not checked: a plugin may ignore both).
	var first *abi.Decision
	check := func(where string, p *wasm.Plugin) {
		var d abi.Decision
		if err := p.Decide(t.Context(), Facts(o.Model), &d); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if first == nil {
			first = &d
			return
		}
		if !reflect.DeepEqual(normal(d), normal(*first)) {
			t.Errorf("%s answered %+v; the first answer to the same facts was %+v", where, d, *first)
		}
	}
	for i := range 3 {
		check(fmt.Sprintf("instance %d", i+1), load(t, module, o, 1))
	}
	if stateful {
		return
	}
	p := load(t, module, o, 1)
	for i := range 3 {
		check(fmt.Sprintf("call %d on one instance", i+1), p)
	}
}

func normal(d abi.Decision) abi.Decision {
	if len(d.Targets) == 0 {
		d.Targets = nil
	}
	return d
}

// timeBudget holds 1,000 decisions to the time budget. The budget is
// wall-clock time, and a loaded machine can stall a thread past it: an
// overrun counts only when the decision overruns again on two retries
// (a plugin too slow for its budget overruns every time). After an
// overrun the host replaces the instance, which takes milliseconds, and
// far longer on a loaded machine under the race detector: while it is
// busy so, the decision waits (up to 10 s) without using a try.
func timeBudget(t tester, module []byte, o Options) {
	p := loadWithin(t, module, o, 1, o.Timeout)
	f := Facts(o.Model)
	for i := range 1000 {
		var err error
		busy := time.Now().Add(10 * time.Second)
		for try := 0; try < 3; {
			var d abi.Decision
			err = p.Decide(t.Context(), f, &d)
			switch {
			case errors.Is(err, wasm.ErrBusy) && time.Now().Before(busy):
			case errors.Is(err, wasm.ErrTimeout) || errors.Is(err, wasm.ErrBusy):
				try++
			default:
				try = 3
				continue
			}
			time.Sleep(50 * time.Millisecond) // the timed-out instance is replaced meanwhile
		}
		if err != nil {
			t.Fatalf("decision %d of 1000 within %s (three tries): %v", i+1, o.Timeout, err)
		}
	}
}

func noState(t tester, module []byte, o Options) {
	// A, then B, then A again on the same instance must answer A as a
	// fresh instance does.
	fresh := load(t, module, o, 1)
	var want abi.Decision
	if err := fresh.Decide(t.Context(), Facts(o.Model), &want); err != nil {
		t.Fatalf("%v", err)
	}
	p := load(t, module, o, 1)
	for name, f := range edges(o.Model) {
		var d abi.Decision
		if err := p.Decide(t.Context(), f, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := p.Decide(t.Context(), Facts(o.Model), &d); err != nil {
			t.Fatalf("%v", err)
		}
		if !reflect.DeepEqual(normal(d), normal(want)) {
			t.Fatalf("after the %q facts the plugin answered %+v to the typical facts; a fresh instance answers %+v: state carried over (declare it in the manifest, routing.Declare(routing.Manifest{Stateful: true}), if that is meant)", name, d, want)
		}
	}
}
