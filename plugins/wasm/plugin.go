package wasm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// Plugin is a loaded routing plugin and its pool of instances.
type Plugin struct {
	Name   string
	Digest string // sha256 of the module
	// Config is what the plugin was configured with (sy_configure), and
	// ConfigDigest its sha256; empty without configuration. A decision is
	// reproducible from the module, the config and the facts.
	Config       []byte
	ConfigDigest string
	// Manifest is what the plugin declares about itself (sy_manifest).
	Manifest Manifest

	host     *Host
	compiled wazero.CompiledModule
	pool     *pool
	stderr   *logWriter
	closed   atomic.Bool
	wg       sync.WaitGroup // background replacements

	mu          sync.Mutex
	failures    int       // consecutive
	quarantined time.Time // until
	calls, errs atomic.Uint64
	collections atomic.Uint64
}

// Errors a call can end in. Each leaves the caller to use its default
// route; callers record which.
var (
	ErrQuarantined = errors.New("plugin is quarantined after repeated failures")
	ErrBusy        = errors.New("no plugin instance became free in time")
	ErrTimeout     = errors.New("plugin overran its time budget")
	ErrClosed      = errors.New("plugin is unloaded")
)

// instance is one instantiated module with its buffers and the clock and
// randomness the host gives it for the current call.
type instance struct {
	mod         api.Module
	input, rout api.Function
	collect     api.Function // sy_collect, optional
	memSize     uint32       // the memory's size after the last collection
	mem         api.Memory
	buf         []byte
	inPtr       uint32 // the guest's input buffer, from sy_input
	inCap       int    // and its size: reused while the facts fit
	stack       [1]uint64
	// deadline is when the current call's time budget runs out, on
	// monotonic(); the guest's sched_yield ends the call past it, and
	// timedOut records that it did.
	deadline int64
	timedOut bool

	clock  int64 // the call's wall time, Unix ns
	mono   int64 // monotonic clock, advancing per read
	seed   uint64
	seeded bool // rng is seeded with seed: seeding costs a ChaCha8 block, so it waits for the first read
	rng    *rand.ChaCha8
}

// epoch anchors monotonic.
var epoch = time.Now()

// monotonic is the host's monotonic clock in nanoseconds: what call
// deadlines are measured on.
func monotonic() int64 { return int64(time.Since(epoch)) }

// initTimeout bounds a new instance's initialization (Go's runtime and
// package init run in _initialize).
const initTimeout = 5 * time.Second

func (p *Plugin) instantiate(ctx context.Context) (*instance, error) {
	in := &instance{rng: rand.NewChaCha8([32]byte{})}
	cfg := wazero.NewModuleConfig().
		WithName("").         // anonymous: many instances of one module
		WithStartFunctions(). // _initialize is called below, within a time budget
		WithStderr(p.stderr).
		WithWalltime(func() (int64, int32) { return in.clock / 1e9, int32(in.clock % 1e9) }, 1).
		WithNanotime(func() int64 { in.mono += 1000; return in.mono }, 1).
		WithNanosleep(func(int64) {}). // no sleeping: a call that waits runs into its deadline
		WithOsyield(in.yield).         // instrument calls it every 10,000 loop iterations
		WithRandSource(randReader{in})
	mod, err := p.host.rt.InstantiateModule(ctx, p.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	fail := func(err error) (*instance, error) {
		mod.Close(ctx)
		return nil, err
	}
	in.mod = mod
	in.input, in.rout, in.mem = mod.ExportedFunction("sy_input"), mod.ExportedFunction("sy_route"), mod.Memory()
	in.collect = mod.ExportedFunction("sy_collect")
	if in.mem == nil {
		return fail(errors.New("the module exports no memory"))
	}
	if init := mod.ExportedFunction("_initialize"); init != nil {
		if err := in.within(initTimeout, init, nil); err != nil {
			return fail(in.callError("_initialize", err))
		}
	}
	var version [1]uint64
	if err := in.within(initTimeout, mod.ExportedFunction("sy_abi_version"), version[:]); err != nil {
		return fail(in.callError("sy_abi_version", err))
	}
	if uint32(version[0]) != abi.Version {
		return fail(fmt.Errorf("the module speaks ABI version %d; this gateway speaks %d: rebuild it against a matching sdk/routing", uint32(version[0]), abi.Version))
	}
	if err := in.configure(p); err != nil {
		return fail(err)
	}
	in.memSize = in.mem.Size()
	return in, nil
}

// configure hands the plugin its configuration: the bytes go into the
// input buffer, and sy_configure answers with the address of a str, empty
// when it accepts them. A plugin without sy_configure takes none.
func (in *instance) configure(p *Plugin) error {
	fn := in.mod.ExportedFunction("sy_configure")
	switch {
	case fn == nil && len(p.Config) > 0:
		return errors.New("the plugin takes no configuration (it does not export sy_configure): remove config")
	case fn == nil:
		return nil
	}
	stack := []uint64{uint64(len(p.Config))}
	if err := in.within(initTimeout, in.input, stack); err != nil {
		return in.callError("sy_input", err)
	}
	addr := uint32(stack[0])
	if len(p.Config) > 0 && (addr == 0 || !in.mem.Write(addr, p.Config)) {
		return fmt.Errorf("the plugin has no room for %d bytes of configuration", len(p.Config))
	}
	in.inCap = 0 // sy_input was called: the next decision asks again
	stack[0] = uint64(len(p.Config))
	if err := in.within(initTimeout, fn, stack); err != nil {
		return in.callError("sy_configure", err)
	}
	msg, err := in.readStr(uint32(stack[0]))
	if err != nil {
		return fmt.Errorf("sy_configure: %w", err)
	}
	if msg != "" {
		return fmt.Errorf("the plugin refused its configuration: %s", msg)
	}
	return nil
}

// readStr copies the str {addr u64, len u64} at addr out of the guest.
func (in *instance) readStr(addr uint32) (string, error) {
	hdr, ok := in.mem.Read(addr, 16)
	if !ok {
		return "", fmt.Errorf("returned address %d, outside the plugin's memory", addr)
	}
	at, n := binary.LittleEndian.Uint64(hdr), binary.LittleEndian.Uint64(hdr[8:])
	if n > abi.MaxString || at > math.MaxUint32 {
		return "", fmt.Errorf("returned a string of %d bytes at %d, out of bounds", n, at)
	}
	b, ok := in.mem.Read(uint32(at), uint32(n))
	if !ok {
		return "", fmt.Errorf("returned a string (address %d, %d bytes) outside the plugin's memory", at, n)
	}
	return string(b), nil
}

// Manifest is what a plugin declares about itself: its sy_manifest export
// returns the address of a str holding this as JSON.
type Manifest struct {
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	// Stateful declares that the plugin keeps state from one call to the
	// next on purpose (a counter for round robin, say). Such a decision
	// depends on the calls before it, so it cannot be replayed alone;
	// conformance/routing skips its no-state check.
	Stateful bool `json:"stateful,omitempty"`
}

// manifest reads the plugin's manifest, if it exports sy_manifest.
func (in *instance) manifest() (Manifest, error) {
	var m Manifest
	fn := in.mod.ExportedFunction("sy_manifest")
	if fn == nil {
		return m, nil
	}
	stack := []uint64{0}
	if err := in.within(initTimeout, fn, stack); err != nil {
		return m, in.callError("sy_manifest", err)
	}
	s, err := in.readStr(uint32(stack[0]))
	if err != nil {
		return m, fmt.Errorf("sy_manifest: %w", err)
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("sy_manifest: not a JSON manifest: %w", err)
	}
	return m, nil
}

// within calls fn with a time budget of d. A call that ends past its
// deadline is an overrun even if it returned: the caller must not use the
// instance again.
func (in *instance) within(d time.Duration, fn api.Function, stack []uint64) error {
	in.deadline = monotonic() + int64(d)
	return in.overran(fn.CallWithStack(context.Background(), stack))
}

// overran turns the result of a call that ended past its deadline into
// ErrTimeout, and marks the instance.
func (in *instance) overran(err error) error {
	if err == nil && monotonic() > in.deadline {
		in.timedOut = true
		err = ErrTimeout
	}
	return err
}

// errOverrun is what yield panics with to end an overrunning call.
var errOverrun = errors.New("overran its time budget")

// yield is the guest's sched_yield, which instrumented code calls every
// 10,000 loop iterations: where an overrunning call ends. Checking the
// clock here, on the calling goroutine, costs a call nothing until it
// loops, where a watchdog timer cost a Reset and a Stop on every call.
func (in *instance) yield() {
	if monotonic() > in.deadline {
		in.timedOut = true
		panic(errOverrun)
	}
}

// randReader is the guest's random source: the call's seed, through ChaCha8.
type randReader struct{ in *instance }

func (r randReader) Read(b []byte) (int, error) {
	in := r.in
	if !in.seeded {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], in.seed)
		in.rng.Seed(seed)
		in.seeded = true
	}
	return in.rng.Read(b)
}

// Stats are a plugin's counters.
type Stats struct {
	Calls, Errors uint64
	// Collections counts the guest garbage collections the host ran
	// because an instance's memory grew: a plugin whose decisions
	// allocate nothing has none after its first calls.
	Collections uint64
	Quarantined bool
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	p.mu.Lock()
	q := time.Now().Before(p.quarantined)
	p.mu.Unlock()
	return Stats{Calls: p.calls.Load(), Errors: p.errs.Load(), Collections: p.collections.Load(), Quarantined: q}
}

// Decide runs the plugin on f and fills d. On error d is unspecified and
// the caller uses its default route. ctx bounds the wait for a free
// instance; the call itself is bounded by the host's Timeout.
func (p *Plugin) Decide(ctx context.Context, f *abi.Facts, d *abi.Decision) error {
	if p.closed.Load() {
		return ErrClosed
	}
	p.calls.Add(1)
	if p.isQuarantined() {
		p.errs.Add(1)
		return ErrQuarantined
	}
	select {
	case <-p.pool.ready:
	default:
		t := time.NewTimer(p.host.cfg.Timeout)
		select {
		case <-p.pool.ready:
			t.Stop()
		case <-t.C:
			p.errs.Add(1)
			return ErrBusy
		case <-ctx.Done():
			t.Stop()
			p.errs.Add(1)
			return ctx.Err()
		}
	}
	in := p.pool.take()
	err := in.call(p.host.cfg.Timeout, f, d)
	if err == nil {
		p.succeeded()
		if in.collect != nil && in.mem.Size() != in.memSize {
			p.collectGarbage(in) // returns it to the pool when done
		} else {
			p.pool.put(in)
		}
		return nil
	}
	p.errs.Add(1)
	p.failed()
	// The instance may be in any state after a trap, a timeout or a bad
	// answer: throw it away and make a fresh one off the request path.
	in.mod.Close(context.Background())
	p.replace()
	return err
}

// call decides on f within one time budget for the whole exchange. A
// call that ends past its deadline is an overrun even if it returned, so
// the instance is not used again.
func (in *instance) call(timeout time.Duration, f *abi.Facts, d *abi.Decision) error {
	in.deadline = monotonic() + int64(timeout)
	return in.overran(in.decide(f, d))
}

func (in *instance) decide(f *abi.Facts, d *abi.Decision) error {
	ctx := context.Background() // the deadline, not ctx, ends overruns
	in.clock = f.Clock
	in.seed, in.seeded = f.Seed, false
	if size := abi.Size(f); size > in.inCap {
		// The guest's buffer stays valid until the next sy_input: ask
		// for a bigger one only when the facts outgrow it, rounded up to
		// 4 KiB so that facts growing a little do not ask every time.
		size = (size + 4095) &^ 4095
		in.stack[0] = uint64(size)
		if err := in.input.CallWithStack(ctx, in.stack[:]); err != nil {
			return in.callError("sy_input", err)
		}
		switch addr := uint32(in.stack[0]); {
		case addr == 0:
			in.inCap = 0
			return fmt.Errorf("the plugin has no room for %d bytes of facts (sy_input returned 0)", size)
		case addr%8 != 0:
			in.inCap = 0
			return fmt.Errorf("sy_input returned address %d, which is not a multiple of 8 as the facts need", addr)
		default:
			in.inPtr, in.inCap = addr, size
		}
	}
	in.buf = abi.AppendFacts(in.buf[:0], f, in.inPtr)
	if !in.mem.Write(in.inPtr, in.buf) {
		return fmt.Errorf("sy_input returned address %d, outside the plugin's memory", in.inPtr)
	}
	in.stack[0] = uint64(len(in.buf))
	if err := in.rout.CallWithStack(ctx, in.stack[:]); err != nil {
		return in.callError("sy_route", err)
	}
	if err := abi.ReadDecision(in.mem, uint32(in.stack[0]), d, len(f.Targets)); err != nil {
		return fmt.Errorf("malformed answer: %w", err)
	}
	if d.Error != "" {
		return fmt.Errorf("plugin error: %s", d.Error)
	}
	return nil
}

func (in *instance) callError(fn string, err error) error {
	if in.timedOut || errors.Is(err, ErrTimeout) {
		return ErrTimeout
	}
	// wazero appends the guest's stack trace; the first line says what
	// happened, which is what an event or a log line can carry.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%s trapped: %s", fn, msg)
}

func (p *Plugin) isQuarantined() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.quarantined.IsZero() && time.Now().Before(p.quarantined)
}

func (p *Plugin) succeeded() {
	p.mu.Lock()
	p.failures = 0
	p.mu.Unlock()
}

func (p *Plugin) failed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures++
	if p.failures >= p.host.cfg.QuarantineAfter {
		p.quarantined = time.Now().Add(p.host.cfg.QuarantineFor)
		p.failures = 0
		p.host.log.Warn("routing plugin quarantined", "plugin", p.Name, "digest", p.Digest, "for", p.host.cfg.QuarantineFor)
	}
}

// collectTimeout bounds a guest's garbage collection.
const collectTimeout = time.Second

// collectGarbage runs the guest's collector in the background and then
// returns the instance to the pool. A Go guest (sdk/routing) collects only
// when asked, so that no decision waits on a collection; the host asks
// when the guest's memory has grown, that is, when its free heap ran out.
func (p *Plugin) collectGarbage(in *instance) {
	p.collections.Add(1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		err := in.within(collectTimeout, in.collect, in.stack[:])
		if err != nil || p.closed.Load() {
			if err != nil {
				p.host.log.Warn("routing plugin: garbage collection failed; replacing the instance", "plugin", p.Name, "err", in.callError("sy_collect", err))
			}
			in.mod.Close(context.Background())
			p.replace()
			return
		}
		in.memSize = in.mem.Size()
		p.pool.put(in)
	}()
}

// replace makes a new instance for the pool in the background.
func (p *Plugin) replace() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for backoff := 10 * time.Millisecond; !p.closed.Load(); backoff = min(2*backoff, 5*time.Second) {
			in, err := p.instantiate(context.Background())
			if err == nil {
				if p.closed.Load() {
					in.mod.Close(context.Background())
					return
				}
				p.pool.put(in)
				return
			}
			p.host.log.Error("routing plugin: cannot replace an instance", "plugin", p.Name, "err", err)
			time.Sleep(backoff)
		}
	}()
}

// Close unloads the plugin: calls in progress finish, later ones fail
// with ErrClosed.
func (p *Plugin) Close(ctx context.Context) {
	if p.closed.Swap(true) {
		return
	}
	p.wg.Wait()
	for range cap(p.pool.ready) {
		select {
		case <-p.pool.ready:
			p.pool.take().mod.Close(ctx)
		case <-time.After(time.Second): // a call still running keeps its instance
		}
	}
	p.compiled.Close(ctx)
	p.host.mu.Lock()
	delete(p.host.live, p)
	p.host.mu.Unlock()
}
