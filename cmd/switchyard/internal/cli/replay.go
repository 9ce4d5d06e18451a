package cli

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/gateway/replay"
)

func (a *app) replayCmd() *cobra.Command {
	var (
		addr     string
		decision int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "replay SESSION",
		Short: "Re-run a session's recorded routing decisions, policy verdicts and budget checks and require the same outcome",
		Long: `Re-run the deterministic part of each recorded decision of a session: every model
call's routing decision made by a routing plugin is re-run with the module (by its
digest), configuration, targets, facts, clock and seed the log recorded, and must
choose the same targets for the same reason; every decision of the static router is
re-run with the routes it names (routing.routes.loaded), and must too; every JS policy verdict is re-run with
the source (by its digest), input, clock and seed the log recorded, in a runtime
that ran the policy's file and nothing else, and must give the same decision, reason
and annotations, and fail or not as it did; every budget check (a call a budget rule
applied to, admitted or refused) is re-run with the limits, scope state, estimate
and clock the log recorded, and must admit or refuse the call as it did, a refusal
by the same scope, limit and period with the same cap, amount in use and
retry-after. A difference is a nondeterminism error naming the event and both
values, and the command exits with status 1.

A replay never calls a provider. Decisions it cannot re-run are listed with why: the
static router's made before its routes were recorded, and verdicts and budget
refusals recorded before their input was, have nothing to re-run.`,
		Example: `  switchyard replay s0123456789abcdef
  switchyard replay s0123456789abcdef --decision 2
  switchyard replay s0123456789abcdef --json | jq '.decisions[] | select(.mismatches)'`,
		Args: exactArgs(1, "SESSION"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if decision < 0 {
				return usagef("--decision %d: a decision is a turn number from 1", decision)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			path := "/api/v1/sessions/" + url.PathEscape(args[0]) + "/replay"
			if decision > 0 {
				path += fmt.Sprintf("?turn=%d", decision)
			}
			var rep replay.Report
			if err := c.doJSON(cmd.Context(), "POST", path, nil, &rep); err != nil {
				return err
			}
			if asJSON {
				if err := writeLine(a.io.Out, rep); err != nil {
					return err
				}
			} else {
				printReplay(a, &rep)
			}
			a.summary("%d decision(s), verdict(s) and budget check(s) replayed in %.1f ms, %d not replayable, %d difference(s)", rep.Replayed, rep.ElapsedMS, rep.NotReplayable, rep.Mismatches)
			if m, found := rep.First(); found {
				return m
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().IntVar(&decision, "decision", 0, "replay only this decision (turn number)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "the report as one JSON object")
	return cmd
}

// printReplay writes the report's decisions, verdicts and budget checks
// in log order (a call's verdicts come first, then its budget check, on
// its model.call.started or budget.exceeded, then its routing decision),
// each with the values that differ.
func printReplay(a *app, rep *replay.Report) {
	type line struct {
		position uint64
		text     string
		ms       []replay.Mismatch
	}
	lines := make([]line, 0, len(rep.Decisions)+len(rep.Verdicts)+len(rep.BudgetChecks))
	for _, d := range rep.Decisions {
		lines = append(lines, line{d.Position, fmt.Sprintf("position %d  turn %s  call %s  %s → %s: %s",
			d.Position, dash(d.Turn), d.CallID, d.Router, strings.Join(d.Targets, ", "), replayState(d.Replayed, d.Why, d.Mismatches)), d.Mismatches})
	}
	for _, v := range rep.Verdicts {
		verdict := v.Decision
		if v.Reason != "" {
			verdict += fmt.Sprintf(" %q", v.Reason)
		}
		if v.Error != "" {
			verdict += " (failed)"
		}
		lines = append(lines, line{v.Position, fmt.Sprintf("position %d  turn %s  call %s  policy %s at %s → %s: %s",
			v.Position, dash(v.Turn), dash(v.CallID), v.Policy, v.Hook, verdict, replayState(v.Replayed, v.Why, v.Mismatches)), v.Mismatches})
	}
	for _, b := range rep.BudgetChecks {
		lines = append(lines, line{b.Position, fmt.Sprintf("position %d  turn %s  call %s  budget %s → %s: %s",
			b.Position, dash(b.Turn), b.CallID, dash(strings.Join(b.Scopes, ", ")), b.Summary(), replayState(b.Replayed, b.Why, b.Mismatches)), b.Mismatches})
	}
	slices.SortStableFunc(lines, func(x, y line) int { return cmp.Compare(x.position, y.position) })
	for _, l := range lines {
		fmt.Fprintln(a.io.Out, l.text)
		for _, m := range l.ms {
			fmt.Fprintf(a.io.Out, "    %s: recorded %q, replayed %q\n", m.Field, m.Recorded, m.Replayed)
		}
	}
}

// replayState says how a decision or verdict replayed.
func replayState(replayed bool, why string, ms []replay.Mismatch) string {
	switch {
	case !replayed:
		return "not replayed: " + why
	case len(ms) > 0:
		return "DIFFERENT"
	}
	return "same"
}
