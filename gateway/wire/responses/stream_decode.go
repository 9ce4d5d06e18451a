package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/wire"
)

// streamDecoder turns OpenAI's Responses events into canonical events.
//
// Canonical parts are numbered in the order they start: a text part per
// output_text (or refusal) content part, a tool call part per
// function_call or custom_tool_call item, a thinking part per reasoning
// item that has any text or encrypted content. A reasoning part starts
// at its first text, or at its item's end if it has only encrypted
// content, so that empty reasoning items make no part. Done events
// whose full text is longer than what the deltas carried have the rest
// sent as one more delta, for servers that send no deltas.
type streamDecoder struct {
	started bool
	done    bool // a stop event was produced
	failed  bool // an error event was produced
	next    int  // the next canonical part index
	open    []int
	items   map[string]*decItem
	byIndex map[int]*decItem

	toolCall bool
	refusal  bool
}

// decItem is an output item of the stream.
type decItem struct {
	typ      string
	id       string
	part     int // canonical index of a tool call or thinking part; -1 before it starts
	streamed int // bytes of arguments, input or text sent in deltas
	// summary is the summary_index being streamed, -1 before the first.
	summary int
	// content maps a message's content_index to its text part.
	content map[int]*decText
}

type decText struct {
	part     int
	open     bool
	streamed int
}

// inEvent is any stream event; which fields are set depends on Type.
type inEvent struct {
	Type         string          `json:"type"`
	Response     *inResponse     `json:"response"`
	Item         json.RawMessage `json:"item"`
	OutputIndex  int             `json:"output_index"`
	ItemID       string          `json:"item_id"`
	ContentIndex int             `json:"content_index"`
	SummaryIndex int             `json:"summary_index"`
	Delta        string          `json:"delta"`
	Text         string          `json:"text"`
	Arguments    string          `json:"arguments"`
	Input        string          `json:"input"`
	Refusal      string          `json:"refusal"`
	Part         *inContent      `json:"part"`
	// The "error" event: documented flat, sent nested as well.
	Code    *string  `json:"code"`
	Message string   `json:"message"`
	Param   *string  `json:"param"`
	Error   *inError `json:"error"`
}

func newStreamDecoder() *streamDecoder {
	return &streamDecoder{items: map[string]*decItem{}, byIndex: map[int]*decItem{}}
}

// Done reports whether response.completed or response.incomplete has
// been decoded.
func (d *streamDecoder) Done() bool { return d.done }

// Decode appends the canonical events of one Responses event to out.
// Events after the end of the answer, events of hosted tools and event
// types it does not know are ignored.
func (d *streamDecoder) Decode(ev sse.Event, out []llm.StreamEvent) ([]llm.StreamEvent, error) {
	if d.done || d.failed {
		return out, nil
	}
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || data[0] != '{' {
		return out, nil
	}
	var e inEvent
	if !scanDelta(data, &e) {
		e = inEvent{}
		if err := json.Unmarshal(data, &e); err != nil {
			return out, fmt.Errorf("decode responses event %q: %w", ev.Name, err)
		}
	}
	typ := e.Type
	if typ == "" {
		typ = ev.Name
	}
	switch typ {
	case "response.failed":
		return d.fail(out, e.Response)
	case "error":
		return d.errorEvent(out, &e)
	}
	out = d.start(out, e.Response)
	switch typ {
	case "response.output_item.added":
		return d.itemAdded(out, &e)
	case "response.content_part.added":
		if it := d.item(&e); it != nil && e.Part != nil && (e.Part.Type == "output_text" || e.Part.Type == "refusal") {
			t, out2 := d.text(out, it, e.ContentIndex)
			return d.textDelta(out2, t, e.Part.Text+e.Part.Refusal), nil
		}
	case "response.output_text.delta", "response.refusal.delta":
		if typ == "response.refusal.delta" {
			d.refusal = true
		}
		if it := d.item(&e); it != nil {
			t, out2 := d.text(out, it, e.ContentIndex)
			return d.textDelta(out2, t, e.Delta), nil
		}
	case "response.output_text.done", "response.refusal.done":
		if it := d.item(&e); it != nil {
			t, out2 := d.text(out, it, e.ContentIndex)
			return d.textDelta(out2, t, rest(e.Text+e.Refusal, t.streamed)), nil
		}
	case "response.content_part.done":
		if it := d.item(&e); it != nil && it.content[e.ContentIndex] != nil {
			return d.closeText(out, it.content[e.ContentIndex]), nil
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
		if it := d.item(&e); it != nil && it.part >= 0 {
			return d.argsDelta(out, it, e.Delta), nil
		}
	case "response.function_call_arguments.done":
		if it := d.item(&e); it != nil && it.part >= 0 {
			return d.argsDelta(out, it, rest(e.Arguments, it.streamed)), nil
		}
	case "response.custom_tool_call_input.done":
		if it := d.item(&e); it != nil && it.part >= 0 {
			return d.argsDelta(out, it, rest(e.Input, it.streamed)), nil
		}
	case "response.reasoning_summary_part.added":
		if it := d.item(&e); it != nil && it.typ == "reasoning" {
			return d.summaryBegin(out, it, e.SummaryIndex), nil
		}
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		if it := d.item(&e); it != nil && it.typ == "reasoning" && e.Delta != "" {
			if typ == "response.reasoning_summary_text.delta" {
				out = d.summaryBegin(out, it, e.SummaryIndex)
			}
			out = d.thinkingStart(out, it)
			return append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaThinking, Delta: e.Delta}), nil
		}
	case "response.output_item.done":
		return d.itemDone(out, &e)
	case "response.completed", "response.incomplete":
		return d.stop(out, e.Response), nil
	}
	return out, nil
}

// scanDelta reads a delta event, most of any stream, without
// encoding/json's reflection. It reports false for other events and for
// anything unexpected, which Decode then reads with encoding/json.
func scanDelta(data []byte, e *inEvent) bool {
	ok := true
	err := wire.TopLevel(data, func(key string, start, end int) bool {
		v := data[start:end]
		switch key {
		case "type":
			e.Type, ok = unquote(v)
			ok = ok && strings.HasSuffix(e.Type, ".delta")
		case "item_id":
			e.ItemID, ok = unquote(v)
		case "delta":
			e.Delta, ok = unquote(v)
		case "output_index":
			e.OutputIndex, ok = atoi(v)
		case "content_index":
			e.ContentIndex, ok = atoi(v)
		case "summary_index":
			e.SummaryIndex, ok = atoi(v)
		case "sequence_number", "logprobs", "obfuscation":
		default:
			ok = false
		}
		return ok
	})
	return err == nil && ok && e.Type != ""
}

// atoi reads a small non-negative JSON integer.
func atoi(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// start emits the start event once, before anything else.
func (d *streamDecoder) start(out []llm.StreamEvent, r *inResponse) []llm.StreamEvent {
	if d.started {
		return out
	}
	d.started = true
	ev := llm.StreamEvent{Type: llm.EventStart}
	if r != nil {
		ev.ID, ev.Model = r.ID, r.Model
	}
	return append(out, ev)
}

// item finds the item an event is about, by item_id or else by
// output_index.
func (d *streamDecoder) item(e *inEvent) *decItem {
	if e.ItemID != "" {
		if it := d.items[e.ItemID]; it != nil {
			return it
		}
	}
	return d.byIndex[e.OutputIndex]
}

func (d *streamDecoder) startPart(out []llm.StreamEvent, p llm.Part) ([]llm.StreamEvent, int) {
	i := d.next
	d.next++
	d.open = append(d.open, i)
	return append(out, llm.StreamEvent{Type: llm.EventPartStart, Index: i, Part: &p}), i
}

func (d *streamDecoder) stopPart(out []llm.StreamEvent, i int) []llm.StreamEvent {
	j := slices.Index(d.open, i)
	if j < 0 {
		return out
	}
	d.open = slices.Delete(d.open, j, j+1)
	return append(out, llm.StreamEvent{Type: llm.EventPartStop, Index: i})
}

func (d *streamDecoder) itemAdded(out []llm.StreamEvent, e *inEvent) ([]llm.StreamEvent, error) {
	var w inItem
	if err := json.Unmarshal(e.Item, &w); err != nil {
		return out, fmt.Errorf("decode output item of response.output_item.added: %w", err)
	}
	it := &decItem{typ: w.Type, id: w.ID, part: -1, summary: -1}
	if w.ID != "" {
		d.items[w.ID] = it
	}
	d.byIndex[e.OutputIndex] = it
	if w.Type == "function_call" || w.Type == "custom_tool_call" {
		out = d.toolStart(out, it, &w)
	}
	return out, nil
}

// toolStart starts the tool call part of item it, with what the item
// already carries.
func (d *streamDecoder) toolStart(out []llm.StreamEvent, it *decItem, w *inItem) []llm.StreamEvent {
	d.toolCall = true
	out, it.part = d.startPart(out, llm.Part{Type: llm.PartToolCall, ToolCallID: w.CallID,
		ToolName: canonicalName(w.Name, w.Namespace)})
	if w.Type == "custom_tool_call" {
		out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaArguments, Delta: `{"input":"`})
		return d.argsDelta(out, it, w.Input)
	}
	return d.argsDelta(out, it, w.Arguments)
}

// argsDelta sends more of a tool call's arguments; a custom tool's input
// text is escaped into the canonical {"input":"..."} object.
func (d *streamDecoder) argsDelta(out []llm.StreamEvent, it *decItem, s string) []llm.StreamEvent {
	if s == "" {
		return out
	}
	it.streamed += len(s)
	if it.typ == "custom_tool_call" {
		q := appendString(nil, s)
		s = string(q[1 : len(q)-1])
	}
	return append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaArguments, Delta: s})
}

// text returns the text part of a message's content part, starting it if
// the stream did not announce it.
func (d *streamDecoder) text(out []llm.StreamEvent, it *decItem, ci int) (*decText, []llm.StreamEvent) {
	if t := it.content[ci]; t != nil {
		return t, out
	}
	if it.content == nil {
		it.content = map[int]*decText{}
	}
	t := &decText{open: true}
	out, t.part = d.startPart(out, llm.Part{Type: llm.PartText})
	it.content[ci] = t
	return t, out
}

func (d *streamDecoder) textDelta(out []llm.StreamEvent, t *decText, s string) []llm.StreamEvent {
	if s == "" || !t.open {
		return out
	}
	t.streamed += len(s)
	return append(out, llm.StreamEvent{Type: llm.EventDelta, Index: t.part, Kind: llm.DeltaText, Delta: s})
}

func (d *streamDecoder) closeText(out []llm.StreamEvent, t *decText) []llm.StreamEvent {
	if !t.open {
		return out
	}
	t.open = false
	return d.stopPart(out, t.part)
}

// thinkingStart starts the thinking part of reasoning item it, once.
func (d *streamDecoder) thinkingStart(out []llm.StreamEvent, it *decItem) []llm.StreamEvent {
	if it.part < 0 {
		out, it.part = d.startPart(out, llm.Part{Type: llm.PartThinking, Data: reasoningData(it.id)})
	}
	return out
}

// summaryBegin notes the summary part being streamed; a second one is
// set off from the first by a blank line, as DecodeResponse joins them.
func (d *streamDecoder) summaryBegin(out []llm.StreamEvent, it *decItem, index int) []llm.StreamEvent {
	if index == it.summary {
		return out
	}
	first := it.summary < 0
	it.summary = index
	if !first && it.part >= 0 {
		out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaThinking, Delta: "\n\n"})
	}
	return out
}

func (d *streamDecoder) itemDone(out []llm.StreamEvent, e *inEvent) ([]llm.StreamEvent, error) {
	var w inItem
	if err := json.Unmarshal(e.Item, &w); err != nil {
		return out, fmt.Errorf("decode output item of response.output_item.done: %w", err)
	}
	it := d.item(&inEvent{ItemID: w.ID, OutputIndex: e.OutputIndex})
	if it == nil {
		it = &decItem{typ: w.Type, id: w.ID, part: -1, summary: -1}
	}
	switch w.Type {
	case "message":
		for ci, c := range w.Content {
			if (c.Type == "output_text" || c.Type == "refusal") && it.content[ci] == nil && c.Text+c.Refusal != "" {
				var t *decText
				t, out = d.text(out, it, ci)
				out = d.textDelta(out, t, c.Text+c.Refusal)
			}
			if c.Type == "refusal" {
				d.refusal = true
			}
		}
		keys := make([]int, 0, len(it.content))
		for ci := range it.content {
			keys = append(keys, ci)
		}
		slices.Sort(keys)
		for _, ci := range keys {
			out = d.closeText(out, it.content[ci])
		}
	case "function_call", "custom_tool_call":
		if it.part < 0 {
			out = d.toolStart(out, it, &w)
		} else if w.Type == "function_call" {
			out = d.argsDelta(out, it, rest(w.Arguments, it.streamed))
		} else {
			out = d.argsDelta(out, it, rest(w.Input, it.streamed))
		}
		if w.Type == "custom_tool_call" {
			out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaArguments, Delta: `"}`})
		}
		out = d.stopPart(out, it.part)
	case "reasoning":
		if it.part < 0 {
			text := reasoningItemText(&w)
			if text == "" && w.EncryptedContent == "" {
				return out, nil
			}
			out = d.thinkingStart(out, it)
			if text != "" {
				out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaThinking, Delta: text})
			}
		}
		if w.EncryptedContent != "" {
			out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: it.part, Kind: llm.DeltaSignature, Delta: w.EncryptedContent})
		}
		out = d.stopPart(out, it.part)
	}
	return out, nil
}

// stop ends the answer: parts still open are closed and the stop event
// carries the stop reason and the final usage.
func (d *streamDecoder) stop(out []llm.StreamEvent, r *inResponse) []llm.StreamEvent {
	if r == nil {
		r = &inResponse{Status: "completed"}
	}
	if d.next == 0 && len(r.Output) > 0 {
		// A server that sent the answer only in its final event.
		for _, raw := range r.Output {
			var w inItem
			if json.Unmarshal(raw, &w) != nil {
				continue
			}
			var parts []llm.Part
			parts, d.refusal = outputParts(nil, &w, d.refusal)
			for _, p := range parts {
				d.toolCall = d.toolCall || p.Type == llm.PartToolCall
				out = synthesize(out, d, p)
			}
		}
	}
	for len(d.open) > 0 {
		out = d.stopPart(out, d.open[0])
	}
	reason := ""
	if r.IncompleteDetails != nil {
		reason = r.IncompleteDetails.Reason
	}
	u := canonicalUsage(r.Usage)
	d.done = true
	return append(out, llm.StreamEvent{Type: llm.EventStop, StopReason: stopReason(r.Status, reason, d.toolCall, d.refusal), Usage: &u})
}

// synthesize appends the start, delta and stop events of a whole part.
func synthesize(out []llm.StreamEvent, d *streamDecoder, p llm.Part) []llm.StreamEvent {
	start := llm.Part{Type: p.Type, ToolCallID: p.ToolCallID, ToolName: p.ToolName, Data: p.Data}
	out, i := d.startPart(out, start)
	for _, dl := range [...]struct {
		kind llm.DeltaKind
		s    string
	}{{llm.DeltaText, p.Text}, {llm.DeltaArguments, p.Arguments}, {llm.DeltaSignature, p.Signature}} {
		kind := dl.kind
		if kind == llm.DeltaText && p.Type == llm.PartThinking {
			kind = llm.DeltaThinking
		}
		if dl.s != "" {
			out = append(out, llm.StreamEvent{Type: llm.EventDelta, Index: i, Kind: kind, Delta: dl.s})
		}
	}
	return d.stopPart(out, i)
}

func (d *streamDecoder) fail(out []llm.StreamEvent, r *inResponse) ([]llm.StreamEvent, error) {
	d.failed = true
	if r == nil || r.Error == nil {
		return append(out, llm.StreamEvent{Type: llm.EventError,
			Err: llm.Errorf(llm.ErrServer, "the provider reported response.failed without an error")}), nil
	}
	return append(out, llm.StreamEvent{Type: llm.EventError,
		Err: streamError(r.Error.Code, r.Error.Type, r.Error.Message, r.Error.Param)}), nil
}

func (d *streamDecoder) errorEvent(out []llm.StreamEvent, e *inEvent) ([]llm.StreamEvent, error) {
	d.failed = true
	code, typ, msg, param := "", "", e.Message, e.Param
	if e.Code != nil {
		code = *e.Code
	}
	if e.Error != nil {
		if code == "" {
			code = e.Error.Code
		}
		typ = e.Error.Type
		if msg == "" {
			msg = e.Error.Message
		}
		if param == nil {
			param = e.Error.Param
		}
	}
	return append(out, llm.StreamEvent{Type: llm.EventError, Err: streamError(code, typ, msg, param)}), nil
}

// rest is what of a done event's full value s the deltas have not
// carried, if they carried less.
func rest(s string, streamed int) string {
	if len(s) <= streamed {
		return ""
	}
	return s[streamed:]
}
