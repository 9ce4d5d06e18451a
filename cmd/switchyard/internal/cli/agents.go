package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/gateway/httpapi"
)

func (a *app) applyCmd() *cobra.Command {
	var (
		addr, file     string
		dryRun, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update the agents defined in a file",
		Long: `Read agent definitions from a YAML or JSON file (a top-level "agents:" list) and make
the server's agents match: new ones are created, changed ones get a new revision, and
unchanged ones are left alone, so applying a file twice changes nothing. Each change is
an event on the agent's stream; the diff of every agent is printed.

The whole file is checked before anything is sent: every problem is reported with its
line. Agents not in the file are not touched (delete them with ` + "`switchyard agent delete`" + `).
A relative workspace.path is taken from the file's directory. The format is in
docs/agents.md.`,
		Example: `  switchyard apply -f agents.yaml
  switchyard apply -f agents.yaml --dry-run`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("give the file to apply with -f FILE (- for standard input)")
			}
			var (
				b   []byte
				err error
			)
			name := file
			if file == "-" {
				b, err = io.ReadAll(a.io.In)
				name = "<stdin>"
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return usagef("read %s: %v", file, err)
			}
			doc, err := agent.ParseFile(name, b)
			if err != nil {
				var les agent.LineErrors
				if errors.As(err, &les) {
					return usagef("%s\n%d problem(s); nothing was applied", les.Error(), len(les))
				}
				return err
			}
			for _, s := range doc.Other {
				a.summary("note: section %q is not applied by apply (the gateway section is read by `serve --config`)", s)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			q := ""
			if dryRun {
				q = "?dry_run=true"
			}
			var failed []string
			created, changed := 0, 0
			for _, d := range doc.Agents {
				var res agent.PutResult
				if err := c.doJSON(cmd.Context(), "PUT", "/api/v1/agents/"+url.PathEscape(d.Name)+q, d, &res); err != nil {
					fmt.Fprintf(a.io.Err, "agent %s: %v\n", d.Name, err)
					failed = append(failed, d.Name)
					continue
				}
				if res.Created {
					created++
				} else if res.Changed {
					changed++
				}
				if asJSON {
					if err := writeLine(a.io.Out, res); err != nil {
						return err
					}
					continue
				}
				printPut(a.io.Out, res, dryRun)
			}
			unchanged := len(doc.Agents) - len(failed) - created - changed
			if dryRun {
				a.summary("dry run, nothing was changed: %d agent(s) would be created, %d changed, %d left as they are", created, changed, unchanged)
			} else {
				a.summary("%d agent(s) created, %d changed, %d unchanged", created, changed, unchanged)
			}
			if failed != nil {
				return fmt.Errorf("%d agent(s) not applied: %s", len(failed), strings.Join(failed, ", "))
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "the file of agent definitions (.yaml, .yml or .json; - for standard input)")
	f.BoolVar(&dryRun, "dry-run", false, "show what would change, change nothing")
	f.BoolVar(&asJSON, "json", false, "one JSON object per agent: what was done and the diff")
	return cmd
}

func printPut(w io.Writer, res agent.PutResult, dryRun bool) {
	name := res.Agent.Definition.Name
	switch {
	case res.Created && dryRun:
		fmt.Fprintf(w, "agent %s would be created\n", name)
	case res.Created:
		fmt.Fprintf(w, "agent %s created\n", name)
	case res.Changed && dryRun:
		fmt.Fprintf(w, "agent %s would change (it is at revision %d)\n", name, res.Agent.Revision)
	case res.Changed:
		fmt.Fprintf(w, "agent %s changed (revision %d)\n", name, res.Agent.Revision)
	default:
		fmt.Fprintf(w, "agent %s unchanged\n", name)
	}
	for _, ch := range res.Diff {
		fmt.Fprintf(w, "  %s\n", ch)
	}
}

func (a *app) agentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "List, show and delete agents",
		Long: `Agents are declarative definitions of what a session runs: the harness (claude-code,
codex or opencode), the model, instructions, tools, MCP servers, budget, workspace and
limits. Define them with ` + "`switchyard apply -f agents.yaml`" + ` (docs/agents.md).`,
	}
	cmd.AddCommand(a.agentListCmd(), a.agentShowCmd(), a.agentDeleteCmd())
	return cmd
}

func (a *app) agentListCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the agents",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var out struct {
				Agents []agent.Agent `json:"agents"`
			}
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/agents", nil, &out); err != nil {
				return err
			}
			if asJSON {
				for _, ag := range out.Agents {
					if err := writeLine(a.io.Out, ag); err != nil {
						return err
					}
				}
				return nil
			}
			if len(out.Agents) == 0 {
				a.summary("no agents: define some with `%s apply -f agents.yaml` (docs/agents.md)", a.io.Prog)
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tHARNESS\tMODEL\tREVISION\tUPDATED\tBY")
			for _, ag := range out.Agents {
				d := ag.Definition
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.Name, d.Harness, d.Model, ag.Revision, ag.UpdatedAt.Local().Format(time.DateTime), dash(ag.UpdatedBy))
			}
			return tw.Flush()
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per agent")
	return cmd
}

func (a *app) agentShowCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an agent's definition and its history",
		Args:  exactArgs(1, "NAME"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var d httpapi.AgentDetail
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/agents/"+url.PathEscape(args[0]), nil, &d); err != nil {
				return err
			}
			if asJSON {
				return writeLine(a.io.Out, d)
			}
			y, err := asYAML(d.Agent.Definition)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Out, "# agent %s, revision %d, digest %s\n%s\n# history (stream %s)\n", d.Agent.Definition.Name, d.Agent.Revision, d.Agent.Digest, y, agent.Stream(d.Agent.Definition.Name))
			for _, r := range d.History {
				what := "applied"
				if r.Type == "agent.deleted" {
					what = "deleted"
					if r.Reason != "" {
						what += ": " + r.Reason
					}
				}
				fmt.Fprintf(a.io.Out, "#  v%d %s %s by %s\n", r.Version, r.Time.Local().Format(time.DateTime), what, dash(r.Actor))
				for _, ch := range r.Diff {
					fmt.Fprintf(a.io.Out, "#      %s\n", ch)
				}
			}
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "the agent and its history as one JSON object")
	return cmd
}

// asYAML writes v's JSON form as block YAML, keeping the fields' order.
func asYAML(v any) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return "", err
	}
	var block func(*yaml.Node)
	block = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "\n") {
			n.Style = yaml.LiteralStyle
		} else if n.Kind == yaml.ScalarNode {
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

func (a *app) agentDeleteCmd() *cobra.Command {
	var addr, reason string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an agent (its history stays in the log)",
		Args:  exactArgs(1, "NAME"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			if err := c.doJSON(cmd.Context(), "DELETE", "/api/v1/agents/"+url.PathEscape(args[0])+"?reason="+url.QueryEscape(reason), nil, nil); err != nil {
				return err
			}
			a.summary("agent %s deleted", args[0])
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
	return cmd
}

// actor is who the CLI's changes are by, for the audit trail: the user
// running it ($USER, else the account's name).
func (a *app) actor() string {
	name := a.io.getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		return ""
	}
	return "user:" + name
}
