package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/harnesses/claudecode"
	"github.com/switchyard/switchyard/harnesses/codex"
	"github.com/switchyard/switchyard/harnesses/opencode"
	"github.com/switchyard/switchyard/plugins/process"
	"github.com/switchyard/switchyard/sdk/harness"
)

// builtin are the adapters compiled into the binary, by harness, with
// the CLI each runs.
var builtin = map[string]struct {
	adapter harness.Adapter
	cli     string
}{
	claudecode.Name: {claudecode.Adapter{}, "claude"},
	codex.Name:      {codex.Adapter{}, "codex"},
	opencode.Name:   {opencode.Adapter{}, "opencode"},
}

// envHarnessPlugin, set to a built-in harness's name, makes this binary
// that harness's adapter plugin: serve runs each built-in adapter as a
// plugin process of its own executable, as it runs third-party ones, so
// an adapter that crashes takes only its sessions with it.
const envHarnessPlugin = "SWITCHYARD_HARNESS_PLUGIN"

// serveHarnessPlugin is main for a built-in adapter's plugin process.
func serveHarnessPlugin(name string) int {
	b, ok := builtin[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q is not a built-in harness (there is %s)\n", envHarnessPlugin, name, strings.Join(slices.Sorted(maps.Keys(builtin)), ", "))
		return 2
	}
	harness.Serve(process.Description{Name: "harness-" + name, Version: Version()}, b.adapter)
	return 0
}

// adapters gives the session manager its adapters: each turn gets an
// adapter process of its own, a plugin process of this binary for the
// built-in ones, or of the harness plugins found in --harness-plugins,
// so that an adapter that crashes interrupts its own session and no
// other. A spare process per harness is kept started, so that a turn
// does not wait for one.
type adapters struct {
	bin    []string // where the CLIs are, before PATH
	self   string   // this executable
	inline bool     // run the built-ins in process (no plugin processes)
	log    *slog.Logger

	found map[string]string // harness -> third-party plugin binary
	clis  map[string]string // harness -> CLI name

	mu     sync.Mutex
	spares map[string]*process.Plugin // by harness
	live   map[*process.Plugin]bool   // every process started, until closed
	closed bool
}

func newAdapters(bin []string, pluginDir string, inline bool, log *slog.Logger) *adapters {
	a := &adapters{bin: bin, inline: inline, log: log, found: map[string]string{}, clis: map[string]string{},
		spares: map[string]*process.Plugin{}, live: map[*process.Plugin]bool{}}
	if self, err := os.Executable(); err == nil {
		a.self = self
	} else {
		a.inline = true
	}
	for name, b := range builtin {
		a.clis[name] = b.cli
	}
	if pluginDir != "" {
		found, skipped := process.Discover(pluginDir)
		for _, s := range skipped {
			log.Warn("not a plugin", "path", s.Path, "why", s.Reason)
		}
		for _, f := range found {
			d, err := process.Describe(context.Background(), f.Path)
			if err != nil || d.Kind != harness.PluginKind || d.Metadata["harness"] == "" {
				log.Warn("not a harness plugin", "path", f.Path, "err", err, "kind", d.Kind)
				continue
			}
			h := d.Metadata["harness"]
			a.found[h], a.clis[h] = f.Path, d.Metadata["cli"]
			log.Info("harness plugin", "harness", h, "path", f.Path)
		}
	}
	return a
}

// Warm starts a spare adapter process for each harness whose CLI is
// here, so that even the first session of each starts at once.
func (a *adapters) Warm() {
	if a.inline {
		return
	}
	for name, cli := range a.clis {
		if _, err := a.lookCLI(name, cli); err == nil {
			go a.fill(name)
		}
	}
}

// Check implements session.Adapters.
func (a *adapters) Check(_ context.Context, name string) error {
	cli, ok := a.clis[name]
	if !ok {
		return fmt.Errorf("harness %q has no adapter (there is %s; a plugin adds one: docs/sessions.md)", name, strings.Join(slices.Sorted(maps.Keys(a.clis)), ", "))
	}
	_, err := a.lookCLI(name, cli)
	return err
}

// Adapter implements session.Adapters.
func (a *adapters) Adapter(ctx context.Context, name string) (harness.Adapter, string, func(), error) {
	if err := a.Check(ctx, name); err != nil {
		return nil, "", nil, err
	}
	path, _ := a.lookCLI(name, a.clis[name])
	if _, isBuiltin := builtin[name]; isBuiltin && a.found[name] == "" && a.inline {
		return builtin[name].adapter, path, func() {}, nil
	}
	p, err := a.take(ctx, name)
	if err != nil {
		return nil, "", nil, err
	}
	release := func() { a.stop(p) }
	ad, err := harness.Dispense(ctx, p)
	if err != nil {
		release()
		return nil, "", nil, fmt.Errorf("harness %s: %w", name, err)
	}
	return ad, path, release, nil
}

func (a *adapters) lookCLI(name, cli string) (string, error) {
	for _, dir := range a.bin {
		p := filepath.Join(dir, cli)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(cli)
	if err != nil {
		return "", fmt.Errorf("harness %s needs the %s CLI, which is not in --harness-bin (%s) or PATH: install it (`go tool task deps:clients` installs the pinned ones) and give its directory with --harness-bin or %s",
			name, cli, strings.Join(a.bin, ":"), envHarnessBin)
	}
	return p, nil
}

// take returns an adapter process of a harness for one turn: the spare
// if one is ready, else a new one; and starts the next spare.
func (a *adapters) take(ctx context.Context, name string) (*process.Plugin, error) {
	a.mu.Lock()
	p := a.spares[name]
	delete(a.spares, name)
	a.mu.Unlock()
	if p == nil || p.Status().State != process.Running {
		if p != nil {
			a.stop(p)
		}
		var err error
		if p, err = a.start(ctx, name); err != nil {
			return nil, err
		}
	}
	go a.fill(name)
	return p, nil
}

// fill starts a spare process for a harness, if it has none.
func (a *adapters) fill(name string) {
	a.mu.Lock()
	has := a.spares[name] != nil
	a.mu.Unlock()
	if has {
		return
	}
	p, err := a.start(context.Background(), name)
	if err != nil {
		a.log.Warn("could not start a spare adapter process", "harness", name, "err", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.spares[name] != nil {
		go a.stop(p)
		return
	}
	a.spares[name] = p
}

func (a *adapters) start(ctx context.Context, name string) (*process.Plugin, error) {
	cfg := process.Config{Name: "harness-" + name, Kind: harness.PluginKind, Versions: harness.HostVersions(),
		// One turn's process: a crash ends the turn, there is nothing to
		// restart it for.
		MaxFailures: 1}
	if path := a.found[name]; path != "" {
		cfg.Path = path
	} else {
		cfg.Path, cfg.Env = a.self, []string{envHarnessPlugin + "=" + name}
		if testing.Testing() {
			// The test binary is switchyard only so; and under -race it
			// sleeps a second at exit unless told not to.
			cfg.Env = append(cfg.Env, "SWITCHYARD_TEST_MAIN=1", "GORACE=atexit_sleep_ms=0")
		}
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, errors.New("the server is shutting down")
	}
	a.mu.Unlock()
	p, err := process.Start(ctx, cfg, a.log)
	if err != nil {
		return nil, fmt.Errorf("start the %s adapter: %w", name, err)
	}
	a.mu.Lock()
	a.live[p] = true
	a.mu.Unlock()
	return p, nil
}

func (a *adapters) stop(p *process.Plugin) {
	p.Close()
	a.mu.Lock()
	delete(a.live, p)
	a.mu.Unlock()
}

// Close stops every adapter process.
func (a *adapters) Close() {
	a.mu.Lock()
	a.closed = true
	live := slices.Collect(maps.Keys(a.live))
	a.spares = map[string]*process.Plugin{}
	a.mu.Unlock()
	for _, p := range live {
		a.stop(p)
	}
}
