package cli

import (
	"context"
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
	"github.com/switchyard/switchyard/gateway/sse"
)

func (a *app) sessionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Start, follow, continue, resume, pause, stop and fork sessions",
		Long: `A session is an agent's harness CLI working on a prompt, turn after turn, recorded as the
event stream session-<id>. A session whose server stopped while it ran is listed as
interrupted when the server starts again.`,
	}
	cmd.AddCommand(a.sessionStartCmd(), a.sessionListCmd(), a.sessionShowCmd(), a.sessionLogsCmd(),
		a.sessionActionCmd("send", "send ID PROMPT", "Continue a session with a new prompt (through the harness's resume)", true),
		a.sessionActionCmd("resume", "resume ID", "Resume an interrupted, paused or failed session with the same harness session", false),
		a.sessionActionCmd("pause", "pause ID", "Stop a session's running turn, to resume it later", false),
		a.sessionActionCmd("stop", "stop ID", "End a session for good", false),
		a.sessionForkCmd(), a.sessionReplayCmd())
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
			switch {
			case s.ForkAt > 0:
				fmt.Fprintf(a.io.Out, "fork of %s at turn %d%s\n", s.ForkOf, s.ForkAt, forkChanges(s.Changes))
			case s.ForkOf != "":
				fmt.Fprintf(a.io.Out, "fork of %s\n", s.ForkOf)
			case s.ReplayOf != "":
				fmt.Fprintf(a.io.Out, "replay of %s\n", s.ReplayOf)
			}
			if s.LastError != "" {
				fmt.Fprintf(a.io.Out, "last error: %s\n", s.LastError)
			}
			fmt.Fprintf(a.io.Out, "ran %s\n", (time.Duration(s.RunningMS) * time.Millisecond).String())
			if u := d.Usage; u != nil {
				printSessionUsage(a.io.Out, u)
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

// printSessionUsage prints what a session's model calls cost: in all,
// by model, by decision.
func printSessionUsage(w io.Writer, u *httpapi.SessionUsage) {
	t := u.Total
	fmt.Fprintf(w, "cost $%s: %d model call(s), %s input (%s cached), %s output tokens", dollars(t.CostUSD), t.Calls,
		count(t.InputTokens), count(t.CacheReadTokens), count(t.OutputTokens))
	if t.Retries+t.Fallbacks > 0 {
		fmt.Fprintf(w, "; %d retries, %d fallbacks ($%s, $%s)", t.Retries, t.Fallbacks, dollars(t.RetryCostUSD), dollars(t.FallbackCostUSD))
	}
	fmt.Fprintln(w)
	for _, m := range u.Models {
		fmt.Fprintf(w, "  %s/%s: %d call(s), $%s\n", m.Group["provider"], m.Group["model"], m.Calls, dollars(m.CostUSD))
	}
	for _, d := range u.Decisions {
		name := d.Group["decision"]
		if name == "" {
			name = "outside a turn"
		}
		fmt.Fprintf(w, "  decision %s: %d call(s), $%s\n", name, d.Calls, dollars(d.CostUSD))
	}
}

func fnum(v any) float64 { f, _ := v.(float64); return f }

func num(v any) any {
	if v == nil {
		return 0
	}
	return v
}

// printTimeline prints one event of a session as a line for people: its
// position in the log, time, type and what it says.
func printTimeline(w io.Writer, e *event.Event) {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	str := func(k string) string { s, _ := m[k].(string); return s }
	what := ""
	switch e.Type {
	case "session.created":
		what = fmt.Sprintf("agent %s, %s: %q", str("agent"), str("harness"), str("prompt"))
	case "session.turn.started":
		what = fmt.Sprintf("turn %v (%s, sandbox %s): %q", m["turn"], str("mode"), str("sandbox"), str("prompt"))
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
	case "session.replay.ended":
		var r session.ReplayEnded
		_ = json.Unmarshal(e.Data, &r)
		what = "replay of " + r.Of + " " + r.Summary()
	case "model.answer.recorded":
		var r event.AnswerRecorded
		_ = json.Unmarshal(e.Data, &r)
		what = fmt.Sprintf("call %s: %d message(s) → ", r.CallID, len(r.Request.Messages))
		switch a := r.Answer; {
		case a == nil:
			what += "not replayable: " + r.NotReplayable
		case a.Error != nil:
			what += "error " + a.Error.Kind
		default:
			what += fmt.Sprintf("%s, %d part(s)", a.StopReason, len(a.Parts))
		}
	case "replay.diverged":
		var d event.ReplayDiverged
		_ = json.Unmarshal(e.Data, &d)
		what = d.Reason
	case "session.harness.started":
		what = "harness session " + str("harness_session_id")
	case "session.harness.message":
		msg, _ := m["message"].(map[string]any)
		what = fmt.Sprintf("%v: %s", msg["role"], truncate(fmt.Sprint(msg["text"]), 100))
	case "session.harness.tool_call":
		tc, _ := m["tool_call"].(map[string]any)
		in, _ := json.Marshal(tc["input"])
		what = fmt.Sprintf("%v %s", tc["name"], truncate(string(in), 100))
	case "session.harness.tool_result":
		tr, _ := m["tool_result"].(map[string]any)
		what = truncate(strings.ReplaceAll(fmt.Sprint(tr["output"]), "\n", " "), 100)
		if tr["is_error"] == true {
			what = "error: " + what
		}
	case "session.harness.permission_denied":
		pd, _ := m["permission_denied"].(map[string]any)
		what = fmt.Sprintf("%v denied: %s", pd["tool"], truncate(fmt.Sprint(pd["reason"]), 100))
	case "session.harness.error":
		er, _ := m["error"].(map[string]any)
		what = truncate(fmt.Sprint(er["message"]), 120)
	case "session.harness.completed":
		co, _ := m["completed"].(map[string]any)
		res, _ := co["result"].(string)
		what = fmt.Sprintf("exit %v: %s", num(co["exit_code"]), truncate(res, 100))
	case "model.call.started", "model.call.attempt":
		return // the completed or failed event says it all
	case "routing.decided":
		var ts []string
		for _, t := range m["targets"].([]any) {
			tm, _ := t.(map[string]any)
			ts = append(ts, fmt.Sprintf("%v/%v", tm["provider"], tm["model"]))
		}
		what = fmt.Sprintf("%s -> %s (%s)", str("gen_ai.request.model"), strings.Join(ts, ", "), truncate(str("reason"), 80))
	case "model.call.failed":
		what = fmt.Sprintf("%s failed: %s", str("gen_ai.request.model"), truncate(str("message"), 100))
	case "session.harness.usage":
		u, _ := m["usage"].(map[string]any)
		what = fmt.Sprintf("in=%v out=%v cache_read=%v (as the CLI reports it: $%.6f)", num(u["input_tokens"]), num(u["output_tokens"]), num(u["cache_read_tokens"]), fnum(u["cost_usd"]))
	case "model.call.completed":
		what = fmt.Sprintf("%s -> %s/%s in=%v out=%v $%.6f", str("gen_ai.request.model"), str("gen_ai.provider.name"), str("gen_ai.response.model"),
			m["gen_ai.usage.input_tokens"], m["gen_ai.usage.output_tokens"], m["cost_usd"])
	default:
		b, _ := json.Marshal(m)
		what = truncate(string(b), 120)
	}
	what = strings.Join(strings.Fields(what), " ") // one line
	fmt.Fprintf(w, "%6d  %s  %-28s %s\n", e.Position, e.Time.Local().Format("15:04:05.000"), e.Type, what)
}

func (a *app) sessionStartCmd() *cobra.Command {
	var (
		addr, agentName string
		follow, asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "start --agent NAME PROMPT",
		Short: "Start a session of an agent on a prompt",
		Long: `Start a session: the agent's harness CLI runs headless on the prompt in a workspace of its
own, through the gateway with a key minted for the session. Every step is an event on
the session's stream. With -f, follow its timeline until the turn ends.`,
		Example: `  switchyard session start --agent reviewer "Review the last commit"
  switchyard session start --agent reviewer -f "Fix the failing test"`,
		Args: exactArgs(1, "PROMPT"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if agentName == "" {
				return usagef("give the agent with --agent NAME (`%s agent list` lists them)", a.io.Prog)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var out struct {
				Session session.Session `json:"session"`
			}
			if err := c.doJSON(cmd.Context(), "POST", "/api/v1/sessions", httpapi.SessionStart{Agent: agentName, Prompt: args[0]}, &out); err != nil {
				return err
			}
			if asJSON {
				if err := writeLine(a.io.Out, out.Session); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(a.io.Out, out.Session.ID)
			}
			a.summary("session %s started (agent %s, %s); follow it with `%s session logs -f %s`", out.Session.ID, agentName, out.Session.Harness, a.io.Prog, out.Session.ID)
			if follow {
				return a.followSession(cmd.Context(), c, out.Session.ID, true, false)
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	f := cmd.Flags()
	f.StringVar(&agentName, "agent", "", "the agent to run (required)")
	f.BoolVarP(&follow, "follow", "f", false, "follow the session's timeline until the turn ends")
	f.BoolVar(&asJSON, "json", false, "print the session as JSON")
	return cmd
}

// sessionActionCmd is send, resume, pause and stop: a POST to
// /api/v1/sessions/ID/ACTION.
func (a *app) sessionActionCmd(action, use, short string, takesPrompt bool) *cobra.Command {
	var (
		addr, reason string
		follow       bool
	)
	nargs, names := 1, "ID"
	if takesPrompt {
		nargs, names = 2, "ID PROMPT"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(nargs, names),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			body := httpapi.SessionCommand{Reason: reason}
			if takesPrompt {
				body.Prompt = args[1]
			}
			var out struct {
				Session session.Session `json:"session"`
			}
			if err := c.doJSON(cmd.Context(), "POST", "/api/v1/sessions/"+url.PathEscape(args[0])+"/"+action, body, &out); err != nil {
				return err
			}
			a.summary("session %s: %s", args[0], out.Session.Status)
			if follow {
				return a.followSession(cmd.Context(), c, args[0], true, false)
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	if action == "pause" || action == "stop" {
		cmd.Flags().StringVar(&reason, "reason", "", "why, for the record")
	} else {
		cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the session's timeline until the turn ends")
	}
	return cmd
}

func (a *app) sessionLogsCmd() *cobra.Command {
	var (
		addr           string
		follow, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a session's timeline: its events and its model calls",
		Long: `Print a session's timeline: the session's own events (turns, messages, tool calls and
results, denials, usage) and the gateway's events for its model calls, in log order.
With -f, go on printing new ones until the running turn ends (or Ctrl-C).`,
		Args: exactArgs(1, "ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			return a.followSession(cmd.Context(), c, args[0], follow, asJSON)
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the running turn ends")
	cmd.Flags().BoolVar(&asJSON, "json", false, "events as JSON lines (full envelopes)")
	return cmd
}

// followSession prints a session's timeline from the start. With
// untilEnd, or when a turn is running, it goes on until the latest turn
// ends (or is interrupted, or the session stops); otherwise it stops
// once the stored events are printed.
func (a *app) followSession(ctx context.Context, c *client, id string, untilEnd, asJSON bool) error {
	var d httpapi.SessionDetail
	if err := c.doJSON(ctx, "GET", "/api/v1/sessions/"+url.PathEscape(id), nil, &d); err != nil {
		return err
	}
	// The latest turn's start: its end is where following stops.
	latest := uint64(0)
	for _, e := range d.Events {
		if e.Type == "session.turn.started" {
			latest = e.StreamVersion
		}
	}
	follow := untilEnd || d.Session.Status == session.StatusRunning
	res, err := c.do(ctx, "GET", "/api/v1/events/feed?"+url.Values{"session": {id}, "from": {"0"}}.Encode(), nil, map[string]string{"Accept": "text/event-stream"})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	events := make(chan event.Event)
	errs := make(chan error, 1)
	go func() {
		errs <- readSSE(res.Body, func(e event.Event) bool {
			select {
			case events <- e:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	quiet := time.NewTimer(time.Second)
	defer quiet.Stop()
	stream := session.Stream(id)
	for {
		select {
		case e := <-events:
			if asJSON {
				writeLine(a.io.Out, e)
			} else {
				printTimeline(a.io.Out, &e)
			}
			if follow && e.Stream == stream && e.StreamVersion > latest {
				switch e.Type {
				case "session.turn.ended", "session.interrupted", "session.stopped":
					return nil
				}
			}
			quiet.Reset(time.Second)
		case <-quiet.C:
			// Nothing for a second: what is stored is printed.
			if !follow {
				return nil
			}
			quiet.Reset(time.Second)
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

// readSSE reads the event feed's server-sent events and hands each
// event to f until f returns false or the feed ends.
func readSSE(r io.Reader, f func(event.Event) bool) error {
	rd := sse.NewReader(r)
	for {
		ev, err := rd.Next()
		if err != nil {
			return fmt.Errorf("the event feed ended: %w", err)
		}
		if ev.Name == "error" {
			return fmt.Errorf("the event feed failed: %s", ev.Data)
		}
		if len(ev.Data) == 0 {
			continue
		}
		var e event.Event
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			return fmt.Errorf("the event feed sent %q: %w", ev.Data, err)
		}
		if !f(e) {
			return nil
		}
	}
}

// forkChanges says what a fork at a turn changed, after a comma.
func forkChanges(ch *session.ForkChanges) string {
	if ch == nil {
		return ", no change"
	}
	var b strings.Builder
	if ch.Model != "" {
		fmt.Fprintf(&b, ", model %s", ch.Model)
	}
	if ch.RoutingPlugin != "" {
		fmt.Fprintf(&b, ", routing plugin %s", ch.RoutingPlugin)
	}
	if ch.Prompt != "" {
		fmt.Fprintf(&b, ", prompt %q", ch.Prompt)
	}
	return b.String()
}

func (a *app) sessionForkCmd() *cobra.Command {
	var (
		addr    string
		follow  bool
		at      int
		atEvent uint64
		ch      session.ForkChanges
	)
	cmd := &cobra.Command{
		Use:   "fork ID PROMPT | fork ID --at TURN [--model M] [--routing-plugin NAME] [--prompt TEXT]",
		Short: "Start a new session from where another is, or from one of its turns with a change",
		Long: `Fork a session between turns: the new session gets a copy of the other's workspace and
of its CLI's state (the conversation so far), a key of its own, and a first turn on
PROMPT that continues the conversation through the harness's resume. The original is
left as it is. Prints the new session's id.

With --at TURN (or --at-event POS, the log position of a turn's session.turn.started),
the fork starts from that turn of the session with a change: a harness replay of the
turns before it (the agent's CLI on a fresh workspace, served the recorded model
answers, as 'session replay' does; a divergence stops the fork), then turn TURN live,
so the CLI carries the replayed conversation into the changed part:

  --model M              its calls, from turn TURN on, ask for model M
  --routing-plugin NAME  an installed routing plugin decides them instead of the
                         gateway-wide router ('switchyard plugin list')
  --prompt TEXT          turn TURN's prompt instead of the recorded one

The fork records where it comes from (fork_of, fork_at and the changes) in its
session.created. The command prints the fork's id, then how the replay of the turns
before TURN went; it exits 1 if they did not retrace their recording. After that the
fork is a session like any other ('session send' continues it).`,
		Example: `  switchyard session fork s0123456789abcdef "Try it the other way" -f
  switchyard session fork s0123456789abcdef --at 2 --model claude-opus-4-1 -f
  switchyard session fork s0123456789abcdef --at 2 --routing-plugin cheapest --prompt "Now do it cheaply"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if at != 0 || atEvent != 0 {
				return exactArgs(1, "ID (with --at, the prompt is --prompt)")(cmd, args)
			}
			if ch != (session.ForkChanges{}) {
				return usagef("--model, --routing-plugin and --prompt change a fork at a turn: give --at TURN")
			}
			return exactArgs(2, "ID PROMPT")(cmd, args)
		},
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var out struct {
				Session session.Session `json:"session"`
			}
			if at == 0 && atEvent == 0 {
				if err := c.doJSON(ctx, "POST", "/api/v1/sessions/"+url.PathEscape(args[0])+"/fork", httpapi.SessionCommand{Prompt: args[1]}, &out); err != nil {
					return err
				}
				fmt.Fprintln(a.io.Out, out.Session.ID)
				a.summary("session %s forked from %s", out.Session.ID, args[0])
				if follow {
					return a.followSession(ctx, c, out.Session.ID, true, false)
				}
				return nil
			}
			body := httpapi.SessionForkAt{At: at, Event: atEvent, ForkChanges: ch}
			if err := c.doJSON(ctx, "POST", "/api/v1/sessions/"+url.PathEscape(args[0])+"/fork-at", body, &out); err != nil {
				return err
			}
			id := out.Session.ID
			fmt.Fprintln(a.io.Out, id)
			a.summary("session %s forked from %s at turn %d; follow it with `%s session logs -f %s`", id, args[0], out.Session.ForkAt, a.io.Prog, id)
			if out.Session.ForkAt > 1 {
				var st httpapi.ReplayStatus
				for st.Result == nil {
					if err := c.doJSON(ctx, "GET", "/api/v1/sessions/"+url.PathEscape(id)+"/retrace?wait=30s", nil, &st); err != nil {
						return err
					}
				}
				r := st.Result
				if r.Outcome != session.ReplayRetraced {
					if r.Divergence != nil {
						fmt.Fprintln(a.io.Out, r.Divergence.String())
					}
					return fmt.Errorf("the fork's replay of turns 1 to %d of %s %s; the fork is stopped", out.Session.ForkAt-1, args[0], r.Summary())
				}
				fmt.Fprintf(a.io.Out, "%s; turn %d live\n", r.Summary(), out.Session.ForkAt)
			}
			if follow {
				return a.followSession(ctx, c, id, true, false)
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the new session's first turn (with --at, its live turn)")
	cmd.Flags().IntVar(&at, "at", 0, "fork at this turn of the session: replay the turns before it, then go live with the changes")
	cmd.Flags().Uint64Var(&atEvent, "at-event", 0, "fork at the turn whose session.turn.started is at this log position")
	cmd.Flags().StringVar(&ch.Model, "model", "", "with --at: the model the fork's calls ask for from that turn on")
	cmd.Flags().StringVar(&ch.RoutingPlugin, "routing-plugin", "", "with --at: the installed routing plugin that decides the fork's calls from that turn on")
	cmd.Flags().StringVar(&ch.Prompt, "prompt", "", "with --at: that turn's prompt instead of the recorded one")
	return cmd
}
