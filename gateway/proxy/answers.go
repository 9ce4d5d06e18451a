package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/gateway/wire"
)

// recordAnswer records, for harness replay, the call's answer (resp),
// or the error it ended with (e), or why it cannot be replayed (why),
// with its request's print: a model.answer.recorded event after the
// call's own. It does nothing for a call whose answer is not recorded,
// and records once.
func (c *call) recordAnswer(resp *llm.Response, e *llm.Error, why string) {
	if c.answer == nil {
		return
	}
	c.answer = nil
	n := tape.NewNormaliser(c.key.Tags["session"], c.req.ClientSessionID)
	rp, err := tape.Print(c.req.API, c.req.Body, c.peek.Model, c.peek.Stream, n, tape.RecentMessages)
	if err != nil {
		c.g.log.Warn("answer not recorded: the request does not print", "call_id", c.id, "err", err)
		return
	}
	ev := event.AnswerRecorded{CallID: c.id, Turn: turnOf(c.attr.Tags), Request: rp}
	switch {
	case why != "":
		ev.NotReplayable = why
	case e != nil:
		ev.Answer = tape.FromError(e)
	default:
		ev.Answer, ev.NotReplayable = tape.FromResponse(resp)
	}
	if size := tape.Size(ev.Answer); size > c.answerMax {
		ev.Answer = nil
		ev.NotReplayable = fmt.Sprintf("the answer is about %d bytes, over the gateway's record_answers_max_bytes (%d)", size, c.answerMax)
	}
	c.record("model.answer.recorded", ev)
}

// turnOf is the session turn a call's tags name, 0 if none.
func turnOf(tags map[string]string) int {
	n, _ := strconv.Atoi(tags["turn"])
	return n
}

// replay answers a call of a harness replay's key from the recording of
// session `of`: never from a provider. A request that does not match the
// recording stops the replay (a replay.diverged event) and is answered
// with an error that says why.
func (c *call) replay(ctx context.Context, of string) *Response {
	g := c.g
	session := c.key.Tags["session"]
	var p *tape.Player
	ok := false
	if g.replays != nil {
		p, ok = g.replays.Player(session)
	}
	if !ok || p.Of() != of {
		return g.errorResponse(c.in, c.id, &llm.Error{Kind: llm.ErrPermission, Status: 403,
			Message: fmt.Sprintf("key %s is a harness replay's (session %s, a replay of %s), and that replay is not running: start one with `switchyard session replay %s`", c.key.ID, session, of, of)})
	}
	now, err := tape.Print(c.req.API, c.req.Body, c.peek.Model, c.peek.Stream, tape.NewNormaliser(session, c.req.ClientSessionID), tape.AllMessages)
	if err != nil {
		return g.errorResponse(c.in, c.id, &llm.Error{Kind: llm.ErrInvalidRequest, Status: 400, Message: err.Error()})
	}
	c.answerIn = c.answerCodec()
	c.record("model.call.started", event.ModelCallStarted{
		CallID: c.id, CallAttribution: c.attr, API: string(c.req.API), Operation: "chat",
		RequestModel: c.peek.Model, Stream: c.peek.Stream, EstimatedInputTokens: c.estimateInput(),
	})
	c.attempts = 1
	rc, div, err := p.Serve(c.id, turnOf(c.attr.Tags), &now)
	switch {
	case err != nil:
		return c.fail(&llm.Error{Kind: llm.ErrPermission, Status: 403, Provider: tape.Provider,
			Message: fmt.Sprintf("%v: session %s no longer takes model calls", err, session)}, nil)
	case div != nil:
		if div.CallID == c.id {
			c.record("replay.diverged", *div)
		}
		return c.fail(&llm.Error{Kind: llm.ErrInvalidRequest, Status: 400, Provider: tape.Provider, Message: divergenceMessage(div)}, nil)
	case rc.Answer.Error != nil:
		e := tape.ToError(rc.Answer)
		e.Provider = tape.Provider
		return c.fail(e, nil)
	}
	resp := tape.ToResponse(rc.Answer)
	h := map[string]string{"x-switchyard-call-id": c.id, "x-switchyard-provider": tape.Provider, "x-switchyard-model": resp.Model}
	if !c.peek.Stream {
		body, err := c.answerIn.EncodeResponse(resp)
		if err != nil {
			return c.fail(&llm.Error{Kind: llm.ErrInternal, Status: 500, Message: "encode the recorded answer: " + err.Error()}, nil)
		}
		h["Content-Type"] = "application/json"
		c.replayed(resp, false)
		return &Response{Status: 200, Header: h, Body: body}
	}
	h["Content-Type"] = "text/event-stream"
	h["Cache-Control"] = "no-cache"
	h["Connection"] = "keep-alive"
	h["X-Accel-Buffering"] = "no"
	return &Response{Status: 200, Header: h, Stream: func(w *bufio.Writer) {
		enc := c.streamEncoder(w)
		var err error
		for _, ev := range tape.StreamEvents(resp) {
			if err = enc.Encode(ev); err != nil {
				break
			}
		}
		if err == nil {
			err = w.Flush()
		}
		c.replayed(resp, err != nil || ctx.Err() != nil)
	}}
}

// answerCodec is the inbound codec that encodes a recorded answer to
// this request. Where answers depend on the request (the Responses API
// answers a custom tool's call as a custom_tool_call), it is bound to
// the decoded request; a request that names tools the gateway cannot
// translate (Codex sends OpenAI's hosted web_search) is decoded without
// them for this, since an answer never calls them.
func (c *call) answerCodec() wire.Inbound {
	b, ok := c.in.(wire.RequestBinder)
	if !ok {
		return c.in
	}
	req, err := c.in.DecodeRequest(c.req.Body)
	if err != nil {
		req, err = c.in.DecodeRequest(withoutHostedTools(c.req.Body))
	}
	if err != nil {
		c.g.log.Warn("a replayed answer is encoded without its request's tools", "call_id", c.id, "err", err)
		return c.in
	}
	return b.ForRequest(req)
}

// withoutHostedTools is a request body without the tools that are not
// the client's own (function, custom, namespace): those a provider runs.
func withoutHostedTools(body []byte) []byte {
	raw, err := wire.Get(body, "tools")
	if err != nil || len(raw) == 0 {
		return body
	}
	var tools []json.RawMessage
	if json.Unmarshal(raw, &tools) != nil {
		return body
	}
	kept := tools[:0]
	for _, t := range tools {
		var v struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(t, &v) == nil && (v.Type == "" || v.Type == "function" || v.Type == "custom" || v.Type == "namespace") {
			kept = append(kept, t)
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return body
	}
	out, err := wire.SetRaw(body, "tools", b)
	if err != nil {
		return body
	}
	return out
}

// replayed records a replayed call's end: answered by the recording, so
// with no provider, no usage and no cost.
func (c *call) replayed(resp *llm.Response, cancelled bool) {
	latency := c.g.now().Sub(c.start)
	c.record("model.call.completed", event.ModelCallCompleted{
		CallID: c.id, CallAttribution: c.attr, API: string(c.req.API), Provider: tape.Provider,
		RequestModel: c.peek.Model, ResponseModel: resp.Model, ResponseID: resp.ID, FinishReason: string(resp.StopReason),
		CallRoute: event.CallRoute{TargetModel: resp.Model}, Stream: c.peek.Stream, LatencyMS: ms(latency),
		OverheadMS: ms(latency), Attempts: 1, Cancelled: cancelled,
	})
	if c.g.observe != nil {
		c.g.observe(Outcome{API: c.req.API, Provider: tape.Provider, Model: resp.Model, Result: "ok", Latency: latency,
			Overhead: latency, Attempts: 1, Stream: c.peek.Stream, Cancelled: cancelled})
	}
}

// divergenceMessage is what the CLI is told when its request does not
// match the recording: one line, for a CLI's error display.
func divergenceMessage(d *event.ReplayDiverged) string {
	var b strings.Builder
	fmt.Fprintf(&b, "switchyard harness replay of %s stopped: call %d", d.ReplayOf, d.Call)
	if d.Turn > 0 {
		fmt.Fprintf(&b, " (turn %d)", d.Turn)
	}
	b.WriteString(" diverged from the recording: ")
	b.WriteString(d.Reason)
	if len(d.Diffs) > 0 {
		f := d.Diffs[0]
		fmt.Fprintf(&b, " (recorded %s; now %s)", f.Recorded, f.Now)
	}
	return redact(b.String())
}
