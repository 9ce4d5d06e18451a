package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/gateway/httpapi"
)

func (a *app) sessionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "List and show sessions",
		Long: `A session is an agent's harness CLI working on a prompt, turn after turn, recorded as the
event stream session-<id>. A session whose server stopped while it ran is listed as
interrupted when the server starts again.`,
	}
	cmd.AddCommand(a.sessionListCmd(), a.sessionShowCmd())
	return cmd
}

func (a *app) sessionListCmd() *cobra.Command {
	var (
		addr, agentName, status string
		asJSON                  bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List sessions, oldest first",
		Example: `  switchyard session list
  switchyard session list --status interrupted --agent reviewer`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			q := url.Values{}
			if agentName != "" {
				q.Set("agent", agentName)
			}
			if status != "" {
				q.Set("status", status)
			}
			var out struct {
				Sessions []session.Session `json:"sessions"`
			}
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/sessions?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if asJSON {
				for _, s := range out.Sessions {
					if err := writeLine(a.io.Out, s); err != nil {
						return err
					}
				}
				return nil
			}
			if len(out.Sessions) == 0 {
				a.summary("no sessions")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tAGENT\tHARNESS\tSTATUS\tTURNS\tTOOL CALLS\tUPDATED\tPROMPT")
			for _, s := range out.Sessions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", s.ID, s.Agent, s.Harness, s.Status, s.Turns, s.ToolCalls,
					s.UpdatedAt.Local().Format(time.DateTime), truncate(strings.ReplaceAll(s.Prompt, "\n", " "), 40))
			}
			return tw.Flush()
		}),
	}
	a.addrFlag(cmd, &addr)
	f := cmd.Flags()
	f.StringVar(&agentName, "agent", "", "only this agent's sessions")
	f.StringVar(&status, "status", "", "only sessions in this status: running, idle, failed, interrupted, paused or stopped")
	f.BoolVar(&asJSON, "json", false, "one JSON object per session")
	return cmd
}

func (a *app) sessionShowCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a session and its timeline",
		Args:  exactArgs(1, "ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var d httpapi.SessionDetail
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/sessions/"+url.PathEscape(args[0]), nil, &d); err != nil {
				return err
			}
			if asJSON {
				return writeLine(a.io.Out, d)
			}
			s := d.Session
			fmt.Fprintf(a.io.Out, "session %s: agent %s (revision %d), %s, model %s\nstatus %s, %d turn(s), %d tool call(s), %d denial(s)\n",
				s.ID, s.Agent, s.AgentRevision, s.Harness, s.Model, s.Status, s.Turns, s.ToolCalls, s.Denials)
			if s.HarnessSessionID != "" {
				fmt.Fprintf(a.io.Out, "harness session %s\n", s.HarnessSessionID)
			}
			if s.LastError != "" {
				fmt.Fprintf(a.io.Out, "last error: %s\n", s.LastError)
			}
			fmt.Fprintln(a.io.Out)
			for _, e := range d.Events {
				printTimeline(a.io.Out, &e)
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "the session and its events as one JSON object")
	return cmd
}

// printTimeline prints one event of a session as a line for people.
func printTimeline(w io.Writer, e *event.Event) {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	str := func(k string) string { s, _ := m[k].(string); return s }
	what := ""
	switch e.Type {
	case "session.created":
		what = fmt.Sprintf("agent %s, %s: %q", str("agent"), str("harness"), str("prompt"))
	case "session.turn.started":
		what = fmt.Sprintf("turn %v (%s): %q", m["turn"], str("mode"), str("prompt"))
	case "session.turn.ended":
		what = fmt.Sprintf("turn %v %s", m["turn"], str("outcome"))
		if r := str("result"); r != "" {
			what += ": " + truncate(r, 80)
		}
		if r := str("error"); r != "" {
			what += ": " + r
		}
	case "session.interrupted", "session.paused", "session.stopped":
		what = str("reason")
	default:
		b, _ := json.Marshal(m)
		what = truncate(string(b), 120)
	}
	fmt.Fprintf(w, "%4d  %s  %-28s %s\n", e.StreamVersion, e.Time.Local().Format("15:04:05.000"), e.Type, what)
}
