package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/event"
)

func (a *app) callsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calls",
		Short: "Watch the model calls going through the gateway",
	}
	cmd.AddCommand(a.callsTailCmd())
	return cmd
}

func (a *app) callsTailCmd() *cobra.Command {
	var (
		addr, from string
		limit      int
		asJSON     bool
		attempts   bool
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print each model call as it finishes: who, which model where, tokens, cost, latency",
		Long: `Follow the event log and print one line per finished model call (model.call.completed
or model.call.failed), and budget refusals. --attempts adds the failed attempts
(retries and fallbacks) with their reasons. --json prints the events themselves.`,
		Example: `  switchyard calls tail
  switchyard calls tail --from end --attempts
  switchyard calls tail --json | jq .data.cost_usd`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			return a.tail(cmd.Context(), c, from, limit, func(data []byte) (bool, error) {
				var e event.Event
				if err := json.Unmarshal(data, &e); err != nil {
					return false, nil
				}
				line := callLine(&e, attempts)
				if line == "" {
					return false, nil
				}
				if asJSON {
					line = string(data)
				}
				_, err := fmt.Fprintln(a.io.Out, line)
				return true, err
			})
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&from, "from", "0", "first position (0: the start; end: only new calls)")
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "stop after this many lines (0: follow until Ctrl-C)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as JSON lines")
	cmd.Flags().BoolVar(&attempts, "attempts", false, "also print failed attempts (retries, fallbacks)")
	return cmd
}

// callLine formats a call event, or returns "" for other events.
func callLine(e *event.Event, attempts bool) string {
	who := func(a event.CallAttribution) string {
		parts := []string{a.KeyID}
		if e.Metadata.Team != "" {
			parts = append(parts, "team="+e.Metadata.Team)
		}
		if e.Metadata.User != "" {
			parts = append(parts, "user="+e.Metadata.User)
		}
		if a.Client != "" {
			parts = append(parts, a.Client)
		}
		return strings.Join(parts, " ")
	}
	ts := e.Time.Local().Format("15:04:05")
	switch e.Type {
	case "model.call.completed":
		var d event.ModelCallCompleted
		if json.Unmarshal(e.Data, &d) != nil {
			return ""
		}
		cost := fmt.Sprintf("$%.6f", d.CostUSD)
		if d.Unpriced {
			cost = "unpriced"
		}
		extra := ""
		if d.Attempts > 1 {
			extra += fmt.Sprintf(" attempts=%d", d.Attempts)
		}
		if d.Cancelled {
			extra += " cancelled"
		}
		if d.TTFTMS > 0 {
			extra += fmt.Sprintf(" ttft=%.0fms", d.TTFTMS)
		}
		return fmt.Sprintf("%s ok    %s → %s/%s in=%d out=%d cached=%d %s %.0fms%s [%s] %s",
			ts, d.RequestModel, d.Provider, d.ResponseModel, d.InputTokens, d.OutputTokens, d.CacheReadTokens, cost, d.LatencyMS, extra, who(d.CallAttribution), d.CallID)
	case "model.call.failed":
		var d event.ModelCallFailed
		if json.Unmarshal(e.Data, &d) != nil {
			return ""
		}
		return fmt.Sprintf("%s FAIL  %s → %s %s (%d): %s attempts=%d $%.6f [%s] %s",
			ts, d.RequestModel, dash(d.Provider), d.ErrorKind, d.Status, d.Message, d.Attempts, d.CostUSD, who(d.CallAttribution), d.CallID)
	case "budget.exceeded":
		var d event.BudgetExceeded
		if json.Unmarshal(e.Data, &d) != nil {
			return ""
		}
		return fmt.Sprintf("%s DENY  %s %s: %s %s", ts, d.Scope, d.Limit, d.Message, d.CallID)
	case "model.call.attempt":
		if !attempts {
			return ""
		}
		var d event.ModelCallAttempt
		if json.Unmarshal(e.Data, &d) != nil {
			return ""
		}
		return fmt.Sprintf("%s try#%d %s/%s %s (%d) → %s %.0fms backoff %s %s", ts, d.Attempt, d.Provider, d.Model, d.Outcome, d.Status, d.Next, d.BackoffMS, d.Reason, d.CallID)
	}
	return ""
}
