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

	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/gateway/keys"
)

func (a *app) keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke the gateway's virtual keys",
		Long: `Virtual keys are what clients (Claude Code, Codex, OpenCode, SDKs) present to the gateway.
A key says who is calling (team, user, agent, tags), which models they may ask for, and
what they may spend. The secret is shown once, at creation; the gateway keeps its hash.`,
	}
	cmd.AddCommand(a.keysCreateCmd(), a.keysListCmd(), a.keysRevokeCmd())
	return cmd
}

func (a *app) keysCreateCmd() *cobra.Command {
	var (
		addr, period, expires string
		spec                  keys.Spec
		tags                  []string
		asJSON                bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a key and print its secret (once)",
		Example: `  switchyard keys create ci --team platform --models 'sim-*,claude-*' --max-budget 25 --budget-period month
  export ANTHROPIC_API_KEY=$(switchyard keys create laptop --json | jq -r .secret)`,
		Args: exactArgs(1, "NAME"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			spec.Name = args[0]
			spec.BudgetPeriod = period
			for _, t := range tags {
				k, v, ok := strings.Cut(t, "=")
				if !ok || k == "" {
					return usagef("--tag %q: give key=value", t)
				}
				if spec.Tags == nil {
					spec.Tags = map[string]string{}
				}
				spec.Tags[k] = v
			}
			if expires != "" {
				d, err := time.ParseDuration(expires)
				if err != nil || d <= 0 {
					return usagef("--expires %q: give a duration such as 720h", expires)
				}
				spec.ExpiresAt = time.Now().Add(d).UTC()
			}
			if err := spec.Validate(); err != nil {
				return usagef("%v", err)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			body, _ := json.Marshal(spec)
			res, err := c.do(cmd.Context(), "POST", "/api/v1/keys", body, nil)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			var ck httpapi.CreatedKey
			if err := json.NewDecoder(res.Body).Decode(&ck); err != nil {
				return fmt.Errorf("read the server's answer: %w", err)
			}
			if asJSON {
				return writeLine(a.io.Out, ck)
			}
			fmt.Fprintf(a.io.Out, "%s\n", ck.Secret)
			a.summary("key %s (%s) created; the secret above is shown only this once", ck.Key.ID, ck.Key.Name)
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	f := cmd.Flags()
	f.StringVar(&spec.Team, "team", "", "team the key's calls are billed to")
	f.StringVar(&spec.User, "user", "", "user the key's calls are billed to")
	f.StringVar(&spec.Agent, "agent", "", "agent the key's calls are billed to")
	f.StringSliceVar(&tags, "tag", nil, "tag added to every call, key=value (repeatable)")
	f.StringSliceVar(&spec.Models, "models", nil, "model names the key may use, comma-separated; a name may end in * (default: all)")
	f.Float64Var(&spec.MaxBudgetUSD, "max-budget", 0, "spend cap in USD (0: none)")
	f.StringVar(&period, "budget-period", "", "period of --max-budget: total, day or month (default total)")
	f.IntVar(&spec.RPM, "rpm", 0, "requests per minute (0: no limit)")
	f.IntVar(&spec.TPM, "tpm", 0, "tokens per minute (0: no limit)")
	f.StringVar(&expires, "expires", "", "validity, as a duration (e.g. 720h); default: no expiry")
	f.BoolVar(&asJSON, "json", false, "print the key and its secret as one JSON object")
	return cmd
}

func (a *app) keysListCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never their secrets)",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			res, err := c.do(cmd.Context(), "GET", "/api/v1/keys", nil, nil)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			var out struct {
				Keys []keys.Key `json:"keys"`
			}
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				return fmt.Errorf("read the server's answer: %w", err)
			}
			if asJSON {
				for _, k := range out.Keys {
					if err := writeLine(a.io.Out, k); err != nil {
						return err
					}
				}
				return nil
			}
			return printKeys(a.io.Out, out.Keys)
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per key")
	return cmd
}

func printKeys(w io.Writer, ks []keys.Key) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tTEAM\tUSER\tAGENT\tMODELS\tBUDGET\tSTATUS")
	now := time.Now()
	for _, k := range ks {
		models := "all"
		if len(k.Models) > 0 {
			models = strings.Join(k.Models, ",")
		}
		budget := "-"
		if k.MaxBudgetUSD > 0 {
			budget = fmt.Sprintf("$%.2f/%s", k.MaxBudgetUSD, k.BudgetPeriod)
		}
		status := "active"
		switch {
		case !k.RevokedAt.IsZero():
			status = "revoked " + k.RevokedAt.Format(time.DateOnly)
		case !k.Active(now):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, dash(k.Team), dash(k.User), dash(k.Agent), models, budget, status)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) keysRevokeCmd() *cobra.Command {
	var addr, reason string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key: calls with it are refused from now on",
		Args:  exactArgs(1, "ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			res, err := c.do(cmd.Context(), "DELETE", "/api/v1/keys/"+url.PathEscape(args[0])+"?reason="+url.QueryEscape(reason), nil, nil)
			if err != nil {
				return err
			}
			res.Body.Close()
			a.summary("key %s revoked", args[0])
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit trail")
	return cmd
}
