package sim

import (
	"github.com/switchyard/switchyard/gateway/llm"
)

// appendMessagesUsage appends an Anthropic usage object. input_tokens
// counts only the input not read from the cache.
func appendMessagesUsage(dst []byte, a *answer, output int) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = appendInt(dst, a.inputTokens-a.cachedTokens)
	dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = appendInt(dst, a.cachedTokens)
	dst = append(dst, `,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":`...)
	dst = appendInt(dst, output)
	return append(dst, `,"service_tier":"standard"}`...)
}

// appendBlock appends the content block of p; empty gives the block as
// content_block_start shows it.
func appendBlock(dst []byte, p *answerPart, empty bool) []byte {
	switch p.kind {
	case partThinking:
		dst = append(dst, `{"type":"thinking","thinking":`...)
		dst = appendString(dst, ifDone(!empty, p.text))
		dst = append(dst, `,"signature":`...)
		dst = appendString(dst, ifDone(!empty, p.signature))
	case partText:
		dst = append(dst, `{"type":"text","text":`...)
		dst = appendString(dst, ifDone(!empty, p.text))
	default:
		dst = append(dst, `{"type":"tool_use","id":`...)
		dst = appendString(dst, p.callID)
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, p.toolName)
		dst = append(dst, `,"input":`...)
		if empty {
			dst = append(dst, "{}"...)
		} else {
			dst = appendRaw(dst, []byte(p.text), "{}")
		}
	}
	return append(dst, '}')
}

// appendMessageHead appends a message object up to its content list.
func appendMessageHead(dst []byte, a *answer) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = appendString(dst, a.model)
	return append(dst, `,"content":[`...)
}

// messagesBody appends a complete message object.
func messagesBody(dst []byte, a *answer) []byte {
	dst = appendMessageHead(dst, a)
	for i := range a.parts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendBlock(dst, &a.parts[i], false)
	}
	dst = append(dst, `],"stop_reason":`...)
	dst = appendString(dst, string(a.stop))
	dst = append(dst, `,"stop_sequence":null,"usage":`...)
	dst = appendMessagesUsage(dst, a, a.outputTokens)
	return append(dst, '}')
}

// messagesStream writes the Messages event sequence.
type messagesStream struct {
	st *streamer
}

func (f *messagesStream) run(st *streamer) error {
	a := st.a
	b := st.begin("message_start")
	b = append(b, `{"type":"message_start","message":`...)
	b = appendMessageHead(b, a)
	b = append(b, `],"stop_reason":null,"stop_sequence":null,"usage":`...)
	b = appendMessagesUsage(b, a, min(a.outputTokens, 1))
	if err := st.send(append(b, "}}"...), evMeta); err != nil {
		return err
	}
	for i := range a.parts {
		p := &a.parts[i]
		b := st.begin("content_block_start")
		b = append(b, `{"type":"content_block_start","index":`...)
		b = appendInt(b, i)
		b = append(b, `,"content_block":`...)
		b = appendBlock(b, p, true)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
		if i == 0 {
			if err := st.send(append(st.begin("ping"), `{"type": "ping"}`...), evMeta); err != nil {
				return err
			}
		}
		if p.kind == partTool {
			if err := f.delta(i, "input_json_delta", "partial_json", "", evMeta); err != nil {
				return err
			}
		}
		for _, ch := range p.chunks {
			var err error
			switch p.kind {
			case partThinking:
				err = f.delta(i, "thinking_delta", "thinking", ch, evContent)
			case partText:
				err = f.delta(i, "text_delta", "text", ch, evContent)
			default:
				err = f.delta(i, "input_json_delta", "partial_json", ch, evContent)
			}
			if err != nil {
				return err
			}
		}
		if p.kind == partThinking {
			if err := f.delta(i, "signature_delta", "signature", p.signature, evMeta); err != nil {
				return err
			}
		}
		b = st.begin("content_block_stop")
		b = append(b, `{"type":"content_block_stop","index":`...)
		b = appendInt(b, i)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
	}
	b = st.begin("message_delta")
	b = append(b, `{"type":"message_delta","delta":{"stop_reason":`...)
	b = appendString(b, string(a.stop))
	b = append(b, `,"stop_sequence":null},"usage":{"input_tokens":`...)
	b = appendInt(b, a.inputTokens-a.cachedTokens)
	b = append(b, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	b = appendInt(b, a.cachedTokens)
	b = append(b, `,"output_tokens":`...)
	b = appendInt(b, a.outputTokens)
	if err := st.send(append(b, "}}"...), evFinal); err != nil {
		return err
	}
	return st.send(append(st.begin("message_stop"), `{"type":"message_stop"}`...), evMeta)
}

// delta writes a content_block_delta of block i.
func (f *messagesStream) delta(i int, typ, field, text string, kind evKind) error {
	b := f.st.begin("content_block_delta")
	b = append(b, `{"type":"content_block_delta","index":`...)
	b = appendInt(b, i)
	b = append(b, `,"delta":{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","`...)
	b = append(b, field...)
	b = append(b, `":`...)
	b = appendString(b, text)
	return f.st.send(append(b, "}}"...), kind)
}

// errorEvents writes the error event Anthropic sends when it is
// overloaded mid-stream.
func (f *messagesStream) errorEvents(dst []byte) []byte {
	e := llm.Errorf(llm.ErrOverloaded, "Overloaded")
	return f.st.frame(dst, "error", anthropicError(nil, e, ""))
}
