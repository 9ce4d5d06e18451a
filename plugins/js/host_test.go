package js

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// TestBusy: when every runtime stays busy, a call waits one time budget
// for one, or until its context ends, and then takes the on_error verdict.
func TestBusy(t *testing.T) {
	p, err := Load("busy.js", []byte(`function before_model_call(c) { return deny("x") }`),
		Config{Runtimes: 1, Timeout: 200 * time.Millisecond, OnError: Deny}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := <-p.pool // the only runtime, taken as a long call would
	v := p.Evaluate(context.Background(), &ModelCall{})
	if !errors.Is(v.Err, ErrBusy) || v.Decision != Deny || v.Duration < p.cfg.Timeout {
		t.Fatalf("all busy: %+v", v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v := p.Evaluate(ctx, &ModelCall{}); !errors.Is(v.Err, context.Canceled) {
		t.Fatalf("all busy, context cancelled: %+v", v)
	}
	if p.Quarantined() || p.failures.Load() != 0 {
		t.Fatal("waiting for a runtime counted as the policy's failure")
	}
	p.pool <- r
	if v := p.Evaluate(ctx, &ModelCall{}); v.Err != nil || v.Reason != "x" {
		t.Fatalf("a free runtime, cancelled context: %+v", v)
	}
}

// TestGoPanicReplacesRuntime: a panic in the host's Go code, under goja,
// fails the call and the runtime is replaced by a new one, in the
// background. (The host has no such bug to trigger; the test plants one.)
func TestGoPanicReplacesRuntime(t *testing.T) {
	modelCallFields.get["boom"] = func(*runner, *ModelCall) goja.Value { panic("planted bug") }
	defer delete(modelCallFields.get, "boom")

	p, err := Load("panic.js", []byte(`
let n = 0
function before_model_call(c) { n++; return c.model === "boom" ? c.boom : annotate({n: n}) }`),
		Config{Runtimes: 1, Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	if v := p.Evaluate(ctx, &ModelCall{}); v.Annotations["n"] != "1" {
		t.Fatalf("first call: %+v", v)
	}
	if v := p.Evaluate(ctx, &ModelCall{Model: "boom"}); !errors.Is(v.Err, ErrPanic) || v.Decision != Allow {
		t.Fatalf("planted panic: %+v", v)
	}
	// A new runtime: the count starts again.
	for i, want := range []string{"1", "2"} {
		if v := p.Evaluate(ctx, &ModelCall{}); v.Err != nil || v.Annotations["n"] != want {
			t.Fatalf("call %d after the panic: %+v, want n=%s", i, v, want)
		}
	}
}

// TestLateWatchdog: a watchdog that fires just after a call returned
// leaves the runtime's interrupt set; disarm clears it, so the next call
// runs uninterrupted.
func TestLateWatchdog(t *testing.T) {
	p, err := Load("late.js", []byte(`function before_model_call(c) { return annotate({m: c.model}) }`),
		Config{Runtimes: 1, Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := <-p.pool
	r.arm(time.Nanosecond)
	<-r.fired // the watchdog has interrupted the idle runtime...
	r.fired <- struct{}{}
	if !r.disarm() { // ...and the call's end sees that it fired
		t.Fatal("disarm did not see the watchdog fire")
	}
	p.pool <- r
	if v := p.Evaluate(context.Background(), &ModelCall{Model: "m"}); v.Err != nil || v.Annotations["m"] != "m" {
		t.Fatalf("the call after a late watchdog: %+v", v)
	}
}
