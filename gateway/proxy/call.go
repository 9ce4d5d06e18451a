package proxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/gateway/wire"
)

// call is the state of one inbound call across its attempts.
type call struct {
	g       *Gateway
	id      string
	req     *Request
	in      wire.Inbound
	peek    wire.Peek
	key     *keys.Key
	attr    event.CallAttribution
	md      event.Metadata
	stream  string // event stream
	start   time.Time
	ticket  Ticket
	decided route.Decision
	// routedAt is the clock the router saw (recorded, for replay).
	routedAt time.Time
	provs    map[string]provider.Provider

	// canonical is the decoded request, made once when a target needs a
	// translation; bodies caches the encoded body per outbound API.
	canonical *llm.Request
	// answerIn encodes translated answers: the inbound codec, bound to
	// the decoded request where the format needs it.
	answerIn wire.Inbound
	bodies   map[llm.API][]byte
	attempts int
	// reached is how the current attempt was reached (model, retries and
	// fallbacks so far, via), for the call's final event.
	reached event.CallRoute
	// waited is the time spent waiting on providers (until a complete
	// answer, or a stream's first event) and in backoff: the rest of a
	// call's time until its answer (or a stream's first byte) goes out is
	// the gateway's overhead.
	waited   time.Duration
	overhead time.Duration

	decidedSkipped []string

	budgetLeftUSD float64 // see budgetLeft
	budgetKnown   bool
	// budgetCheck is what admission checked; nil when no rule applied.
	budgetCheck *event.BudgetCheck

	// answer is set when the call's answer is recorded for harness
	// replay (collected here when streamed); answerMax bounds it.
	answer    *tape.Collector
	answerMax int
}

// Handle runs one call and returns what to send to the client. ctx bounds
// the whole call, including a streamed answer's Stream function.
func (g *Gateway) Handle(ctx context.Context, r *Request) *Response {
	c := &call{g: g, id: event.NewID().String(), req: r, start: g.now()}
	in, ok := wire.InboundFor(r.API)
	if !ok {
		return &Response{Status: 500, Body: []byte(`{"error":{"message":"inbound API not linked into this binary"}}`)}
	}
	c.in = in
	if e := c.authenticate(); e != nil {
		return g.errorResponse(in, c.id, e)
	}
	peek, err := in.Peek(r.Body)
	if err != nil {
		return g.errorResponse(in, c.id, asLLMError(err, llm.ErrInvalidRequest))
	}
	c.peek = peek
	if peek.Model == "" {
		return g.errorResponse(in, c.id, &llm.Error{Kind: llm.ErrInvalidRequest, Status: 400, Param: "model", Message: "model: field required; name the model to call"})
	}
	if of := c.key.Tags[tape.ReplayTag]; of != "" && !tape.Live(c.key.Tags, turnOf(c.attr.Tags)) {
		return c.replay(ctx, of)
	}
	if m := c.key.Tags[ModelTag]; m != "" {
		// The key asks for its model, whatever the request names: the
		// router and the upstream see this one.
		c.peek.Model = m
	}
	if ok, limit := g.recordsAnswers(c.key); ok {
		c.answer, c.answerMax = &tape.Collector{}, limit
	}
	if !c.key.Allows(peek.Model) {
		return c.refuse(&llm.Error{Kind: llm.ErrPermission, Status: 403, Param: "model",
			Message: fmt.Sprintf("key %s may not use model %q; it allows: %s", c.key.ID, peek.Model, strings.Join(c.key.Models, ", "))})
	}
	if pol := g.policyNow(); pol != nil {
		if e := c.judge(ctx, pol); e != nil {
			return c.refuse(e)
		}
	}
	if e := c.route(ctx); e != nil {
		return c.refuse(e)
	}
	if e := c.admit(); e != nil {
		return c.refuse(e)
	}
	c.record("model.call.started", event.ModelCallStarted{
		CallID: c.id, CallAttribution: c.attr, API: string(r.API), Operation: "chat",
		RequestModel: peek.Model, Stream: peek.Stream, EstimatedInputTokens: c.estimateInput(),
		BudgetCheck: c.budgetCheck,
	})
	c.recordRouting()
	return c.run(ctx)
}

// refuse answers a call the gateway refused before it started with e,
// recording the refusal as the call's answer when answers are recorded
// (a replay refuses it the same way).
func (c *call) refuse(e *llm.Error) *Response {
	c.recordAnswer(nil, e, "")
	return c.g.errorResponse(c.in, c.id, e)
}

func (c *call) authenticate() *llm.Error {
	r := c.req
	if r.Key == "" {
		return &llm.Error{Kind: llm.ErrAuthentication, Status: 401,
			Message: "missing API key: send a Switchyard virtual key as Authorization: Bearer <key> or x-api-key (create one with `switchyard keys create`)"}
	}
	k, ok := c.g.keys.Lookup(r.Key)
	if !ok {
		return &llm.Error{Kind: llm.ErrAuthentication, Status: 401,
			Message: "invalid API key: it is not a Switchyard virtual key known to this gateway (create one with `switchyard keys create`)"}
	}
	if !k.Active(c.g.now()) {
		return &llm.Error{Kind: llm.ErrAuthentication, Status: 401,
			Message: fmt.Sprintf("API key %s is revoked or expired; create a new one with `switchyard keys create`", k.ID)}
	}
	c.key = k
	tags, err := ParseTags(r.Tags)
	if err != nil {
		return &llm.Error{Kind: llm.ErrInvalidRequest, Status: 400, Message: err.Error()}
	}
	if len(k.Tags) > 0 {
		// The request adds tags; the key's own win, so that what a key
		// pins (its session, say) cannot be changed by its caller.
		merged := make(map[string]string, len(k.Tags)+len(tags))
		for kk, v := range tags {
			merged[kk] = v
		}
		for kk, v := range k.Tags {
			merged[kk] = v
		}
		tags = merged
	}
	c.attr = event.CallAttribution{KeyID: k.ID, Tags: tags, Client: r.Client, ClientSessionID: r.ClientSessionID}
	c.md = event.Metadata{CorrelationID: c.id, Actor: "key:" + k.ID, Team: k.Team, User: k.User, Agent: k.Agent, Session: k.Tags["session"]}
	c.stream = "calls-" + k.ID
	return nil
}

func (c *call) scopes() []string {
	k := c.key
	s := make([]string, 0, 4)
	s = append(s, "key:"+k.ID)
	if k.Team != "" {
		s = append(s, "team:"+k.Team)
	}
	if k.User != "" {
		s = append(s, "user:"+k.User)
	}
	if k.Agent != "" {
		s = append(s, "agent:"+k.Agent)
	}
	return s
}

func (c *call) estimateInput() int { return len(c.req.Body) / 4 }

// budgetLeft is the smallest spend left among the caller's capped scopes,
// negative when none is capped. The policies and the router both see it;
// it is looked up once a call.
func (c *call) budgetLeft() float64 {
	if !c.budgetKnown {
		c.budgetLeftUSD, c.budgetKnown = -1, true
		if c.g.admit != nil {
			c.budgetLeftUSD = c.g.admit.RemainingUSD(c.scopes())
		}
	}
	return c.budgetLeftUSD
}

func (c *call) route(ctx context.Context) *llm.Error {
	provs, router := c.g.snapshot()
	if name := c.key.Tags[RoutingPluginTag]; name != "" {
		if c.g.routers == nil {
			return &llm.Error{Kind: llm.ErrInternal, Status: 500,
				Message: fmt.Sprintf("key %s names routing plugin %q, and this gateway cannot route by key", c.key.ID, name)}
		}
		r, err := c.g.routers.KeyRouter(ctx, name)
		if err != nil {
			return &llm.Error{Kind: llm.ErrInternal, Status: 500,
				Message: fmt.Sprintf("key %s names routing plugin %q: %s", c.key.ID, name, redact(err.Error()))}
		}
		router = r
	}
	c.provs = provs
	budgetLeft := c.budgetLeft()
	now := c.g.now()
	c.routedAt = now
	f := &route.Facts{
		CallID: c.id, RequestedModel: c.peek.Model, API: c.req.API, EstimatedTokens: c.estimateInput(),
		HasTools: c.peek.HasTools, Stream: c.peek.Stream, KeyID: c.key.ID, Agent: c.key.Agent,
		Team: c.key.Team, User: c.key.User, Tags: c.attr.Tags, BudgetLeftUSD: budgetLeft,
		Health: c.g.health.Get, Now: now, Seed: route.SeedFor(c.id),
	}
	d, err := router.Route(ctx, f)
	if err != nil {
		if errors.Is(err, route.ErrNoRoute) {
			return &llm.Error{Kind: llm.ErrNotFound, Status: 404, Param: "model",
				Message: fmt.Sprintf("model %q not found: no route or provider serves it; GET /v1/models lists what this gateway serves", c.peek.Model)}
		}
		return &llm.Error{Kind: llm.ErrInternal, Status: 500, Message: "routing failed: " + redact(err.Error())}
	}
	// Unknown providers are a config error the router let through; drop
	// them. Cooling targets go last, in their order.
	var ready, cooling []route.Target
	var skipped []string
	for _, t := range d.Targets {
		if _, ok := provs[t.Provider]; !ok {
			skipped = append(skipped, t.String()+": no such provider")
			continue
		}
		if h := c.g.health.Get(t); h.CoolingUntil.After(now) {
			cooling = append(cooling, t)
			skipped = append(skipped, fmt.Sprintf("%s: cooling down until %s (tried last)", t, h.CoolingUntil.UTC().Format(time.RFC3339)))
			continue
		}
		ready = append(ready, t)
	}
	d.Targets = append(ready, cooling...)
	if len(d.Targets) == 0 {
		return &llm.Error{Kind: llm.ErrNotFound, Status: 404, Param: "model",
			Message: fmt.Sprintf("model %q: the route names no configured provider (%s)", c.peek.Model, strings.Join(skipped, "; "))}
	}
	c.decided = d
	c.decidedSkipped = skipped
	return nil
}

func (c *call) recordRouting() {
	ts := make([]event.RouteTarget, len(c.decided.Targets))
	for i, t := range c.decided.Targets {
		ts[i] = event.RouteTarget{Provider: t.Provider, Model: t.Model}
	}
	c.record("routing.decided", event.RoutingDecided{
		CallID: c.id, Router: c.decided.Router, RequestModel: c.peek.Model, Targets: ts,
		Reason: c.decided.Reason, Skipped: c.decidedSkipped, PluginDigest: c.decided.PluginDigest,
		PluginConfigDigest: c.decided.PluginConfigDigest, PluginError: c.decided.PluginError, PluginFacts: c.decided.PluginFacts,
		RoutesDigest: c.decided.RoutesDigest,
		Seed:         route.SeedFor(c.id), ClockUnixMS: c.routedAt.UnixMilli(),
	})
}

func (c *call) admit() *llm.Error {
	if c.g.admit == nil {
		return nil
	}
	t := c.decided.Targets[0]
	p := c.provs[t.Provider]
	in := c.estimateInput()
	est := c.g.pricer.Estimate(p.Kind(), t.Model, in, c.g.cfg.ReserveOutputTokens)
	ticket, checked, denied := c.g.admit.Admit(c.id, c.scopes(), est, in+c.g.cfg.ReserveOutputTokens)
	c.budgetCheck = checked
	if denied != nil {
		c.record("budget.exceeded", event.BudgetExceeded{
			CallID: c.id, KeyID: c.key.ID, Scope: denied.Scope, Limit: denied.Limit,
			Max: denied.Max, Current: denied.Current, Message: denied.Err.Message,
			Period: denied.Period, RetryAfterNS: int64(denied.RetryAfter), Tags: c.attr.Tags,
			BudgetCheck: checked,
		})
		return denied.Err
	}
	c.ticket = ticket
	return nil
}

func (c *call) record(typ string, data any) {
	p, err := event.New(typ, data, c.md)
	if err != nil {
		c.g.log.Error("build event", "type", typ, "call_id", c.id, "err", err)
		return
	}
	if err := c.g.sink.Record(c.stream, p); err != nil {
		c.g.log.Error("record event", "type", typ, "call_id", c.id, "err", err)
	}
}

// backoff is the full-jitter exponential wait before retry n (from 1) of
// the same target, never shorter than the provider's Retry-After.
func (c *call) backoff(n int, retryAfter time.Duration, rng *rand.Rand) time.Duration {
	ceiling := min(c.g.cfg.BackoffMax.D(), c.g.cfg.BackoffBase.D()<<min(n-1, 20))
	d := time.Duration(rng.Int64N(int64(ceiling) + 1))
	return max(d, retryAfter)
}

func asLLMError(err error, kind llm.ErrorKind) *llm.Error {
	var le *llm.Error
	if errors.As(err, &le) {
		return le
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: err.Error()}
}
