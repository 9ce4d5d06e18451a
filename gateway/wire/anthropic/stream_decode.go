package anthropic

import (
	"encoding/json"
	"strconv"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// wireEvent holds the members of every stream event type.
type wireEvent struct {
	Type    string `json:"type"`
	Message *struct {
		ID    string    `json:"id"`
		Model string    `json:"model"`
		Usage wireUsage `json:"usage"`
	} `json:"message"`
	Index        *int            `json:"index"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        *struct {
		StopReason   *string `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	} `json:"delta"`
	Usage *wireUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// skipped marks an API block with no canonical form in streamDecoder.parts.
const skipped = -1

// streamDecoder turns Messages API events into canonical events.
type streamDecoder struct {
	done    bool
	parts   []int // API block index → canonical index, or skipped
	next    int   // the next canonical index
	usage   llm.Usage
	reason  llm.StopReason
	stopSeq string
}

// Decode implements wire.StreamDecoder. The event's type is read from its
// data (the API sends the same name in "event:"), falling back to the
// event name when the data has none.
func (d *streamDecoder) Decode(ev sse.Event, out []llm.StreamEvent) ([]llm.StreamEvent, error) {
	if len(ev.Data) == 0 {
		return out, nil
	}
	t, err := parseTree(ev.Data)
	if err != nil {
		return out, upstreamf("anthropic stream: event %q is not valid JSON: %v", ev.Name, err)
	}
	typ := ev.Name
	if t.nodes[0].kind == jObject {
		if n := (decoder{t}).member(0, "type"); n != none && t.nodes[n].kind == jString {
			typ = t.str(n)
		}
	}
	if d.done && typ != "error" {
		return out, nil
	}
	if typ == "content_block_delta" {
		// The bulk of every stream: read from the parsed tree rather than
		// with encoding/json's reflection.
		return d.delta(t, out)
	}
	var we wireEvent
	if err := json.Unmarshal(ev.Data, &we); err != nil {
		return out, upstreamf("anthropic stream: event %q: %v", typ, err)
	}
	switch typ {
	case "message_start":
		if we.Message == nil {
			return out, upstreamf("anthropic stream: message_start without a message")
		}
		we.Message.Usage.apply(&d.usage)
		u := d.usage
		return append(out, llm.StreamEvent{Type: llm.EventStart, ID: we.Message.ID, Model: we.Message.Model, Usage: &u}), nil
	case "content_block_start":
		if we.Index == nil || *we.Index < 0 || *we.Index >= maxParts || isNull(we.ContentBlock) {
			return out, upstreamf("anthropic stream: content_block_start without a valid index and content_block")
		}
		i := *we.Index
		for len(d.parts) <= i {
			d.parts = append(d.parts, skipped)
		}
		p, ok, err := responsePart(we.ContentBlock)
		if err != nil {
			return out, upstreamf("anthropic stream: content_block_start %d: %v", i, err)
		}
		if !ok {
			d.parts[i] = skipped
			return out, nil
		}
		idx := d.next
		d.next++
		d.parts[i] = idx
		// The start carries the block's identity; its content, if any,
		// is passed on as deltas, as the API does for text.
		start := llm.Part{Type: p.Type, ToolCallID: p.ToolCallID, ToolName: p.ToolName, Data: p.Data}
		out = append(out, llm.StreamEvent{Type: llm.EventPartStart, Index: idx, Part: &start})
		switch p.Type {
		case llm.PartText:
			out = appendDelta(out, idx, llm.DeltaText, p.Text)
		case llm.PartThinking:
			out = appendDelta(out, idx, llm.DeltaThinking, p.Text)
			out = appendDelta(out, idx, llm.DeltaSignature, p.Signature)
		case llm.PartToolCall:
			if p.Arguments != "{}" {
				out = appendDelta(out, idx, llm.DeltaArguments, p.Arguments)
			}
		}
		return out, nil
	case "content_block_stop":
		idx, err := d.part(we.Index, typ)
		if err != nil || idx == skipped {
			return out, err
		}
		return append(out, llm.StreamEvent{Type: llm.EventPartStop, Index: idx}), nil
	case "message_delta":
		if we.Delta != nil {
			if we.Delta.StopReason != nil {
				d.reason = stopReasonIn(*we.Delta.StopReason)
			}
			if we.Delta.StopSequence != nil {
				d.stopSeq = *we.Delta.StopSequence
			}
		}
		if we.Usage != nil {
			we.Usage.apply(&d.usage)
		}
		return out, nil
	case "message_stop":
		d.done = true
		u := d.usage
		return append(out, llm.StreamEvent{Type: llm.EventStop, StopReason: d.reason, StopSequence: d.stopSeq, Usage: &u}), nil
	case "error":
		return append(out, llm.StreamEvent{Type: llm.EventError, Err: streamError(&wireError{Type: "error", Error: we.Error})}), nil
	}
	return out, nil // ping and event types added after this codec
}

// delta decodes a content_block_delta event.
func (d *streamDecoder) delta(t *jtree, out []llm.StreamEvent) ([]llm.StreamEvent, error) {
	dec := decoder{t}
	index, delta := dec.member(0, "index"), dec.member(0, "delta")
	var ip *int
	if index != none && t.nodes[index].kind == jNumber {
		if i, err := strconv.Atoi(string(t.raw(index))); err == nil {
			ip = &i
		}
	}
	idx, err := d.part(ip, "content_block_delta")
	if err != nil || idx == skipped {
		return out, err
	}
	if delta == none || t.nodes[delta].kind != jObject {
		return out, upstreamf("anthropic stream: content_block_delta without a delta object")
	}
	var kind llm.DeltaKind
	var field string
	switch typ := dec.member(delta, "type"); {
	case typ == none || t.nodes[typ].kind != jString:
		return out, upstreamf("anthropic stream: content_block_delta without a delta type")
	default:
		switch t.str(typ) {
		case "text_delta":
			kind, field = llm.DeltaText, "text"
		case "input_json_delta":
			kind, field = llm.DeltaArguments, "partial_json"
		case "thinking_delta":
			kind, field = llm.DeltaThinking, "thinking"
		case "signature_delta":
			kind, field = llm.DeltaSignature, "signature"
		default:
			return out, nil // citations_delta and future delta types
		}
	}
	v := dec.member(delta, field)
	if v == none || t.nodes[v].kind != jString {
		return out, upstreamf("anthropic stream: content_block_delta: delta.%s must be a string", field)
	}
	return appendDelta(out, idx, kind, t.str(v)), nil
}

// part maps an API block index to its canonical index.
func (d *streamDecoder) part(index *int, typ string) (int, error) {
	if index == nil || *index < 0 || *index >= len(d.parts) {
		return 0, upstreamf("anthropic stream: %s for a block that has not started", typ)
	}
	return d.parts[*index], nil
}

func appendDelta(out []llm.StreamEvent, idx int, kind llm.DeltaKind, text string) []llm.StreamEvent {
	if text == "" {
		return out
	}
	return append(out, llm.StreamEvent{Type: llm.EventDelta, Index: idx, Kind: kind, Delta: text})
}

// Done implements wire.StreamDecoder: true once message_stop was decoded.
// An error event ends the stream without making it done.
func (d *streamDecoder) Done() bool { return d.done }
