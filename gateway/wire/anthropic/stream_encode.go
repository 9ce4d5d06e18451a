package anthropic

import (
	"fmt"
	"io"
	"strconv"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// maxParts bounds the part index a stream may use: indices count parts
// from 0, so a bigger one is a producer bug, not a long answer.
const maxParts = 1 << 16

// encBlock is what the encoder knows of one canonical part.
type encBlock struct {
	started bool
	skip    bool // a part the API cannot show; its events are dropped
	open    bool
	wire    int // the API's index
	typ     llm.PartType
}

// streamEncoder writes canonical events as Messages API server-sent
// events. Each Encode writes its events to w before it returns.
type streamEncoder struct {
	w       io.Writer
	started bool
	ended   bool
	blocks  []encBlock // by canonical index
	order   []int      // canonical indices in wire order
	usage   llm.Usage
	buf     []byte
}

// Encode implements wire.StreamEncoder. Events after the stream's stop or
// error are ignored. An event that breaks the stream's grammar (a delta
// for a part that never started) is an error and writes nothing.
func (e *streamEncoder) Encode(ev llm.StreamEvent) error {
	if e.ended {
		return nil
	}
	switch ev.Type {
	case llm.EventStart:
		if e.started {
			return nil
		}
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return e.messageStart(ev.ID, ev.Model)
	case llm.EventPartStart:
		return e.partStart(ev)
	case llm.EventDelta:
		b, err := e.block(ev.Index, "delta")
		if err != nil || b.skip {
			return err
		}
		kind := ev.Kind
		if kind == "" {
			kind = defaultDelta(b.typ)
		}
		if kind == llm.DeltaSignature && b.typ != llm.PartThinking {
			// Gemini signs text and tool-call parts too; Messages allows
			// signatures only on thinking blocks, so they are dropped.
			return nil
		}
		return e.delta(b.wire, kind, ev.Delta)
	case llm.EventPartStop:
		b, err := e.block(ev.Index, "part_stop")
		if err != nil || b.skip || !b.open {
			return err
		}
		b.open = false
		return e.blockStop(b.wire)
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	case llm.EventStop:
		return e.stop(ev)
	case llm.EventError:
		e.ended = true
		b := append(e.buf[:0], `{"type":"error","error":{"type":`...)
		err := ev.Err
		if err == nil {
			err = llm.Errorf(llm.ErrInternal, "the stream failed without an error")
		}
		b = appendString(b, errorType(err.Kind))
		b = append(b, `,"message":`...)
		b = appendString(b, err.Message)
		b = append(b, "}}"...)
		return e.write("error", b)
	}
	return nil
}

func defaultDelta(t llm.PartType) llm.DeltaKind {
	switch t {
	case llm.PartThinking:
		return llm.DeltaThinking
	case llm.PartToolCall:
		return llm.DeltaArguments
	}
	return llm.DeltaText
}

// block returns the state of a started part.
func (e *streamEncoder) block(i int, what string) (*encBlock, error) {
	if i < 0 || i >= len(e.blocks) || !e.blocks[i].started {
		return nil, fmt.Errorf("anthropic stream: %s for part %d, which has not started", what, i)
	}
	return &e.blocks[i], nil
}

func (e *streamEncoder) ensureStarted() error {
	if e.started {
		return nil
	}
	return e.messageStart("", "")
}

func (e *streamEncoder) messageStart(id, model string) error {
	e.started = true
	b := append(e.buf[:0], `{"type":"message_start","message":{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"type":"message","role":"assistant","model":`...)
	b = appendString(b, model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = appendUsage(b, e.usage)
	b = append(b, "}}"...)
	return e.write("message_start", b)
}

func (e *streamEncoder) partStart(ev llm.StreamEvent) error {
	i := ev.Index
	if i < 0 || i >= maxParts {
		return fmt.Errorf("anthropic stream: part index %d is out of range", i)
	}
	if i >= len(e.blocks) {
		e.blocks = append(e.blocks, make([]encBlock, i+1-len(e.blocks))...)
	}
	if e.blocks[i].started {
		return fmt.Errorf("anthropic stream: part %d started twice", i)
	}
	var p llm.Part
	if ev.Part != nil {
		p = *ev.Part
	}
	b := &e.blocks[i]
	b.started, b.typ = true, p.Type
	switch p.Type {
	case llm.PartText, llm.PartThinking, llm.PartToolCall, llm.PartRedactedThinking:
	default:
		b.skip = true
		return nil
	}
	if err := e.ensureStarted(); err != nil {
		return err
	}
	b.wire, b.open = len(e.order), true
	e.order = append(e.order, i)

	d := append(e.buf[:0], `{"type":"content_block_start","index":`...)
	d = strconv.AppendInt(d, int64(b.wire), 10)
	d = append(d, `,"content_block":`...)
	switch p.Type {
	case llm.PartText:
		d = append(d, `{"type":"text","text":""}`...)
	case llm.PartThinking:
		d = append(d, `{"type":"thinking","thinking":"","signature":""}`...)
	case llm.PartToolCall:
		d = append(d, `{"type":"tool_use","id":`...)
		d = appendString(d, p.ToolCallID)
		d = append(d, `,"name":`...)
		d = appendString(d, p.ToolName)
		d = append(d, `,"input":{}}`...)
	case llm.PartRedactedThinking:
		d = append(d, `{"type":"redacted_thinking","data":`...)
		d = appendString(d, p.Data)
		d = append(d, '}')
	}
	d = append(d, '}')
	if err := e.write("content_block_start", d); err != nil {
		return err
	}
	// A part that starts with content (the canonical form allows it)
	// gets that content as its first deltas.
	switch p.Type {
	case llm.PartText:
		if p.Text != "" {
			return e.delta(b.wire, llm.DeltaText, p.Text)
		}
	case llm.PartThinking:
		if p.Text != "" {
			if err := e.delta(b.wire, llm.DeltaThinking, p.Text); err != nil {
				return err
			}
		}
		if p.Signature != "" {
			return e.delta(b.wire, llm.DeltaSignature, p.Signature)
		}
	case llm.PartToolCall:
		if p.Arguments != "" {
			return e.delta(b.wire, llm.DeltaArguments, p.Arguments)
		}
	}
	return nil
}

func (e *streamEncoder) delta(wire int, kind llm.DeltaKind, text string) error {
	var typ, field string
	switch kind {
	case llm.DeltaText:
		typ, field = "text_delta", "text"
	case llm.DeltaThinking:
		typ, field = "thinking_delta", "thinking"
	case llm.DeltaSignature:
		typ, field = "signature_delta", "signature"
	case llm.DeltaArguments:
		typ, field = "input_json_delta", "partial_json"
	default:
		return fmt.Errorf("anthropic stream: unknown delta kind %q", kind)
	}
	d := append(e.buf[:0], `{"type":"content_block_delta","index":`...)
	d = strconv.AppendInt(d, int64(wire), 10)
	d = append(d, `,"delta":{"type":"`...)
	d = append(d, typ...)
	d = append(d, `","`...)
	d = append(d, field...)
	d = append(d, `":`...)
	d = appendString(d, text)
	d = append(d, "}}"...)
	return e.write("content_block_delta", d)
}

func (e *streamEncoder) blockStop(wire int) error {
	d := append(e.buf[:0], `{"type":"content_block_stop","index":`...)
	d = strconv.AppendInt(d, int64(wire), 10)
	d = append(d, '}')
	return e.write("content_block_stop", d)
}

func (e *streamEncoder) stop(ev llm.StreamEvent) error {
	if err := e.ensureStarted(); err != nil {
		return err
	}
	for _, i := range e.order {
		if b := &e.blocks[i]; b.open {
			b.open = false
			if err := e.blockStop(b.wire); err != nil {
				return err
			}
		}
	}
	e.ended = true
	if ev.Usage != nil {
		e.usage = *ev.Usage
	}
	d := append(e.buf[:0], `{"type":"message_delta","delta":{"stop_reason":`...)
	d = appendString(d, stopReasonOut(ev.StopReason))
	d = append(d, `,"stop_sequence":`...)
	if ev.StopSequence != "" {
		d = appendString(d, ev.StopSequence)
	} else {
		d = append(d, "null"...)
	}
	d = append(d, `},"usage":`...)
	d = appendUsage(d, e.usage)
	d = append(d, '}')
	if err := e.write("message_delta", d); err != nil {
		return err
	}
	return e.write("message_stop", append(e.buf[:0], `{"type":"message_stop"}`...))
}

func appendUsage(b []byte, u llm.Usage) []byte {
	b = append(b, `{"input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.InputTokens), 10)
	b = append(b, `,"cache_creation_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheWriteTokens), 10)
	b = append(b, `,"cache_read_input_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CacheReadTokens), 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, int64(u.OutputTokens), 10)
	return append(b, '}')
}

// write sends one event and keeps the buffer for the next.
func (e *streamEncoder) write(name string, data []byte) error {
	e.buf = data[:0]
	return sse.Write(e.w, name, data)
}
