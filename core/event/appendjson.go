package event

import (
	"github.com/switchyard/switchyard/internal/jsonw"
)

// The gateway records model.call.started, routing.decided and
// model.call.completed on every call, and encoding/json's reflection over
// them was 6% of its CPU under load. These write the same JSON by hand
// (but for HTML escaping, which encoding/json adds and JSON does not
// need); New uses them. appendjson_test.go fills every field and holds
// the output to encoding/json's, so a field added to one of these types
// and not here fails it.

// jsonAppender is an event data type that writes its own JSON.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, error)
}

func (a *CallAttribution) members(o *jsonw.Object) {
	o.StringOmit("key_id", a.KeyID)
	o.StringMapOmit("tags", a.Tags)
	o.StringOmit("client", a.Client)
	o.StringOmit("client_session_id", a.ClientSessionID)
}

func (r *CallRoute) members(o *jsonw.Object) {
	o.StringOmit("target_model", r.TargetModel)
	o.IntOmit("retries", int64(r.Retries))
	o.IntOmit("fallbacks", int64(r.Fallbacks))
	o.StringOmit("via", r.Via)
}

func (u *CallUsage) members(o *jsonw.Object) {
	o.Int("gen_ai.usage.input_tokens", int64(u.InputTokens))
	o.Int("gen_ai.usage.output_tokens", int64(u.OutputTokens))
	o.IntOmit("gen_ai.usage.cache_read.input_tokens", int64(u.CacheReadTokens))
	o.IntOmit("gen_ai.usage.cache_creation.input_tokens", int64(u.CacheWriteTokens))
	o.IntOmit("gen_ai.usage.reasoning.output_tokens", int64(u.ReasoningTokens))
	o.Float("cost_usd", u.CostUSD)
	o.FloatOmit("input_cost_usd", u.InputCostUSD)
	o.FloatOmit("cache_read_cost_usd", u.CacheReadCostUSD)
	o.FloatOmit("cache_write_cost_usd", u.CacheWriteCostUSD)
	o.FloatOmit("output_cost_usd", u.OutputCostUSD)
	o.FloatOmit("reasoning_cost_usd", u.ReasoningCostUSD)
	o.BoolOmit("unpriced", u.Unpriced)
	o.BoolOmit("usage_estimated", u.UsageEstimated)
}

func (e ModelCallStarted) appendJSON(b []byte) ([]byte, error) {
	o := jsonw.Open(b)
	o.String("call_id", e.CallID)
	e.CallAttribution.members(&o)
	o.String("api", e.API)
	o.String("gen_ai.operation.name", e.Operation)
	o.String("gen_ai.request.model", e.RequestModel)
	o.BoolOmit("stream", e.Stream)
	o.IntOmit("gen_ai.request.max_tokens", int64(e.MaxTokens))
	o.IntOmit("estimated_input_tokens", int64(e.EstimatedInputTokens))
	o.FloatOmit("reserved_usd", e.ReservedUSD)
	if e.BudgetCheck != nil {
		in := o.Nested("budget_check")
		e.BudgetCheck.members(&in)
		o.End(&in)
	}
	return o.Close()
}

func (c *BudgetCheck) members(o *jsonw.Object) {
	o.Int("clock_unix_ns", c.ClockUnixNS)
	o.Int("cost_nano_usd", c.CostNanoUSD)
	o.Int("tokens", c.Tokens)
	if c.Scopes == nil {
		o.Null("scopes")
		return
	}
	o.ArrayStart("scopes")
	for i := range c.Scopes {
		s := &c.Scopes[i]
		in := o.Element(i)
		in.String("scope", s.Scope)
		in.IntOmit("cap_total_nano_usd", s.CapTotalNanoUSD)
		in.IntOmit("cap_month_nano_usd", s.CapMonthNanoUSD)
		in.IntOmit("cap_day_nano_usd", s.CapDayNanoUSD)
		in.IntOmit("requests_per_minute", s.RequestsPerMinute)
		in.IntOmit("tokens_per_minute", s.TokensPerMinute)
		in.IntOmit("spent_total_nano_usd", s.SpentTotalNanoUSD)
		in.IntOmit("spent_month_nano_usd", s.SpentMonthNanoUSD)
		in.IntOmit("spent_day_nano_usd", s.SpentDayNanoUSD)
		in.IntOmit("pending_nano_usd", s.PendingNanoUSD)
		in.IntOmit("reserved_nano_usd", s.ReservedNanoUSD)
		in.IntOmit("requests_tat_unix_ns", s.RequestsTATUnixNS)
		in.IntOmit("tokens_tat_unix_ns", s.TokensTATUnixNS)
		o.End(&in)
	}
	o.ArrayEnd()
}

func (e ModelCallCompleted) appendJSON(b []byte) ([]byte, error) {
	o := jsonw.Open(b)
	o.String("call_id", e.CallID)
	e.CallAttribution.members(&o)
	o.String("api", e.API)
	o.String("gen_ai.provider.name", e.Provider)
	o.String("gen_ai.request.model", e.RequestModel)
	o.String("gen_ai.response.model", e.ResponseModel)
	o.StringOmit("gen_ai.response.id", e.ResponseID)
	o.StringOmit("gen_ai.response.finish_reason", e.FinishReason)
	e.CallRoute.members(&o)
	e.CallUsage.members(&o)
	o.BoolOmit("stream", e.Stream)
	o.Float("latency_ms", e.LatencyMS)
	o.FloatOmit("ttft_ms", e.TTFTMS)
	o.FloatOmit("overhead_ms", e.OverheadMS)
	o.Int("attempts", int64(e.Attempts))
	o.BoolOmit("cancelled", e.Cancelled)
	return o.Close()
}

func (e RoutingDecided) appendJSON(b []byte) ([]byte, error) {
	o := jsonw.Open(b)
	o.String("call_id", e.CallID)
	o.String("router", e.Router)
	o.String("gen_ai.request.model", e.RequestModel)
	targets(&o, "targets", e.Targets)
	o.StringOmit("reason", e.Reason)
	if len(e.Skipped) > 0 {
		o.Strings("skipped", e.Skipped)
	}
	o.StringOmit("plugin_digest", e.PluginDigest)
	o.StringOmit("plugin_config_digest", e.PluginConfigDigest)
	o.StringOmit("plugin_error", e.PluginError)
	if e.PluginFacts != nil {
		in := o.Nested("plugin_facts")
		e.PluginFacts.members(&in)
		o.End(&in)
	}
	o.StringOmit("routes_digest", e.RoutesDigest)
	o.UintOmit("seed", e.Seed)
	o.IntOmit("clock_unix_ms", e.ClockUnixMS)
	return o.Close()
}

// targets writes ts as encoding/json does: null when nil.
func targets(o *jsonw.Object, k string, ts []RouteTarget) {
	if ts == nil {
		o.Null(k)
		return
	}
	o.ArrayStart(k)
	for i, t := range ts {
		in := o.Element(i)
		in.String("provider", t.Provider)
		in.String("model", t.Model)
		o.End(&in)
	}
	o.ArrayEnd()
}

func (f *PluginFacts) members(o *jsonw.Object) {
	o.String("targets_digest", f.TargetsDigest)
	o.String("api", f.API)
	o.Int("estimated_tokens", int64(f.EstimatedTokens))
	o.BoolOmit("tools", f.Tools)
	o.BoolOmit("stream", f.Stream)
	o.StringOmit("key_id", f.KeyID)
	o.StringOmit("agent", f.Agent)
	o.StringOmit("team", f.Team)
	o.StringOmit("user", f.User)
	o.StringMapOmit("tags", f.Tags)
	o.Float("budget_left_usd", f.BudgetLeftUSD)
	if len(f.Health) > 0 {
		o.ArrayStart("health")
		for i, h := range f.Health {
			in := o.Element(i)
			in.Int("target", int64(h.Target))
			in.FloatOmit("latency_ms", h.LatencyMS)
			in.FloatOmit("error_rate", h.ErrorRate)
			in.BoolOmit("rate_limited", h.RateLimited)
			in.BoolOmit("cooling_down", h.CoolingDown)
			o.End(&in)
		}
		o.ArrayEnd()
	}
	if f.Default == nil {
		o.Null("default")
	} else {
		o.Ints("default", f.Default)
	}
	if len(f.Extra) > 0 {
		targets(o, "extra", f.Extra)
	}
}

// The gateway records model.answer.recorded after every call of a
// session: an answer and a request's fingerprint, most of it strings.

func (e AnswerRecorded) appendJSON(b []byte) ([]byte, error) {
	o := jsonw.Open(b)
	o.String("call_id", e.CallID)
	o.IntOmit("turn", int64(e.Turn))
	in := o.Nested("request")
	e.Request.members(&in)
	o.End(&in)
	if e.Answer != nil {
		in := o.Nested("answer")
		e.Answer.members(&in)
		o.End(&in)
	}
	o.StringOmit("not_replayable", e.NotReplayable)
	return o.Close()
}

func (r *RequestPrint) members(o *jsonw.Object) {
	o.String("api", r.API)
	o.String("model", r.Model)
	o.BoolOmit("stream", r.Stream)
	if len(r.Tools) > 0 {
		o.Strings("tools", r.Tools)
	}
	if len(r.System) > 0 {
		messagePrints(o, "system", r.System)
	}
	if r.Messages == nil {
		o.Null("messages")
	} else {
		messagePrints(o, "messages", r.Messages)
	}
	o.String("digest", r.Digest)
}

func messagePrints(o *jsonw.Object, k string, ms []MessagePrint) {
	o.ArrayStart(k)
	for i := range ms {
		m := &ms[i]
		in := o.Element(i)
		in.String("role", m.Role)
		in.String("digest", m.Digest)
		in.Int("bytes", int64(m.Bytes))
		if len(m.Parts) > 0 {
			in.ArrayStart("parts")
			for j := range m.Parts {
				p := &m.Parts[j]
				pin := in.Element(j)
				pin.String("type", p.Type)
				pin.String("digest", p.Digest)
				pin.Int("bytes", int64(p.Bytes))
				pin.StringOmit("excerpt", p.Excerpt)
				in.End(&pin)
			}
			in.ArrayEnd()
		}
		o.End(&in)
	}
	o.ArrayEnd()
}

func (a *Answer) members(o *jsonw.Object) {
	o.StringOmit("id", a.ID)
	o.StringOmit("model", a.Model)
	if len(a.Parts) > 0 {
		o.ArrayStart("parts")
		for i := range a.Parts {
			p := &a.Parts[i]
			in := o.Element(i)
			in.String("type", p.Type)
			in.StringOmit("text", p.Text)
			in.StringOmit("signature", p.Signature)
			in.StringOmit("data", p.Data)
			in.StringOmit("tool_call_id", p.ToolCallID)
			in.StringOmit("tool_name", p.ToolName)
			in.StringOmit("arguments", p.Arguments)
			o.End(&in)
		}
		o.ArrayEnd()
	}
	o.StringOmit("stop_reason", a.StopReason)
	o.StringOmit("stop_sequence", a.StopSequence)
	u := o.Nested("usage")
	u.Int("input_tokens", int64(a.Usage.InputTokens))
	u.Int("output_tokens", int64(a.Usage.OutputTokens))
	u.IntOmit("cache_read_tokens", int64(a.Usage.CacheReadTokens))
	u.IntOmit("cache_write_tokens", int64(a.Usage.CacheWriteTokens))
	u.IntOmit("reasoning_tokens", int64(a.Usage.ReasoningTokens))
	o.End(&u)
	if a.Error != nil {
		in := o.Nested("error")
		in.String("kind", a.Error.Kind)
		in.Int("status", int64(a.Error.Status))
		in.String("message", a.Error.Message)
		o.End(&in)
	}
}
