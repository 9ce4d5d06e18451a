package openai

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

// StreamDecoder turns a Chat Completions stream into canonical events.
// Build one with Chat.NewStreamDecoder. It is not safe for concurrent use.
//
// It emits EventStop at "data: [DONE]", or at the usage-only chunk that
// follows the finish_reason; call Finish at the end of the body for
// servers that close the stream after the finish_reason without either.
type StreamDecoder struct {
	started bool
	done    bool // Stop emitted
	failed  bool // Error emitted

	next     int          // index of the next part
	open     int          // index of the open part, -1 if none
	openType llm.PartType // its type
	tools    []toolState

	finish  string // finish_reason, once seen
	refusal bool
	usage   *llm.Usage

	c chunkIn // the chunk being decoded, reused
}

// toolState is a tool call of the answer.
type toolState struct {
	upstream int // the server's tool call index
	part     int // the canonical part index
	id       string
}

// NewStreamDecoder implements wire.Outbound.
func (Chat) NewStreamDecoder() wire.StreamDecoder { return &StreamDecoder{open: -1} }

// Done implements wire.StreamDecoder: it reports whether EventStop was
// produced.
func (d *StreamDecoder) Done() bool { return d.done }

var doneMarker = []byte("[DONE]")

// Decode implements wire.StreamDecoder.
func (d *StreamDecoder) Decode(ev sse.Event, out []llm.StreamEvent) ([]llm.StreamEvent, error) {
	if d.done || d.failed {
		return out, nil
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return out, nil
	}
	if bytes.Equal(data, doneMarker) {
		return d.stop(out), nil
	}
	// Reuse the chunk struct and its choices, cleared: json.Unmarshal
	// leaves members the chunk does not have as they were.
	choices := d.c.Choices[:cap(d.c.Choices)]
	clear(choices)
	d.c = chunkIn{Choices: choices[:0]}
	var err error
	var id, model string
	if d.started {
		err = json.Unmarshal(data, &d.c)
	} else {
		first := completionIn{chunkIn: d.c}
		err = json.Unmarshal(data, &first)
		d.c, id, model = first.chunkIn, first.ID, first.Model
	}
	c := &d.c
	if ev.Name == "error" || err == nil && !absent(c.Error) {
		// An error in the stream: OpenAI's data: {"error":{...}}, or an
		// "event: error" some servers send.
		d.failed = true
		var e *llm.Error
		switch {
		case err == nil && !absent(c.Error) && c.Error[0] == '{':
			e = decodeErrorObject(0, c.Error)
		case err == nil && !absent(c.Error):
			e = upstreamError(0, lenient(c.Error), "", "", "")
		default:
			e = Chat{}.DecodeError(0, data) // status 0: kind from the body
		}
		return append(out, llm.StreamEvent{Type: llm.EventError, Err: e}), nil
	}
	if err != nil {
		return out, llm.Errorf(llm.ErrServer, "decode chat completion chunk: %v", err)
	}
	if !d.started {
		d.started = true
		out = append(out, llm.StreamEvent{Type: llm.EventStart, ID: id, Model: model})
	}
	if ch := c.choice(); ch != nil {
		out = d.delta(&ch.Delta, out)
		if ch.FinishReason != "" {
			d.finish = string(ch.FinishReason)
		}
	}
	if u := c.usage(); u != nil {
		cu := u.canonical()
		d.usage = &cu
		if len(c.Choices) == 0 && d.finish != "" {
			// OpenAI's last chunk before [DONE]: nothing can follow.
			return d.stop(out), nil
		}
		out = append(out, llm.StreamEvent{Type: llm.EventUsage, Usage: d.usageCopy()})
	}
	return out, nil
}

func (d *StreamDecoder) usageCopy() *llm.Usage {
	u := *d.usage
	return &u
}

// delta appends the events of one choice delta.
func (d *StreamDecoder) delta(delta *deltaIn, out []llm.StreamEvent) []llm.StreamEvent {
	if s := delta.reasoning(); s != "" {
		out = d.appendText(out, llm.PartThinking, llm.DeltaThinking, s)
	}
	if delta.Content != "" {
		out = d.appendText(out, llm.PartText, llm.DeltaText, string(delta.Content))
	}
	if delta.Refusal != "" {
		d.refusal = true
		out = d.appendText(out, llm.PartText, llm.DeltaText, string(delta.Refusal))
	}
	for _, tc := range delta.ToolCalls {
		out = d.toolDelta(out, tc)
	}
	if fc := delta.FunctionCall; fc != nil {
		out = d.toolDelta(out, toolCallIn{Index: optInt{set: true}, Function: *fc})
	}
	return out
}

// appendText appends s to the open part of type t, opening one (and
// closing any other) if needed.
func (d *StreamDecoder) appendText(out []llm.StreamEvent, t llm.PartType, kind llm.DeltaKind, s string) []llm.StreamEvent {
	if d.open < 0 || d.openType != t {
		out = d.closeOpen(out)
		d.open, d.openType = d.next, t
		d.next++
		out = append(out, llm.StreamEvent{Type: llm.EventPartStart, Index: d.open, Part: &llm.Part{Type: t}})
	}
	return append(out, llm.StreamEvent{Type: llm.EventDelta, Index: d.open, Kind: kind, Delta: s})
}

// toolDelta appends the events of one tool call delta. A call is known by
// its index; servers that leave the index out (older Ollama) are matched
// by id, or else continue the last call.
func (d *StreamDecoder) toolDelta(out []llm.StreamEvent, tc toolCallIn) []llm.StreamEvent {
	var t *toolState
	id := string(tc.ID)
	for i := range d.tools {
		s := &d.tools[i]
		if tc.Index.set && s.upstream == tc.Index.n || !tc.Index.set && id != "" && s.id == id {
			t = s
			break
		}
	}
	if t == nil && !tc.Index.set && id == "" && len(d.tools) > 0 {
		t = &d.tools[len(d.tools)-1]
	}
	if t == nil {
		out = d.closeOpen(out)
		upstream := len(d.tools)
		if tc.Index.set {
			upstream = tc.Index.n
		}
		if id == "" {
			id = fmt.Sprintf("call_%d", d.next)
		}
		d.tools = append(d.tools, toolState{upstream: upstream, part: d.next, id: id})
		d.open, d.openType = d.next, llm.PartToolCall
		d.next++
		out = append(out, llm.StreamEvent{Type: llm.EventPartStart, Index: d.open, Part: &llm.Part{
			Type: llm.PartToolCall, ToolCallID: id, ToolName: string(tc.Function.Name),
		}})
		t = &d.tools[len(d.tools)-1]
	}
	if args := string(tc.Function.Arguments); args != "" {
		// A delta for a call that is no longer the open part (servers
		// that interleave calls) still goes to its own part index.
		out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: t.part, Kind: llm.DeltaArguments, Delta: args})
	}
	return out
}

func (d *StreamDecoder) closeOpen(out []llm.StreamEvent) []llm.StreamEvent {
	if d.open < 0 {
		return out
	}
	out = append(out, llm.StreamEvent{Type: llm.EventPartStop, Index: d.open})
	d.open = -1
	return out
}

// stop closes the open part and appends EventStop.
func (d *StreamDecoder) stop(out []llm.StreamEvent) []llm.StreamEvent {
	if !d.started {
		d.started = true
		out = append(out, llm.StreamEvent{Type: llm.EventStart})
	}
	out = d.closeOpen(out)
	d.done = true
	ev := llm.StreamEvent{
		Type:       llm.EventStop,
		StopReason: stopReason(d.finish, len(d.tools) > 0, d.refusal),
	}
	if d.usage != nil {
		ev.Usage = d.usageCopy()
	}
	return append(out, ev)
}

// Finish is called when the body ends. If the server sent a finish_reason
// but closed the stream without "[DONE]", it appends the PartStop and
// EventStop events that end the answer, and Done reports true. Otherwise
// (the stream already ended, or was cut before a finish_reason) it
// appends nothing.
func (d *StreamDecoder) Finish(out []llm.StreamEvent) []llm.StreamEvent {
	if d.done || d.failed || d.finish == "" {
		return out
	}
	return d.stop(out)
}
