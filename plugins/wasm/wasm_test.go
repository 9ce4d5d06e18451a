package wasm_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// cacheDir is shared by the tests' hosts, so the module is compiled once:
// wazero's compiler under -race takes seconds.
var cacheDir string

func TestMain(m *testing.M) { os.Exit(wasmtest.RunWithCache(m, &cacheDir)) }

func behaviours(t testing.TB) []byte { return wasmtest.Build(t, wasmtest.Behaviours) }

func facts(model string) *abi.Facts {
	return &abi.Facts{
		Clock: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC).UnixNano(), Seed: 42,
		Model: model, API: "openai.chat", EstimatedTokens: 500,
		Tags:          []abi.Tag{{Key: "task", Value: "lookup"}},
		BudgetLeftUSD: -1,
		Targets: []abi.Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", InputUSDPerMTok: 3, OutputUSDPerMTok: 15},
			{Provider: "openai", Model: "gpt-5-mini", InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2},
			{Provider: "gemini", Model: "gemini-2.5-flash-lite", InputUSDPerMTok: 0.1, OutputUSDPerMTok: 0.4, RateLimited: true},
		},
		Default: []int{0, 1},
	}
}

func load(t testing.TB, cfg wasm.Config) *wasm.Plugin {
	t.Helper()
	cfg.CacheDir = cacheDir
	h, err := wasm.NewHost(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	p, err := h.Load(context.Background(), "behaviours", behaviours(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecides(t *testing.T) {
	p := load(t, wasm.Config{Instances: 2})
	var d abi.Decision
	if err := p.Decide(context.Background(), facts("cheapest"), &d); err != nil {
		t.Fatal(err)
	}
	// gemini is cheaper but rate limited; openai is the cheapest healthy one.
	if len(d.Targets) != 1 || d.Targets[0] != 1 || d.Reason != "cheapest healthy" {
		t.Fatalf("decision %+v, want [1] cheapest healthy", d)
	}
	if !strings.HasPrefix(p.Digest, "sha256:") || len(p.Digest) != 71 {
		t.Fatalf("digest %q", p.Digest)
	}
}

// Faults end the call with an error the caller can act on, and the plugin
// keeps answering afterwards: the instance is replaced.
func TestFaultsAreContained(t *testing.T) {
	p := load(t, wasm.Config{Instances: 2, Timeout: time.Second, QuarantineAfter: 100, MemoryLimitMB: 32})
	cases := map[string]string{
		"loop":    "time budget",
		"sleep":   "time budget",
		"panic":   "plugin panicked: boom",
		"exit":    "trapped",
		"garbage": "out of range",
		"alloc":   "trapped",
	}
	for model, want := range cases {
		t.Run(model, func(t *testing.T) {
			var d abi.Decision
			err := p.Decide(context.Background(), facts(model), &d)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one saying %q", err, want)
			}
			// The next call is served, by the other instance or a replacement.
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := p.Decide(context.Background(), facts("echo"), &d)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("plugin did not recover: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestRepeatedFailuresQuarantine(t *testing.T) {
	// A long timeout, so each call waits for the replacement of the
	// instance the last one broke rather than failing as busy.
	p := load(t, wasm.Config{Instances: 1, Timeout: 10 * time.Second, QuarantineAfter: 3, QuarantineFor: time.Hour})
	var d abi.Decision
	for range 3 {
		if err := p.Decide(context.Background(), facts("panic"), &d); err == nil {
			t.Fatal("panic decided")
		}
	}
	err := p.Decide(context.Background(), facts("echo"), &d)
	if !errors.Is(err, wasm.ErrQuarantined) {
		t.Fatalf("after 3 failures: %v, want ErrQuarantined", err)
	}
	if s := p.Stats(); !s.Quarantined || s.Errors != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// The guest's clock and randomness come from the facts: the same facts
// give the same answer on any instance, and other facts another.
func TestDeterministicClockAndRandomness(t *testing.T) {
	p := load(t, wasm.Config{Instances: 3})
	var first string
	for i := range 6 {
		var d abi.Decision
		if err := p.Decide(context.Background(), facts("clock"), &d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d.Reason
			want := strconv.FormatInt(facts("clock").Clock, 10) + " "
			if !strings.HasPrefix(first, want) {
				t.Fatalf("reason %q: the guest's clock is not the call's (%s)", first, want)
			}
			continue
		}
		if d.Reason != first {
			t.Fatalf("call %d answered %q, first %q: not deterministic", i, d.Reason, first)
		}
	}
	f := facts("clock")
	f.Seed = 43
	var d abi.Decision
	if err := p.Decide(context.Background(), f, &d); err != nil {
		t.Fatal(err)
	}
	if d.Reason == first {
		t.Fatal("another seed gave the same random numbers")
	}
}

func TestLoadRefusesModulesWithoutTheABI(t *testing.T) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	// The smallest valid module: magic and version, nothing exported.
	_, err = h.Load(context.Background(), "empty", []byte{0, 'a', 's', 'm', 1, 0, 0, 0}, nil)
	if err == nil || !strings.Contains(err.Error(), "does not export sy_abi_version") {
		t.Fatalf("load of a module without the ABI: %v", err)
	}
	_, err = h.Load(context.Background(), "junk", []byte("not wasm"), nil)
	if err == nil || !strings.Contains(err.Error(), "not a valid WASM module") {
		t.Fatalf("load of junk: %v", err)
	}
}

func TestCompilationCacheIsWritten(t *testing.T) {
	load(t, wasm.Config{Instances: 1}) // compiles into cacheDir, or reads it
	entries, err := os.ReadDir(cacheDir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("the compilation cache directory is empty (%v)", err)
	}
}

// benchPlugin loads the behaviours plugin for a benchmark, with one
// instance and a second per call: a call preempted by the OS for longer
// than the default 10 ms budget would otherwise fail the run.
func benchPlugin(b *testing.B) *wasm.Plugin {
	return load(b, wasm.Config{Instances: 1, Timeout: time.Second})
}

func BenchmarkDecide(b *testing.B) {
	p := benchPlugin(b)
	for _, model := range []string{"echo", "cheapest"} {
		b.Run(model, func(b *testing.B) {
			f := facts(model)
			var d abi.Decision
			lat := newLatencies()
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := p.Decide(context.Background(), f, &d); err != nil {
					b.Fatal(err)
				}
				lat.add(time.Since(start))
			}
			lat.report(b)
		})
	}
}

// A plugin spinning in a loop must not hold up the gateway's garbage
// collector: compiled WASM is not Go code the runtime can stop, so the
// guest has to call out now and then. Before it did, a collection that
// started during an endless loop hung the process.
func TestSpinningPluginDoesNotBlockTheCollector(t *testing.T) {
	p := load(t, wasm.Config{Instances: 1, Timeout: 2 * time.Second, QuarantineAfter: 100})
	done := make(chan error, 1)
	go func() {
		var d abi.Decision
		done <- p.Decide(context.Background(), facts("loop"), &d)
	}()
	time.Sleep(200 * time.Millisecond) // the guest is spinning now
	collected := make(chan struct{})
	go func() { runtime.GC(); close(collected) }()
	select {
	case <-collected:
	case <-time.After(time.Second): // the spin lasts 2 s: a collection that waits for it is stuck
		t.Fatal("a garbage collection waited on the spinning plugin")
	}
	if err := <-done; !errors.Is(err, wasm.ErrTimeout) {
		t.Fatalf("spin ended with %v, want ErrTimeout", err)
	}
}

// A call that runs away without a loop, recursing twice at each level,
// is ended at its time budget too: functions check the budget on entry,
// not only loops.
func TestRunawayRecursionIsStopped(t *testing.T) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, Timeout: 50 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "fanout", wasmtest.BuildWAT(t, "testdata/wat/fanout.wat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var d abi.Decision
		done <- p.Decide(context.Background(), facts("any"), &d)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, wasm.ErrTimeout) {
			t.Fatalf("the runaway call ended with %v, want ErrTimeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a call that recursed without looping was not stopped")
	}
}

// The ABI needs no Go: a plugin written in WebAssembly text decides too.
func TestPluginInWebAssemblyText(t *testing.T) {
	module := wasmtest.BuildWAT(t, "testdata/wat/firsthealthy.wat")
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "firsthealthy", module, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		unwell []int // targets rate limited
		want   []int
		reason string
	}{
		{"first is healthy", nil, []int{0}, "first healthy target"},
		{"first two are not", []int{0, 1}, []int{2}, "first healthy target"},
		{"none is", []int{0, 1, 2}, []int{0}, "none healthy: default route"},
	} {
		f := facts("any")
		f.Targets[2].RateLimited = false
		for _, i := range tc.unwell {
			f.Targets[i].RateLimited = true
		}
		var d abi.Decision
		if err := p.Decide(context.Background(), f, &d); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(d.Targets, tc.want) || d.Reason != tc.reason {
			t.Fatalf("%s: decision %+v, want %v %q", tc.name, d, tc.want, tc.reason)
		}
	}
}

func BenchmarkDecideWAT(b *testing.B) {
	h, err := wasm.NewHost(context.Background(), wasm.Config{Instances: 1, Timeout: time.Second}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	p, err := h.Load(context.Background(), "firsthealthy", wasmtest.BuildWAT(b, "testdata/wat/firsthealthy.wat"), nil)
	if err != nil {
		b.Fatal(err)
	}
	f := facts("any")
	var d abi.Decision
	lat := newLatencies()
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := p.Decide(context.Background(), f, &d); err != nil {
			b.Fatal(err)
		}
		lat.add(time.Since(start))
	}
	lat.report(b)
}

// latencies keeps the last 2^16 call durations of a benchmark, to report
// percentiles next to the mean (the target is a p50). Timing each
// call adds some 50 ns to ns/op, not to the percentiles.
type latencies struct {
	d []time.Duration
	n int
}

func newLatencies() *latencies { return &latencies{d: make([]time.Duration, 1<<16)} }

func (l *latencies) add(d time.Duration) { l.d[l.n&(len(l.d)-1)] = d; l.n++ }

func (l *latencies) report(b *testing.B) {
	d := slices.Clone(l.d[:min(l.n, len(l.d))])
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}
