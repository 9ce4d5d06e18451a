package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/gateway/httpapi"
)

func (a *app) sessionReplayCmd() *cobra.Command {
	var (
		addr    string
		prompts []string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Run a session's CLI again on a fresh workspace, served the recorded model answers",
		Long: `Replay a session with its real CLI (a harness replay): a new session of the same agent on
the same harness, on a fresh workspace, is given the same prompts turn after turn, and
the gateway answers its model calls with the answers the session recorded, in order,
instead of calling a provider. The tools the CLI runs run for real in the new workspace.

Each model call must match the recorded one (model, API, tools, and every message,
with the workspace path, session ids and dates set aside). The first that does not
stops the replay: the CLI gets an error, and the command prints what differed (which
call, which field or message, recorded against now) and exits with status 1. A replay
that matches to the end prints "retraced N calls of M turns".

--prompt N=TEXT gives turn N another prompt, to see where the session would part from
the recording. Prints the replay session's id on the first line.`,
		Example: `  switchyard session replay s0123456789abcdef
  switchyard session replay s0123456789abcdef --prompt 2="Now add a test"
  switchyard session replay s0123456789abcdef --json | jq .result`,
		Args: exactArgs(1, "ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			body := httpapi.SessionReplay{}
			for _, p := range prompts {
				n, text, ok := strings.Cut(p, "=")
				turn, err := strconv.Atoi(n)
				if !ok || err != nil || turn < 1 {
					return usagef("--prompt %q: write TURN=TEXT, e.g. --prompt 2=\"Now add a test\"", p)
				}
				if body.Prompts == nil {
					body.Prompts = map[int]string{}
				}
				body.Prompts[turn] = text
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var started struct {
				Session session.Session `json:"session"`
			}
			if err := c.doJSON(ctx, "POST", "/api/v1/sessions/"+url.PathEscape(args[0])+"/retrace", body, &started); err != nil {
				return err
			}
			id := started.Session.ID
			if !asJSON {
				fmt.Fprintln(a.io.Out, id)
			}
			a.summary("replaying session %s as %s (agent %s, %s); follow it with `%s session logs -f %s`", args[0], id, started.Session.Agent, started.Session.Harness, a.io.Prog, id)
			var st httpapi.ReplayStatus
			for st.Result == nil {
				if err := c.doJSON(ctx, "GET", "/api/v1/sessions/"+url.PathEscape(id)+"/retrace?wait=30s", nil, &st); err != nil {
					return err
				}
			}
			r := st.Result
			if asJSON {
				if err := writeLine(a.io.Out, st); err != nil {
					return err
				}
			} else {
				switch {
				case r.Outcome == session.ReplayRetraced:
					fmt.Fprintln(a.io.Out, r.Summary())
				case r.Divergence != nil:
					fmt.Fprintln(a.io.Out, r.Divergence.String())
				default:
					fmt.Fprintln(a.io.Out, r.Summary())
				}
			}
			if r.Outcome != session.ReplayRetraced {
				return errors.New("the replay of " + args[0] + " " + r.Summary())
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringArrayVar(&prompts, "prompt", nil, "TURN=TEXT: give turn TURN this prompt instead of the recorded one (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the replay's status and result as one JSON object (no id line)")
	return cmd
}
