package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

func (a *app) pluginCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Start, build, test, install and enable routing plugins (WASM)",
		Long: `A routing plugin is a WASM module that decides where each model call goes; the gateway
runs it in-process (gateway.routing_plugin in the config). See docs/routing-plugins.md.`,
	}
	cmd.AddCommand(a.pluginInstallCmd(), a.pluginListCmd(), a.pluginEnableCmd(), a.pluginDisableCmd())
	cmd.AddCommand(a.pluginBuildCmd(), a.pluginCheckCmd(), a.pluginNewCmd(), a.pluginTestCmd())
	return cmd
}

func (a *app) pluginBuildCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build a Go routing plugin (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared)",
		Example: `  switchyard plugin build ./myplugin -o myplugin.wasm
  switchyard plugin check myplugin.wasm`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if out == "" {
				abs, err := filepath.Abs(dir)
				if err != nil {
					return err
				}
				out = filepath.Base(abs) + ".wasm"
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return err
			}
			module, err := a.buildPlugin(cmd.Context(), dir, abs)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Out, "%s %s\n", out, wasm.Digest(module))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the .wasm file to write (default: the directory's name)")
	return cmd
}

func (a *app) pluginCheckCmd() *cobra.Command {
	var model string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check FILE.wasm",
		Short: "Load a routing plugin as the gateway would and run one decision",
		Long: `check compiles the module, fills its instance pool, checks the ABI and asks it for one
decision on sample facts (three targets, the first two as the default route), then prints the
plugin's digest, the decision and how long it took.`,
		Args: exactArgs(1, "FILE.wasm"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			module, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout <= 0 {
				return fmt.Errorf("--timeout %s: a time budget is above 0", timeout)
			}
			h, err := wasm.NewHost(ctx, wasm.Config{Instances: 1, Timeout: timeout}, nil)
			if err != nil {
				return err
			}
			defer h.Close(context.WithoutCancel(ctx))
			name := strings.TrimSuffix(filepath.Base(args[0]), ".wasm")
			p, err := h.Load(ctx, name, module, nil)
			if err != nil {
				return err
			}
			f := sampleFacts(model)
			var d abi.Decision
			start := time.Now()
			if err := p.Decide(ctx, f, &d); err != nil {
				if errors.Is(err, wasm.ErrTimeout) {
					return fmt.Errorf("plugin %s: %w (--timeout %s): a busy machine can slow a first call; if a larger --timeout does not help, the plugin does not end", name, err, timeout)
				}
				return fmt.Errorf("plugin %s: %w", name, err)
			}
			took := time.Since(start)
			fmt.Fprintf(a.io.Out, "plugin   %s\ndigest   %s\nmodel    %s\n", name, p.Digest, f.Model)
			for i, t := range d.Targets {
				fmt.Fprintf(a.io.Out, "target %d %s/%s\n", i+1, f.Targets[t].Provider, f.Targets[t].Model)
			}
			fmt.Fprintf(a.io.Out, "reason   %s\ntook     %s (the first call of a fresh instance)\n", d.Reason, took.Round(time.Microsecond))
			return nil
		}),
	}
	cmd.Flags().StringVar(&model, "model", "claude-sonnet-4-5", "the requested model in the sample facts")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Millisecond, "the decision's time budget (the gateway's default is 10ms)")
	return cmd
}

func sampleFacts(model string) *abi.Facts {
	return &abi.Facts{
		Clock: time.Now().UnixMilli() * 1e6, Seed: 1, Model: model, API: "anthropic.messages",
		EstimatedTokens: 2000, Tools: true, CallID: "check", KeyID: "check", Team: "eng", TaskType: "review",
		Tags:          []abi.Tag{{Key: "task", Value: "review"}},
		BudgetLeftUSD: -1,
		Targets: []abi.Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Tools: true, InputUSDPerMTok: 3, OutputUSDPerMTok: 15, ContextWindow: 200000},
			{Provider: "openai", Model: "gpt-5-mini", Tools: true, InputUSDPerMTok: 0.25, OutputUSDPerMTok: 2, ContextWindow: 400000},
			{Provider: "gemini", Model: "gemini-2.5-flash", Tools: true, RateLimited: true, InputUSDPerMTok: 0.3, OutputUSDPerMTok: 2.5, ContextWindow: 1000000},
		},
		Default: []int{0, 1},
	}
}
