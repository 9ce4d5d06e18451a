package tape

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
)

// FromResponse is r as a recorded answer. It returns why not instead
// when r holds what a recording does not keep (an image).
func FromResponse(r *llm.Response) (*event.Answer, string) {
	a := &event.Answer{ID: r.ID, Model: r.Model, StopReason: string(r.StopReason), StopSequence: r.StopSequence,
		Usage: event.AnswerUsage{InputTokens: r.Usage.InputTokens, OutputTokens: r.Usage.OutputTokens,
			CacheReadTokens: r.Usage.CacheReadTokens, CacheWriteTokens: r.Usage.CacheWriteTokens, ReasoningTokens: r.Usage.ReasoningTokens}}
	if len(r.Parts) > 0 {
		a.Parts = make([]event.AnswerPart, 0, len(r.Parts))
	}
	for _, p := range r.Parts {
		switch p.Type {
		case llm.PartText, llm.PartThinking, llm.PartRedactedThinking, llm.PartToolCall:
			a.Parts = append(a.Parts, event.AnswerPart{Type: string(p.Type), Text: p.Text, Signature: p.Signature, Data: p.Data,
				ToolCallID: p.ToolCallID, ToolName: p.ToolName, Arguments: p.Arguments})
		default:
			return nil, fmt.Sprintf("the answer has a part of type %s, which a recording does not keep", p.Type)
		}
	}
	return a, ""
}

// FromError is the error a call answered with, as a recorded answer.
func FromError(e *llm.Error) *event.Answer {
	return &event.Answer{Error: &event.AnswerError{Kind: string(e.Kind), Status: e.Status, Message: e.Message}}
}

// Size is about how many bytes a recorded answer takes.
func Size(a *event.Answer) int {
	if a == nil {
		return 0
	}
	n := len(a.ID) + len(a.Model) + 100
	for _, p := range a.Parts {
		n += len(p.Text) + len(p.Signature) + len(p.Data) + len(p.ToolCallID) + len(p.ToolName) + len(p.Arguments) + 40
	}
	if a.Error != nil {
		n += len(a.Error.Message)
	}
	return n
}

// ToResponse is a recorded answer (not an error) as a response.
func ToResponse(a *event.Answer) *llm.Response {
	r := &llm.Response{ID: a.ID, Model: a.Model, StopReason: llm.StopReason(a.StopReason), StopSequence: a.StopSequence,
		Usage: llm.Usage{InputTokens: a.Usage.InputTokens, OutputTokens: a.Usage.OutputTokens, CacheReadTokens: a.Usage.CacheReadTokens,
			CacheWriteTokens: a.Usage.CacheWriteTokens, ReasoningTokens: a.Usage.ReasoningTokens},
		Parts: make([]llm.Part, len(a.Parts))}
	for i, p := range a.Parts {
		r.Parts[i] = llm.Part{Type: llm.PartType(p.Type), Text: p.Text, Signature: p.Signature, Data: p.Data,
			ToolCallID: p.ToolCallID, ToolName: p.ToolName, Arguments: p.Arguments}
	}
	return r
}

// ToError is a recorded error answer as the error to answer with.
func ToError(a *event.Answer) *llm.Error {
	e := a.Error
	return &llm.Error{Kind: llm.ErrorKind(e.Kind), Status: e.Status, Message: e.Message}
}

// StreamEvents is r as the canonical events of a stream: its start with
// the input usage, each part whole in one delta, its stop with the
// whole usage.
func StreamEvents(r *llm.Response) []llm.StreamEvent {
	u := r.Usage
	evs := make([]llm.StreamEvent, 0, 2+4*len(r.Parts))
	evs = append(evs, llm.StreamEvent{Type: llm.EventStart, ID: r.ID, Model: r.Model,
		Usage: &llm.Usage{InputTokens: u.InputTokens, CacheReadTokens: u.CacheReadTokens, CacheWriteTokens: u.CacheWriteTokens}})
	for i := range r.Parts {
		p := &r.Parts[i]
		start := llm.Part{Type: p.Type, ToolCallID: p.ToolCallID, ToolName: p.ToolName}
		if p.Type == llm.PartRedactedThinking {
			start.Data = p.Data
		}
		evs = append(evs, llm.StreamEvent{Type: llm.EventPartStart, Index: i, Part: &start})
		delta := func(kind llm.DeltaKind, s string) {
			if s != "" {
				evs = append(evs, llm.StreamEvent{Type: llm.EventDelta, Index: i, Kind: kind, Delta: s})
			}
		}
		switch p.Type {
		case llm.PartText:
			delta(llm.DeltaText, p.Text)
		case llm.PartThinking:
			delta(llm.DeltaThinking, p.Text)
			delta(llm.DeltaSignature, p.Signature)
		case llm.PartToolCall:
			delta(llm.DeltaArguments, p.Arguments)
		}
		evs = append(evs, llm.StreamEvent{Type: llm.EventPartStop, Index: i})
	}
	return append(evs, llm.StreamEvent{Type: llm.EventStop, StopReason: r.StopReason, StopSequence: r.StopSequence, Usage: &u})
}

// Collector puts a streamed answer back together from its canonical
// events. The zero value is ready to use.
type Collector struct {
	resp  llm.Response
	parts []*collected
	index map[int]int // part index → position in parts
}

type collected struct {
	part       llm.Part
	text, args strings.Builder
	sig        strings.Builder
}

// Add takes the stream's next event.
func (c *Collector) Add(ev llm.StreamEvent) {
	switch ev.Type {
	case llm.EventStart:
		c.resp.ID, c.resp.Model = ev.ID, ev.Model
	case llm.EventPartStart:
		if c.index == nil {
			c.index = map[int]int{}
		}
		if _, ok := c.index[ev.Index]; ok {
			break
		}
		c.index[ev.Index] = len(c.parts)
		p := &collected{}
		c.parts = append(c.parts, p)
		if ev.Part != nil {
			p.part = llm.Part{Type: ev.Part.Type, ToolCallID: ev.Part.ToolCallID, ToolName: ev.Part.ToolName, Data: ev.Part.Data,
				Signature: ev.Part.Signature, MediaType: ev.Part.MediaType, URL: ev.Part.URL}
			p.text.WriteString(ev.Part.Text)
			p.args.WriteString(ev.Part.Arguments)
		}
	case llm.EventDelta:
		i, ok := c.index[ev.Index]
		if !ok {
			break
		}
		p := c.parts[i]
		switch ev.Kind {
		case llm.DeltaSignature:
			p.sig.WriteString(ev.Delta)
		case llm.DeltaArguments:
			p.args.WriteString(ev.Delta)
		case "":
			if p.part.Type == llm.PartToolCall {
				p.args.WriteString(ev.Delta)
			} else {
				p.text.WriteString(ev.Delta)
			}
		default:
			p.text.WriteString(ev.Delta)
		}
	case llm.EventStop:
		c.resp.StopReason, c.resp.StopSequence = ev.StopReason, ev.StopSequence
	}
	if u := ev.Usage; u != nil {
		r := &c.resp.Usage
		r.InputTokens = max(r.InputTokens, u.InputTokens)
		r.OutputTokens = max(r.OutputTokens, u.OutputTokens)
		r.CacheReadTokens = max(r.CacheReadTokens, u.CacheReadTokens)
		r.CacheWriteTokens = max(r.CacheWriteTokens, u.CacheWriteTokens)
		r.ReasoningTokens = max(r.ReasoningTokens, u.ReasoningTokens)
	}
}

// Response is the answer collected so far.
func (c *Collector) Response() *llm.Response {
	r := c.resp
	r.Parts = make([]llm.Part, len(c.parts))
	for i, p := range c.parts {
		r.Parts[i] = p.part
		r.Parts[i].Text = p.text.String()
		r.Parts[i].Arguments = p.args.String()
		if s := p.sig.String(); s != "" {
			r.Parts[i].Signature = p.part.Signature + s
		}
	}
	return &r
}
