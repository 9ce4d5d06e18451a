package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/gateway/wire"
)

// Config tunes the request path. The zero value is usable.
type Config struct {
	// MaxAttempts bounds the tries of one call, over all its targets.
	// Default 4.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// AttemptTimeout bounds the wait for an upstream's response headers
	// and, for streams, its first event. Default 120s.
	AttemptTimeout config.Duration `json:"attempt_timeout,omitempty"`
	// StreamIdleTimeout bounds the gap between two upstream stream events.
	// Default 120s.
	StreamIdleTimeout config.Duration `json:"stream_idle_timeout,omitempty"`
	// BackoffBase and BackoffMax shape the backoff before retrying the
	// same target: full jitter over BackoffBase·2^n, capped. Defaults
	// 200ms and 5s.
	BackoffBase config.Duration `json:"backoff_base,omitempty"`
	BackoffMax  config.Duration `json:"backoff_max,omitempty"`
	// MaxRetryAfter: a provider's Retry-After longer than this is not
	// waited for; the call moves on or fails with it. Default 10s.
	MaxRetryAfter config.Duration `json:"max_retry_after,omitempty"`
	// FailuresToCool consecutive retryable failures cool a target down for
	// Cooldown. Defaults 3 and 30s.
	FailuresToCool int             `json:"failures_to_cool,omitempty"`
	Cooldown       config.Duration `json:"cooldown,omitempty"`
	// RetryRatio and RetryFloor make the per-key retry budget: retries
	// may be RetryRatio of calls, plus RetryFloor per second. Defaults 0.2
	// and 1.
	RetryRatio float64 `json:"retry_ratio,omitempty"`
	RetryFloor float64 `json:"retry_floor,omitempty"`
	// ReserveOutputTokens is the output assumed when admitting a call
	// that does not state max tokens. Default 4096.
	ReserveOutputTokens int `json:"reserve_output_tokens,omitempty"`
	// MaxResponseBytes caps a non-streamed upstream answer. Default 64 MiB.
	MaxResponseBytes int64 `json:"max_response_bytes,omitempty"`
}

func (c *Config) setDefaults() {
	def := func(d *config.Duration, v time.Duration) {
		if *d <= 0 {
			*d = config.Duration(v)
		}
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 4
	}
	def(&c.AttemptTimeout, 120*time.Second)
	def(&c.StreamIdleTimeout, 120*time.Second)
	def(&c.BackoffBase, 200*time.Millisecond)
	def(&c.BackoffMax, 5*time.Second)
	def(&c.MaxRetryAfter, 10*time.Second)
	def(&c.Cooldown, 30*time.Second)
	if c.FailuresToCool <= 0 {
		c.FailuresToCool = 3
	}
	if c.RetryRatio <= 0 {
		c.RetryRatio = 0.2
	}
	if c.RetryFloor <= 0 {
		c.RetryFloor = 1
	}
	if c.ReserveOutputTokens <= 0 {
		c.ReserveOutputTokens = 4096
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 64 << 20
	}
}

// Keys finds the virtual key a client presented.
type Keys interface {
	Lookup(secret string) (*keys.Key, bool)
}

// Pricer prices a call's usage on a provider kind and model. It sets
// Unpriced when it has no price.
type Pricer interface {
	Price(providerKind, model string, u llm.Usage) event.CallUsage
	// Estimate is the most a call may cost, in nano-USD, for admission.
	Estimate(providerKind, model string, inputTokens, outputTokens int) int64
}

// Admission enforces budgets and rate limits.
type Admission interface {
	// Admit reserves est for every scope or returns why not. callID is
	// the call_id the call's events carry. rec is what the check read,
	// admitted or not, for the call's event (so that it can be re-run);
	// nil when no rule applies to the call.
	Admit(callID string, scopes []string, estNanoUSD int64, tokens int) (t Ticket, rec *event.BudgetCheck, denied *Denied)
	// RemainingUSD is the least budget left over scopes, negative if none
	// is capped.
	RemainingUSD(scopes []string) float64
}

// Ticket is an admitted call's reservation.
type Ticket interface {
	Settle(nanoUSD int64, tokens int)
}

// Denied says why admission refused a call.
type Denied struct {
	Err     *llm.Error
	Scope   string
	Limit   string
	Max     float64
	Current float64
	// Period is a spend cap's; RetryAfter when the call would fit a rate
	// limit.
	Period     string
	RetryAfter time.Duration
}

// Sink takes events for the log; Record must not wait on disk.
type Sink interface {
	Record(stream string, p event.Proposed) error
}

// Replays finds the harness replay that serves a replay key's calls
// (package tape).
type Replays interface {
	// Player returns the player serving the calls of replay session
	// `session`, or false when no replay of it runs.
	Player(session string) (*tape.Player, bool)
}

// Key tags that change how the gateway routes a key's calls: a fork of
// a session with a change (session fork --at) has a key with them. Only
// a key's own tags count, never a request's.
const (
	// ModelTag names the model the key's calls ask for, whatever model
	// their requests name: routing and the upstream see this one.
	ModelTag = "model_override"
	// RoutingPluginTag names an installed routing plugin that decides the
	// key's calls instead of the gateway-wide router.
	RoutingPluginTag = "routing_plugin"
)

// KeyRouters finds the router a key's RoutingPluginTag names.
type KeyRouters interface {
	// KeyRouter returns a router deciding with the installed routing
	// plugin name (over today's static routes and targets), or why it
	// cannot. It is safe for concurrent use.
	KeyRouter(ctx context.Context, name string) (route.Router, error)
}

// Which calls' answers are recorded for harness replay.
const (
	RecordSessions = "sessions" // calls made with a session's key (the default)
	RecordAll      = "all"      // every call
	RecordNone     = "none"
)

// AnswersConfig says which calls' answers the gateway records (in a
// model.answer.recorded event) so that a harness replay can serve them.
type AnswersConfig struct {
	// Record is sessions (default), all or none.
	Record string
	// MaxBytes bounds one recorded answer; a bigger one is recorded as
	// not replayable, without its content. Default 1 MiB.
	MaxBytes int
}

// Validate reports a config that cannot work.
func (c *AnswersConfig) Validate() error {
	switch c.Record {
	case "", RecordSessions, RecordAll, RecordNone:
	default:
		return fmt.Errorf("record_answers %q: use sessions, all or none", c.Record)
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("record_answers_max_bytes %d is negative", c.MaxBytes)
	}
	return nil
}

func (c *AnswersConfig) setDefaults() {
	if c.Record == "" {
		c.Record = RecordSessions
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 20
	}
}

// Deps are the parts the request path uses.
type Deps struct {
	Providers map[string]provider.Provider
	Router    route.Router
	Keys      Keys
	Pricer    Pricer
	Admission Admission // nil: no budgets
	Policy    Policy    // nil: no policies
	Sink      Sink
	// Replays serves the calls of harness replays' keys; nil refuses
	// them.
	Replays Replays
	// KeyRouters finds the routing plugin a key names (RoutingPluginTag);
	// nil refuses the calls of such keys.
	KeyRouters KeyRouters
	// Answers says which answers to record; the zero value records
	// those of sessions.
	Answers AnswersConfig
	// Client sends upstream requests. Default: a pooled client tuned for
	// many concurrent calls to few hosts.
	Client *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Observe, if set, is told of every finished call (for metrics). It
	// runs on the request path: keep it cheap.
	Observe func(Outcome)
}

// Gateway runs calls. It is safe for concurrent use; Swap replaces its
// providers and router while calls run.
type Gateway struct {
	cfg     Config
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
	keys    Keys
	pricer  Pricer
	admit   Admission
	sink    Sink
	health  *healthBook
	retry   *retryBudget
	observe func(Outcome)
	replays Replays
	routers KeyRouters
	answers atomic.Pointer[AnswersConfig]

	mu        sync.RWMutex
	providers map[string]provider.Provider
	router    route.Router
	policy    Policy // nil: no policies
}

// New builds a gateway.
func New(cfg Config, d Deps) (*Gateway, error) {
	cfg.setDefaults()
	if d.Router == nil || d.Keys == nil || d.Pricer == nil || d.Sink == nil {
		return nil, errors.New("proxy: Router, Keys, Pricer and Sink are required")
	}
	if d.Client == nil {
		d.Client = NewClient()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if err := d.Answers.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, client: d.Client, now: d.Now, log: d.Log, keys: d.Keys, pricer: d.Pricer,
		admit: d.Admission, sink: d.Sink, providers: d.Providers, router: d.Router, policy: d.Policy, observe: d.Observe,
		replays: d.Replays, routers: d.KeyRouters,
	}
	g.SetAnswers(d.Answers)
	g.health = newHealthBook(&g.cfg)
	g.retry = newRetryBudget(cfg.RetryRatio, cfg.RetryFloor)
	return g, nil
}

// NewClient returns the HTTP client used for providers by default: keeps
// many idle connections per host (the gateway talks to few hosts, a lot)
// and never follows redirects.
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 512
	tr.IdleConnTimeout = 90 * time.Second
	tr.ResponseHeaderTimeout = 0 // bounded per attempt by ctx
	tr.ForceAttemptHTTP2 = true
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Swap replaces providers and router (hot reload). Calls in flight finish
// on what they started with.
func (g *Gateway) Swap(providers map[string]provider.Provider, r route.Router, pol Policy) {
	g.mu.Lock()
	g.providers, g.router, g.policy = providers, r, pol
	g.mu.Unlock()
}

// SetAnswers changes which answers are recorded (hot reload); a config
// that does not validate is ignored for the one in place.
func (g *Gateway) SetAnswers(c AnswersConfig) {
	if c.Validate() != nil {
		return
	}
	c.setDefaults()
	g.answers.Store(&c)
}

// recordsAnswers reports whether the answers of k's calls are recorded.
func (g *Gateway) recordsAnswers(k *keys.Key) (bool, int) {
	a := g.answers.Load()
	switch a.Record {
	case RecordAll:
		return true, a.MaxBytes
	case RecordNone:
		return false, 0
	}
	return k.Tags["session"] != "", a.MaxBytes
}

func (g *Gateway) snapshot() (map[string]provider.Provider, route.Router) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.providers, g.router
}

func (g *Gateway) policyNow() Policy {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.policy
}

// Health reports what the gateway knows of a target.
func (g *Gateway) Health(t route.Target) route.Health { return g.health.Get(t) }

// Request is one inbound call. The gateway owns Body after Handle is
// called; the strings are copies, safe to keep.
type Request struct {
	API  llm.API
	Body []byte
	// Key is the secret the client presented (Authorization: Bearer,
	// x-api-key or x-goog-api-key).
	Key string
	// Tags is the raw x-switchyard-tags header: "k=v,k2=v2".
	Tags string
	// Client and ClientSessionID identify the calling program and its own
	// session (X-Claude-Code-Session-Id, session-id, x-session-id).
	Client          string
	ClientSessionID string
	// Headers holds client headers a provider may need on passthrough
	// (anthropic-beta, anthropic-version, openai-beta), lower-case keys.
	Headers map[string]string
}

// Response is what to send back. Body is set for complete answers and
// errors; Stream, when set, writes the rest of a streamed answer and must
// be called exactly once (or the call is left open upstream).
type Response struct {
	Status int
	Header map[string]string
	Body   []byte
	Stream func(w *bufio.Writer)
}

func (g *Gateway) errorResponse(in wire.Inbound, callID string, e *llm.Error) *Response {
	h := map[string]string{"Content-Type": "application/json", "x-switchyard-call-id": callID}
	if e.RetryAfter > 0 {
		h["Retry-After"] = fmt.Sprint(int((e.RetryAfter + time.Second - 1) / time.Second))
	}
	switch e.Kind {
	case llm.ErrBudget, llm.ErrAuthentication, llm.ErrPermission:
		// Neither a spent budget nor a bad key comes right by retrying.
		// The OpenAI and Anthropic SDKs retry every 429, and Claude Code
		// every 401 from a custom base URL, unless told otherwise with
		// this header; without it a session hangs through ten backoffs.
		h["x-should-retry"] = "false"
	}
	status := e.Status
	if status == 0 {
		status = llm.StatusOf(e.Kind)
	}
	return &Response{Status: status, Header: h, Body: in.EncodeError(e)}
}

// ErrorBody encodes e in api's shape for callers outside a call (the HTTP
// layer's body-limit errors).
func ErrorBody(api llm.API, e *llm.Error) []byte {
	in, ok := wire.InboundFor(api)
	if !ok {
		return []byte(fmt.Sprintf(`{"error":{"message":%q}}`, e.Message))
	}
	return in.EncodeError(e)
}

// ParseTags parses "k=v,k2=v2".
func ParseTags(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("x-switchyard-tags: %q is not key=value; send tags as k1=v1,k2=v2", kv)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}
