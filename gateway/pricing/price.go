package pricing

import (
	"math"

	"github.com/switchyard/switchyard/gateway/llm"
)

// Price is a model's list price in USD per token, with what LiteLLM records
// about its limits and capabilities.
//
// A zero CacheReadPerToken or CacheWritePerToken means the price is not
// listed and cached tokens are charged as input; a zero ReasoningPerToken
// means reasoning is charged as output (true of every current model that
// lists no separate price).
type Price struct {
	// Provider is LiteLLM's litellm_provider ("openai", "anthropic",
	// "gemini", ...); Mode its mode ("chat", "responses", "embedding", ...).
	Provider string
	Mode     string

	InputPerToken      float64
	OutputPerToken     float64
	CacheReadPerToken  float64
	CacheWritePerToken float64
	ReasoningPerToken  float64

	// Tiers are the long-prompt prices, sorted by AboveTokens. They are
	// shared with the table: do not modify them.
	Tiers []Tier

	// MaxInputTokens and MaxOutputTokens are the context limits; 0 if not
	// known.
	MaxInputTokens  int
	MaxOutputTokens int

	SupportsTools         bool
	SupportsReasoning     bool
	SupportsPromptCaching bool
	SupportsVision        bool
}

// Tier is the price of every token of a call whose prompt is longer than
// AboveTokens. A zero field keeps the Price's own rate for that kind of
// token.
type Tier struct {
	AboveTokens        int
	InputPerToken      float64
	OutputPerToken     float64
	CacheReadPerToken  float64
	CacheWritePerToken float64
	ReasoningPerToken  float64
}

// Breakdown is the cost of one call in USD, by kind of token. Reasoning is
// the share of the output spent on reasoning tokens (priced at
// ReasoningPerToken, or OutputPerToken if that is zero); Output is the rest
// of the output. Total is the sum of the others.
type Breakdown struct {
	Input      float64 `json:"input"`
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
	Output     float64 `json:"output"`
	Reasoning  float64 `json:"reasoning"`
	Total      float64 `json:"total"`
}

// TotalNanos is Total in nano-dollars, rounded; see Nanos.
func (b Breakdown) TotalNanos() int64 { return Nanos(b.Total) }

// Nanos converts USD to integer nano-dollars (1e-9 USD), rounding to the
// nearest. Budgets add nanos, not floats, so that totals are exact and do
// not depend on the order calls finish in.
func Nanos(usd float64) int64 { return int64(math.Round(usd * 1e9)) }

// rates are a Price's effective per-token rates for one prompt length, with
// the zero-means-fallback rules applied.
type rates struct {
	input, output, cacheRead, cacheWrite, reasoning float64
}

// ratesFor resolves p's rates for a prompt of promptTokens tokens.
func (p *Price) ratesFor(promptTokens int) rates {
	r := rates{
		input:      p.InputPerToken,
		output:     p.OutputPerToken,
		cacheRead:  p.CacheReadPerToken,
		cacheWrite: p.CacheWritePerToken,
		reasoning:  p.ReasoningPerToken,
	}
	var tier *Tier
	for i := range p.Tiers {
		if promptTokens > p.Tiers[i].AboveTokens {
			tier = &p.Tiers[i]
		}
	}
	if tier != nil {
		r.input = orElse(tier.InputPerToken, r.input)
		r.output = orElse(tier.OutputPerToken, r.output)
		r.cacheRead = orElse(tier.CacheReadPerToken, r.cacheRead)
		r.cacheWrite = orElse(tier.CacheWritePerToken, r.cacheWrite)
		r.reasoning = orElse(tier.ReasoningPerToken, r.reasoning)
	}
	r.cacheRead = orElse(r.cacheRead, r.input)
	r.cacheWrite = orElse(r.cacheWrite, r.input)
	r.reasoning = orElse(r.reasoning, r.output)
	return r
}

func orElse(v, fallback float64) float64 {
	if v > 0 {
		return v
	}
	return fallback
}

// Cost prices usage u at p. Usage follows package llm's conventions:
// InputTokens excludes cached tokens and OutputTokens includes
// ReasoningTokens. Reasoning tokens beyond OutputTokens (a provider
// inconsistency) are not charged twice: at most OutputTokens are counted
// as reasoning. The tier is chosen by u.TotalInput().
func Cost(p Price, u llm.Usage) Breakdown {
	r := p.ratesFor(u.TotalInput())
	reasoning := min(max(u.ReasoningTokens, 0), max(u.OutputTokens, 0))
	b := Breakdown{
		Input:      float64(u.InputTokens) * r.input,
		CacheRead:  float64(u.CacheReadTokens) * r.cacheRead,
		CacheWrite: float64(u.CacheWriteTokens) * r.cacheWrite,
		Output:     float64(u.OutputTokens-reasoning) * r.output,
		Reasoning:  float64(reasoning) * r.reasoning,
	}
	b.Total = b.Input + b.CacheRead + b.CacheWrite + b.Output + b.Reasoning
	return b
}

// Estimate is an upper bound on the cost of a call with inputTokens of
// prompt and at most maxOutputTokens of output, for reserving budget
// before the call. The prompt is priced at the dearer of the input and
// cache-write rates (a call may write its whole prompt to a cache) and the
// output at the dearer of the output and reasoning rates, both in the tier
// the prompt length selects. Settle with Cost once usage is known.
func Estimate(p Price, inputTokens, maxOutputTokens int) float64 {
	r := p.ratesFor(inputTokens)
	return float64(max(inputTokens, 0))*max(r.input, r.cacheWrite) +
		float64(max(maxOutputTokens, 0))*max(r.output, r.reasoning)
}
