package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// respond turns an attempt that answered into the client's response.
func (c *call) respond(ctx context.Context, up *upstream) *Response {
	h := map[string]string{
		"x-switchyard-call-id":  c.id,
		"x-switchyard-provider": up.target.Provider,
		"x-switchyard-model":    up.target.Model,
	}
	if !c.peek.Stream {
		return c.respondWhole(up, h)
	}
	h["Content-Type"] = "text/event-stream"
	h["Cache-Control"] = "no-cache"
	h["Connection"] = "keep-alive"
	h["X-Accel-Buffering"] = "no"
	return &Response{Status: 200, Header: h, Stream: func(w *bufio.Writer) { c.pump(ctx, up, w) }}
}

func (c *call) respondWhole(up *upstream, h map[string]string) *Response {
	g := c.g
	h["Content-Type"] = "application/json"
	resp := up.answer
	body := up.body
	if !up.passthrough {
		var err error
		if body, err = c.answerIn.EncodeResponse(resp); err != nil {
			return c.fail(&llm.Error{Kind: llm.ErrInternal, Status: 500, Message: "encode answer: " + err.Error()}, nil)
		}
	}
	latency := g.now().Sub(c.start)
	g.health.Success(up.target, g.now().Sub(up.started))
	cu := c.price(up, resp.Usage, false)
	model, id, finish := resp.Model, resp.ID, string(resp.StopReason)
	c.overhead = g.now().Sub(c.start) - c.waited
	c.complete(up, cu, model, id, finish, latency, 0, false)
	if c.answer != nil {
		if up.summarized {
			// Forwarded as is and read for its accounting only: the
			// recording needs it whole.
			full, err := up.out.DecodeResponse(up.body)
			if err != nil {
				c.recordAnswer(nil, nil, "the answer did not decode: "+redact(err.Error()))
				return &Response{Status: 200, Header: h, Body: body}
			}
			resp = full
		}
		c.recordAnswer(resp, nil, "")
	}
	return &Response{Status: 200, Header: h, Body: body}
}

// pump forwards a streamed answer to w, event by event, flushing each.
func (c *call) pump(ctx context.Context, up *upstream, w *bufio.Writer) {
	g := c.g
	defer up.close()
	var enc wire.StreamEncoder
	if !up.passthrough {
		enc = c.streamEncoder(w)
	}
	var (
		acc       streamAcc
		ttft      time.Duration
		writeErr  error
		streamErr *llm.Error
		forwarded bool // the upstream's own error event reached the client
		flushed   bool // the first bytes went out
		evs       = up.evs
		raws      = up.first
	)
	emit := func(raw []byte, evs []llm.StreamEvent) {
		for _, ev := range evs {
			acc.add(ev)
			if c.answer != nil {
				c.answer.Add(ev)
			}
			if ev.Type == llm.EventDelta && ttft == 0 {
				ttft = g.now().Sub(c.start)
			}
			if ev.Type == llm.EventError && streamErr == nil {
				streamErr = ev.Err
				forwarded = up.passthrough
			}
		}
		if writeErr != nil {
			return
		}
		if up.passthrough {
			if up.dropUsageChunk && isUsageOnlyChunk(raw) {
				return
			}
			_, writeErr = w.Write(raw)
		} else {
			for i := range evs {
				if writeErr = enc.Encode(evs[i]); writeErr != nil {
					break
				}
			}
		}
		if writeErr == nil {
			writeErr = w.Flush()
		}
		if !flushed {
			// The gateway's share of the time to first byte: the rest
			// was the provider's.
			flushed = true
			c.overhead = g.now().Sub(c.start) - c.waited
		}
	}
	// The events read before the answer started: several raw events may
	// have produced the first canonical ones; forward them all.
	for i, raw := range raws {
		if i < len(raws)-1 {
			emit(raw, nil)
		} else {
			emit(raw, evs)
		}
	}
	var readErr error
	buf := make([]llm.StreamEvent, 0, 8)
	for writeErr == nil && streamErr == nil && !up.dec.Done() {
		ev, err := up.rd.Next()
		if err != nil {
			readErr = err
			if f, ok := up.dec.(wire.StreamFinisher); ok && errors.Is(err, io.EOF) {
				// A server that ends after its finish signal without the
				// end marker: complete what it said.
				buf = f.Finish(buf[:0])
				if len(buf) > 0 {
					emit(nil, buf)
				}
			}
			break
		}
		up.timer.Reset(g.cfg.StreamIdleTimeout.D())
		buf, err = up.dec.Decode(ev, buf[:0])
		if err != nil {
			streamErr = &llm.Error{Kind: llm.ErrServer, Status: 502, Message: "malformed stream from provider: " + redact(err.Error())}
			break
		}
		emit(ev.Raw, buf)
	}
	// Passthrough: forward what follows the provider's end marker (the
	// "data: [DONE]" after OpenAI's last chunk) before finishing.
	if writeErr == nil && streamErr == nil && up.passthrough && up.dec.Done() {
		for {
			ev, err := up.rd.Next()
			if err != nil {
				break
			}
			emit(ev.Raw, nil)
		}
	}
	latency := g.now().Sub(c.start)
	cancelled := writeErr != nil
	if !cancelled && streamErr == nil && !up.dec.Done() {
		switch {
		case up.timedOut.Load():
			streamErr = &llm.Error{Kind: llm.ErrTimeout, Status: 504, Message: "provider stream stalled: no event within the idle timeout"}
		case ctx.Err() != nil:
			cancelled = true
		case readErr == nil || errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF):
			streamErr = &llm.Error{Kind: llm.ErrStreamCut, Status: 502, Message: "provider stream ended before the answer was complete"}
		default:
			streamErr = &llm.Error{Kind: llm.ErrConnection, Status: 502, Message: "provider stream broke: " + redact(readErr.Error())}
		}
	}
	usage, estimated := acc.usage(c.estimateInput())
	cu := c.price(up, usage, estimated)
	if streamErr != nil {
		streamErr.Provider = up.target.Provider
		g.health.Failure(up.target, streamErr, g.now())
		if !forwarded && !cancelled {
			// Tell the client in its own format; a fresh encoder for
			// passthrough streams, which had none.
			e := c.clientError(streamErr)
			if enc == nil {
				enc = c.streamEncoder(w)
			}
			if err := enc.Encode(llm.StreamEvent{Type: llm.EventError, Err: e}); err == nil {
				_ = w.Flush()
			}
		}
		c.fail(streamErr, &failure{usage: cu, afterFirstByte: true, latency: latency, provider: up.target.Provider})
		return
	}
	g.health.Success(up.target, g.now().Sub(up.started))
	c.complete(up, cu, acc.model, acc.id, string(acc.stop), latency, ttft, cancelled)
	if c.answer != nil {
		// After the client has the whole answer: the recording adds
		// nothing to its wait.
		if cancelled {
			c.recordAnswer(nil, nil, "the client went away before the answer ended")
		} else {
			c.recordAnswer(c.answer.Response(), nil, "")
		}
	}
}

// streamEncoder is the client API's stream encoder for this request.
func (c *call) streamEncoder(w io.Writer) wire.StreamEncoder {
	in := c.in
	if c.answerIn != nil {
		in = c.answerIn
	}
	if re, ok := in.(wire.RequestStreamEncoder); ok {
		return re.NewStreamEncoderFor(w, c.req.Body)
	}
	return in.NewStreamEncoder(w)
}

// streamAcc accumulates what a stream says about itself.
type streamAcc struct {
	id, model string
	stop      llm.StopReason
	reported  llm.Usage
	outBytes  int
}

func (a *streamAcc) add(ev llm.StreamEvent) {
	switch ev.Type {
	case llm.EventStart:
		a.id, a.model = ev.ID, ev.Model
	case llm.EventDelta:
		a.outBytes += len(ev.Delta)
	case llm.EventStop:
		a.stop = ev.StopReason
	}
	if ev.Usage != nil {
		u := ev.Usage
		a.reported.InputTokens = max(a.reported.InputTokens, u.InputTokens)
		a.reported.OutputTokens = max(a.reported.OutputTokens, u.OutputTokens)
		a.reported.CacheReadTokens = max(a.reported.CacheReadTokens, u.CacheReadTokens)
		a.reported.CacheWriteTokens = max(a.reported.CacheWriteTokens, u.CacheWriteTokens)
		a.reported.ReasoningTokens = max(a.reported.ReasoningTokens, u.ReasoningTokens)
	}
}

// usage is the provider's report where it has one, else what the gateway
// counted (about four bytes a token).
func (a *streamAcc) usage(estIn int) (llm.Usage, bool) {
	u := a.reported
	estimated := false
	if u.TotalInput() == 0 {
		u.InputTokens = estIn
		estimated = true
	}
	if counted := int(math.Ceil(float64(a.outBytes) / 4)); u.OutputTokens < counted && a.stop == "" {
		// The stream ended early: the provider's last report (if any)
		// predates what we forwarded.
		u.OutputTokens = counted
		estimated = true
	}
	return u, estimated
}

var (
	choicesEmpty = []byte(`"choices":[]`)
	usageKey     = []byte(`"usage":{`)
)

// isUsageOnlyChunk spots OpenAI's final usage chunk in a raw SSE event.
func isUsageOnlyChunk(raw []byte) bool {
	return bytes.Contains(raw, choicesEmpty) && bytes.Contains(raw, usageKey)
}

func (c *call) price(up *upstream, u llm.Usage, estimated bool) event.CallUsage {
	cu := c.g.pricer.Price(up.prov.Kind(), up.target.Model, u)
	cu.InputTokens = u.TotalInput()
	cu.OutputTokens = u.OutputTokens
	cu.CacheReadTokens = u.CacheReadTokens
	cu.CacheWriteTokens = u.CacheWriteTokens
	cu.ReasoningTokens = u.ReasoningTokens
	cu.UsageEstimated = estimated
	return cu
}

func nanoUSD(usd float64) int64 { return int64(math.Round(usd * 1e9)) }

func (c *call) settle(cu event.CallUsage) {
	if c.ticket != nil {
		c.ticket.Settle(nanoUSD(cu.CostUSD), cu.InputTokens+cu.OutputTokens)
	}
}

func (c *call) complete(up *upstream, cu event.CallUsage, model, id, finish string, latency, ttft time.Duration, cancelled bool) {
	c.settle(cu)
	if model == "" {
		model = up.target.Model
	}
	c.record("model.call.completed", event.ModelCallCompleted{
		CallID: c.id, CallAttribution: c.attr, API: string(c.req.API), Provider: up.target.Provider,
		RequestModel: c.peek.Model, ResponseModel: model, ResponseID: id, FinishReason: finish,
		CallRoute: c.reached, CallUsage: cu, Stream: c.peek.Stream, LatencyMS: ms(latency), TTFTMS: ms(ttft),
		OverheadMS: ms(c.overhead), Attempts: c.attempts, Cancelled: cancelled,
	})
	if c.g.observe != nil {
		c.g.observe(Outcome{API: c.req.API, Provider: up.target.Provider, Model: up.target.Model, Result: "ok",
			Latency: latency, TTFT: ttft, Overhead: c.overhead, Usage: cu, Attempts: c.attempts, Stream: c.peek.Stream, Cancelled: cancelled})
	}
}

type failure struct {
	usage          event.CallUsage
	afterFirstByte bool
	latency        time.Duration
	provider       string
}

// fail records a failed call and returns the error response (ignored
// after the first byte).
func (c *call) fail(e *llm.Error, f *failure) *Response {
	if f == nil {
		f = &failure{latency: c.g.now().Sub(c.start), provider: e.Provider}
	}
	c.settle(f.usage)
	defer c.recordAnswer(nil, e, "")
	c.record("model.call.failed", event.ModelCallFailed{
		CallID: c.id, CallAttribution: c.attr, API: string(c.req.API), Provider: f.provider,
		RequestModel: c.peek.Model, ErrorKind: string(e.Kind), Status: e.Status, Message: redact(e.Message),
		CallRoute: c.reached, CallUsage: f.usage, Stream: c.peek.Stream, AfterFirstByte: f.afterFirstByte,
		LatencyMS: ms(f.latency), Attempts: c.attempts,
	})
	if c.g.observe != nil {
		c.g.observe(Outcome{API: c.req.API, Provider: f.provider, Model: c.peek.Model, Result: string(e.Kind),
			Latency: f.latency, Usage: f.usage, Attempts: c.attempts, Stream: c.peek.Stream})
	}
	return c.g.errorResponse(c.in, c.id, e)
}

// Outcome summarises a finished call for metrics.
type Outcome struct {
	API      llm.API
	Provider string
	Model    string
	Result   string // "ok" or the error kind
	Latency  time.Duration
	TTFT     time.Duration
	// Overhead is the gateway's own share of the time until the answer
	// (or a stream's first byte) went out, less the time spent waiting on
	// providers and in backoff.
	Overhead  time.Duration
	Usage     event.CallUsage
	Attempts  int
	Stream    bool
	Cancelled bool
}
