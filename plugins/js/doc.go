// Package js runs policies: JavaScript functions, run under goja at hook
// points of the gateway and the control plane, that allow, deny (with a
// reason shown to the caller) or annotate what is about to happen.
//
// A policy is one source file. It handles a hook by defining a global
// function of the hook's name, before_model_call, before_tool_call,
// session_start or session_end, which gets the hook's input and returns
// allow(), deny("reason"), annotate({key: "value"}) or nothing (allow).
// A hook the file does not define is not evaluated and costs nothing.
// docs/policies.md is the guide for policy authors.
//
// # Running
//
// [Load] compiles the source once (strict mode) and fills a pool of
// runtimes, each of which has run the file: a call takes a free runtime,
// calls the hook's function and puts the runtime back. Global state
// therefore persists from call to call within one runtime (and is not
// shared between runtimes). [Config].Fresh gives every call a new runtime
// instead, for policies that must not keep state.
//
// The input is shown to the function as a read-only object with
// lower_snake field names, each converted from the Go struct when the
// policy reads it: no JSON encoding on the way in.
//
// # Failures
//
// Evaluate always returns a [Verdict] and never panics. Each call is
// bounded by a time budget ([Config].Timeout): a watchdog interrupts a
// function that overruns it, and try/catch cannot stop the interrupt. A
// call that throws, overruns or returns something other than a verdict
// fails: its verdict takes the policy's OnError decision (allow by
// default: fail open) and carries the error in Err. A runtime is reused
// after a failure; a Go panic through goja (a bug in the host) replaces
// it. A policy that keeps failing is quarantined for a while.
//
// The budget interrupts JavaScript, not a single built-in call in
// progress: "x".repeat(1e9) or new Array(1e9).fill(0) runs to its end
// (or exhausts memory) before the interrupt takes effect, and goja's
// regular expressions have no time limit. Policies are configuration
// written by the gateway's operators, not untrusted code: the budget is
// there for mistakes (a loop that never ends), not against a hostile
// author.
//
// # Determinism
//
// A policy sees no time and no randomness but the call's: Date.now() and
// new Date() return the input's Now, and Math.random is seeded with its
// Seed. Both are recorded in the verdict, so that a replay given the same
// input gets the same verdict (provided the runtime's global state is the
// same: use Fresh for policies that must replay exactly).
//
// # Events and replay
//
// Every verdict is to be recorded as a policy.verdict event:
// [Verdict.Event] returns its data (core/event.PolicyVerdict), the input
// included. A host records each policy's source too ([Policy.Source],
// as a policy.loaded event). To re-run a recorded verdict, load the
// source with [LoadSource], rebuild its input with [InputOf] and call
// [Policy.Replay], which runs it on a runtime that ran the file and
// nothing else: a verdict that depended on earlier calls comes out
// otherwise.
package js
