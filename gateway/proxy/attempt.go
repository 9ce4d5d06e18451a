package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

// upstream is one attempt that got an answer started.
type upstream struct {
	target      route.Target
	prov        provider.Provider
	api         llm.API
	out         wire.Outbound
	passthrough bool
	// dropUsageChunk: we asked an OpenAI chat stream for usage the client
	// did not ask for; its usage-only chunk is not forwarded.
	dropUsageChunk bool

	resp     *http.Response
	cancel   context.CancelFunc
	timer    *time.Timer
	timedOut *atomic.Bool
	started  time.Time // attempt start

	// streams
	rd    *sse.Reader
	dec   wire.StreamDecoder
	first [][]byte // raw events already read, to forward first
	evs   []llm.StreamEvent
	// complete answers
	body   []byte
	answer *llm.Response // decoded, or only summarised when forwarded as is
	// summarized: answer has no parts (read with a ResponseSummarizer).
	summarized bool
}

// run tries targets until one answers or the call gives up.
func (c *call) run(ctx context.Context) *Response {
	g := c.g
	g.retry.Deposit(c.key.ID, g.now())
	rng := rand.New(rand.NewPCG(route.SeedFor(c.id), 1))
	targets := c.decided.Targets
	tries := map[route.Target]int{}
	var last *llm.Error
	for i := 0; ; i++ {
		t := targets[i%len(targets)]
		tries[t]++
		c.attempts++
		c.reached.TargetModel = t.Model
		began := g.now()
		up, e := c.attempt(ctx, t)
		if e == nil {
			return c.respond(ctx, up)
		}
		e.Provider = t.Provider
		g.health.Failure(t, e, g.now())
		last = e
		next, wait, reason := c.next(ctx, e, targets, i, tries, rng)
		c.record("model.call.attempt", event.ModelCallAttempt{
			CallID: c.id, Attempt: c.attempts, Provider: t.Provider, Model: t.Model, Outcome: string(e.Kind),
			Status: e.Status, Error: redact(e.Message), RetryAfterMS: e.RetryAfter.Milliseconds(),
			LatencyMS: ms(g.now().Sub(began)), Next: next, BackoffMS: ms(wait), Reason: reason,
		})
		if next == "give_up" {
			break
		}
		c.reached.Via = next
		if next == "retry" {
			c.reached.Retries++
		} else {
			c.reached.Fallbacks++
		}
		if wait > 0 {
			c.waited += wait
			tm := time.NewTimer(wait)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				last = &llm.Error{Kind: llm.ErrTimeout, Status: 499, Message: "client went away while the gateway waited to retry"}
				return c.fail(last, nil)
			}
		}
	}
	return c.fail(c.clientError(last), nil)
}

// next decides what follows a failed attempt.
func (c *call) next(ctx context.Context, e *llm.Error, targets []route.Target, i int, tries map[route.Target]int, rng *rand.Rand) (string, time.Duration, string) {
	g := c.g
	switch {
	case !fallbackable(e):
		return "give_up", 0, "error is not retryable: the request itself was refused"
	case c.attempts >= g.cfg.MaxAttempts:
		return "give_up", 0, fmt.Sprintf("max attempts (%d) reached", g.cfg.MaxAttempts)
	case ctx.Err() != nil:
		return "give_up", 0, "client went away"
	}
	nt := targets[(i+1)%len(targets)]
	kind, wait := "fallback", time.Duration(0)
	if tries[nt] > 0 {
		kind = "retry"
		if e.RetryAfter > g.cfg.MaxRetryAfter.D() && nt == targets[i%len(targets)] {
			return "give_up", 0, fmt.Sprintf("provider asked to wait %s, more than max_retry_after %s", e.RetryAfter, g.cfg.MaxRetryAfter.D())
		}
		ra := time.Duration(0)
		if nt == targets[i%len(targets)] {
			ra = e.RetryAfter
		}
		wait = c.backoff(tries[nt], ra, rng)
	}
	if dl, ok := ctx.Deadline(); ok && g.now().Add(wait).After(dl) {
		return "give_up", 0, "no time left before the call's deadline"
	}
	if !g.retry.Withdraw(c.key.ID, g.now()) {
		return "give_up", 0, "retry budget of the key is spent: too many calls are failing"
	}
	return kind, wait, ""
}

// fallbackable reports whether another target (or the same later) may
// succeed where this attempt failed.
func fallbackable(e *llm.Error) bool {
	if e.Retryable() {
		return true
	}
	switch e.Kind {
	case llm.ErrAuthentication, llm.ErrPermission, llm.ErrNotFound, llm.ErrUntranslatable:
		// The provider refused the gateway's credentials or does not know
		// the model: a configuration problem of this target, not of the
		// client's request.
		return e.Provider != ""
	}
	return false
}

// clientError turns the last upstream error into what the client sees:
// provider credential problems are the gateway's, not the client's.
func (c *call) clientError(e *llm.Error) *llm.Error {
	out := *e
	out.Message = redact(out.Message)
	switch e.Kind {
	case llm.ErrUntranslatable:
		// No target could take the request as the client sent it.
		out.Kind, out.Status = llm.ErrInvalidRequest, http.StatusBadRequest
	case llm.ErrAuthentication, llm.ErrPermission:
		out.Kind, out.Status = llm.ErrServer, http.StatusBadGateway
		out.Message = fmt.Sprintf("provider %s refused the gateway's credentials (%d): check its api_key in the gateway config", e.Provider, e.Status)
	}
	if c.attempts > 1 {
		out.Message = fmt.Sprintf("%s (after %d attempts)", out.Message, c.attempts)
	}
	if out.Status == 0 {
		out.Status = llm.StatusOf(out.Kind)
	}
	return &out
}

// body returns the request body for target t in the format it takes.
func (c *call) body(t route.Target, p provider.Provider) (llm.API, []byte, bool, *llm.Error) {
	api := c.req.API
	if provider.Accepts(p, api) {
		b, err := c.in.RewriteModel(c.req.Body, t.Model)
		if err != nil {
			return "", nil, false, asLLMError(err, llm.ErrInvalidRequest)
		}
		return api, b, true, nil
	}
	if c.canonical == nil {
		req, err := c.in.DecodeRequest(c.req.Body)
		if err != nil {
			return "", nil, false, asLLMError(err, llm.ErrInvalidRequest)
		}
		c.canonical = req
		c.answerIn = c.in
		if b, ok := c.in.(wire.RequestBinder); ok {
			c.answerIn = b.ForRequest(req)
		}
	}
	for _, a := range p.APIs() {
		out, ok := wire.OutboundFor(a)
		if !ok {
			continue
		}
		r := *c.canonical
		r.Model = t.Model
		b, err := out.EncodeRequest(&r)
		if err != nil {
			e := asLLMError(err, llm.ErrInvalidRequest)
			e.Message = fmt.Sprintf("cannot translate the request for %s (%s): %s", t, a, e.Message)
			return "", nil, false, e
		}
		if adj, ok := p.(provider.BodyAdjuster); ok {
			if b, err = adj.AdjustBody(a, b); err != nil {
				return "", nil, false, &llm.Error{Kind: llm.ErrInternal, Status: 500, Message: fmt.Sprintf("adjust the request for %s: %v", t, err)}
			}
		}
		return a, b, false, nil
	}
	return "", nil, false, &llm.Error{Kind: llm.ErrInternal, Status: 500, Message: fmt.Sprintf("no codec linked for provider %s's formats", p.Name())}
}

// attempt sends the call to t and waits for the answer to start: headers
// and, for streams, the first event.
func (c *call) attempt(ctx context.Context, t route.Target) (*upstream, *llm.Error) {
	g := c.g
	p := c.provs[t.Provider]
	api, body, pass, e := c.body(t, p)
	if e != nil {
		if pass || e.Kind != llm.ErrInvalidRequest {
			return nil, e
		}
		// Translation is this target's limit, not the request's fault:
		// another target may take the request as it is.
		e.Provider = t.Provider
		e.Kind = llm.ErrUntranslatable
		return nil, e
	}
	out, _ := wire.OutboundFor(api)
	up := &upstream{target: t, prov: p, api: api, out: out, passthrough: pass, started: g.now(), timedOut: new(atomic.Bool)}
	if pass && api == llm.APIOpenAIChat && c.peek.Stream {
		body, up.dropUsageChunk = askChatUsage(body)
	}
	actx, cancel := context.WithCancel(ctx)
	up.cancel = cancel
	up.timer = time.AfterFunc(g.cfg.AttemptTimeout.D(), func() { up.timedOut.Store(true); cancel() })
	preq := &provider.Request{API: api, Model: t.Model, Stream: c.peek.Stream, Body: body, Passthrough: pass, ClientHeader: c.header}
	hreq, err := p.NewRequest(actx, preq)
	if err != nil {
		up.close()
		return nil, &llm.Error{Kind: llm.ErrInternal, Status: 500, Message: "build upstream request: " + redact(err.Error())}
	}
	sent := g.now()
	// Time spent waiting on the provider is not the gateway's overhead.
	defer func() { c.waited += g.now().Sub(sent) }()
	resp, err := g.client.Do(hreq)
	if err != nil {
		up.close()
		return nil, up.transportError(ctx, err)
	}
	up.resp = resp
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		up.close()
		var le *llm.Error
		if out != nil {
			le = out.DecodeError(resp.StatusCode, b)
		}
		if le == nil {
			le = &llm.Error{Kind: llm.KindOfStatus(resp.StatusCode), Status: resp.StatusCode, Message: string(b)}
		}
		if ra := parseRetryAfter(resp.Header, g.now()); ra > 0 {
			le.RetryAfter = ra
		}
		// The client sees the provider's own status (Claude Code, for
		// one, treats 529 differently from 500).
		le.Status = resp.StatusCode
		return nil, le
	}
	if !c.peek.Stream {
		b, err := io.ReadAll(io.LimitReader(resp.Body, g.cfg.MaxResponseBytes+1))
		up.close()
		if err != nil {
			return nil, up.transportError(ctx, err)
		}
		if int64(len(b)) > g.cfg.MaxResponseBytes {
			return nil, &llm.Error{Kind: llm.ErrServer, Status: 502, Message: fmt.Sprintf("provider answer larger than %d bytes", g.cfg.MaxResponseBytes)}
		}
		up.body = b
		// Read the answer now, so a malformed one is a failed attempt
		// (another target may do better), not garbage for the client.
		if sum, ok := out.(wire.ResponseSummarizer); ok && pass {
			up.answer, err = sum.SummarizeResponse(b)
			up.summarized = true
		} else {
			up.answer, err = out.DecodeResponse(b)
		}
		if err != nil {
			e := asLLMError(err, llm.ErrServer)
			if e.Status == 0 || e.Kind == llm.ErrServer {
				e.Kind, e.Status = llm.ErrServer, http.StatusBadGateway
				e.Message = "malformed answer from provider: " + redact(e.Message)
			}
			return nil, e
		}
		return up, nil
	}
	// Streams: read until the first canonical event, so a stream that
	// fails before its first byte can still fall back.
	up.rd = sse.NewReader(resp.Body)
	up.dec = out.NewStreamDecoder()
	for len(up.evs) == 0 {
		ev, err := up.rd.Next()
		if err != nil {
			up.close()
			if errors.Is(err, io.EOF) {
				return nil, &llm.Error{Kind: llm.ErrStreamCut, Status: 502, Message: "provider closed the stream before its first event"}
			}
			return nil, up.transportError(ctx, err)
		}
		up.first = append(up.first, bytes.Clone(ev.Raw))
		up.evs, err = up.dec.Decode(ev, up.evs[:0])
		if err != nil {
			up.close()
			return nil, &llm.Error{Kind: llm.ErrServer, Status: 502, Message: "malformed stream from provider: " + redact(err.Error())}
		}
	}
	if up.evs[0].Type == llm.EventError {
		up.close()
		return nil, up.evs[0].Err
	}
	up.timer.Reset(g.cfg.StreamIdleTimeout.D())
	return up, nil
}

func (c *call) header(name string) string {
	if c.req.Headers == nil {
		return ""
	}
	return c.req.Headers[strings.ToLower(name)]
}

func (up *upstream) close() {
	up.timer.Stop()
	if up.resp != nil {
		up.resp.Body.Close()
	}
	up.cancel()
}

// transportError classifies a failed request or read.
func (up *upstream) transportError(callCtx context.Context, err error) *llm.Error {
	switch {
	case up.timedOut.Load():
		return &llm.Error{Kind: llm.ErrTimeout, Status: 504, Message: "provider did not answer in time"}
	case callCtx.Err() != nil:
		return &llm.Error{Kind: llm.ErrTimeout, Status: 499, Message: "client went away"}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &llm.Error{Kind: llm.ErrConnection, Status: 502, Message: "provider closed the connection: " + redact(err.Error())}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &llm.Error{Kind: llm.ErrTimeout, Status: 504, Message: "provider timed out: " + redact(err.Error())}
	}
	return &llm.Error{Kind: llm.ErrConnection, Status: 502, Message: "cannot reach provider: " + redact(err.Error())}
}

// parseRetryAfter reads Retry-After (seconds or an HTTP date) and the
// millisecond variant some providers send.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// askChatUsage makes an OpenAI chat stream report usage, so the call can
// be priced. It reports whether the client had not asked, in which case
// the usage-only chunk is not forwarded.
func askChatUsage(body []byte) ([]byte, bool) {
	so, err := wire.Get(body, "stream_options")
	if err != nil {
		return body, false
	}
	var opts map[string]any
	if len(so) > 0 && json.Unmarshal(so, &opts) == nil {
		if v, _ := opts["include_usage"].(bool); v {
			return body, false
		}
	}
	if opts == nil {
		opts = map[string]any{}
	}
	opts["include_usage"] = true
	raw, _ := json.Marshal(opts)
	nb, err := wire.SetRaw(body, "stream_options", raw)
	if err != nil {
		return body, false
	}
	return nb, true
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
