package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/gateway/replay"
)

func (a *app) whatifCmd() *cobra.Command {
	var (
		addr, plugin, configFile, since, until string
		asJSON                                 bool
	)
	cmd := &cobra.Command{
		Use:   "whatif --plugin FILE.wasm",
		Short: "Run a routing plugin over past calls: which targets would change, the cost difference, budgets broken",
		Long: `Run a routing plugin over the calls of a past period, without calling any model, and
report which calls it would have sent elsewhere, what they would have cost and which
key budgets that would have broken.

Calls decided by a routing plugin are decided again from their recorded facts
(targets, health, clock, seed): exact. Others are decided from their recorded
request (model, API, token estimate, tags, key, agent) over the targets of today's
configuration, all taken as healthy. A moved call is priced on its recorded usage
(cached and reasoning tokens included) at the new target's price.`,
		Example: `  switchyard whatif --plugin cheapest.wasm --since 7d
  switchyard whatif --plugin rules.wasm --config finance.yaml --since yesterday --until today --json`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if plugin == "" {
				return usagef("--plugin FILE.wasm is required: the routing plugin to try (build one with `%s plugin build`)", a.io.Prog)
			}
			module, err := os.ReadFile(plugin)
			if err != nil {
				return err
			}
			config, err := readPluginConfig(configFile)
			if err != nil {
				return err
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			req := httpapi.WhatIfRequest{Name: strings.TrimSuffix(filepath.Base(plugin), ".wasm"), Module: module, Config: config, Since: since, Until: until}
			var rep replay.WhatIf
			if err := c.doJSON(cmd.Context(), "POST", "/api/v1/whatif", req, &rep); err != nil {
				return err
			}
			if asJSON {
				return writeLine(a.io.Out, rep)
			}
			return writeWhatIf(a, &rep)
		}),
	}
	a.addrFlag(cmd, &addr)
	f := cmd.Flags()
	f.StringVar(&plugin, "plugin", "", "the routing plugin to try (.wasm)")
	f.StringVar(&configFile, "config", "", "its configuration, a .json or .yaml file")
	f.StringVar(&since, "since", "7d", "from this time (7d, yesterday, 2026-12-01, RFC 3339)")
	f.StringVar(&until, "until", "", "up to this time, not included (default: now)")
	f.BoolVar(&asJSON, "json", false, "the report as one JSON object")
	return cmd
}

func writeWhatIf(a *app, rep *replay.WhatIf) error {
	w := a.io.Out
	fmt.Fprintf(w, "plugin %s (%s) over %d call(s): %d decided again (%d exact, %d from the request), %d would move\n",
		rep.Plugin, shortDigest(rep.Digest), rep.Calls, rep.Evaluated, rep.Exact, rep.Reconstructed, rep.Changed)
	fmt.Fprintf(w, "cost: recorded $%s, with the plugin $%s (%+.6f)\n", dollars(rep.RecordedCostUSD), dollars(rep.WhatIfCostUSD), rep.DeltaUSD)
	if len(rep.Moves) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tTO\tCALLS\tRECORDED $\tWITH PLUGIN $")
		for _, m := range rep.Moves {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", m.From, m.To, m.Calls, dollars(m.RecordedCostUSD), dollars(m.WhatIfCostUSD))
		}
		tw.Flush()
	}
	for _, b := range rep.Breaches {
		fmt.Fprintf(w, "BUDGET BROKEN: key %s (%s) %s budget $%s for %s: recorded $%s, with the plugin $%s\n",
			b.KeyID, dash(b.Name), b.Period, dollars(b.MaxUSD), b.Bucket, dollars(b.RecordedCostUSD), dollars(b.WhatIfCostUSD))
	}
	for why, n := range rep.NotEvaluated {
		fmt.Fprintf(w, "not decided again: %d call(s): %s\n", n, why)
	}
	if rep.PluginErrors > 0 {
		fmt.Fprintf(w, "the plugin failed on %d call(s): they would have taken the default route\n", rep.PluginErrors)
	}
	if rep.Unpriced > 0 {
		fmt.Fprintf(w, "%d moved call(s) went to a target with no price: counted at their recorded cost\n", rep.Unpriced)
	}
	return nil
}
