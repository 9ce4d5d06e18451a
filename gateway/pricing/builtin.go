package pricing

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"
)

// builtinPrices is the built-in price list, in LiteLLM's format.
//
// Source: the public list prices as recorded in LiteLLM's
// model_prices_and_context_window.json (github.com/BerriAI/litellm), copied
// field for field for the models below:
//
//   - OpenAI gpt-5, gpt-5-mini, gpt-5-nano, gpt-5-codex, gpt-4.1,
//     gpt-4.1-mini, gpt-4o, gpt-4o-mini, o3, o4-mini; Anthropic
//     claude-opus-4-1, claude-opus-4-20250514, claude-sonnet-4-5 (with its
//     200k tier), claude-sonnet-4-20250514 (200k tier), claude-haiku-4-5;
//     Google gemini/gemini-2.5-pro (200k tier), gemini/gemini-2.5-flash,
//     gemini/gemini-2.5-flash-lite: commit
//     00035b69f416be24e2e323c13198d9b7d2d1bdf9.
//   - Anthropic claude-3-5-haiku-20241022, which that commit no longer
//     lists (the model is retired): commit
//     19a1f629eb6fafde70968ef4815463eb08143aac.
//
// Only standard-tier text prices are kept (no batch, priority, flex,
// 1-hour cache writes or audio/image rates). Dated keys answer for their
// undated names through Lookup's aliases (claude-opus-4, claude-sonnet-4,
// claude-3-5-haiku).
//
// sim/* are the built-in simulator's models, priced by this project (not
// LiteLLM) so that demos show realistic costs: sim-small, sim-slow and
// sim-stream like a small model, sim-large and sim-reasoning like a large
// one.
//
//go:embed builtin_prices.json
var builtinPrices []byte

var (
	builtinOnce  sync.Once
	builtinTable *Table
)

// Builtin returns a new table holding the built-in prices. Each call
// returns a fresh table the caller may Merge into or Set on.
func Builtin() *Table {
	builtinOnce.Do(func() {
		t, err := LoadLiteLLM(bytes.NewReader(builtinPrices))
		if err != nil {
			// The file is embedded and tested; failing here is a build defect.
			panic(fmt.Sprintf("pricing: built-in price list: %v", err))
		}
		builtinTable = t
	})
	t := &Table{}
	t.Merge(builtinTable)
	return t
}
