package sim

import (
	"github.com/switchyard/switchyard/gateway/llm"
)

// geminiFinishReason is Gemini's name for a stop reason; a function call
// ends with STOP too.
func geminiFinishReason(r llm.StopReason) string {
	if r == llm.StopMaxTokens {
		return "MAX_TOKENS"
	}
	return "STOP"
}

// appendGeminiUsage appends usageMetadata after output tokens (thoughts
// included) so far. candidatesTokenCount leaves the thoughts out.
func appendGeminiUsage(dst []byte, a *answer, output, thoughts int) []byte {
	dst = append(dst, `{"promptTokenCount":`...)
	dst = appendInt(dst, a.inputTokens)
	dst = append(dst, `,"candidatesTokenCount":`...)
	dst = appendInt(dst, output-thoughts)
	dst = append(dst, `,"totalTokenCount":`...)
	dst = appendInt(dst, a.inputTokens+output)
	if a.cachedTokens > 0 {
		dst = append(dst, `,"cachedContentTokenCount":`...)
		dst = appendInt(dst, a.cachedTokens)
	}
	dst = append(dst, `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":`...)
	dst = appendInt(dst, a.inputTokens)
	dst = append(dst, `}]`...)
	if thoughts > 0 {
		dst = append(dst, `,"thoughtsTokenCount":`...)
		dst = appendInt(dst, thoughts)
	}
	return append(dst, '}')
}

// appendGeminiPart appends p, or the piece text of it, as a Part.
func appendGeminiPart(dst []byte, p *answerPart, text string) []byte {
	switch p.kind {
	case partThinking:
		dst = append(dst, `{"text":`...)
		dst = appendString(dst, text)
		dst = append(dst, `,"thought":true`...)
	case partText:
		dst = append(dst, `{"text":`...)
		dst = appendString(dst, text)
	default:
		dst = append(dst, `{"functionCall":{"name":`...)
		dst = appendString(dst, p.toolName)
		dst = append(dst, `,"args":`...)
		dst = appendRaw(dst, []byte(p.text), "{}")
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendCandidate appends the head of a GenerateContentResponse up to its
// first candidate's parts list.
func appendCandidateHead(dst []byte) []byte {
	return append(dst, `{"candidates":[{"content":{"parts":[`...)
}

// appendCandidateTail closes the parts list, the candidate (with a finish
// reason if final) and adds usage, model and id.
func appendCandidateTail(dst []byte, a *answer, final bool, output, thoughts int) []byte {
	dst = append(dst, `],"role":"model"}`...)
	if final {
		dst = append(dst, `,"finishReason":`...)
		dst = appendString(dst, geminiFinishReason(a.stop))
	}
	dst = append(dst, `,"index":0}],"usageMetadata":`...)
	dst = appendGeminiUsage(dst, a, output, thoughts)
	dst = append(dst, `,"modelVersion":`...)
	dst = appendString(dst, a.model)
	dst = append(dst, `,"responseId":`...)
	dst = appendString(dst, a.id)
	return append(dst, '}')
}

// geminiBody appends a complete GenerateContentResponse.
func geminiBody(dst []byte, a *answer) []byte {
	dst = appendCandidateHead(dst)
	for i := range a.parts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendGeminiPart(dst, &a.parts[i], a.parts[i].text)
	}
	return appendCandidateTail(dst, a, true, a.outputTokens, a.reasoningTokens)
}

// geminiStream writes one GenerateContentResponse per chunk; the last
// also carries the finish reason and the full usage, as Google's do. A
// function call comes whole, in one chunk.
type geminiStream struct {
	st *streamer
}

func (f *geminiStream) run(st *streamer) error {
	a := st.a
	pieces := 0
	for i := range a.parts {
		if a.parts[i].kind == partTool {
			pieces++
		} else {
			pieces += len(a.parts[i].chunks)
		}
	}
	if pieces == 0 {
		b := appendCandidateHead(st.begin(""))
		b = append(b, `{"text":""}`...)
		return st.send(appendCandidateTail(b, a, true, a.outputTokens, a.reasoningTokens), evFinal)
	}
	sent, output, thoughts := 0, 0, 0
	for i := range a.parts {
		p := &a.parts[i]
		chunks := p.chunks
		if p.kind == partTool {
			chunks = []string{""}
			output += len(p.chunks) - 1
		}
		for _, ch := range chunks {
			sent++
			output++
			if p.kind == partThinking {
				thoughts++
			}
			final := sent == pieces
			if final {
				output, thoughts = a.outputTokens, a.reasoningTokens
			}
			b := appendCandidateHead(st.begin(""))
			b = appendGeminiPart(b, p, ch)
			if err := st.send(appendCandidateTail(b, a, final, output, thoughts), evContent); err != nil {
				return err
			}
		}
	}
	return st.end()
}

// errorEvents writes the error object Google sends in place of a chunk.
func (f *geminiStream) errorEvents(dst []byte) []byte {
	dst = f.st.frame(dst, "", geminiError(nil, serverError(msgGeminiServer)))
	if f.st.array {
		dst = append(dst, ']')
	}
	return dst
}
