package cli

import (
	"context"
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

// adapters gives the session manager its adapters: each built-in one
// served by a plugin process of this binary, and the harness plugins
// found in --harness-plugins, each started on first use and supervised
// (restarted after a crash) from then on.
type adapters struct {
	bin    []string // where the CLIs are, before PATH
	self   string   // this executable
	inline bool     // run the built-ins in process (no plugin processes)
	log    *slog.Logger

	mu      sync.Mutex
	plugins map[string]*process.Plugin // by harness
	found   map[string]string          // harness -> third-party plugin binary
	clis    map[string]string          // harness -> CLI name
}

func newAdapters(bin []string, pluginDir string, inline bool, log *slog.Logger) *adapters {
	a := &adapters{bin: bin, inline: inline, log: log, plugins: map[string]*process.Plugin{}, found: map[string]string{}, clis: map[string]string{}}
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

// Adapter implements session.Adapters.
func (a *adapters) Adapter(ctx context.Context, name string) (harness.Adapter, string, error) {
	cli, ok := a.clis[name]
	if !ok {
		return nil, "", fmt.Errorf("harness %q has no adapter (there is %s; a plugin adds one: docs/sessions.md)", name, strings.Join(slices.Sorted(maps.Keys(a.clis)), ", "))
	}
	path, err := a.lookCLI(name, cli)
	if err != nil {
		return nil, "", err
	}
	if _, isBuiltin := builtin[name]; isBuiltin && a.found[name] == "" && a.inline {
		return builtin[name].adapter, path, nil
	}
	p, err := a.plugin(ctx, name)
	if err != nil {
		return nil, "", err
	}
	ad, err := harness.Dispense(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("harness %s: %w", name, err)
	}
	return ad, path, nil
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

// plugin returns the running plugin of a harness, starting it first.
func (a *adapters) plugin(ctx context.Context, name string) (*process.Plugin, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.plugins[name]; p != nil {
		return p, nil
	}
	cfg := process.Config{Name: "harness-" + name, Kind: harness.PluginKind, Versions: harness.HostVersions()}
	if path := a.found[name]; path != "" {
		cfg.Path = path
	} else {
		cfg.Path, cfg.Env = a.self, []string{envHarnessPlugin + "=" + name}
		if testing.Testing() {
			cfg.Env = append(cfg.Env, "SWITCHYARD_TEST_MAIN=1") // the test binary is switchyard only so
		}
	}
	p, err := process.Start(ctx, cfg, a.log)
	if err != nil {
		return nil, fmt.Errorf("start the %s adapter: %w", name, err)
	}
	a.plugins[name] = p
	return p, nil
}

// Close stops the plugin processes.
func (a *adapters) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.plugins {
		p.Close()
	}
	a.plugins = map[string]*process.Plugin{}
}
