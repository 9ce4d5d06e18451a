package replay

import "time"

// WhatIf is what a routing plugin would have changed over past calls:
// which targets, what the calls would have cost, which budgets they would
// have broken. No model is called: a call moved to another target is
// priced on its recorded usage at that target's price.
type WhatIf struct {
	Plugin string    `json:"plugin"`
	Digest string    `json:"digest"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
	// Calls is how many calls the period holds; Evaluated how many the
	// plugin decided again, from their recorded plugin facts (Exact) or
	// from their recorded request with the targets of today's
	// configuration, all taken as healthy (Reconstructed).
	Calls         int `json:"calls"`
	Evaluated     int `json:"evaluated"`
	Exact         int `json:"exact"`
	Reconstructed int `json:"reconstructed"`
	// Changed counts the calls whose first target would differ.
	Changed int `json:"changed"`
	// PluginErrors counts the calls on which the plugin failed (the
	// default route would have served them: counted as unchanged).
	PluginErrors int `json:"plugin_errors"`
	// NotEvaluated says why calls were left out, with how many.
	NotEvaluated map[string]int `json:"not_evaluated,omitempty"`

	RecordedCostUSD float64 `json:"recorded_cost_usd"`
	WhatIfCostUSD   float64 `json:"whatif_cost_usd"`
	DeltaUSD        float64 `json:"delta_usd"`
	// Unpriced counts moved calls whose new target has no price: they
	// count at their recorded cost.
	Unpriced int `json:"unpriced"`

	Moves    []Move    `json:"moves"`
	Breaches []Breach  `json:"breaches"`
	Samples  []Changed `json:"samples,omitempty"`
}

// Move is the calls that would go from one target to another.
type Move struct {
	From            string  `json:"from"`
	To              string  `json:"to"`
	Calls           int     `json:"calls"`
	RecordedCostUSD float64 `json:"recorded_cost_usd"`
	WhatIfCostUSD   float64 `json:"whatif_cost_usd"`
}

// Breach is a key whose budget the plugin's choices would have broken.
type Breach struct {
	KeyID  string `json:"key_id"`
	Name   string `json:"name,omitempty"`
	Period string `json:"period"`
	// Bucket is the day or month broken ("2026-12-01", "2026-12"), or
	// "total".
	Bucket          string  `json:"bucket"`
	MaxUSD          float64 `json:"max_usd"`
	RecordedCostUSD float64 `json:"recorded_cost_usd"`
	WhatIfCostUSD   float64 `json:"whatif_cost_usd"`
}

// Changed is one call the plugin would have routed elsewhere, for
// examples.
type Changed struct {
	Position uint64 `json:"position"`
	CallID   string `json:"call_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	Reason   string `json:"reason,omitempty"`
}
