// Package wasm runs routing plugins: WASM modules that speak the ABI of
// sdk/routing/abi, under wazero.
//
// A Host compiles each module once (into an on-disk compilation cache when
// configured) and keeps a fixed pool of instances per plugin, created when
// the plugin is loaded: creating a Go wasip1 instance costs milliseconds
// and never happens on the request path. Each call is bounded: memory by a
// page limit, time by a deadline that the guest's loops check (see
// instrument) and that ends the call when it overruns. An instance that traps, overruns or answers garbage
// is thrown away and replaced in the background; a plugin that keeps
// failing is quarantined for a while, and its callers use their default
// route meanwhile.
//
// The guest sees only what the host gives it: the call's recorded clock
// as its wall time, a random stream seeded by the call's seed, no files,
// no network, no sleep. Same facts, same answer.
package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/sdk/routing/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config tunes a Host. Zero values take the defaults.
type Config struct {
	// CacheDir keeps compiled modules across restarts; empty compiles
	// afresh in each process.
	CacheDir string
	// MemoryLimitMB caps each instance's linear memory. Default 64.
	MemoryLimitMB int
	// Instances is the pool size per plugin: how many calls of one plugin
	// run at once. Default 4.
	Instances int
	// Timeout bounds one call. Default 10ms.
	Timeout time.Duration
	// QuarantineAfter consecutive failures quarantine a plugin for
	// QuarantineFor. Defaults 5 and 30s.
	QuarantineAfter int
	QuarantineFor   time.Duration
}

func (c *Config) setDefaults() {
	if c.MemoryLimitMB <= 0 {
		c.MemoryLimitMB = 64
	}
	if c.Instances <= 0 {
		c.Instances = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Millisecond
	}
	if c.QuarantineAfter <= 0 {
		c.QuarantineAfter = 5
	}
	if c.QuarantineFor <= 0 {
		c.QuarantineFor = 30 * time.Second
	}
}

// Host loads and runs plugins. It is safe for concurrent use.
type Host struct {
	cfg   Config
	log   *slog.Logger
	rt    wazero.Runtime
	cache wazero.CompilationCache
	mu    sync.Mutex
	live  map[*Plugin]bool
}

// NewHost starts a wazero runtime with WASI preview 1 (which Go's wasip1
// modules need) and the configured limits. A nil log discards.
func NewHost(ctx context.Context, cfg Config, log *slog.Logger) (*Host, error) {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(uint32(cfg.MemoryLimitMB) * 16) // 64 KiB pages
	// No WithCloseOnContextDone: instrument gives each loop a cheaper check.
	h := &Host{cfg: cfg, log: log, live: map[*Plugin]bool{}}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("plugin compilation cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugin compilation cache %s: %w", cfg.CacheDir, err)
		}
		h.cache = c
		rc = rc.WithCompilationCache(c)
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		h.rt.Close(ctx)
		return nil, fmt.Errorf("instantiate WASI: %w", err)
	}
	return h, nil
}

// Close unloads every plugin and stops the runtime.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	ps := make([]*Plugin, 0, len(h.live))
	for p := range h.live {
		ps = append(ps, p)
	}
	h.mu.Unlock()
	for _, p := range ps {
		p.Close(ctx)
	}
	err := h.rt.Close(ctx)
	if h.cache != nil {
		err = errors.Join(err, h.cache.Close(ctx))
	}
	return err
}

// Digest is a module's content digest, "sha256:<hex>": what a decision
// names so it can be traced to the exact plugin that made it.
func Digest(module []byte) string {
	sum := sha256.Sum256(module)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Load compiles module, checks that it speaks this ABI, configures it
// with config (nil for none; the plugin's own format, JSON for the
// built-in strategies) and fills its instance pool. name is how logs and
// events refer to it.
func (h *Host) Load(ctx context.Context, name string, module, config []byte) (*Plugin, error) {
	if err := checkExports(module); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	stoppable, err := instrument(module)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: not a valid WASM module: %w", name, err)
	}
	compiled, err := h.rt.CompileModule(ctx, stoppable)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: not a valid WASM module: %w", name, err)
	}
	if err := checkSignatures(compiled); err != nil {
		compiled.Close(ctx)
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	p := &Plugin{
		Name: name, Digest: Digest(module), Config: bytes.Clone(config), host: h, compiled: compiled,
		pool: newPool(h.cfg.Instances), stderr: &logWriter{log: h.log.With("plugin", name)},
	}
	if len(config) > 0 {
		p.ConfigDigest = Digest(config)
	}
	for i := range h.cfg.Instances {
		in, err := p.instantiate(ctx)
		if err == nil && i == 0 {
			p.Manifest, err = in.manifest()
		}
		if err != nil {
			if in != nil {
				in.mod.Close(ctx)
			}
			// Nothing has run yet: close what was made, without waiting
			// for the instances that were never made (Close would).
			p.closed.Store(true)
			for range i {
				<-p.pool.ready
				p.pool.take().mod.Close(ctx)
			}
			compiled.Close(ctx)
			return nil, fmt.Errorf("plugin %s: %w", name, err)
		}
		p.pool.put(in)
	}
	h.mu.Lock()
	h.live[p] = true
	h.mu.Unlock()
	h.log.Info("routing plugin loaded", "plugin", name, "digest", p.Digest, "instances", h.cfg.Instances)
	return p, nil
}

// abiSignatures are the ABI's exports' parameter and result types.
var abiSignatures = map[string][2][]api.ValueType{
	"sy_abi_version": {nil, {api.ValueTypeI32}},
	"sy_input":       {{api.ValueTypeI32}, {api.ValueTypeI32}},
	"sy_route":       {{api.ValueTypeI32}, {api.ValueTypeI32}},
	"sy_collect":     {nil, nil},
	"sy_configure":   {{api.ValueTypeI32}, {api.ValueTypeI32}},
	"sy_manifest":    {nil, {api.ValueTypeI32}},
}

// checkSignatures refuses a module whose ABI exports have other types, so
// that a plugin built for another ABI version fails at load with a reason
// rather than answering nonsense.
func checkSignatures(m wazero.CompiledModule) error {
	for name, fn := range m.ExportedFunctions() {
		want, ok := abiSignatures[name]
		if !ok {
			continue
		}
		if !slices.Equal(fn.ParamTypes(), want[0]) || !slices.Equal(fn.ResultTypes(), want[1]) {
			return fmt.Errorf("its export %s is (%s) -> (%s); ABI version %d needs (%s) -> (%s): rebuild it against a matching sdk/routing (see docs/routing-plugins.md)",
				name, typeNames(fn.ParamTypes()), typeNames(fn.ResultTypes()), abi.Version, typeNames(want[0]), typeNames(want[1]))
		}
	}
	return nil
}

func typeNames(ts []api.ValueType) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = api.ValueTypeName(t)
	}
	return strings.Join(names, ", ")
}

// logWriter re-logs a plugin's stderr, line by line, under its name.
type logWriter struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.log.Warn("plugin stderr", "line", string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 4096 {
		w.log.Warn("plugin stderr", "line", string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

var _ io.Writer = (*logWriter)(nil)
