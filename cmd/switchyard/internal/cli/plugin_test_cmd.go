package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/conformance/routing"
	"github.com/switchyard/switchyard/plugins/wasm"
)

func (a *app) pluginTestCmd() *cobra.Command {
	var configFile, model, cacheDir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test FILE.wasm|DIR",
		Short: "Run the conformance suite against a routing plugin",
		Long: `test runs the checks every routing plugin must pass, those of conformance/routing under
go test, and prints a line per check:

  WellFormed           an answer, not an error, for edge inputs (no target healthy, 4,096 tags,
                       no targets, 1,003 targets, nothing priced, no budget left, no default route)
  Deterministic        the same answer to the same facts on three fresh instances and three
                       times on one
  TimeBudget           1,000 decisions, each within --timeout
  NoStateBetweenCalls  answering other facts in between does not change an answer (skipped
                       when the plugin's manifest declares that it keeps state)

It exits with 1 when a check fails. Given a directory, it builds the Go plugin there first, as
plugin build does.`,
		Example: `  switchyard plugin test ./myrouter
  switchyard plugin test myrouter.wasm --config myrouter.yaml --model gpt-5-mini`,
		Args: exactArgs(1, "FILE.wasm or DIR"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := readPluginConfig(configFile) // plugin install's
			if err != nil {
				return err
			}
			name, module, err := a.pluginModule(ctx, args[0])
			if err != nil {
				return err
			}
			results := routing.Check(ctx, module, routing.Options{Model: model, Config: cfg, Timeout: timeout, CacheDir: cacheDir})
			if err := ctx.Err(); err != nil {
				return err
			}
			var failed []string
			for _, r := range results {
				fmt.Fprintf(a.io.Out, "%s %s (%.2fs)\n", r.Status, r.Name, r.Elapsed.Seconds())
				for _, m := range r.Messages {
					for l := range strings.Lines(m) {
						fmt.Fprintf(a.io.Out, "    %s\n", strings.TrimSuffix(l, "\n"))
					}
				}
				if r.Status == routing.Fail {
					failed = append(failed, r.Name)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("plugin %s failed %s", name, strings.Join(failed, ", "))
			}
			a.summary("plugin %s (%s) passed the conformance suite", name, wasm.Digest(module))
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "the plugin's configuration, a .json, .yaml or .yml file (what goes under the gateway's routing_plugin.config)")
	f.StringVar(&model, "model", "claude-sonnet-4-5", "the requested model in the suite's facts")
	f.DurationVar(&timeout, "timeout", 10*time.Millisecond, "the time budget of one decision (the gateway's routing_plugin.timeout)")
	f.StringVar(&cacheDir, "cache-dir", "", "keep compiled modules in this directory between runs (default: compile afresh)")
	return cmd
}

// pluginModule reads the module at path, or builds the Go plugin in the
// directory at path, and names it after the file or the directory.
func (a *app) pluginModule(ctx context.Context, path string) (name string, module []byte, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if !fi.IsDir() {
		module, err = os.ReadFile(path)
		return strings.TrimSuffix(filepath.Base(path), ".wasm"), module, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	name = filepath.Base(abs)
	tmp, err := os.MkdirTemp("", "switchyard-plugin-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(tmp)
	module, err = a.buildPlugin(ctx, path, filepath.Join(tmp, name+".wasm"))
	return name, module, err
}

// buildPlugin builds the Go routing plugin in dir into out, the way the
// gateway loads it (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared),
// and returns the module. The go command's output goes to stderr.
func (a *app) buildPlugin(ctx context.Context, dir, out string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("building a plugin needs the Go toolchain (go) on PATH: %w", err)
	}
	build := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-o", out, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	build.Stdout, build.Stderr = a.io.Err, a.io.Err
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build in %s: %w", dir, err)
	}
	return os.ReadFile(out)
}
