package event

// Model-call events, written by the gateway for every call through it.
//
// Field names follow the OpenTelemetry GenAI semantic conventions where
// one exists (gen_ai.request.model, gen_ai.usage.input_tokens, ...), so
// exporters can map them without a table. As in those conventions,
// gen_ai.usage.input_tokens counts every prompt token, cached or not; the
// cached share is broken out in the cache_read / cache_creation fields.
//
// Stream: calls made with a key go on "calls-<key id>"; the call id ties
// the events of one call together and is the correlation id unless the
// caller belongs to a decision (a session turn), whose id is used then.

func init() {
	Register[ModelCallStarted]("model.call.started", 1, "the gateway accepted a model call and is about to route it")
	Register[RoutingDecided]("routing.decided", 1, "a router chose the ordered targets for a call")
	Register[ModelCallAttempt]("model.call.attempt", 1, "one try of a call on one target, with its outcome and what came next")
	Register[ModelCallCompleted]("model.call.completed", 1, "a model call finished, with usage and cost")
	Register[ModelCallFailed]("model.call.failed", 1, "a model call failed for good, with what it cost so far")
	Register[BudgetExceeded]("budget.exceeded", 1, "a call was refused by a spend cap or rate limit")
}

// CallAttribution says who made a call. The team, user, agent and session
// are in the event's Metadata; these are the call-specific parts.
type CallAttribution struct {
	// KeyID is the virtual key's id (never the secret).
	KeyID string `json:"key_id,omitempty"`
	// Tags are the key's tags merged with the request's x-switchyard-tags.
	Tags map[string]string `json:"tags,omitempty"`
	// Client is the calling program (claude-code, codex, opencode, or the
	// User-Agent product), ClientSessionID its own session id header.
	Client          string `json:"client,omitempty"`
	ClientSessionID string `json:"client_session_id,omitempty"`
}

// ModelCallStarted is written when the gateway accepts a call, after
// authentication and budget admission.
type ModelCallStarted struct {
	CallID string `json:"call_id"`
	CallAttribution
	// API is the inbound API (openai.chat, openai.responses,
	// anthropic.messages).
	API          string `json:"api"`
	Operation    string `json:"gen_ai.operation.name"`
	RequestModel string `json:"gen_ai.request.model"`
	Stream       bool   `json:"stream,omitempty"`
	MaxTokens    int    `json:"gen_ai.request.max_tokens,omitempty"`
	// EstimatedInputTokens is the gateway's estimate, used for budgets
	// and routing before the provider reports the real count.
	EstimatedInputTokens int `json:"estimated_input_tokens,omitempty"`
	// ReservedUSD is what budget admission held back for this call.
	ReservedUSD float64 `json:"reserved_usd,omitempty"`
	// BudgetCheck is what budget admission checked to admit the call,
	// when a budget rule applies to it; nil when none does (or the
	// gateway predates recording it).
	BudgetCheck *BudgetCheck `json:"budget_check,omitempty"`
}

// RouteTarget is one place a call can go.
type RouteTarget struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
}

// String is "provider/model".
func (t RouteTarget) String() string { return t.Provider + "/" + t.Model }

// TargetNames names each target "provider/model".
func TargetNames(ts []RouteTarget) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// RoutingDecided records where a router sent a call and why.
type RoutingDecided struct {
	CallID       string        `json:"call_id"`
	Router       string        `json:"router"`
	RequestModel string        `json:"gen_ai.request.model"`
	Targets      []RouteTarget `json:"targets"`
	Reason       string        `json:"reason,omitempty"`
	// Skipped lists targets left out and why (cooling down, model not
	// allowed for the key), as "provider/model: reason".
	Skipped []string `json:"skipped,omitempty"`
	// PluginDigest names the routing plugin's content, when a plugin
	// decided; Seed and Clock are what the host gave it.
	PluginDigest string `json:"plugin_digest,omitempty"`
	// PluginConfigDigest names the configuration the plugin was loaded
	// with (routing.plugin.loaded records it in full).
	PluginConfigDigest string `json:"plugin_config_digest,omitempty"`
	// PluginError says how the plugin failed (trap, overrun, malformed
	// answer, quarantine) when the default route was used instead.
	PluginError string `json:"plugin_error,omitempty"`
	// PluginFacts are the rest of what the plugin decided on, so that
	// the decision can be re-run.
	PluginFacts *PluginFacts `json:"plugin_facts,omitempty"`
	// RoutesDigest names the static routes (routing.routes.loaded) a
	// decision of the static router was made with.
	RoutesDigest string `json:"routes_digest,omitempty"`
	Seed         uint64 `json:"seed,omitempty"`
	ClockUnixMS  int64  `json:"clock_unix_ms,omitempty"`
}

// ModelCallAttempt records one try on one target.
type ModelCallAttempt struct {
	CallID   string `json:"call_id"`
	Attempt  int    `json:"attempt"` // from 1
	Provider string `json:"gen_ai.provider.name"`
	Model    string `json:"gen_ai.request.model"`
	// Outcome is "ok" or the llm error kind (rate_limit, server,
	// timeout, connection, ...).
	Outcome string `json:"outcome"`
	Status  int    `json:"status,omitempty"`
	// Error is the provider's message, with secrets removed.
	Error        string  `json:"error,omitempty"`
	RetryAfterMS int64   `json:"retry_after_ms,omitempty"`
	LatencyMS    float64 `json:"latency_ms"`
	// Next is what the gateway did after a failure: "retry" (same
	// target), "fallback" (next target) or "give_up", with the backoff
	// it waited first; empty after a success.
	Next      string  `json:"next,omitempty"`
	BackoffMS float64 `json:"backoff_ms,omitempty"`
	// Reason explains Next when it is not the obvious one (retry budget
	// spent, error not retryable, deadline near).
	Reason string `json:"reason,omitempty"`
}

// CallUsage is the usage and price of a call, complete or not.
type CallUsage struct {
	InputTokens      int `json:"gen_ai.usage.input_tokens"`
	OutputTokens     int `json:"gen_ai.usage.output_tokens"`
	CacheReadTokens  int `json:"gen_ai.usage.cache_read.input_tokens,omitempty"`
	CacheWriteTokens int `json:"gen_ai.usage.cache_creation.input_tokens,omitempty"`
	ReasoningTokens  int `json:"gen_ai.usage.reasoning.output_tokens,omitempty"`

	// CostUSD is the total price; the breakdown sums to it.
	CostUSD           float64 `json:"cost_usd"`
	InputCostUSD      float64 `json:"input_cost_usd,omitempty"`
	CacheReadCostUSD  float64 `json:"cache_read_cost_usd,omitempty"`
	CacheWriteCostUSD float64 `json:"cache_write_cost_usd,omitempty"`
	OutputCostUSD     float64 `json:"output_cost_usd,omitempty"`
	ReasoningCostUSD  float64 `json:"reasoning_cost_usd,omitempty"`
	// Unpriced is set when the model has no price: CostUSD is then 0 and
	// must not be read as free.
	Unpriced bool `json:"unpriced,omitempty"`
	// UsageEstimated is set when the provider never reported usage (a
	// stream the client cancelled, or cut): the tokens are the gateway's
	// count of what passed through.
	UsageEstimated bool `json:"usage_estimated,omitempty"`
}

// CallRoute is how a call reached the attempt that answered it (or, for
// a failed call, its last attempt), so that retries and fallbacks can be
// counted and priced apart.
type CallRoute struct {
	// TargetModel is the model the attempt asked the provider for: the
	// one priced. (gen_ai.request.model is what the client asked for,
	// gen_ai.response.model what the provider said it ran.)
	TargetModel string `json:"target_model,omitempty"`
	// Retries and Fallbacks count the failed attempts the gateway
	// followed by a retry of the same target or a move to the next.
	Retries   int `json:"retries,omitempty"`
	Fallbacks int `json:"fallbacks,omitempty"`
	// Via is what led to the attempt: "" for the first try of the first
	// target, else "retry" or "fallback".
	Via string `json:"via,omitempty"`
}

// ModelCallCompleted records a call that finished.
type ModelCallCompleted struct {
	CallID string `json:"call_id"`
	CallAttribution
	API           string `json:"api"`
	Provider      string `json:"gen_ai.provider.name"`
	RequestModel  string `json:"gen_ai.request.model"`
	ResponseModel string `json:"gen_ai.response.model"`
	ResponseID    string `json:"gen_ai.response.id,omitempty"`
	FinishReason  string `json:"gen_ai.response.finish_reason,omitempty"`
	CallRoute
	CallUsage
	Stream    bool    `json:"stream,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	// TTFTMS is the time to the first token, for streams.
	TTFTMS float64 `json:"ttft_ms,omitempty"`
	// OverheadMS is the gateway's own share of the latency (of the time
	// to the first byte, for streams): the rest was spent waiting on
	// providers or backing off between attempts.
	OverheadMS float64 `json:"overhead_ms,omitempty"`
	Attempts   int     `json:"attempts"`
	// Cancelled: the client went away before the end; the call is billed
	// for what the provider generated.
	Cancelled bool `json:"cancelled,omitempty"`
}

// ModelCallFailed records a call that failed after its retries and
// fallbacks, or whose stream broke after the first byte reached the
// client. Usage and cost are what was generated before it failed.
type ModelCallFailed struct {
	CallID string `json:"call_id"`
	CallAttribution
	API          string `json:"api"`
	Provider     string `json:"gen_ai.provider.name,omitempty"`
	RequestModel string `json:"gen_ai.request.model"`
	// ErrorKind is the llm error kind; Status the HTTP status the client
	// got (or would have, for an error inside a stream).
	ErrorKind string `json:"error.type"`
	Status    int    `json:"status,omitempty"`
	Message   string `json:"message"`
	CallRoute
	CallUsage
	Stream         bool    `json:"stream,omitempty"`
	AfterFirstByte bool    `json:"after_first_byte,omitempty"`
	LatencyMS      float64 `json:"latency_ms"`
	Attempts       int     `json:"attempts"`
}

// BudgetExceeded records a call refused by a budget or rate limit.
type BudgetExceeded struct {
	CallID string `json:"call_id"`
	KeyID  string `json:"key_id,omitempty"`
	// Scope is "key:<id>", "team:<name>", "user:<name>" or "agent:<name>".
	Scope string `json:"scope"`
	// Limit is "spend", "requests_per_minute" or "tokens_per_minute".
	Limit   string  `json:"limit"`
	Max     float64 `json:"max"`
	Current float64 `json:"current"`
	Message string  `json:"message"`
	// Period is a spend cap's: "total", "day" or "month".
	Period string `json:"period,omitempty"`
	// RetryAfterNS is when the call would fit a rate limit, in ns; 0 for
	// a spend cap, and for a call too big to ever fit.
	RetryAfterNS int64 `json:"retry_after_ns,omitempty"`
	// Tags are the call's, as model.call.started records them (its turn,
	// for a session's call).
	Tags map[string]string `json:"tags,omitempty"`
	// BudgetCheck is what budget admission checked to refuse the call;
	// nil when the gateway predates recording it.
	BudgetCheck *BudgetCheck `json:"budget_check,omitempty"`
}

// BudgetCheck is what one budget admission checked, so that the check can
// be re-run (`switchyard replay`): the clock, the call's estimate, and
// each scope of the call that has a budget rule, with its limits and its
// state at that instant. Money is in nano-dollars, times in unix ns. Only
// what the check read is recorded: the spend, pending and reserved
// amounts of a scope with a spend cap, and the arrival time of a rate
// limit it has.
type BudgetCheck struct {
	ClockUnixNS int64 `json:"clock_unix_ns"`
	// CostNanoUSD and Tokens are the call's estimate, as checked.
	CostNanoUSD int64         `json:"cost_nano_usd"`
	Tokens      int64         `json:"tokens"`
	Scopes      []BudgetScope `json:"scopes"`
}

// BudgetScope is one scope's limits and state in a BudgetCheck.
type BudgetScope struct {
	// Scope is "key:<id>", "team:<name>", "user:<name>" or "agent:<name>".
	Scope string `json:"scope"`
	// The spend caps by period, 0 for none.
	CapTotalNanoUSD int64 `json:"cap_total_nano_usd,omitempty"`
	CapMonthNanoUSD int64 `json:"cap_month_nano_usd,omitempty"`
	CapDayNanoUSD   int64 `json:"cap_day_nano_usd,omitempty"`
	// RequestsPerMinute and TokensPerMinute are the rate limits, 0 for
	// none.
	RequestsPerMinute int64 `json:"requests_per_minute,omitempty"`
	TokensPerMinute   int64 `json:"tokens_per_minute,omitempty"`
	// Spent is the spend folded from the log in each capped period: in
	// total, and in the UTC month and day containing the clock.
	SpentTotalNanoUSD int64 `json:"spent_total_nano_usd,omitempty"`
	SpentMonthNanoUSD int64 `json:"spent_month_nano_usd,omitempty"`
	SpentDayNanoUSD   int64 `json:"spent_day_nano_usd,omitempty"`
	// PendingNanoUSD is the cost of settled calls whose event was not
	// applied yet; ReservedNanoUSD the estimates of admitted calls not
	// yet settled.
	PendingNanoUSD  int64 `json:"pending_nano_usd,omitempty"`
	ReservedNanoUSD int64 `json:"reserved_nano_usd,omitempty"`
	// RequestsTATUnixNS and TokensTATUnixNS are the rate limiters'
	// theoretical arrival times (GCRA).
	RequestsTATUnixNS int64 `json:"requests_tat_unix_ns,omitempty"`
	TokensTATUnixNS   int64 `json:"tokens_tat_unix_ns,omitempty"`
}
