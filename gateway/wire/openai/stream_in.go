package openai

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

// StreamEncoder writes one answer's canonical events as Chat Completions
// chunks. Build one with Chat.NewStreamEncoder, Chat.NewChatStreamEncoder
// or Chat.NewStreamEncoderFor. It is not safe for concurrent use.
type StreamEncoder struct {
	w            io.Writer
	includeUsage bool
	created      func() int64

	started, ended bool
	// head is `{"id":...,"object":...,"created":...,"model":...,` shared
	// by every chunk of the answer.
	head []byte
	buf  []byte
	// tools maps a part index to its tool call index.
	tools    map[int]int
	numTools int
	usage    *llm.Usage
}

// NewStreamEncoder implements wire.Inbound. The stream ends with a usage
// chunk, as if the client had asked for stream_options.include_usage;
// clients that did not ask ignore a chunk without choices.
func (c Chat) NewStreamEncoder(w io.Writer) wire.StreamEncoder {
	return c.NewChatStreamEncoder(w, true)
}

// NewChatStreamEncoder returns an encoder that writes the usage chunk
// (and "usage":null on the other chunks) only if includeUsage, as OpenAI
// does for a request's stream_options.include_usage.
func (c Chat) NewChatStreamEncoder(w io.Writer, includeUsage bool) wire.StreamEncoder {
	return &StreamEncoder{w: w, includeUsage: includeUsage, created: c.created}
}

// NewStreamEncoderFor returns an encoder for the answer to request body,
// following its stream_options.include_usage.
func (c Chat) NewStreamEncoderFor(w io.Writer, body []byte) wire.StreamEncoder {
	return c.NewChatStreamEncoder(w, IncludeUsage(body))
}

// IncludeUsage reports whether a Chat Completions request body asks for
// the usage chunk (stream_options.include_usage is true).
func IncludeUsage(body []byte) bool {
	var opts []byte
	_ = wire.TopLevel(body, func(key string, s, e int) bool {
		if key == "stream_options" {
			opts = body[s:e]
			return false
		}
		return true
	})
	if absent(opts) {
		return false
	}
	var so struct {
		IncludeUsage bool `json:"include_usage"`
	}
	return json.Unmarshal(opts, &so) == nil && so.IncludeUsage
}

// Encode implements wire.StreamEncoder.
func (e *StreamEncoder) Encode(ev llm.StreamEvent) error {
	if e.ended {
		return nil
	}
	switch ev.Type {
	case llm.EventStart:
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
		return e.start(ev.ID, ev.Model)
	case llm.EventPartStart:
		if err := e.start("", ""); err != nil {
			return err
		}
		return e.partStart(ev)
	case llm.EventDelta:
		if err := e.start("", ""); err != nil {
			return err
		}
		return e.delta(ev)
	case llm.EventUsage:
		if ev.Usage != nil {
			u := *ev.Usage
			e.usage = &u
		}
	case llm.EventStop:
		if err := e.start("", ""); err != nil {
			return err
		}
		return e.stop(ev)
	case llm.EventError:
		e.ended = true
		err := ev.Err
		if err == nil {
			err = llm.Errorf(llm.ErrInternal, "the stream failed without an error")
		}
		e.buf = append(e.buf[:0], "data: "...)
		e.buf = appendError(e.buf, err)
		// No [DONE] after an error: a client that ignores the error
		// chunk must still not read the stream as complete.
		e.buf = append(e.buf, "\n\n"...)
		return e.write()
	}
	return nil
}

// start writes the first chunk, once: role "assistant", content "".
func (e *StreamEncoder) start(id, model string) error {
	if e.started {
		return nil
	}
	e.started = true
	h := append(e.head[:0], `{"id":`...)
	h = appendString(h, completionID(id))
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, e.created(), 10)
	h = append(h, `,"model":`...)
	h = appendString(h, model)
	e.head = append(h, ',')
	e.begin()
	e.buf = append(e.buf, `{"role":"assistant","content":"","refusal":null}`...)
	return e.end("")
}

func (e *StreamEncoder) partStart(ev llm.StreamEvent) error {
	if ev.Part == nil {
		return nil
	}
	p := ev.Part
	switch p.Type {
	case llm.PartToolCall:
		if e.tools == nil {
			e.tools = make(map[int]int, 4)
		}
		ti := e.numTools
		e.numTools++
		e.tools[ev.Index] = ti
		e.begin()
		e.buf = append(e.buf, `{"tool_calls":[{"index":`...)
		e.buf = appendInt(e.buf, ti)
		e.buf = append(e.buf, `,"id":`...)
		e.buf = appendString(e.buf, p.ToolCallID)
		e.buf = append(e.buf, `,"type":"function","function":{"name":`...)
		e.buf = appendString(e.buf, p.ToolName)
		e.buf = append(e.buf, `,"arguments":`...)
		e.buf = appendString(e.buf, p.Arguments)
		e.buf = append(e.buf, "}}]}"...)
		return e.end("")
	case llm.PartText:
		if p.Text != "" {
			return e.text(`{"content":`, p.Text)
		}
	case llm.PartThinking:
		if p.Text != "" {
			return e.text(`{"reasoning_content":`, p.Text)
		}
	}
	return nil
}

func (e *StreamEncoder) delta(ev llm.StreamEvent) error {
	if ev.Delta == "" {
		return nil
	}
	switch ev.Kind {
	case llm.DeltaText:
		return e.text(`{"content":`, ev.Delta)
	case llm.DeltaThinking:
		return e.text(`{"reasoning_content":`, ev.Delta)
	case llm.DeltaArguments:
		ti, ok := e.tools[ev.Index]
		if !ok {
			return fmt.Errorf("encode arguments delta: part %d is not a tool call that was started", ev.Index)
		}
		e.begin()
		e.buf = append(e.buf, `{"tool_calls":[{"index":`...)
		e.buf = appendInt(e.buf, ti)
		e.buf = append(e.buf, `,"function":{"arguments":`...)
		e.buf = appendString(e.buf, ev.Delta)
		e.buf = append(e.buf, "}}]}"...)
		return e.end("")
	}
	return nil // signatures cannot be expressed
}

func (e *StreamEncoder) text(open, s string) error {
	e.begin()
	e.buf = append(e.buf, open...)
	e.buf = appendString(e.buf, s)
	e.buf = append(e.buf, '}')
	return e.end("")
}

func (e *StreamEncoder) stop(ev llm.StreamEvent) error {
	e.ended = true
	e.begin()
	e.buf = append(e.buf, "{}"...)
	e.buf = e.appendEnd(e.buf, finishReason(ev.StopReason))
	if e.includeUsage {
		u := e.usage
		if ev.Usage != nil {
			u = ev.Usage
		}
		if u == nil {
			u = &llm.Usage{}
		}
		e.buf = append(e.buf, "data: "...)
		e.buf = append(e.buf, e.head...)
		e.buf = append(e.buf, `"choices":[],"usage":`...)
		e.buf = appendUsage(e.buf, *u)
		e.buf = append(e.buf, "}\n\n"...)
	}
	e.buf = append(e.buf, "data: [DONE]\n\n"...)
	return e.write()
}

// begin starts a chunk in buf, up to the delta object.
func (e *StreamEncoder) begin() {
	e.buf = append(e.buf[:0], "data: "...)
	e.buf = append(e.buf, e.head...)
	e.buf = append(e.buf, `"choices":[{"index":0,"delta":`...)
}

// end finishes the chunk begun and writes it.
func (e *StreamEncoder) end(finish string) error {
	e.buf = e.appendEnd(e.buf, finish)
	return e.write()
}

func (e *StreamEncoder) appendEnd(b []byte, finish string) []byte {
	b = append(b, `,"logprobs":null,"finish_reason":`...)
	b = appendNullable(b, finish)
	b = append(b, "}]"...)
	if e.includeUsage {
		b = append(b, `,"usage":null`...)
	}
	return append(b, "}\n\n"...)
}

func (e *StreamEncoder) write() error {
	if _, err := e.w.Write(e.buf); err != nil {
		return fmt.Errorf("write chat completion chunk: %w", err)
	}
	return nil
}
