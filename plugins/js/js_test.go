package js_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/plugins/js"
)

// Tests give calls that must succeed a generous budget: on a busy
// machine, under -race, a call is now and then descheduled for longer
// than the default 5ms. Tests about the budget set a short one.
var roomy = js.Config{Timeout: 2 * time.Second}

// short is the budget of the tests that overrun it; slack is how late the
// interrupt may come on a busy machine and still pass.
const (
	short = 50 * time.Millisecond
	slack = time.Second
)

var clock = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func load(t *testing.T, src string, cfg js.Config) *js.Policy {
	t.Helper()
	p, err := js.Load("test.js", []byte(src), cfg, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func call(model string) *js.ModelCall {
	return &js.ModelCall{
		CallID: "call-1", Model: model, API: "openai.chat", Agent: "reviewer", Team: "platform", User: "alice",
		Tags: map[string]string{"team": "platform"}, Now: clock, Seed: 7,
	}
}

func evaluate(p *js.Policy, model string) js.Verdict {
	return p.Evaluate(context.Background(), call(model))
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		decision   js.Decision
		reason     string
		ann        map[string]string
	}{
		{"allow", `return allow()`, js.Allow, "", nil},
		{"nothing returned", ``, js.Allow, "", nil},
		{"bare return", `return`, js.Allow, "", nil},
		{"undefined", `return undefined`, js.Allow, "", nil},
		{"deny", `return deny("no " + c.model + " for " + c.tags.team)`, js.Deny, "no gpt-4o for platform", nil},
		{"annotate", `return annotate({tier: "gold", n: 3, f: 1.5, ok: true})`, js.Annotate, "",
			map[string]string{"tier": "gold", "n": "3", "f": "1.5", "ok": "true"}},
		{"a verdict's fields", `const d = deny("x"); return annotate({d: d.decision, r: d.reason, a: allow().decision})`, js.Annotate, "",
			map[string]string{"d": "deny", "r": "x", "a": "allow"}},
		{"first of two made", `const a = annotate({k: "1"}); annotate({k: "2"}); return a`, js.Annotate, "", map[string]string{"k": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "function before_model_call(c) {\n" + tc.body + "\n}"
			p := load(t, src, roomy)
			v := evaluate(p, "gpt-4o")
			if v.Err != nil {
				t.Fatalf("Err = %v", v.Err)
			}
			if v.Decision != tc.decision || v.Reason != tc.reason || !maps.Equal(v.Annotations, tc.ann) {
				t.Fatalf("verdict %s %q %v, want %s %q %v", v.Decision, v.Reason, v.Annotations, tc.decision, tc.reason, tc.ann)
			}
			if v.Policy != "test.js" || v.Digest != js.Digest([]byte(src)) || !strings.HasPrefix(v.Digest, "sha256:") ||
				v.Hook != js.BeforeModelCall || v.CallID != "call-1" || !v.Clock.Equal(clock) || v.Seed != 7 || v.Duration <= 0 {
				t.Fatalf("verdict metadata %+v", v)
			}
		})
	}
}

func TestVerdictKeptInAGlobal(t *testing.T) {
	t.Parallel()
	p := load(t, `const v = annotate({a: "b"}); function before_model_call(c) { return v }`, js.Config{Runtimes: 1, Timeout: roomy.Timeout})
	v1, v2 := evaluate(p, "m"), evaluate(p, "m")
	if v1.Decision != js.Annotate || v2.Annotations["a"] != "b" {
		t.Fatalf("verdicts %+v, %+v", v1, v2)
	}
	v1.Annotations["a"] = "changed"
	if v2.Annotations["a"] != "b" {
		t.Fatal("two verdicts share one annotations map")
	}
}

func TestBadReturnValues(t *testing.T) {
	t.Parallel()
	tests := []struct{ ret, says string }{
		{`42`, "the number 42"},
		{`"deny"`, `the string "deny"`},
		{`true`, "the boolean true"},
		{`null`, "null"},
		{`{decision: "deny", reason: "forged"}`, "an object of its own"},
		{`[deny("x")]`, "an array"},
		{`allow`, "a function"},
		{`Promise.resolve(allow())`, "a Promise"},
	}
	for _, tc := range tests {
		t.Run(tc.ret, func(t *testing.T) {
			t.Parallel()
			p := load(t, "function before_model_call(c) { return "+tc.ret+" }", roomy)
			v := evaluate(p, "m")
			if !errors.Is(v.Err, js.ErrBadVerdict) || !strings.Contains(v.Err.Error(), tc.says) || !strings.Contains(v.Err.Error(), "return allow()") {
				t.Fatalf("Err = %v, want ErrBadVerdict saying %q", v.Err, tc.says)
			}
			if v.Decision != js.Allow || v.Reason != "" {
				t.Fatalf("failed verdict %s %q, want allow (the default on_error)", v.Decision, v.Reason)
			}
		})
	}
	t.Run("async function", func(t *testing.T) {
		t.Parallel()
		p := load(t, "async function before_model_call(c) { return deny('x') }", roomy)
		if v := evaluate(p, "m"); !errors.Is(v.Err, js.ErrBadVerdict) || !strings.Contains(v.Err.Error(), "cannot be async") {
			t.Fatalf("Err = %v", v.Err)
		}
	})
	t.Run("on_error deny", func(t *testing.T) {
		t.Parallel()
		p := load(t, "function before_model_call(c) { return 42 }", js.Config{OnError: js.Deny, Timeout: roomy.Timeout})
		v := evaluate(p, "m")
		if v.Decision != js.Deny || !strings.Contains(v.Reason, "test.js") || !v.Failed() {
			t.Fatalf("verdict %s %q (%v), want a deny naming the policy", v.Decision, v.Reason, v.Err)
		}
	})
}

func TestHelperMisuse(t *testing.T) {
	t.Parallel()
	tests := []struct{ call, says string }{
		{`deny()`, "deny needs a reason"},
		{`deny("  ")`, "deny needs a reason"},
		{`deny(42)`, "deny needs a reason"},
		{`deny("x".repeat(2000))`, "the limit is 1024"},
		{`annotate("k=v")`, "annotate needs an object"},
		{`annotate(["a"])`, "annotate needs an object"},
		{`annotate({a: {b: 1}})`, `the value of "a" is an object`},
		{`annotate({a: null})`, `the value of "a" is null`},
		{`annotate({a: undefined})`, `the value of "a" is undefined`},
		{`annotate({a: "x".repeat(2000)})`, "the limit is 1024"},
		{`annotate(Object.fromEntries(Array.from({length: 40}, (_, i) => ["k" + i, i])))`, "40 keys"},
		{`allow = null`, "read only"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			t.Parallel()
			p := load(t, "function before_model_call(c) { return "+tc.call+" }", roomy)
			v := evaluate(p, "m")
			if !errors.Is(v.Err, js.ErrException) || !strings.Contains(v.Err.Error(), tc.says) {
				t.Fatalf("Err = %v, want an exception saying %q", v.Err, tc.says)
			}
		})
	}
}

func TestThrow(t *testing.T) {
	t.Parallel()
	src := `
function before_model_call(c) {
  if (c.model === "error") throw new Error("boom")
  if (c.model === "string") throw "plain"
  if (c.model === "bad toString") throw {toString() { throw new Error("again") }}
  if (c.model === "looping toString") throw {toString() { for (;;) {} }}
  if (c.model === "write") c.model = "other"
  if (c.model === "undeclared") undeclared = 1
  return annotate({ok: c.model})
}`
	tests := []struct {
		model string
		err   error
		says  string
	}{
		{"error", js.ErrException, "the policy threw Error: boom at test.js:3:"},
		{"string", js.ErrException, "threw plain"},
		{"bad toString", js.ErrException, "cannot be read"},
		{"looping toString", js.ErrTimeout, "interrupted"},
		{"write", js.ErrException, "TypeError"},
		{"undeclared", js.ErrException, "ReferenceError: undeclared is not defined at test.js:8:"},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			t.Parallel()
			p := load(t, src, js.Config{Runtimes: 1, Timeout: 500 * time.Millisecond})
			v := evaluate(p, tc.model)
			if !errors.Is(v.Err, tc.err) || !strings.Contains(v.Err.Error(), tc.says) || v.Decision != js.Allow {
				t.Fatalf("verdict %s, Err = %v; want %v saying %q", v.Decision, v.Err, tc.err, tc.says)
			}
			// The runtime is reused, and works.
			if v := evaluate(p, "fine"); v.Err != nil || v.Annotations["ok"] != "fine" {
				t.Fatalf("next call: %+v", v)
			}
		})
	}
}

// TestInterrupt: a policy that loops, recurses or allocates without end is
// stopped by its time budget, whatever it does to catch the interrupt,
// and the request gets the on_error verdict in about the budget.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		err        error
	}{
		{"loop", `while (true) {}`, js.ErrTimeout},
		{"loop in a try that swallows", `try { while (true) {} } catch (e) { return allow() } finally { return annotate({escaped: "finally"}) }`, js.ErrTimeout},
		{"catch and go again", `for (;;) { try { while (true) {} } catch (e) {} }`, js.ErrTimeout},
		{"loop in a callback", `[1, 2, 3].map(() => { for (;;) {} })`, js.ErrTimeout},
		{"loop in a getter annotate reads", `const o = {get x() { for (;;) {} }}; return annotate(o)`, js.ErrTimeout},
		{"growing array", `const a = []; for (;;) a.push("x".repeat(1024))`, js.ErrTimeout},
		// Strings of a megabyte, made and dropped without end. (Not s += s
		// without a bound: each step is one built-in operation, which the
		// interrupt cannot stop, and doubling makes the step in progress
		// at the deadline arbitrarily large; see docs/policies.md.)
		{"string churn", `let s = "x"; for (;;) s = (s + s).slice(0, 1 << 20)`, js.ErrTimeout},
		{"growing string", `let s = ""; for (;;) s += "0123456789abcdef"`, js.ErrTimeout},
		{"growing object", `const o = {}; for (let i = 0; ; i++) o["k" + i] = [i]`, js.ErrTimeout},
		{"endless recursion", `function f(n) { return f(n + 1) + 1 } return f(0)`, js.ErrException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, onError := range []js.Decision{js.Allow, js.Deny} {
				budget := short
				if tc.err != js.ErrTimeout {
					budget = roomy.Timeout // it must fail at once, however slow the machine
				}
				p := load(t, "function before_model_call(c) {\n"+tc.body+"\n}", js.Config{Timeout: budget, OnError: onError})
				v := evaluate(p, "m")
				if !errors.Is(v.Err, tc.err) || v.Decision != onError {
					t.Fatalf("verdict %s, Err = %v; want %s with %v", v.Decision, v.Err, onError, tc.err)
				}
				if v.Duration > budget+slack || tc.err == js.ErrTimeout && v.Duration < budget {
					t.Fatalf("the call took %s with a budget of %s", v.Duration, budget)
				}
			}
		})
	}
}

// TestFreshRuntimeOverrun: with Fresh, running the file is part of the
// call's budget. At load the file runs with the clock at 0 and does not
// loop; in a call it does.
func TestFreshRuntimeOverrun(t *testing.T) {
	t.Parallel()
	p := load(t, "if (Date.now() > 0) for (;;) {}\nfunction before_model_call(c) {}", js.Config{Fresh: true, Timeout: short})
	v := evaluate(p, "m")
	if !errors.Is(v.Err, js.ErrTimeout) || v.Duration > short+slack {
		t.Fatalf("verdict %+v", v)
	}
}

// TestInterruptedRuntimeIsReused: after an overrun, the same runtime
// (its global state intact) runs the next call, uninterrupted.
func TestInterruptedRuntimeIsReused(t *testing.T) {
	t.Parallel()
	p := load(t, `
let calls = 0
function before_model_call(c) {
  calls++
  if (c.model === "loop") for (;;) {}
  return annotate({calls: calls})
}`, js.Config{Runtimes: 1, Timeout: 5 * short}) // the calls that do not loop must not be interrupted
	want := []string{"1", "", "3", "", "", "6", "7"}
	for i, model := range []string{"a", "loop", "b", "loop", "loop", "c", "d"} {
		v := evaluate(p, model)
		if model == "loop" {
			if !errors.Is(v.Err, js.ErrTimeout) {
				t.Fatalf("call %d: Err = %v, want a timeout", i, v.Err)
			}
			continue
		}
		if v.Err != nil || v.Annotations["calls"] != want[i] {
			t.Fatalf("call %d: %v %v, want calls=%s from the same runtime", i, v.Err, v.Annotations, want[i])
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		cfg       js.Config
		says      []string
	}{
		{"syntax", "function before_model_call(call) {\n  return allow(\n}", js.Config{},
			[]string{"policy bad.js:", "syntax error at bad.js:3:1", "Unexpected token", "fix the source"}},
		{"strict mode", "function before_model_call(call) {\n  with (call) {}\n}", js.Config{},
			[]string{"syntax error at bad.js:2:", "with statement"}},
		{"throws at top level", "function before_model_call(call) {}\nnull.x", js.Config{},
			[]string{"running bad.js", "TypeError", "at bad.js:2:"}},
		{"loops at top level", "function before_model_call(call) {}\nfor (;;) {}", js.Config{LoadTimeout: short},
			[]string{"running bad.js", "overran its time budget"}},
		{"no hook", "function before_model_cal(call) {}", js.Config{},
			[]string{"defines none of the hook functions", "before_model_call"}},
		{"hook not a function", "var session_start = 3", js.Config{},
			[]string{"session_start is the number 3, not a function"}},
		{"shadows a helper", "function deny(r) {}\nfunction before_model_call(c) {}", js.Config{},
			[]string{"Cannot redefine", "deny"}},
		{"bad on_error", "function before_model_call(c) {}", js.Config{OnError: "maybe"},
			[]string{`on_error is "maybe"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := js.Load("bad.js", []byte(tc.src), tc.cfg, nil)
			if err == nil {
				p.Close()
				t.Fatal("Load succeeded")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("Load error %q does not say %q", err, s)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		if _, err := js.LoadFile("", "testdata/nope.js", js.Config{}, nil); err == nil || !strings.Contains(err.Error(), "testdata/nope.js") {
			t.Fatalf("LoadFile = %v", err)
		}
	})
}

func TestDeterministicClockAndRandom(t *testing.T) {
	t.Parallel()
	src := `function before_model_call(c) {
  return annotate({now: Date.now(), iso: new Date().toISOString(), r1: Math.random(), r2: Math.random()})
}`
	run := func(p *js.Policy, now time.Time, seed uint64) js.Verdict {
		in := call("m")
		in.Now, in.Seed = now, seed
		v := p.Evaluate(context.Background(), in)
		if v.Err != nil {
			t.Fatal(v.Err)
		}
		return v
	}
	pooled := load(t, src, js.Config{Runtimes: 3, Timeout: roomy.Timeout})
	fresh := load(t, src, js.Config{Fresh: true, Timeout: roomy.Timeout})
	first := run(pooled, clock, 1)
	if first.Annotations["now"] != strconv.FormatInt(clock.UnixMilli(), 10) || first.Annotations["iso"] != "2026-03-01T12:30:00.000Z" {
		t.Fatalf("the policy saw the time %v, want the input's %v", first.Annotations, clock)
	}
	if first.Annotations["r1"] == first.Annotations["r2"] {
		t.Fatalf("Math.random repeats itself: %v", first.Annotations)
	}
	for i := range 6 {
		p := pooled
		if i%2 == 1 {
			p = fresh
		}
		if v := run(p, clock, 1); !maps.Equal(v.Annotations, first.Annotations) {
			t.Fatalf("run %d: %v, want %v", i, v.Annotations, first.Annotations)
		}
	}
	if v := run(pooled, clock, 2); v.Annotations["r1"] == first.Annotations["r1"] {
		t.Fatal("another seed gave the same random numbers")
	}
	before := time.Now()
	v := run(pooled, time.Time{}, 1)
	if v.Clock.Before(before) || v.Clock.After(time.Now()) || v.Annotations["now"] != strconv.FormatInt(v.Clock.UnixMilli(), 10) {
		t.Fatalf("with no clock given, the verdict records %v and the policy saw %s", v.Clock, v.Annotations["now"])
	}
}

func TestPooledStateAndFresh(t *testing.T) {
	t.Parallel()
	src := `let n = 0
function before_model_call(c) { n++; return annotate({n: n}) }`
	for _, tc := range []struct {
		name string
		cfg  js.Config
		want string
	}{
		{"pooled", js.Config{Runtimes: 1}, "1 2 3 4"},
		{"fresh", js.Config{Runtimes: 1, Fresh: true}, "1 1 1 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.Timeout = roomy.Timeout
			p := load(t, src, tc.cfg)
			var got []string
			for range 4 {
				got = append(got, evaluate(p, "m").Annotations["n"])
			}
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("n = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestInputs(t *testing.T) {
	t.Parallel()
	src := `
function before_model_call(c) { return annotate({json: JSON.stringify(c), keys: Object.keys(c.tags).join(",")}) }
function before_tool_call(c) {
  return annotate({path: String(c.input.path), raw: c.input_json, type: typeof c.input, tool: c.tool, server: c.server, same: String(c.input === c.input)})
}
function session_start(s) { return annotate({json: JSON.stringify(s)}) }
function session_end(s) { return annotate({json: JSON.stringify(s)}) }`
	p := load(t, src, roomy)
	ctx := context.Background()

	m := &js.ModelCall{
		CallID: "c1", Model: "gpt-4o", API: "openai.chat", Agent: "rev", Session: "s1", Team: "t", User: "u", KeyID: "k",
		Tags: map[string]string{"z": "1", "a": "2", "m": "3"}, TaskType: "review", EstimatedTokens: 1200, HasTools: true,
		Stream: true, BudgetLeftUSD: 2.5,
	}
	v := p.Evaluate(ctx, m)
	want := `{"call_id":"c1","model":"gpt-4o","api":"openai.chat","agent":"rev","session":"s1","team":"t","user":"u","key_id":"k",` +
		`"tags":{"a":"2","m":"3","z":"1"},"task_type":"review","estimated_tokens":1200,"has_tools":true,"stream":true,"budget_left_usd":2.5}`
	if v.Err != nil || v.Annotations["json"] != want || v.Annotations["keys"] != "a,m,z" {
		t.Fatalf("model call seen as %s (keys %s, %v)\nwant %s", v.Annotations["json"], v.Annotations["keys"], v.Err, want)
	}

	tool := &js.ToolCall{Tool: "read_file", Server: "fs", Input: json.RawMessage(`{"path": "/etc/passwd"}`)}
	v = p.Evaluate(ctx, tool)
	if v.Err != nil || v.Annotations["path"] != "/etc/passwd" || v.Annotations["type"] != "object" || v.Annotations["raw"] != `{"path": "/etc/passwd"}` ||
		v.Annotations["tool"] != "read_file" || v.Annotations["server"] != "fs" || v.Annotations["same"] != "true" {
		t.Fatalf("tool call seen as %v (%v)", v.Annotations, v.Err)
	}
	tool.Input = json.RawMessage(`not json`)
	if v = p.Evaluate(ctx, tool); v.Err != nil || v.Annotations["type"] != "string" || v.Annotations["path"] != "undefined" {
		t.Fatalf("tool call with text input seen as %v (%v)", v.Annotations, v.Err)
	}

	v = p.Evaluate(ctx, &js.SessionStarting{Session: "s1", Agent: "rev", Harness: "codex", Team: "t", User: "u", Prompt: "fix it"})
	if want := `{"session":"s1","agent":"rev","harness":"codex","team":"t","user":"u","tags":{},"prompt":"fix it"}`; v.Annotations["json"] != want {
		t.Fatalf("session start seen as %s, want %s (%v)", v.Annotations["json"], want, v.Err)
	}
	v = p.Evaluate(ctx, &js.SessionEnded{Session: "s1", Status: "failed", Error: "boom", Turns: 4, CostUSD: 0.25, Duration: 1500 * time.Millisecond})
	if want := `{"session":"s1","agent":"","harness":"","team":"","user":"","tags":{},"status":"failed","error":"boom","turns":4,"cost_usd":0.25,"duration_ms":1500}`; v.Annotations["json"] != want {
		t.Fatalf("session end seen as %s, want %s (%v)", v.Annotations["json"], want, v.Err)
	}
}

// TestInputValidDuringCallOnly: an input object kept in a global shows
// the call in progress, never a Go value from an earlier call.
func TestInputValidDuringCallOnly(t *testing.T) {
	t.Parallel()
	p := load(t, `
let saved
function before_model_call(c) {
  const before = saved === undefined ? "none" : saved.model
  saved = c
  return annotate({before: before})
}`, js.Config{Runtimes: 1, Timeout: roomy.Timeout})
	for i, want := range []string{"none", "second"} {
		if v := evaluate(p, []string{"first", "second"}[i]); v.Annotations["before"] != want {
			t.Fatalf("call %d: %+v, want before=%s", i, v, want)
		}
	}
}

func TestUnhandledHookIsFree(t *testing.T) {
	t.Parallel()
	p := load(t, `function session_end(s) { return deny("never") }`, roomy)
	if p.Handles(js.BeforeModelCall) || !p.Handles(js.SessionEnd) {
		t.Fatal("Handles is wrong")
	}
	v := evaluate(p, "m")
	if v.Decision != js.Allow || v.Err != nil || v.Hook != js.BeforeModelCall {
		t.Fatalf("verdict for an unhandled hook: %+v", v)
	}
}

func TestNilInput(t *testing.T) {
	t.Parallel()
	p := load(t, `function before_model_call(c) {}`, js.Config{OnError: js.Deny})
	for _, in := range []js.Input{nil, (*js.ModelCall)(nil)} {
		if v := p.Evaluate(context.Background(), in); v.Err == nil || v.Decision != js.Deny {
			t.Fatalf("Evaluate(%#v) = %+v, want the on_error verdict", in, v)
		}
	}
}

func TestQuarantine(t *testing.T) {
	t.Parallel()
	src := `function before_model_call(c) { if (c.model === "bad") throw new Error("no"); return allow() }`
	p := load(t, src, js.Config{QuarantineAfter: 3, QuarantineFor: time.Hour, Timeout: roomy.Timeout})
	// A success in between resets the count.
	for i, model := range []string{"bad", "bad", "ok", "bad", "bad"} {
		if v := evaluate(p, model); p.Quarantined() || (model == "bad") != errors.Is(v.Err, js.ErrException) {
			t.Fatalf("call %d (%s): %v, quarantined %v", i, model, v.Err, p.Quarantined())
		}
	}
	evaluate(p, "bad")
	v := evaluate(p, "ok")
	if !p.Quarantined() || !errors.Is(v.Err, js.ErrQuarantined) || v.Decision != js.Allow {
		t.Fatalf("after 3 failures in a row: %+v, quarantined %v", v, p.Quarantined())
	}

	never := load(t, src, js.Config{QuarantineAfter: -1, Timeout: roomy.Timeout})
	for range 10 {
		evaluate(never, "bad")
	}
	if never.Quarantined() {
		t.Fatal("quarantined with QuarantineAfter < 0")
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	p, err := js.Load("c.js", []byte(`function before_model_call(c) { return deny("x") }`), js.Config{OnError: js.Deny}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close()
	if v := evaluate(p, "m"); !errors.Is(v.Err, js.ErrClosed) || v.Decision != js.Deny {
		t.Fatalf("after Close: %+v", v)
	}
}

// TestConcurrent hammers one policy from many goroutines (run with
// -race): each verdict must be about its own input, whatever the others
// do, failures included.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	p := load(t, `
let seen = 0
function before_model_call(c) {
  seen++
  if (c.model.endsWith("-throw")) throw new Error(c.model)
  if (c.model.endsWith("-deny")) return deny("denied " + c.model)
  return annotate({model: c.model, team: c.tags.team, r: Math.random()})
}`, js.Config{Runtimes: 3, Timeout: roomy.Timeout, QuarantineAfter: -1})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 150 {
				model := fmt.Sprintf("m%d-%d", g, i)
				switch i % 3 {
				case 1:
					model += "-deny"
				case 2:
					model += "-throw"
				}
				in := call(model)
				in.Tags = map[string]string{"team": model}
				in.Seed = uint64(i)
				v := p.Evaluate(context.Background(), in)
				var ok bool
				switch i % 3 {
				case 0:
					ok = v.Decision == js.Annotate && v.Annotations["model"] == model && v.Annotations["team"] == model
				case 1:
					ok = v.Decision == js.Deny && v.Reason == "denied "+model
				case 2:
					ok = errors.Is(v.Err, js.ErrException) && strings.Contains(v.Err.Error(), model)
				}
				if !ok {
					errs <- fmt.Errorf("%s: %+v", model, v)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExamplePolicies(t *testing.T) {
	t.Parallel()
	interns, err := js.LoadFile("", "testdata/interns.js", js.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	finance, err := js.LoadFile("", "testdata/finance.js", js.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := js.NewSet(interns, finance)
	t.Cleanup(set.Close)
	ctx := context.Background()

	res := set.Evaluate(ctx, &js.ModelCall{Model: "gpt-4o", Team: "interns", Tags: map[string]string{"task": "finance"}})
	if res.Decision != js.Deny || !strings.Contains(res.Reason, "use gpt-4o-mini") || len(res.Verdicts) != 1 || res.Verdicts[0].Policy != "interns" {
		t.Fatalf("intern on gpt-4o: %+v", res)
	}
	res = set.Evaluate(ctx, &js.ModelCall{Model: "gpt-4o-mini", Team: "interns", Agent: "ledger", Tags: map[string]string{"task": "finance"}})
	if want := map[string]string{"data_class": "confidential", "review": "finance", "agent": "ledger"}; res.Decision != js.Annotate || !maps.Equal(res.Annotations, want) {
		t.Fatalf("finance call: %+v", res)
	}
	res = set.Evaluate(ctx, &js.ToolCall{Tool: "wire", Tags: map[string]string{"domain": "finance"}})
	if res.Decision != js.Annotate || res.Annotations["tool"] != "wire" || len(res.Verdicts) != 1 || res.Verdicts[0].Policy != "finance" {
		t.Fatalf("finance tool call: %+v", res)
	}
	if res := set.Evaluate(ctx, &js.SessionStarting{}); res.Decision != js.Allow || res.Verdicts != nil {
		t.Fatalf("a hook neither handles: %+v", res)
	}
}

func TestSetOrder(t *testing.T) {
	t.Parallel()
	mk := func(name, src string, cfg js.Config) *js.Policy {
		p, err := js.Load(name, []byte(src), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	set := js.NewSet(
		mk("a", `function before_model_call(c) { return annotate({who: "a", a: "1"}) }`, roomy),
		mk("sessions", `function session_start(s) { return deny("no") }`, roomy),
		mk("broken", `function before_model_call(c) { throw new Error("x") }`, roomy), // fails open
		mk("b", `function before_model_call(c) { return annotate({who: "b", b: "2"}) }`, roomy),
		mk("gate", `function before_model_call(c) { if (c.model === "x") return deny("no x") }`, roomy),
		mk("late", `function before_model_call(c) { return annotate({late: "yes"}) }`, roomy),
	)
	t.Cleanup(set.Close)
	names := func(vs []js.Verdict) string {
		var s []string
		for _, v := range vs {
			s = append(s, v.Policy)
		}
		return strings.Join(s, " ")
	}

	res := set.Evaluate(context.Background(), call("ok"))
	want := map[string]string{"who": "a", "a": "1", "b": "2", "late": "yes"}
	if res.Decision != js.Annotate || !maps.Equal(res.Annotations, want) || names(res.Verdicts) != "a broken b gate late" {
		t.Fatalf("result %s %v from %s", res.Decision, res.Annotations, names(res.Verdicts))
	}
	if !res.Verdicts[1].Failed() || res.Verdicts[1].Decision != js.Allow {
		t.Fatalf("the broken policy's verdict: %+v", res.Verdicts[1])
	}

	res = set.Evaluate(context.Background(), call("x"))
	if res.Decision != js.Deny || res.Reason != "no x" || names(res.Verdicts) != "a broken b gate" || res.Annotations["late"] != "" {
		t.Fatalf("deny: %s %q %v from %s", res.Decision, res.Reason, res.Annotations, names(res.Verdicts))
	}
}

func TestVerdictEvent(t *testing.T) {
	t.Parallel()
	p := load(t, `function before_model_call(c) { return deny("over budget") }`, roomy)
	v := evaluate(p, "m")
	p2, err := event.New("policy.verdict", v.Event(), event.Metadata{CorrelationID: v.CallID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.Decode(&event.Event{Type: p2.Type, Data: p2.Data, Metadata: p2.Metadata})
	if err != nil {
		t.Fatal(err)
	}
	pv, ok := got.(*event.PolicyVerdict)
	if !ok || pv.Policy != "test.js" || pv.Digest != p.Digest() || pv.Hook != "before_model_call" || pv.CallID != "call-1" ||
		pv.Decision != "deny" || pv.Reason != "over budget" || pv.Error != "" || pv.ClockUnixMS != clock.UnixMilli() || pv.Seed != 7 || pv.DurationMS <= 0 ||
		pv.Input == nil || pv.Input.Model != "m" || pv.Input.Tags["team"] != "platform" || pv.Fresh {
		t.Fatalf("event data %s decoded as %#v", p2.Data, got)
	}

	failed := evaluate(load(t, `function before_model_call(c) { return 1 }`, roomy), "m").Event()
	if failed.Decision != "allow" || !strings.Contains(failed.Error, "returned the number 1") {
		t.Fatalf("failed verdict's event: %+v", failed)
	}
}

// TestCloseWhileEvaluating: closing a policy in use lets the calls in
// progress finish; the later ones fail with ErrClosed. Nothing panics.
func TestCloseWhileEvaluating(t *testing.T) {
	t.Parallel()
	p, err := js.Load("c.js", []byte(`function before_model_call(c) { return deny("x") }`), roomy, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	bad := make(chan js.Verdict, 4)
	for range 4 {
		wg.Go(func() {
			<-start
			for range 200 {
				if v := evaluate(p, "m"); v.Reason != "x" && !errors.Is(v.Err, js.ErrClosed) {
					bad <- v
					return
				}
			}
		})
	}
	close(start)
	p.Close()
	wg.Wait()
	close(bad)
	for v := range bad {
		t.Errorf("verdict %+v", v)
	}
}
