package cli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/trace"
)

func (a *app) traceCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "trace SESSION/TURN",
		Short: "Show a decision as a tree: the turn, its model calls (routing, policies, attempts, tokens, cost), its tool calls",
		Long: `Draw one decision (a turn of a session) from the event log: the turn's prompt and
outcome, then in order each model call (with its routing decision, the plugin's
digest and reason, its policy verdicts and its attempts: retries and fallbacks),
each tool call with its result, and the total cost.

` + "`switchyard costs --by decision`" + ` and ` + "`switchyard session show`" + ` list decisions.`,
		Example: `  switchyard trace s0123456789abcdef/2
  switchyard trace s0123456789abcdef/2 --json | jq '.children[] | select(.kind=="model_call") | .cost_usd'`,
		Args: exactArgs(1, "SESSION/TURN"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			id, turn, err := trace.ParseDecision(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var n trace.Node
			if err := c.doJSON(cmd.Context(), "GET", fmt.Sprintf("/api/v1/sessions/%s/turns/%d/trace", url.PathEscape(id), turn), nil, &n); err != nil {
				return err
			}
			if asJSON {
				return writeLine(a.io.Out, n)
			}
			return trace.WriteText(a.io.Out, &n)
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "the tree as one JSON object")
	return cmd
}
