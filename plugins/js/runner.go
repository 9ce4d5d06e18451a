package js

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// Limits on what a policy hands back, so that a verdict stays a small
// event.
const (
	maxReason      = 1024 // bytes of a deny reason
	maxAnnotations = 32   // keys of one annotate
	maxKey         = 64   // bytes of an annotation key
	maxValue       = 1024 // bytes of an annotation value
	// maxCallDepth bounds recursion: a runaway recursion ends with an
	// error at once rather than growing the stack for the whole budget.
	maxCallDepth = 1024
)

// runner runs one call at a time: a goja runtime that has run the
// policy's program, its hook functions, the objects it shows inputs
// through, the clock and random source it reads, and its watchdog.
// A pooled runner keeps its runtime from call to call; a fresh one gets a
// new runtime for each call.
type runner struct {
	p *Policy

	vm  *goja.Runtime // nil when not loaded
	fns [len(hookList)]goja.Callable
	// arg holds, for each hook, the view its function is called with: a
	// slice made once, so that a call does not allocate one.
	arg [len(hookList)][]goja.Value
	// broken is set when a call left the runtime in a state it cannot be
	// trusted in (a Go panic through it): it is not used again.
	broken bool

	models  view[ModelCall]
	tools   view[ToolCall]
	starts  view[SessionStarting]
	ends    view[SessionEnded]
	tags    tagsView
	tagsObj *goja.Object
	allowed *goja.Object // what allow() returns: one object, made once
	// last is the verdict object deny or annotate made last, lastValue
	// its value: usually what the function returns.
	last      *goja.Object
	lastValue *verdictValue
	parse     goja.Callable
	input     goja.Value // the current tool call's parsed input, once read
	// strs keeps the JS values of short strings the policy has read: the
	// same models, teams and tags come back call after call, and
	// converting a string costs two allocations.
	strs map[string]goja.Value

	now time.Time // what Date.now() reads during a call
	pcg rand.PCG
	rng *rand.Rand // Math.random, seeded for each call

	// The watchdog interrupts the runtime when a call overruns. It is
	// made once and re-armed for each call: no allocation per call.
	dog   *time.Timer
	fired chan struct{} // the watchdog's function sends here when it is done
	mu    sync.Mutex    // guards vm for the watchdog's goroutine
}

func newRunner(p *Policy) *runner {
	r := &runner{p: p, fired: make(chan struct{}, 1), strs: map[string]goja.Value{}}
	r.rng = rand.New(&r.pcg)
	r.models = view[ModelCall]{r: r, t: modelCallFields}
	r.tools = view[ToolCall]{r: r, t: toolCallFields}
	r.starts = view[SessionStarting]{r: r, t: sessionStartingFields}
	r.ends = view[SessionEnded]{r: r, t: sessionEndedFields}
	r.tags = tagsView{r: r}
	r.dog = time.AfterFunc(time.Hour, r.interrupt)
	r.dog.Stop()
	return r
}

// interrupt is the watchdog's function.
func (r *runner) interrupt() {
	r.mu.Lock()
	vm := r.vm
	r.mu.Unlock()
	if vm != nil {
		vm.Interrupt(ErrTimeout)
	}
	r.fired <- struct{}{}
}

// arm starts the watchdog for a call of at most d.
func (r *runner) arm(d time.Duration) { r.dog.Reset(d) }

// disarm stops the watchdog and reports whether it fired. When it did, it
// waits for the watchdog's function to finish and clears the interrupt,
// so that the runtime can run again.
func (r *runner) disarm() (fired bool) {
	if r.dog.Stop() {
		return false
	}
	<-r.fired
	if r.vm != nil {
		r.vm.ClearInterrupt()
	}
	return true
}

func (r *runner) setVM(vm *goja.Runtime) {
	r.mu.Lock()
	r.vm = vm
	r.mu.Unlock()
}

// unload drops the runtime.
func (r *runner) unload() {
	r.setVM(nil)
	r.fns = [len(hookList)]goja.Callable{}
	r.arg = [len(hookList)][]goja.Value{}
	r.tagsObj, r.allowed, r.parse, r.input = nil, nil, nil, nil
	clear(r.strs)
	r.broken = false
}

// load makes a new runtime and runs the policy's program in it, with the
// clock at now and the random source seeded by seed, within budget.
func (r *runner) load(now time.Time, seed uint64, budget time.Duration) (err error) {
	r.unload()
	vm := goja.New()
	vm.SetTimeSource(r.clock)
	vm.SetRandSource(r.rng.Float64)
	vm.SetMaxCallStackSize(maxCallDepth)
	r.setVM(vm)
	defer func() {
		if err != nil {
			r.unload()
		}
	}()

	// The host's own objects and helpers, made before the policy runs so
	// that it cannot replace what they use.
	jsonObj, _ := vm.Get("JSON").(*goja.Object)
	if jsonObj != nil {
		r.parse, _ = goja.AssertFunction(jsonObj.Get("parse"))
	}
	if r.parse == nil {
		return errors.New("the runtime has no JSON.parse")
	}
	r.allowed = vm.NewDynamicObject(&verdictValue{r: r, decision: Allow})
	r.tagsObj = vm.NewDynamicObject(&r.tags)
	r.arg = [len(hookList)][]goja.Value{
		{vm.NewDynamicObject(&r.models)}, {vm.NewDynamicObject(&r.tools)},
		{vm.NewDynamicObject(&r.starts)}, {vm.NewDynamicObject(&r.ends)},
	}
	global := vm.GlobalObject()
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"allow": r.allow, "deny": r.deny, "annotate": r.annotate,
	} {
		// Read-only and not configurable: a policy that declares its own
		// allow, deny or annotate fails to load instead of shadowing them.
		if err := global.DefineDataProperty(name, vm.ToValue(fn), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return fmt.Errorf("define %s: %w", name, err)
		}
	}

	// Everything that may run the policy's code runs under the watchdog:
	// the program, and reading the globals (a getter is code too).
	r.now = now
	r.pcg.Seed(seed, seed)
	r.arm(budget)
	func() {
		defer func() {
			if x := recover(); x != nil {
				err = r.recovered(x, budget)
			}
		}()
		if _, err = vm.RunProgram(r.p.prog); err != nil {
			err = r.describe(err, budget)
			return
		}
		for i, h := range hookList {
			v := vm.Get(string(h))
			if v == nil || goja.IsUndefined(v) {
				continue
			}
			fn, ok := goja.AssertFunction(v)
			if !ok {
				err = fmt.Errorf("%s is %s, not a function: define it as function %s(input) { ... }", h, describeValue(v), h)
				return
			}
			r.fns[i] = fn
		}
	}()
	r.disarm()
	return err
}

// clock is the runtime's time source.
func (r *runner) clock() time.Time { return r.now }

// call runs hook i's function on in. Whatever the policy does, call
// returns: a Go panic is recovered (and the runtime marked broken), an
// overrun is interrupted by the watchdog.
func (r *runner) call(i int, in Input, now time.Time, seed uint64, budget time.Duration) (res verdictValue, err error) {
	r.now = now
	r.pcg.Seed(seed, seed)
	r.point(in)
	r.arm(budget)
	defer func() {
		x := recover()
		// If the watchdog fired after the function had returned (the
		// host was slow to run it, say), the verdict stands: disarm has
		// cleared the interrupt.
		r.disarm()
		r.point(nil)
		if x != nil {
			// A panic out of goja leaves the runtime's stacks wherever
			// it was: do not trust it again.
			r.broken = true
			err = r.recovered(x, budget)
		}
		if err != nil {
			res = verdictValue{}
		}
	}()
	if r.fns[i] == nil {
		return verdictValue{decision: Allow}, nil
	}
	ret, err := r.fns[i](goja.Undefined(), r.arg[i]...)
	if err != nil {
		return verdictValue{}, r.describe(err, budget)
	}
	return r.verdictOf(hookList[i], ret)
}

// point makes the views show in; nil shows nothing.
func (r *runner) point(in Input) {
	r.models.in, r.tools.in, r.starts.in, r.ends.in = nil, nil, nil, nil
	r.tags.m, r.input = nil, nil
	r.last, r.lastValue = nil, nil
	switch in := in.(type) {
	case *ModelCall:
		r.models.in = in
	case *ToolCall:
		r.tools.in = in
	case *SessionStarting:
		r.starts.in = in
	case *SessionEnded:
		r.ends.in = in
	}
}

// Strings up to maxCachedLen bytes are cached, up to maxCached of them.
const (
	maxCachedLen = 64
	maxCached    = 512
)

// str converts a Go string to a JS string.
func (r *runner) str(s string) goja.Value {
	if len(s) > maxCachedLen {
		return r.vm.ToValue(s)
	}
	if v, ok := r.strs[s]; ok {
		return v
	}
	if len(r.strs) >= maxCached {
		clear(r.strs)
	}
	v := r.vm.ToValue(s)
	r.strs[s] = v
	return v
}

// tagsOf shows m through the runner's tags object.
func (r *runner) tagsOf(m map[string]string) goja.Value {
	r.tags.m = m
	return r.tagsObj
}

// parsedInput is a tool call's input as the policy sees it: parsed once
// per call when read, or the text itself when it is not JSON.
func (r *runner) parsedInput(raw json.RawMessage) goja.Value {
	if r.input != nil {
		return r.input
	}
	switch {
	case len(raw) == 0:
		r.input = goja.Undefined()
	case json.Valid(raw):
		v, err := r.parse(goja.Undefined(), r.str(string(raw)))
		if err != nil {
			panic(err) // an interrupt, most likely: let it end the call
		}
		r.input = v
	default:
		r.input = r.str(string(raw))
	}
	return r.input
}

// describe turns what goja returned into the error a verdict carries:
// what happened and where in the policy's source.
func (r *runner) describe(err error, budget time.Duration) error {
	var (
		ie *goja.InterruptedError
		so *goja.StackOverflowError
		ex *goja.Exception
	)
	switch {
	case errors.As(err, &ie):
		return fmt.Errorf("%w (%s) and was interrupted%s", ErrTimeout, budget, where(ie.Stack()))
	case errors.As(err, &so):
		return fmt.Errorf("%w: calls nested deeper than %d%s", ErrException, maxCallDepth, where(so.Stack()))
	case errors.As(err, &ex):
		msg, interrupted := r.text(ex.Value())
		if interrupted != nil {
			return r.describe(interrupted, budget)
		}
		return fmt.Errorf("%w %s%s", ErrException, clip(msg, 300), where(ex.Stack()))
	}
	return err
}

// text is v as a string. It may come from the policy's own toString, so
// it is read inside the runtime, which catches what that throws; the
// watchdog, still armed, ends what it loops (returned as interrupted).
func (r *runner) text(v goja.Value) (s string, interrupted *goja.InterruptedError) {
	const unreadable = "a value whose text cannot be read"
	defer func() {
		if x := recover(); x != nil {
			// Out of goja outside a call it wraps: do not trust the
			// runtime again.
			r.broken = true
			s = unreadable
			interrupted, _ = x.(*goja.InterruptedError)
		}
	}()
	if ex := r.vm.Try(func() { s = v.String() }); ex != nil {
		s = unreadable
	}
	return s, nil
}

// recovered is the error for x, recovered from a panic: what goja
// panics with outside a call it wraps (an interrupt, an exception thrown
// by a getter the host read), or a bug in the host.
func (r *runner) recovered(x any, budget time.Duration) error {
	switch x := x.(type) {
	case *goja.InterruptedError:
		return r.describe(x, budget)
	case *goja.Exception:
		return r.describe(x, budget)
	}
	return fmt.Errorf("%w: %v", ErrPanic, x)
}

// where names the innermost frame of stack that is in the policy's
// source: " at file.js:3:9 (in before_model_call)", or "" when none is.
func where(stack []goja.StackFrame) string {
	for i := range stack {
		f := &stack[i]
		pos := f.Position()
		if pos.Line == 0 {
			continue
		}
		in := ""
		if fn := f.FuncName(); fn != "<anonymous>" {
			in = " (in " + fn + ")"
		}
		return fmt.Sprintf(" at %s:%d:%d%s", pos.Filename, pos.Line, pos.Column, in)
	}
	return ""
}

// verdictOf checks what hook's function returned.
func (r *runner) verdictOf(h Hook, v goja.Value) (verdictValue, error) {
	if v == nil || goja.IsUndefined(v) || v == r.allowed {
		return verdictValue{decision: Allow}, nil
	}
	if o, ok := v.(*goja.Object); ok && o.ExportType() == verdictType {
		if o == r.last {
			return *r.lastValue, nil // saves Export's allocation
		}
		return *o.Export().(*verdictValue), nil
	}
	return verdictValue{}, fmt.Errorf(`%w: %s returned %s; return allow(), deny("reason"), annotate({key: "value"}) or nothing`, ErrBadVerdict, h, describeValue(v))
}

var (
	verdictType = reflect.TypeFor[*verdictValue]()
	promiseType = reflect.TypeFor[*goja.Promise]()
)

// describeValue says what v is without running any of the policy's code
// (no toString, no getters).
func describeValue(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, fn := goja.AssertFunction(o); fn {
			return "a function (call it: allow(), not allow)"
		}
		if o.ExportType() == promiseType {
			return "a Promise (hook functions cannot be async)"
		}
		if o.ClassName() == "Array" {
			return "an array"
		}
		return "an object of its own (make verdicts with allow, deny and annotate)"
	}
	t := v.ExportType()
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return fmt.Sprintf("the string %q", clip(v.String(), 60))
	case reflect.Int64, reflect.Float64:
		return "the number " + v.String()
	case reflect.Bool:
		return "the boolean " + v.String()
	}
	return "a " + t.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// verdictValue is what allow, deny and annotate return: an object the
// policy cannot forge or change, with read-only decision and reason.
// Annotations are kept as pairs, never as the map a Verdict hands out: a
// verdict object kept in a global is returned by many calls, whose
// verdicts must not share a map.
type verdictValue struct {
	r           *runner
	decision    Decision
	reason      string
	annotations []annotation
}

type annotation struct{ key, value string }

// annotationMap is v's annotations as a new map; nil when there are none.
func (v *verdictValue) annotationMap() map[string]string {
	if len(v.annotations) == 0 {
		return nil
	}
	m := make(map[string]string, len(v.annotations))
	for _, a := range v.annotations {
		m[a.key] = a.value
	}
	return m
}

func (v *verdictValue) Get(key string) goja.Value {
	switch key {
	case "decision":
		return v.r.str(string(v.decision))
	case "reason":
		if v.decision == Deny {
			return v.r.str(v.reason)
		}
	}
	return nil
}

func (v *verdictValue) Has(key string) bool {
	return key == "decision" || key == "reason" && v.decision == Deny
}
func (v *verdictValue) Set(string, goja.Value) bool { return false }
func (v *verdictValue) Delete(string) bool          { return false }
func (v *verdictValue) Keys() []string {
	if v.decision == Deny {
		return []string{"decision", "reason"}
	}
	return []string{"decision"}
}

// allow() lets the call through.
func (r *runner) allow(goja.FunctionCall) goja.Value { return r.allowed }

// deny(reason) stops the call; the reason is shown to the caller.
func (r *runner) deny(c goja.FunctionCall) goja.Value {
	reason, ok := c.Argument(0).Export().(string)
	switch {
	case !ok || strings.TrimSpace(reason) == "":
		panic(r.vm.NewTypeError(`deny needs a reason, which the caller is shown: deny("why")`))
	case len(reason) > maxReason:
		panic(r.vm.NewTypeError("deny: the reason is %d bytes long; the limit is %d", len(reason), maxReason))
	}
	return r.verdict(&verdictValue{r: r, decision: Deny, reason: reason})
}

// annotate({key: value, ...}) lets the call through with annotations.
// Values are strings, numbers or booleans (recorded as text).
func (r *runner) annotate(c goja.FunctionCall) goja.Value {
	const usage = `annotate needs an object of strings: annotate({key: "value"})`
	o, ok := c.Argument(0).(*goja.Object)
	if !ok || o.ClassName() == "Array" || o.ClassName() == "Function" {
		panic(r.vm.NewTypeError(usage))
	}
	keys := o.GetOwnPropertyNames() // cheaper than Keys; an object literal's are all enumerable
	if len(keys) > maxAnnotations {
		panic(r.vm.NewTypeError("annotate: %d keys; the limit is %d", len(keys), maxAnnotations))
	}
	as := make([]annotation, 0, len(keys))
	for _, k := range keys {
		if len(k) > maxKey {
			panic(r.vm.NewTypeError("annotate: the key %q is %d bytes long; the limit is %d", clip(k, 20), len(k), maxKey))
		}
		v := o.Get(k)
		if !isScalar(v) {
			panic(r.vm.NewTypeError("annotate: the value of %q is %s; values are strings, numbers or booleans", k, describeValue(v)))
		}
		s := v.String()
		if len(s) > maxValue {
			panic(r.vm.NewTypeError("annotate: the value of %q is %d bytes long; the limit is %d", k, len(s), maxValue))
		}
		as = append(as, annotation{k, s})
	}
	return r.verdict(&verdictValue{r: r, decision: Annotate, annotations: as})
}

func (r *runner) verdict(v *verdictValue) *goja.Object {
	r.last, r.lastValue = r.vm.NewDynamicObject(v), v
	return r.last
}

// isScalar reports whether v is a string, a number or a boolean.
func isScalar(v goja.Value) bool {
	if _, isObj := v.(*goja.Object); isObj || v == nil {
		return false
	}
	t := v.ExportType()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.String, reflect.Int64, reflect.Float64, reflect.Bool:
		return true
	}
	return false
}
