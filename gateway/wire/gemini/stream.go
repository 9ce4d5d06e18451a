package gemini

import (
	"bytes"
	"encoding/json"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

// NewStreamDecoder implements wire.Outbound.
func (Codec) NewStreamDecoder() wire.StreamDecoder { return &streamDecoder{open: -1} }

// streamDecoder turns the chunks of one streamGenerateContent answer into
// canonical events; see the package doc.
type streamDecoder struct {
	started bool
	done    bool
	ids     callIDs
	next    int          // index of the next part to start
	open    int          // index of the open text or thinking part, -1 if none
	openTyp llm.PartType // its type
	sawCall bool
	usage   llm.Usage
}

var _ wire.StreamDecoder = (*streamDecoder)(nil)

// Done implements wire.StreamDecoder.
func (d *streamDecoder) Done() bool { return d.done }

// Decode implements wire.StreamDecoder. Chunks after the end are ignored.
func (d *streamDecoder) Decode(ev sse.Event, out []llm.StreamEvent) ([]llm.StreamEvent, error) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || d.done {
		return out, nil
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return out, llm.Errorf(llm.ErrServer, "gemini stream chunk is not a GenerateContentResponse: %v", err)
	}
	if r.Error != nil {
		return append(out, llm.StreamEvent{Type: llm.EventError, Err: apiErrorToLLM(0, r.Error)}), nil
	}
	if r.UsageMetadata != nil {
		d.usage = usage(r.UsageMetadata)
	}
	if !d.started {
		d.started = true
		d.ids.responseID = r.ResponseID
		start := llm.StreamEvent{Type: llm.EventStart, ID: r.ResponseID, Model: r.ModelVersion}
		if r.UsageMetadata != nil {
			start.Usage = &llm.Usage{InputTokens: d.usage.InputTokens, CacheReadTokens: d.usage.CacheReadTokens}
		}
		out = append(out, start)
	}

	if len(r.Candidates) == 0 {
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			out = d.stop(out, llm.StopContentFilter)
		}
		return out, nil
	}
	cand := r.Candidates[0]
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			out = d.part(out, p)
		}
	}
	if cand.FinishReason != "" {
		out = d.stop(out, stopReason(cand.FinishReason, d.sawCall))
	}
	return out, nil
}

func (d *streamDecoder) part(out []llm.StreamEvent, p part) []llm.StreamEvent {
	switch {
	case p.FunctionCall != nil:
		out = d.closeOpen(out)
		i := d.next
		d.next++
		d.sawCall = true
		return append(out,
			llm.StreamEvent{Type: llm.EventPartStart, Index: i, Part: &llm.Part{
				Type:       llm.PartToolCall,
				ToolCallID: d.ids.next(p.FunctionCall.ID),
				ToolName:   p.FunctionCall.Name,
				Signature:  p.ThoughtSignature,
			}},
			llm.StreamEvent{Type: llm.EventDelta, Index: i, Kind: llm.DeltaArguments, Delta: argsText(p.FunctionCall.Args)},
			llm.StreamEvent{Type: llm.EventPartStop, Index: i},
		)
	case p.Text != nil:
		typ, kind := llm.PartText, llm.DeltaText
		if p.Thought {
			typ, kind = llm.PartThinking, llm.DeltaThinking
		}
		if *p.Text != "" {
			if d.open >= 0 && d.openTyp != typ {
				out = d.closeOpen(out)
			}
			if d.open < 0 {
				d.open, d.openTyp = d.next, typ
				d.next++
				out = append(out, llm.StreamEvent{Type: llm.EventPartStart, Index: d.open, Part: &llm.Part{Type: typ}})
			}
			out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: d.open, Kind: kind, Delta: *p.Text})
		}
		// A signature goes to the open part, the one it was sent with or
		// the text before an empty signature-only part.
		if p.ThoughtSignature != "" && d.open >= 0 {
			out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: d.open, Kind: llm.DeltaSignature, Delta: p.ThoughtSignature})
		}
		return out
	case p.InlineData != nil:
		out = d.closeOpen(out)
		i := d.next
		d.next++
		return append(out,
			llm.StreamEvent{Type: llm.EventPartStart, Index: i, Part: &llm.Part{Type: llm.PartImage, MediaType: p.InlineData.MimeType, Data: p.InlineData.Data}},
			llm.StreamEvent{Type: llm.EventPartStop, Index: i},
		)
	}
	return out
}

func (d *streamDecoder) closeOpen(out []llm.StreamEvent) []llm.StreamEvent {
	if d.open < 0 {
		return out
	}
	out = append(out, llm.StreamEvent{Type: llm.EventPartStop, Index: d.open})
	d.open = -1
	return out
}

func (d *streamDecoder) stop(out []llm.StreamEvent, reason llm.StopReason) []llm.StreamEvent {
	out = d.closeOpen(out)
	u := d.usage
	d.done = true
	return append(out, llm.StreamEvent{Type: llm.EventStop, StopReason: reason, Usage: &u})
}
