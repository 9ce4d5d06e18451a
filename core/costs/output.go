package costs

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// Summary is a row's totals as the API and the CLI show them: dollars as
// float64 (rounded from the exact nano-dollar sums), latency as a mean.
type Summary struct {
	Calls int64 `json:"calls"`
	// FailedCalls failed for good; their cost is in FailedCostUSD.
	FailedCalls int64 `json:"failed_calls"`
	// Retries and Fallbacks count failed attempts followed by a retry of
	// the same target or a move to the next; RetriedCalls and
	// FellBackCalls the calls answered after one, whose cost is in
	// RetryCostUSD and FallbackCostUSD.
	Retries       int64 `json:"retries"`
	Fallbacks     int64 `json:"fallbacks"`
	RetriedCalls  int64 `json:"retried_calls"`
	FellBackCalls int64 `json:"fell_back_calls"`

	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	ReasoningTokens  int64 `json:"reasoning_tokens"`

	CostUSD           float64 `json:"cost_usd"`
	InputCostUSD      float64 `json:"input_cost_usd"`
	CacheReadCostUSD  float64 `json:"cache_read_cost_usd"`
	CacheWriteCostUSD float64 `json:"cache_write_cost_usd"`
	OutputCostUSD     float64 `json:"output_cost_usd"`
	ReasoningCostUSD  float64 `json:"reasoning_cost_usd"`
	RetryCostUSD      float64 `json:"retry_cost_usd"`
	FallbackCostUSD   float64 `json:"fallback_cost_usd"`
	FailedCostUSD     float64 `json:"failed_cost_usd"`
	// UnpricedCalls had no price: their cost counts as 0 here.
	UnpricedCalls int64   `json:"unpriced_calls"`
	MeanLatencyMS float64 `json:"mean_latency_ms"`
}

// Summary returns the row's totals.
func (r *Row) Summary() Summary {
	t := &r.totals
	usd := func(i int) float64 { return float64(t[i]) / 1e9 }
	s := Summary{
		Calls: t[tCalls], FailedCalls: t[tFailed], Retries: t[tRetries], Fallbacks: t[tFallbacks],
		RetriedCalls: t[tRetriedCalls], FellBackCalls: t[tFellBackCalls],
		InputTokens: t[tInputTokens], OutputTokens: t[tOutputTokens], CacheReadTokens: t[tCacheReadTokens],
		CacheWriteTokens: t[tCacheWriteTokens], ReasoningTokens: t[tReasoningTokens],
		CostUSD: usd(tCost), InputCostUSD: usd(tInputCost), CacheReadCostUSD: usd(tCacheReadCost),
		CacheWriteCostUSD: usd(tCacheWriteCost), OutputCostUSD: usd(tOutputCost), ReasoningCostUSD: usd(tReasoningCost),
		RetryCostUSD: usd(tRetryCost), FallbackCostUSD: usd(tFallbackCost), FailedCostUSD: usd(tFailedCost),
		UnpricedCalls: t[tUnpriced],
	}
	if t[tCalls] > 0 {
		s.MeanLatencyMS = float64(t[tLatencyUS]) / 1000 / float64(t[tCalls])
	}
	return s
}

// CostNanoUSD is the row's exact cost in nano-dollars.
func (r *Row) CostNanoUSD() int64 { return r.totals[tCost] }

// JSONReport is a Report as the API sends it.
type JSONReport struct {
	By    []string  `json:"by"`
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	Rows  []JSONRow `json:"rows"`
	Total Summary   `json:"total"`
	// Scanned and Table say what the query read.
	Scanned int    `json:"scanned_rows"`
	Table   string `json:"table"`
}

// JSONRow is one group: its dimension values by name, and its totals.
type JSONRow struct {
	Group map[string]string `json:"group,omitempty"`
	Summary
}

// JSON returns the report in its API form.
func (r *Report) JSON() JSONReport {
	out := JSONReport{By: r.ByNames(), Since: r.Since, Until: r.Until, Rows: make([]JSONRow, len(r.Rows)),
		Total: r.Total.Summary(), Scanned: r.Scanned, Table: r.Table}
	for i := range r.Rows {
		row := &r.Rows[i]
		out.Rows[i].Summary = row.Summary()
		if len(r.By) > 0 {
			out.Rows[i].Group = make(map[string]string, len(r.By))
			for j, d := range r.By {
				out.Rows[i].Group[d.String()] = row.Group[j]
			}
		}
	}
	return out
}

// ByNames names the report's dimensions.
func (r *Report) ByNames() []string {
	out := make([]string, len(r.By))
	for i, d := range r.By {
		out[i] = d.String()
	}
	return out
}

// csvColumns are the totals' columns, after the dimensions'.
var csvColumns = []string{"calls", "failed_calls", "retries", "fallbacks", "retried_calls", "fell_back_calls",
	"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
	"cost_usd", "input_cost_usd", "cache_read_cost_usd", "cache_write_cost_usd", "output_cost_usd", "reasoning_cost_usd",
	"retry_cost_usd", "fallback_cost_usd", "failed_cost_usd", "unpriced_calls", "mean_latency_ms"}

// WriteCSV writes the report as CSV: a header, a line per row and, when
// there are dimensions, a last line "TOTAL" with the sums. Dollars have
// nine decimals, exact.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := append(r.ByNames(), csvColumns...)
	if err := cw.Write(header); err != nil {
		return err
	}
	line := func(group []string, row *Row) []string {
		t := &row.totals
		s := row.Summary()
		rec := append([]string{}, group...)
		i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
		rec = append(rec, i64(s.Calls), i64(s.FailedCalls), i64(s.Retries), i64(s.Fallbacks), i64(s.RetriedCalls), i64(s.FellBackCalls),
			i64(s.InputTokens), i64(s.OutputTokens), i64(s.CacheReadTokens), i64(s.CacheWriteTokens), i64(s.ReasoningTokens))
		for _, i := range []int{tCost, tInputCost, tCacheReadCost, tCacheWriteCost, tOutputCost, tReasoningCost, tRetryCost, tFallbackCost, tFailedCost} {
			rec = append(rec, nanoString(t[i]))
		}
		return append(rec, i64(s.UnpricedCalls), strconv.FormatFloat(s.MeanLatencyMS, 'f', 3, 64))
	}
	for i := range r.Rows {
		if err := cw.Write(line(r.Rows[i].Group, &r.Rows[i])); err != nil {
			return err
		}
	}
	if len(r.By) > 0 {
		total := make([]string, len(r.By))
		total[0] = "TOTAL"
		if err := cw.Write(line(total, &r.Total)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// nanoString formats nano-dollars as dollars with nine decimals.
func nanoString(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%1e9, 10)
	for len(frac) < 9 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(n/1e9, 10) + "." + frac
}
