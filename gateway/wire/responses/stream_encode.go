package responses

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// streamEncoder writes one answer's canonical events as Responses events.
type streamEncoder struct {
	c     Codec
	w     io.Writer
	seq   int
	resp  *responseObject // nil until EventStart
	ended bool
	parts []*encPart // by canonical index; nil when not open
	usage llm.Usage
	buf   []byte // scratch for the hand-written delta events
}

// encPart is an open canonical part and the output item it streams into.
type encPart struct {
	part        llm.Part // type and ids; the texts below fill it at the end
	text        strings.Builder
	args        strings.Builder
	sig         strings.Builder
	item        any // nil for parts a Responses answer cannot hold
	outputIndex int
	itemID      string
	summaryOpen bool
	input       inputStream // the text of a custom tool call's input
}

func newStreamEncoder(c Codec, w io.Writer) *streamEncoder {
	return &streamEncoder{c: c, w: w}
}

var errEnded = errors.New("responses: event after the end of the stream")

// Encode writes the Responses events that ev maps to.
func (e *streamEncoder) Encode(ev llm.StreamEvent) error {
	if e.ended {
		return errEnded
	}
	if e.resp == nil && ev.Type != llm.EventStart && ev.Type != llm.EventError {
		return fmt.Errorf("responses: %s event before the stream's start event", ev.Type)
	}
	switch ev.Type {
	case llm.EventStart:
		if e.resp != nil {
			return errors.New("responses: a second start event in one stream")
		}
		return e.start(ev)
	case llm.EventPartStart:
		if ev.Part == nil {
			return fmt.Errorf("responses: part_start event for part %d without its part", ev.Index)
		}
		return e.openPart(ev.Index, ev.Part)
	case llm.EventDelta:
		p, err := e.open(ev.Index)
		if err != nil {
			return err
		}
		return e.delta(p, ev.Kind, ev.Delta)
	case llm.EventPartStop:
		p, err := e.open(ev.Index)
		if err != nil {
			return err
		}
		e.parts[ev.Index] = nil
		return e.closePart(p, false)
	case llm.EventUsage:
		if ev.Usage != nil {
			e.usage = *ev.Usage
		}
		return nil
	case llm.EventStop:
		return e.stop(ev)
	case llm.EventError:
		return e.fail(ev.Err)
	}
	return nil
}

func (e *streamEncoder) start(ev llm.StreamEvent) error {
	e.resp = e.c.newResponse(ev.ID, ev.Model, e.c.now())
	if ev.Usage != nil {
		e.usage = *ev.Usage
	}
	if err := e.lifecycle("response.created"); err != nil {
		return err
	}
	return e.lifecycle("response.in_progress")
}

func (e *streamEncoder) open(index int) (*encPart, error) {
	if index < 0 || index >= len(e.parts) || e.parts[index] == nil {
		return nil, fmt.Errorf("responses: event for part %d, which is not open", index)
	}
	return e.parts[index], nil
}

func (e *streamEncoder) openPart(index int, part *llm.Part) error {
	if index < 0 {
		return fmt.Errorf("responses: part index %d is negative", index)
	}
	for len(e.parts) <= index {
		e.parts = append(e.parts, nil)
	}
	if e.parts[index] != nil {
		return fmt.Errorf("responses: part %d started twice", index)
	}
	p := &encPart{part: llm.Part{Type: part.Type, ToolCallID: part.ToolCallID, ToolName: part.ToolName, Data: part.Data}}
	e.parts[index] = p
	p.item, p.itemID = e.c.newItem(e.resp.ID, len(e.resp.Output), part)
	if p.item == nil {
		return nil
	}
	p.outputIndex = len(e.resp.Output)
	e.resp.Output = append(e.resp.Output, p.item)
	if err := e.itemEvent("response.output_item.added", p); err != nil {
		return err
	}
	switch part.Type {
	case llm.PartText:
		if err := e.contentPart("response.content_part.added", p, ""); err != nil {
			return err
		}
		return e.delta(p, llm.DeltaText, part.Text)
	case llm.PartThinking:
		if err := e.delta(p, llm.DeltaThinking, part.Text); err != nil {
			return err
		}
		return e.delta(p, llm.DeltaSignature, part.Signature)
	case llm.PartToolCall:
		return e.delta(p, llm.DeltaArguments, part.Arguments)
	}
	return nil
}

func (e *streamEncoder) delta(p *encPart, kind llm.DeltaKind, d string) error {
	if d == "" || p.item == nil {
		return nil
	}
	switch {
	case kind == llm.DeltaText && p.part.Type == llm.PartText:
		p.text.WriteString(d)
		return e.textEvent("response.output_text.delta", p, "content_index", "delta", d)
	case kind == llm.DeltaThinking && p.part.Type == llm.PartThinking:
		if !p.summaryOpen {
			p.summaryOpen = true
			if err := e.summaryPart("response.reasoning_summary_part.added", p, ""); err != nil {
				return err
			}
		}
		p.text.WriteString(d)
		return e.textEvent("response.reasoning_summary_text.delta", p, "summary_index", "delta", d)
	case kind == llm.DeltaSignature && p.part.Type == llm.PartThinking:
		p.sig.WriteString(d)
		return nil
	case kind == llm.DeltaArguments && p.part.Type == llm.PartToolCall:
		p.args.WriteString(d)
		switch p.item.(type) {
		case *customToolCallItem:
			if text := p.input.feed(d); text != "" {
				return e.textEvent("response.custom_tool_call_input.delta", p, "", "delta", text)
			}
			return nil
		case *toolSearchCallItem:
			return nil // its arguments, an object, come whole with the item
		}
		return e.textEvent("response.function_call_arguments.delta", p, "", "delta", d)
	}
	return fmt.Errorf("responses: %s delta for a %s part", kind, p.part.Type)
}

// finish copies the texts accumulated so far into p.part.
func (p *encPart) finish() {
	p.part.Text, p.part.Arguments, p.part.Signature = p.text.String(), p.args.String(), p.sig.String()
}

// closePart ends part p with its done events; incomplete marks its item
// as cut short by the end of the answer.
func (e *streamEncoder) closePart(p *encPart, incomplete bool) error {
	if p.item == nil {
		return nil
	}
	p.finish()
	switch p.item.(type) {
	case *messageItem:
		if err := e.textEvent("response.output_text.done", p, "content_index", "text", p.part.Text); err != nil {
			return err
		}
		if err := e.contentPart("response.content_part.done", p, p.part.Text); err != nil {
			return err
		}
	case *reasoningItem:
		if p.summaryOpen {
			if err := e.textEvent("response.reasoning_summary_text.done", p, "summary_index", "text", p.part.Text); err != nil {
				return err
			}
			if err := e.summaryPart("response.reasoning_summary_part.done", p, p.part.Text); err != nil {
				return err
			}
		}
	case *functionCallItem:
		if strings.TrimSpace(p.part.Arguments) == "" {
			if err := e.delta(p, llm.DeltaArguments, "{}"); err != nil {
				return err
			}
			p.finish()
		}
		if err := e.textEvent("response.function_call_arguments.done", p, "", "arguments", p.part.Arguments); err != nil {
			return err
		}
	case *customToolCallItem:
		input := customInput(p.part.Arguments)
		if rest := p.input.finish(input); rest != "" {
			if err := e.textEvent("response.custom_tool_call_input.delta", p, "", "delta", rest); err != nil {
				return err
			}
		}
		if err := e.textEvent("response.custom_tool_call_input.done", p, "", "input", input); err != nil {
			return err
		}
	}
	completeItem(p.item, &p.part)
	if incomplete {
		markIncomplete(p.item)
	}
	return e.itemEvent("response.output_item.done", p)
}

func (e *streamEncoder) stop(ev llm.StreamEvent) error {
	if ev.Usage != nil {
		e.usage = *ev.Usage
	}
	finishResponse(e.resp, ev.StopReason, e.usage)
	// Parts still open end here: cut short if the answer is.
	for i, p := range e.parts {
		if p != nil {
			e.parts[i] = nil
			if err := e.closePart(p, e.resp.Status == "incomplete"); err != nil {
				return err
			}
		}
	}
	e.ended = true
	if e.resp.Status == "incomplete" {
		return e.lifecycle("response.incomplete")
	}
	return e.lifecycle("response.completed")
}

// fail ends the stream with an "error" event and response.failed.
func (e *streamEncoder) fail(err *llm.Error) error {
	e.ended = true
	if err == nil {
		err = llm.Errorf(llm.ErrInternal, "the answer failed for an unknown reason")
	}
	if e.resp == nil {
		e.resp = e.c.newResponse("", "", e.c.now())
	}
	// Items still open show what was produced, cut short; they get no
	// done events, as in OpenAI's own failed streams.
	for _, p := range e.parts {
		if p != nil && p.item != nil {
			p.finish()
			completeItem(p.item, &p.part)
			markIncomplete(p.item)
		}
	}
	code := failureCode(err.Kind)
	msg := failureMessage(err)
	typ, _ := errorType(err.Kind)
	ev := errorEvent{Type: "error", SequenceNumber: e.seq, Code: code, Message: msg,
		Error: errorObject{Message: msg, Type: typ, Code: &code}}
	if err.Param != "" {
		ev.Param = &err.Param
		ev.Error.Param = &err.Param
	}
	if werr := e.writeJSON("error", ev); werr != nil {
		return werr
	}
	e.resp.Status = "failed"
	e.resp.Error = &responseError{Code: code, Message: msg}
	if e.usage != (llm.Usage{}) {
		e.resp.Usage = wireUsage(e.usage)
	}
	return e.lifecycle("response.failed")
}

// Event writers. Each writes one event and advances the sequence number.

func (e *streamEncoder) lifecycle(typ string) error {
	return e.writeJSON(typ, lifecycleEvent{Type: typ, SequenceNumber: e.seq, Response: e.resp})
}

func (e *streamEncoder) itemEvent(typ string, p *encPart) error {
	return e.writeJSON(typ, itemEvent{Type: typ, SequenceNumber: e.seq, OutputIndex: p.outputIndex, Item: p.item})
}

func (e *streamEncoder) contentPart(typ string, p *encPart, text string) error {
	return e.writeJSON(typ, contentPartEvent{Type: typ, SequenceNumber: e.seq, ItemID: p.itemID,
		OutputIndex: p.outputIndex, Part: outputText{Type: "output_text", Annotations: []any{}, Text: text}})
}

func (e *streamEncoder) summaryPart(typ string, p *encPart, text string) error {
	return e.writeJSON(typ, summaryPartEvent{Type: typ, SequenceNumber: e.seq, ItemID: p.itemID,
		OutputIndex: p.outputIndex, Part: summaryText{Type: "summary_text", Text: text}})
}

func (e *streamEncoder) writeJSON(typ string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	return e.write(typ, b)
}

// textEvent writes by hand one of the item-level events that make up
// most of a stream: the head, then indexKey (content_index or
// summary_index, always 0 here) if set, the tool name of
// function_call_arguments.done, key with value, and the empty logprobs of
// output_text events.
func (e *streamEncoder) textEvent(typ string, p *encPart, indexKey, key, value string) error {
	b := e.head(typ, p)
	if indexKey != "" {
		b = append(b, ',', '"')
		b = append(b, indexKey...)
		b = append(b, `":0`...)
	}
	if fc, ok := p.item.(*functionCallItem); ok && typ == "response.function_call_arguments.done" {
		b = append(b, `,"name":`...)
		b = appendString(b, fc.Name)
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	b = appendString(b, value)
	if strings.HasPrefix(typ, "response.output_text.") {
		b = append(b, `,"logprobs":[]`...)
	}
	b = append(b, '}')
	e.buf = b
	return e.write(typ, b)
}

// head starts an item-level event: type, sequence_number, item_id and
// output_index.
func (e *streamEncoder) head(typ string, p *encPart) []byte {
	b := append(e.buf[:0], `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","sequence_number":`...)
	b = strconv.AppendInt(b, int64(e.seq), 10)
	b = append(b, `,"item_id":`...)
	b = appendString(b, p.itemID)
	b = append(b, `,"output_index":`...)
	b = strconv.AppendInt(b, int64(p.outputIndex), 10)
	return b
}

func (e *streamEncoder) write(typ string, data []byte) error {
	e.seq++
	return sse.Write(e.w, typ, data)
}
