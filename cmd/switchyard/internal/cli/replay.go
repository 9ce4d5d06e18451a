package cli

import (
	"fmt"
	"net/url"
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
		Short: "Re-run a session's recorded routing decisions and require the same outcome",
		Long: `Re-run the deterministic part of each recorded decision of a session: every model
call's routing decision made by a routing plugin is re-run with the module (by its
digest), configuration, targets, facts, clock and seed the log recorded, and must
choose the same targets for the same reason. A difference is a nondeterminism error
naming the event and both values, and the command exits with status 1.

A replay never calls a provider. Decisions it cannot re-run are listed with why: the
static router's depend on the gateway's configuration at the time, which the log
does not record.`,
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
				for _, d := range rep.Decisions {
					state := "same"
					switch {
					case !d.Replayed:
						state = "not replayed: " + d.Why
					case len(d.Mismatches) > 0:
						state = "DIFFERENT"
					}
					fmt.Fprintf(a.io.Out, "position %d  turn %s  call %s  %s → %s: %s\n", d.Position, dash(d.Turn), d.CallID, d.Router, strings.Join(d.Targets, ", "), state)
					for _, m := range d.Mismatches {
						fmt.Fprintf(a.io.Out, "    %s: recorded %q, replayed %q\n", m.Field, m.Recorded, m.Replayed)
					}
				}
			}
			a.summary("%d decision(s) replayed in %.1f ms, %d not replayable, %d difference(s)", rep.Replayed, rep.ElapsedMS, rep.NotReplayable, rep.Mismatches)
			if !rep.OK() {
				for _, d := range rep.Decisions {
					if len(d.Mismatches) > 0 {
						return d.Mismatches[0]
					}
				}
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().IntVar(&decision, "decision", 0, "replay only this decision (turn number)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "the report as one JSON object")
	return cmd
}
