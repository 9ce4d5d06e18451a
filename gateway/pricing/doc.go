// Package pricing prices model calls: a table of per-token list prices in
// LiteLLM's model_prices_and_context_window.json format, a lookup that
// tolerates the usual spellings of a model name, and the arithmetic that
// turns an llm.Usage into dollars.
//
// # Prices
//
// A Price holds USD per token as float64, as LiteLLM does, so a LiteLLM file
// can be loaded unchanged (LoadLiteLLM) and merged over the built-in table
// (Builtin, Table.Merge). Zero means "not listed": a zero cache or
// reasoning price falls back to the input or output price, see Price.
//
// # Lookup
//
// Table.Lookup(provider, model) tries, case-insensitively and first match
// wins (a Gemini resource name's "models/" prefix is ignored):
//
//  1. "provider/model" exactly (LiteLLM spells Gemini "gemini/gemini-2.5-pro"),
//  2. "model" alone (LiteLLM spells OpenAI and Anthropic models bare),
//  3. both again with a date suffix stripped from the model
//     ("claude-sonnet-4-5-20250929" → "claude-sonnet-4-5"; -YYYYMMDD,
//     -YYYY-MM-DD and @YYYYMMDD are dates),
//  4. aliases: a table key whose own date suffix is stripped answers for
//     the undated name ("claude-opus-4-20250514" answers "claude-opus-4").
//     When several dated keys share an alias the latest date wins.
//
// A model is never priced from another provider's prefixed entry: a miss
// is better than a wrong price. Lookup does not allocate (see the
// benchmarks) and is safe for concurrent use with Merge.
//
// # Money
//
// Cost returns a Breakdown in float64 USD. A float64 holds a call's cost to
// about 1e-16 of its value, far below a cent, but sums of many floats drift
// and are order-dependent. Budgets should therefore account in integer
// nano-dollars: Nanos rounds a USD amount to the nearest 1e-9 USD (an error
// of at most half a nano-dollar per call), and int64 sums of nanos are exact
// and can hold about 9.2 billion USD.
//
// # Tiers
//
// Some models charge more for every token of a call whose prompt is long
// (Anthropic and Gemini above 200k input tokens, some OpenAI models above
// 272k). LiteLLM writes these as input_cost_per_token_above_200k_tokens and
// the like; they load as Tiers, and Cost uses the highest tier whose
// threshold the call's whole prompt (Usage.TotalInput) exceeds.
package pricing
