package sim

import (
	"github.com/switchyard/switchyard/gateway/llm"
)

// Response statuses.
const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	statusIncomplete = "incomplete"
	statusFailed     = "failed"
)

// finalStatus is the status of a finished answer.
func finalStatus(a *answer) string {
	if a.stop == llm.StopMaxTokens {
		return statusIncomplete
	}
	return statusCompleted
}

// appendResponsesUsage appends a Responses usage object.
func appendResponsesUsage(dst []byte, a *answer) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = appendInt(dst, a.inputTokens)
	dst = append(dst, `,"input_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, a.cachedTokens)
	dst = append(dst, `},"output_tokens":`...)
	dst = appendInt(dst, a.outputTokens)
	dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, a.reasoningTokens)
	dst = append(dst, `},"total_tokens":`...)
	dst = appendInt(dst, a.inputTokens+a.outputTokens)
	return append(dst, '}')
}

// appendResponse appends a response object. With status in_progress or
// failed it has no output and no usage; failure, if set, is its error.
func appendResponse(dst []byte, c *call, a *answer, status string, failure *llm.Error) []byte {
	e := c.echo
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.id)
	dst = append(dst, `,"object":"response","created_at":`...)
	dst = appendInt(dst, int(a.created))
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, status)
	dst = append(dst, `,"background":false,"error":`...)
	if failure != nil {
		dst = append(dst, `{"code":"server_error","message":`...)
		dst = appendString(dst, failure.Message)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"incomplete_details":`...)
	if status == statusIncomplete {
		dst = append(dst, `{"reason":"max_output_tokens"}`...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"instructions":`...)
	dst = appendStringOrNull(dst, e.instructions)
	dst = append(dst, `,"max_output_tokens":`...)
	if e.maxOutputTokens > 0 {
		dst = appendInt(dst, e.maxOutputTokens)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, a.model)
	dst = append(dst, `,"output":[`...)
	if status == statusCompleted || status == statusIncomplete {
		for i := range a.parts {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendItem(dst, c, &a.parts[i], status)
		}
	}
	dst = append(dst, `],"parallel_tool_calls":`...)
	dst = appendBool(dst, e.parallel)
	dst = append(dst, `,"previous_response_id":`...)
	dst = appendStringOrNull(dst, e.previousResponseID)
	dst = append(dst, `,"prompt_cache_key":`...)
	dst = appendStringOrNull(dst, e.promptCacheKey)
	dst = append(dst, `,"reasoning":{"effort":`...)
	dst = appendStringOrNull(dst, e.effort)
	dst = append(dst, `,"summary":`...)
	dst = appendStringOrNull(dst, e.summary)
	dst = append(dst, `},"service_tier":"default","store":`...)
	dst = appendBool(dst, e.store)
	dst = append(dst, `,"temperature":`...)
	dst = appendRaw(dst, e.temperature, "1.0")
	dst = append(dst, `,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":`...)
	dst = appendRaw(dst, e.toolChoice, `"auto"`)
	dst = append(dst, `,"tools":`...)
	dst = appendRaw(dst, e.tools, "[]")
	dst = append(dst, `,"top_p":`...)
	dst = appendRaw(dst, e.topP, "1.0")
	dst = append(dst, `,"truncation":"disabled","usage":`...)
	if status == statusCompleted || status == statusIncomplete {
		dst = appendResponsesUsage(dst, a)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"user":null,"metadata":`...)
	dst = appendRaw(dst, e.metadata, "{}")
	return append(dst, '}')
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendItem appends the output item of p. With status in_progress it is
// the item as output_item.added shows it, before its content.
func appendItem(dst []byte, c *call, p *answerPart, status string) []byte {
	done := status != statusInProgress
	itemStatus := statusCompleted
	switch {
	case !done:
		itemStatus = statusInProgress
	case status == statusIncomplete && p.kind == partText:
		itemStatus = statusIncomplete
	}
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, p.itemID)
	switch {
	case p.kind == partThinking:
		dst = append(dst, `,"type":"reasoning","summary":[`...)
		if done && c.summary {
			dst = append(dst, `{"type":"summary_text","text":`...)
			dst = appendString(dst, p.text)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
		if done && c.encrypted {
			dst = append(dst, `,"encrypted_content":`...)
			dst = appendString(dst, p.signature)
		}
	case p.kind == partText:
		dst = append(dst, `,"type":"message","status":`...)
		dst = appendString(dst, itemStatus)
		dst = append(dst, `,"content":[`...)
		if done {
			dst = appendOutputText(dst, p.text)
		}
		dst = append(dst, `],"role":"assistant"`...)
	case p.toolKind == "custom":
		dst = append(dst, `,"type":"custom_tool_call","status":`...)
		dst = appendString(dst, itemStatus)
		dst = append(dst, `,"call_id":`...)
		dst = appendString(dst, p.callID)
		dst = append(dst, `,"input":`...)
		dst = appendString(dst, ifDone(done, p.text))
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, p.toolName)
	case p.toolKind == "local_shell":
		dst = append(dst, `,"type":"local_shell_call","status":`...)
		dst = appendString(dst, itemStatus)
		dst = append(dst, `,"call_id":`...)
		dst = appendString(dst, p.callID)
		dst = append(dst, `,"action":{"type":"exec","command":`...)
		dst = appendStringArray(dst, p.command)
		dst = append(dst, `,"env":{},"timeout_ms":null,"user":null,"working_directory":null}`...)
	default:
		dst = append(dst, `,"type":"function_call","status":`...)
		dst = appendString(dst, itemStatus)
		dst = append(dst, `,"arguments":`...)
		dst = appendString(dst, ifDone(done, p.text))
		dst = append(dst, `,"call_id":`...)
		dst = appendString(dst, p.callID)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, p.toolName)
	}
	return append(dst, '}')
}

func ifDone(done bool, s string) string {
	if done {
		return s
	}
	return ""
}

// appendOutputText appends an output_text content part.
func appendOutputText(dst []byte, text string) []byte {
	dst = append(dst, `{"type":"output_text","annotations":[],"logprobs":[],"text":`...)
	dst = appendString(dst, text)
	return append(dst, '}')
}

// responsesBody appends a complete response object.
func responsesBody(dst []byte, c *call, a *answer) []byte {
	return appendResponse(dst, c, a, finalStatus(a), nil)
}

// responsesStream writes the Responses event sequence, numbering the
// events from 0.
type responsesStream struct {
	st  *streamer
	seq int
}

// event starts an event named name, up to its sequence number.
func (f *responsesStream) event(name string) []byte {
	b := f.st.begin(name)
	b = append(b, `{"type":`...)
	b = appendString(b, name)
	b = append(b, `,"sequence_number":`...)
	b = appendInt(b, f.seq)
	f.seq++
	return b
}

// itemEvent starts an event about output item i.
func (f *responsesStream) itemEvent(name string, p *answerPart, i int) []byte {
	b := f.event(name)
	b = append(b, `,"item_id":`...)
	b = appendString(b, p.itemID)
	b = append(b, `,"output_index":`...)
	return appendInt(b, i)
}

func (f *responsesStream) run(st *streamer) error {
	c, a := st.c, st.a
	for _, name := range []string{"response.created", "response.in_progress"} {
		b := f.event(name)
		b = append(b, `,"response":`...)
		b = appendResponse(b, c, a, statusInProgress, nil)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
	}
	status := finalStatus(a)
	for i := range a.parts {
		p := &a.parts[i]
		b := f.event("response.output_item.added")
		b = append(b, `,"output_index":`...)
		b = appendInt(b, i)
		b = append(b, `,"item":`...)
		b = appendItem(b, c, p, statusInProgress)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
		if err := f.partEvents(p, i); err != nil {
			return err
		}
		b = f.event("response.output_item.done")
		b = append(b, `,"output_index":`...)
		b = appendInt(b, i)
		b = append(b, `,"item":`...)
		b = appendItem(b, c, p, status)
		kind := evMeta
		if p.toolKind == "local_shell" {
			kind = evContent // a local shell call has no deltas: its item is its content
		}
		if err := st.send(append(b, '}'), kind); err != nil {
			return err
		}
	}
	name := "response.completed"
	if status == statusIncomplete {
		name = "response.incomplete"
	}
	b := f.event(name)
	b = append(b, `,"response":`...)
	b = appendResponse(b, c, a, status, nil)
	return st.send(append(b, '}'), evFinal)
}

// partEvents writes the events between an item's added and done events.
func (f *responsesStream) partEvents(p *answerPart, i int) error {
	st := f.st
	switch {
	case p.kind == partThinking:
		if !st.c.summary {
			return nil
		}
		b := f.itemEvent("response.reasoning_summary_part.added", p, i)
		b = append(b, `,"summary_index":0,"part":{"type":"summary_text","text":""}}`...)
		if err := st.send(b, evMeta); err != nil {
			return err
		}
		for _, ch := range p.chunks {
			b := f.itemEvent("response.reasoning_summary_text.delta", p, i)
			b = append(b, `,"summary_index":0,"delta":`...)
			b = appendString(b, ch)
			if err := st.send(append(b, '}'), evContent); err != nil {
				return err
			}
		}
		b = f.itemEvent("response.reasoning_summary_text.done", p, i)
		b = append(b, `,"summary_index":0,"text":`...)
		b = appendString(b, p.text)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
		b = f.itemEvent("response.reasoning_summary_part.done", p, i)
		b = append(b, `,"summary_index":0,"part":{"type":"summary_text","text":`...)
		b = appendString(b, p.text)
		return st.send(append(b, "}}"...), evMeta)
	case p.kind == partText:
		b := f.itemEvent("response.content_part.added", p, i)
		b = append(b, `,"content_index":0,"part":`...)
		b = appendOutputText(b, "")
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
		for _, ch := range p.chunks {
			b := f.itemEvent("response.output_text.delta", p, i)
			b = append(b, `,"content_index":0,"delta":`...)
			b = appendString(b, ch)
			if err := st.send(append(b, `,"logprobs":[]}`...), evContent); err != nil {
				return err
			}
		}
		b = f.itemEvent("response.output_text.done", p, i)
		b = append(b, `,"content_index":0,"text":`...)
		b = appendString(b, p.text)
		if err := st.send(append(b, `,"logprobs":[]}`...), evMeta); err != nil {
			return err
		}
		b = f.itemEvent("response.content_part.done", p, i)
		b = append(b, `,"content_index":0,"part":`...)
		b = appendOutputText(b, p.text)
		return st.send(append(b, '}'), evMeta)
	case p.toolKind == "local_shell":
		return nil
	}
	delta, done, field := "response.function_call_arguments.delta", "response.function_call_arguments.done", "arguments"
	if p.toolKind == "custom" {
		delta, done, field = "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done", "input"
	}
	for _, ch := range p.chunks {
		b := f.itemEvent(delta, p, i)
		b = append(b, `,"delta":`...)
		b = appendString(b, ch)
		if err := st.send(append(b, '}'), evContent); err != nil {
			return err
		}
	}
	b := f.itemEvent(done, p, i)
	if p.toolKind != "custom" {
		b = append(b, `,"name":`...)
		b = appendString(b, p.toolName)
	}
	b = append(b, `,"`...)
	b = append(b, field...)
	b = append(b, `":`...)
	b = appendString(b, p.text)
	return st.send(append(b, '}'), evMeta)
}

// errorEvents writes an error event and then response.failed: the SDKs
// raise on the first, Codex on the second. They replace the pending event,
// whose sequence number they take over.
func (f *responsesStream) errorEvents(dst []byte) []byte {
	e := serverError(msgOpenAIServer)
	f.seq--
	b := []byte(`{"type":"error","sequence_number":`)
	b = appendInt(b, f.seq)
	b = append(b, `,"code":"server_error","message":`...)
	b = appendString(b, e.Message)
	b = append(b, `,"param":null}`...)
	dst = f.st.frame(dst, "error", b)
	f.seq++
	b = append(b[:0], `{"type":"response.failed","sequence_number":`...)
	b = appendInt(b, f.seq)
	b = append(b, `,"response":`...)
	b = appendResponse(b, f.st.c, f.st.a, statusFailed, e)
	f.seq++
	return f.st.frame(dst, "response.failed", append(b, '}'))
}
