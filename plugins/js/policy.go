package js

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// Config tunes a Policy. Zero values take the defaults.
type Config struct {
	// Runtimes is how many calls of the policy run at once. Pooled
	// runtimes are made, and the policy's file run in each, at load.
	// Default 4.
	Runtimes int
	// Fresh runs each call in a new runtime that runs the policy's file
	// first: no state survives from one call to the next, at the price of
	// tens of microseconds a call. By default runtimes are pooled and
	// keep their global state between calls.
	Fresh bool
	// Timeout bounds one call: running the hook function and, with Fresh,
	// the file. A call that overruns is interrupted and fails. Default 5ms.
	Timeout time.Duration
	// LoadTimeout bounds running the file in a pooled runtime at load.
	// Default 1s.
	LoadTimeout time.Duration
	// OnError is the decision of a call that fails (throws, overruns,
	// returns no verdict): Allow, fail open (the default), or Deny, fail
	// closed.
	OnError Decision
	// QuarantineAfter consecutive failures quarantine the policy for
	// QuarantineFor: its calls take OnError at once, without running.
	// Defaults 5 and 30s; a negative QuarantineAfter never quarantines.
	QuarantineAfter int
	QuarantineFor   time.Duration
}

func (c *Config) setDefaults() {
	if c.Runtimes <= 0 {
		c.Runtimes = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Millisecond
	}
	if c.LoadTimeout <= 0 {
		c.LoadTimeout = time.Second
	}
	if c.OnError == "" {
		c.OnError = Allow
	}
	if c.QuarantineAfter == 0 {
		c.QuarantineAfter = 5
	}
	if c.QuarantineFor <= 0 {
		c.QuarantineFor = 30 * time.Second
	}
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	if c.OnError != Allow && c.OnError != Deny {
		return fmt.Errorf("on_error is %q: it must be %q (fail open) or %q (fail closed)", c.OnError, Allow, Deny)
	}
	if c.Runtimes > 1024 {
		return fmt.Errorf("runtimes is %d: the limit is 1024", c.Runtimes)
	}
	return nil
}

// Policy is a loaded JS policy and its runtimes. It is safe for
// concurrent use.
type Policy struct {
	name, digest, file string
	src                string // kept for Source: hosts record it
	cfg                Config
	log                *slog.Logger
	prog               *goja.Program // compiled once, shared by every runtime
	hooks              [len(hookList)]bool

	pool   chan *runner
	closed atomic.Bool

	failures    atomic.Int32 // consecutive
	quarantined atomic.Int64 // until, Unix ns; 0 when not
}

// Digest is a policy source's content digest, "sha256:<hex>": what a
// verdict names so it can be traced to the exact source that made it.
func Digest(src []byte) string {
	sum := sha256.Sum256(src)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// epoch is the clock a pooled runtime's file runs with at load.
var epoch = time.Unix(0, 0).UTC()

// Load compiles src, runs it in each of its runtimes and checks that it
// defines at least one hook function. name is how verdicts, events and
// logs refer to it, and the file name its errors give. A nil log
// discards.
func Load(name string, src []byte, cfg Config, log *slog.Logger) (*Policy, error) {
	return load(name, name, src, cfg, log)
}

// LoadSource loads src as the source of the policy in file, as LoadFile
// would load it from there: its errors and stack traces name file. A
// replay loads a recorded source so.
func LoadSource(name, file string, src []byte, cfg Config, log *slog.Logger) (*Policy, error) {
	return load(name, file, src, cfg, log)
}

// LoadFile loads the policy in the file at path. An empty name means the
// file's name without its extension.
func LoadFile(name, path string, cfg Config, log *slog.Logger) (*Policy, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return load(name, path, src, cfg, log)
}

func load(name, file string, src []byte, cfg Config, log *slog.Logger) (*Policy, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prog, err := compile(file, src)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	p := &Policy{
		name: name, digest: Digest(src), file: file, src: string(src), cfg: cfg, log: log.With("policy", name),
		prog: prog, pool: make(chan *runner, cfg.Runtimes),
	}
	for i := range cfg.Runtimes {
		r := newRunner(p)
		if i == 0 || !cfg.Fresh {
			if err := r.load(epoch, 0, cfg.LoadTimeout); err != nil {
				p.Close()
				return nil, fmt.Errorf("policy %s: running %s: %w", name, file, err)
			}
		}
		if i == 0 {
			for h := range hookList {
				p.hooks[h] = r.fns[h] != nil
			}
			if p.hooks == [len(hookList)]bool{} {
				p.Close()
				return nil, fmt.Errorf("policy %s: %s defines none of the hook functions %s, %s, %s or %s: define at least one, e.g. function before_model_call(call) { return allow() }",
					name, file, hookList[0], hookList[1], hookList[2], hookList[3])
			}
			if cfg.Fresh {
				r.unload()
			}
		}
		p.pool <- r
	}
	var hooks []string
	for i, h := range hookList {
		if p.hooks[i] {
			hooks = append(hooks, string(h))
		}
	}
	p.log.Info("policy loaded", "digest", p.digest, "hooks", hooks, "runtimes", cfg.Runtimes, "fresh", cfg.Fresh)
	return p, nil
}

// compile parses and compiles a policy's source, in strict mode:
// assigning to an undeclared variable, or to a field of the input, is an
// error rather than silently nothing. Its error names the file, line and
// column of the first mistake.
func compile(file string, src []byte) (*goja.Program, error) {
	const fix = "fix the source and load it again"
	ast, err := parser.ParseFile(nil, file, string(src), 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			e := list[0]
			more := ""
			if len(list) > 1 {
				more = fmt.Sprintf(" (and %d more errors)", len(list)-1)
			}
			return nil, fmt.Errorf("syntax error at %s:%d:%d: %s%s: %s",
				file, e.Position.Line, e.Position.Column, e.Message, more, fix)
		}
		return nil, fmt.Errorf("syntax error in %s: %v: %s", file, err, fix)
	}
	prog, err := goja.CompileAST(ast, true)
	if err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) && se.File != nil {
			pos := se.File.Position(se.Offset)
			return nil, fmt.Errorf("syntax error at %s:%d:%d: %s: %s", file, pos.Line, pos.Column, se.Message, fix)
		}
		return nil, fmt.Errorf("compile %s: %v: %s", file, err, fix)
	}
	return prog, nil
}

// Name is the policy's name.
func (p *Policy) Name() string { return p.name }

// Digest is the policy source's content digest, "sha256:<hex>".
func (p *Policy) Digest() string { return p.digest }

// File is the file the policy was loaded from: its name, for Load.
func (p *Policy) File() string { return p.file }

// Source is the policy's source, whose digest Digest is.
func (p *Policy) Source() string { return p.src }

// Config is the policy's configuration, defaults filled in.
func (p *Policy) Config() Config { return p.cfg }

// Hooks lists the hooks the policy handles.
func (p *Policy) Hooks() []Hook {
	var hs []Hook
	for i, h := range hookList {
		if p.hooks[i] {
			hs = append(hs, h)
		}
	}
	return hs
}

// Handles reports whether the policy defines h's function. Evaluate at a
// hook the policy does not handle allows at once; a caller recording
// verdicts asks Handles first (a Set does).
func (p *Policy) Handles(h Hook) bool {
	i := hookIndex(h)
	return i >= 0 && p.hooks[i]
}

// Quarantined reports whether the policy is quarantined now.
func (p *Policy) Quarantined() bool {
	u := p.quarantined.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// Evaluate runs the policy's function for in's hook and returns its
// verdict. It always returns one: when the policy fails, the verdict is
// the configured OnError decision with Err saying why. ctx bounds the
// wait for a free runtime; the call itself is bounded by Timeout.
func (p *Policy) Evaluate(ctx context.Context, in Input) Verdict {
	return p.evaluate(ctx, in, false)
}

// Replay evaluates in on a runtime that has run the policy's file and
// nothing else, as at load: a pooled runtime runs it with clock 0 and
// seed 0, a fresh one with the call's (as Evaluate does). Given a
// recorded input, clock and seed (InputOf), a policy whose verdicts
// depend on them alone gives the verdict it recorded; one that keeps
// state in globals from call to call may not, which is what a replay is
// there to find. It is slower than Evaluate by the file's run, and
// resets the global state of the pooled runtime it runs on.
func (p *Policy) Replay(ctx context.Context, in Input) Verdict {
	return p.evaluate(ctx, in, true)
}

// evaluate is Evaluate, on a runtime just loaded when clean.
func (p *Policy) evaluate(ctx context.Context, in Input, clean bool) (v Verdict) {
	start := time.Now()
	v = Verdict{Policy: p.name, Digest: p.digest, Decision: Allow, Fresh: p.cfg.Fresh}
	defer func() {
		if x := recover(); x != nil {
			p.fail(&v, fmt.Errorf("%w: %v", ErrPanic, x), false)
		}
		v.Duration = time.Since(start)
	}()
	if in == nil {
		p.fail(&v, errors.New("no input: the host called Evaluate with nil"), false)
		return v
	}
	v.Hook = in.Hook()
	callID, now, seed := in.env()
	if now.IsZero() {
		now = start
	}
	v.CallID, v.Clock, v.Seed, v.Input = callID, now, seed, in
	i := hookIndex(v.Hook)
	if !p.hooks[i] {
		return v
	}
	if p.closed.Load() {
		p.fail(&v, ErrClosed, false)
		return v
	}
	if u := p.quarantined.Load(); u != 0 && start.UnixNano() < u {
		p.fail(&v, ErrQuarantined, false)
		return v
	}
	r, err := p.acquire(ctx)
	if err != nil {
		p.fail(&v, err, false)
		return v
	}
	if clean && !p.cfg.Fresh {
		// As the pool's runtimes were loaded (a fresh runner has no
		// runtime: run loads it with the call's clock and seed).
		if err := r.load(epoch, 0, p.cfg.LoadTimeout); err != nil {
			p.release(r)
			p.fail(&v, err, true)
			return v
		}
	}
	res, err := p.run(r, i, in, now, seed)
	p.release(r)
	if err != nil {
		p.fail(&v, err, true)
		return v
	}
	if p.failures.Load() != 0 {
		p.failures.Store(0)
	}
	v.Decision, v.Reason, v.Annotations = res.decision, res.reason, res.annotationMap()
	return v
}

// run makes the call on r, loading r first if it has no runtime (Fresh,
// or a pooled runtime being replaced), all within the time budget.
func (p *Policy) run(r *runner, i int, in Input, now time.Time, seed uint64) (verdictValue, error) {
	budget := p.cfg.Timeout
	if r.vm == nil {
		t0 := time.Now()
		if err := r.load(now, seed, budget); err != nil {
			return verdictValue{}, err
		}
		if budget -= time.Since(t0); budget <= 0 {
			return verdictValue{}, fmt.Errorf("%w (%s) running the file", ErrTimeout, p.cfg.Timeout)
		}
	}
	return r.call(i, in, now, seed, budget)
}

// waitingForRuntime begins the error of a call whose ctx ended while it
// waited for a runtime.
const waitingForRuntime = "waiting for a free runtime"

// acquire takes a free runner, waiting up to a time budget for one.
func (p *Policy) acquire(ctx context.Context) (*runner, error) {
	select {
	case r := <-p.pool:
		return r, nil
	default:
	}
	t := time.NewTimer(p.cfg.Timeout)
	defer t.Stop()
	select {
	case r := <-p.pool:
		return r, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", waitingForRuntime, ctx.Err())
	}
}

// release returns r to the pool: as it is when pooled, without its
// runtime when fresh, and with a new runtime (made in the background)
// when the call broke it.
func (p *Policy) release(r *runner) {
	switch {
	case p.cfg.Fresh:
		r.unload()
	case r.broken:
		r.unload()
		go func() {
			if p.closed.Load() {
				return
			}
			if err := r.load(epoch, 0, p.cfg.LoadTimeout); err != nil {
				// The next call on r tries again, within its budget.
				p.log.Error("policy: cannot replace a runtime", "err", err)
			}
			p.pool <- r
		}()
		return
	}
	p.pool <- r
}

// fail makes v the policy's OnError verdict for err. failure says whether
// err is the policy's own doing, which counts towards quarantine.
func (p *Policy) fail(v *Verdict, err error, failure bool) {
	v.Err = err
	v.Decision, v.Reason, v.Annotations = p.cfg.OnError, "", nil
	if v.Decision == Deny {
		v.Reason = "policy " + p.name + " failed and is set to deny on error"
	}
	if !failure || p.cfg.QuarantineAfter < 0 {
		return
	}
	if n := p.failures.Add(1); int(n) >= p.cfg.QuarantineAfter {
		p.failures.Store(0)
		p.quarantined.Store(time.Now().Add(p.cfg.QuarantineFor).UnixNano())
		p.log.Warn("policy quarantined after repeated failures", "digest", p.digest, "for", p.cfg.QuarantineFor, "err", err)
	}
}

// Close unloads the policy: calls in progress finish, later ones fail
// with ErrClosed (and take OnError). Close is idempotent.
func (p *Policy) Close() {
	if p.closed.Swap(true) {
		return
	}
	for {
		select {
		case r := <-p.pool:
			r.dog.Stop()
			r.unload()
		default:
			return
		}
	}
}
