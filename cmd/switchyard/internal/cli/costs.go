package cli

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/costs"
)

func (a *app) costsCmd() *cobra.Command {
	var (
		addr, by, since, until, format string
		where                          []string
	)
	cmd := &cobra.Command{
		Use:   "costs",
		Short: "What model calls cost, grouped by agent, team, user, key, tag, model, provider, session, decision or time",
		Long: `Sum the cost read model: calls, tokens (cached and reasoning apart) and dollars,
grouped by the dimensions in --by, over [--since, --until). Retries, fallbacks and
failed calls are counted and priced apart: "retry cost" is what the calls answered
only after a retry cost, "fallback cost" the same for a fallback, "failed cost" what
calls that failed for good had used.

Dimensions: ` + costs.DimNames + `.
A decision is one turn of a session, SESSION/TURN.
Times: today, yesterday, a time ago (7d, 2w, 36h), a date (2026-12-01, UTC) or
RFC 3339. The read model has hourly resolution.`,
		Example: `  switchyard costs --by agent,model --since 7d
  switchyard costs --by decision --where agent=reviewer --since yesterday --until today
  switchyard costs --by day,provider --since 30d --format csv > costs.csv
  switchyard costs --by model --where session=s0123456789abcdef`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			v := queryOf(map[string]string{"by": by, "since": since, "until": until})
			for _, w := range where {
				v.Add("where", w)
			}
			if format == "csv" {
				v.Set("format", "csv")
				resp, err := c.do(cmd.Context(), "GET", "/api/v1/costs?"+v.Encode(), nil, nil)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, err = io.Copy(a.io.Out, resp.Body)
				return err
			}
			var rep costs.JSONReport
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/costs?"+v.Encode(), nil, &rep); err != nil {
				return err
			}
			if format == "json" {
				return writeLine(a.io.Out, rep)
			}
			return writeCostTable(a.io.Out, &rep)
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&by, "by", "", "dimensions to group by, comma-separated ("+costs.DimNames+")")
	cmd.Flags().StringVar(&since, "since", "", "from this time (7d, yesterday, 2026-12-01, RFC 3339)")
	cmd.Flags().StringVar(&until, "until", "", "up to this time, not included")
	cmd.Flags().StringArrayVar(&where, "where", nil, "keep only calls with DIM=VALUE, e.g. agent=reviewer or tag:env=prod (repeatable: all must hold)")
	cmd.Flags().StringVar(&format, "format", "table", "table, json (one object) or csv (for spreadsheets)")
	return cmd
}

// checkFormat refuses an output format other than table, json and csv.
func checkFormat(format string) error {
	if format != "table" && format != "json" && format != "csv" {
		return usagef("--format %q: use table, json or csv", format)
	}
	return nil
}

// queryOf makes URL query parameters of the values that are set.
func queryOf(kv map[string]string) url.Values {
	v := url.Values{}
	for k, val := range kv {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// writeCostTable prints a report for people: a line per group, the
// totals last.
func writeCostTable(w io.Writer, rep *costs.JSONReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := make([]string, 0, len(rep.By)+8)
	for _, d := range rep.By {
		head = append(head, strings.ToUpper(d))
	}
	head = append(head, "CALLS", "INPUT", "CACHED", "OUTPUT", "REASONING", "COST $", "RETRY $", "FALLBACK $", "FAILED $", "")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	line := func(group []string, s costs.Summary) {
		cells := append(group, strconv.FormatInt(s.Calls, 10), count(s.InputTokens), count(s.CacheReadTokens), count(s.OutputTokens),
			count(s.ReasoningTokens), dollars(s.CostUSD), dollars(s.RetryCostUSD), dollars(s.FallbackCostUSD), dollars(s.FailedCostUSD), "")
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	for _, r := range rep.Rows {
		group := make([]string, len(rep.By))
		for i, d := range rep.By {
			group[i] = dash(r.Group[d])
		}
		line(group, r.Summary)
	}
	if len(rep.By) > 0 {
		total := make([]string, len(rep.By))
		total[0] = "TOTAL"
		line(total, rep.Total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Total.UnpricedCalls > 0 {
		fmt.Fprintf(w, "%d calls had no price (counted as $0): add their models to the price table (docs/gateway.md)\n", rep.Total.UnpricedCalls)
	}
	return nil
}

// count prints a token count with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// dollars prints an amount with four decimals, or six below a cent.
func dollars(usd float64) string {
	if usd == 0 {
		return "0"
	}
	if usd < 0.01 {
		return strconv.FormatFloat(usd, 'f', 6, 64)
	}
	return strconv.FormatFloat(usd, 'f', 4, 64)
}
