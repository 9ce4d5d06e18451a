package sim

import (
	"github.com/switchyard/switchyard/gateway/llm"
)

// systemFingerprint is the fixed system_fingerprint of Chat Completions
// answers.
const systemFingerprint = "fp_5f0c1a9e2d"

// chatFinishReason is OpenAI's name for a stop reason.
func chatFinishReason(r llm.StopReason) string {
	switch r {
	case llm.StopToolUse:
		return "tool_calls"
	case llm.StopMaxTokens:
		return "length"
	}
	return "stop"
}

// appendChatUsage appends a Chat Completions usage object.
func appendChatUsage(dst []byte, a *answer) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, a.inputTokens)
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, a.outputTokens)
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, a.inputTokens+a.outputTokens)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, a.cachedTokens)
	dst = append(dst, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, a.reasoningTokens)
	return append(dst, `,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

// chatBody appends a chat.completion object.
func chatBody(dst []byte, a *answer) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.id)
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = appendInt(dst, int(a.created))
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, a.model)
	dst = append(dst, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	var text, tool *answerPart
	for i := range a.parts {
		switch a.parts[i].kind {
		case partText:
			text = &a.parts[i]
		case partTool:
			tool = &a.parts[i]
		}
	}
	if text != nil {
		dst = appendString(dst, text.text)
	} else {
		dst = append(dst, "null"...)
	}
	if tool != nil {
		dst = append(dst, `,"tool_calls":[{"id":`...)
		dst = appendString(dst, tool.callID)
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = appendString(dst, tool.toolName)
		dst = append(dst, `,"arguments":`...)
		dst = appendString(dst, tool.text)
		dst = append(dst, "}}]"...)
	}
	dst = append(dst, `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":`...)
	dst = appendString(dst, chatFinishReason(a.stop))
	dst = append(dst, `}],"usage":`...)
	dst = appendChatUsage(dst, a)
	dst = append(dst, `,"service_tier":"default","system_fingerprint":"`+systemFingerprint+`"}`...)
	return dst
}

// chatStream writes chat.completion.chunk events, then "data: [DONE]".
type chatStream struct {
	st *streamer
}

// chunk starts a chunk event up to its choices array.
func (f *chatStream) chunk() []byte {
	a := f.st.a
	b := f.st.begin("")
	b = append(b, `{"id":`...)
	b = appendString(b, a.id)
	b = append(b, `,"object":"chat.completion.chunk","created":`...)
	b = appendInt(b, int(a.created))
	b = append(b, `,"model":`...)
	b = appendString(b, a.model)
	return append(b, `,"service_tier":"default","system_fingerprint":"`+systemFingerprint+`","choices":[`...)
}

// end closes a chunk event after its choices array.
func (f *chatStream) end(b []byte) []byte {
	b = append(b, ']')
	if f.st.c.includeUsage {
		b = append(b, `,"usage":null`...)
	}
	return append(b, '}')
}

func (f *chatStream) run(st *streamer) error {
	a := st.a
	var part *answerPart
	for i := range a.parts {
		if a.parts[i].kind != partThinking { // Chat Completions shows no reasoning
			part = &a.parts[i]
		}
	}
	b := f.chunk()
	if part != nil && part.kind == partTool {
		b = append(b, `{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":`...)
		b = appendString(b, part.callID)
		b = append(b, `,"type":"function","function":{"name":`...)
		b = appendString(b, part.toolName)
		b = append(b, `,"arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}`...)
	} else {
		b = append(b, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`...)
	}
	if err := st.send(f.end(b), evMeta); err != nil {
		return err
	}
	if part != nil {
		for _, ch := range part.chunks {
			b := f.chunk()
			if part.kind == partTool {
				b = append(b, `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":`...)
				b = appendString(b, ch)
				b = append(b, `}}]},"logprobs":null,"finish_reason":null}`...)
			} else {
				b = append(b, `{"index":0,"delta":{"content":`...)
				b = appendString(b, ch)
				b = append(b, `},"logprobs":null,"finish_reason":null}`...)
			}
			if err := st.send(f.end(b), evContent); err != nil {
				return err
			}
		}
	}
	b = f.chunk()
	b = append(b, `{"index":0,"delta":{},"logprobs":null,"finish_reason":`...)
	b = appendString(b, chatFinishReason(a.stop))
	b = append(b, '}')
	if err := st.send(f.end(b), evFinal); err != nil {
		return err
	}
	if st.c.includeUsage {
		b = f.chunk()
		b = append(b, `],"usage":`...)
		b = appendChatUsage(b, a)
		if err := st.send(append(b, '}'), evMeta); err != nil {
			return err
		}
	}
	return st.send(append(st.begin(""), "[DONE]"...), evMeta)
}

func (f *chatStream) errorEvents(dst []byte) []byte {
	e := serverError(msgOpenAIServer)
	return f.st.frame(dst, "", openAIError(nil, e))
}
