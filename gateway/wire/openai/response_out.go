package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// completionIn is a chat.completion or a chat.completion.chunk as
// OpenAI and compatible servers send them. Fields whose type varies
// between servers are kept raw and read leniently.
type completionIn struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	chunkIn
}

// chunkIn is a chunk less its id and model, which the stream decoder
// reads only from the first chunk.
type chunkIn struct {
	Choices []choiceIn `json:"choices"`
	Usage   *usageIn   `json:"usage"`
	// XGroq carries Groq's usage on the last chunk.
	XGroq *struct {
		Usage *usageIn `json:"usage"`
	} `json:"x_groq"`
	Error json.RawMessage `json:"error"`
}

type choiceIn struct {
	Index        int     `json:"index"`
	Message      deltaIn `json:"message"`
	Delta        deltaIn `json:"delta"`
	FinishReason text    `json:"finish_reason"`
}

type deltaIn struct {
	Content          text            `json:"content"`
	ReasoningContent text            `json:"reasoning_content"`
	Reasoning        text            `json:"reasoning"`
	Refusal          text            `json:"refusal"`
	ToolCalls        []toolCallIn    `json:"tool_calls"`
	FunctionCall     *functionCallIn `json:"function_call"`
}

type toolCallIn struct {
	Index    optInt         `json:"index"`
	ID       text           `json:"id"`
	Function functionCallIn `json:"function"`
}

type functionCallIn struct {
	Name      text     `json:"name"`
	Arguments argsText `json:"arguments"`
}

// text is a JSON value read leniently as text: a string, the joined text
// of an array of text parts, or "" for null and anything else. Servers
// differ in what they put in these fields; none of them makes a chunk
// unreadable.
type text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *text) UnmarshalJSON(b []byte) error {
	if s, ok := unquote(b); ok {
		*t = text(s)
		return nil
	}
	*t = text(lenient(b))
	return nil
}

// argsText is a function's arguments: a JSON text in a string, or (some
// servers) the object itself, kept as its text.
type argsText string

// UnmarshalJSON implements json.Unmarshaler.
func (a *argsText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		*a = argsText(b)
		return nil
	}
	var t text
	err := t.UnmarshalJSON(b)
	*a = argsText(t)
	return err
}

// optInt is an integer that may be absent or null.
type optInt struct {
	n   int
	set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *optInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optInt{}
		return nil
	}
	if err := json.Unmarshal(b, &o.n); err != nil {
		return err
	}
	o.set = true
	return nil
}

type usageIn struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	// PromptCacheHitTokens is DeepSeek's count of cached prompt tokens.
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"`
}

// canonical converts OpenAI usage: prompt_tokens includes cached tokens,
// the canonical InputTokens does not.
func (u *usageIn) canonical() llm.Usage {
	cached := u.PromptCacheHitTokens
	if u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens > 0 {
		cached = u.PromptTokensDetails.CachedTokens
	}
	out := llm.Usage{
		InputTokens:     max(u.PromptTokens-cached, 0),
		CacheReadTokens: cached,
		OutputTokens:    u.CompletionTokens,
	}
	if u.CompletionTokensDetails != nil {
		out.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	return out
}

// usage returns the chunk's usage, standard or Groq's, or nil.
func (c *chunkIn) usage() *usageIn {
	if c.Usage != nil {
		return c.Usage
	}
	if c.XGroq != nil {
		return c.XGroq.Usage
	}
	return nil
}

// choice returns the first choice, which is the only one the gateway asks for.
func (c *chunkIn) choice() *choiceIn {
	for i := range c.Choices {
		if c.Choices[i].Index == 0 {
			return &c.Choices[i]
		}
	}
	if len(c.Choices) > 0 {
		return &c.Choices[0]
	}
	return nil
}

// lenient returns raw as a string if it is one, else "". Arrays of text
// parts (some servers send content that way) give their joined text.
func lenient(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '[':
		var parts []struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(raw, &parts) == nil {
			var b strings.Builder
			for _, p := range parts {
				b.WriteString(p.Text)
			}
			return b.String()
		}
	}
	return ""
}

// reasoning returns the reasoning text of a message or delta: vLLM and
// DeepSeek call it reasoning_content, OpenRouter reasoning.
func (d *deltaIn) reasoning() string {
	if d.ReasoningContent != "" {
		return string(d.ReasoningContent)
	}
	return string(d.Reasoning)
}

// DecodeResponse implements wire.Outbound.
func (Chat) DecodeResponse(body []byte) (*llm.Response, error) {
	var c completionIn
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, llm.Errorf(llm.ErrServer, "decode chat completion: %v", err)
	}
	if !absent(c.Error) {
		return nil, decodeErrorObject(0, c.Error)
	}
	ch := c.choice()
	if ch == nil {
		return nil, llm.Errorf(llm.ErrServer, "decode chat completion: the answer has no choices")
	}
	m := &ch.Message
	resp := &llm.Response{ID: c.ID, Model: c.Model, Parts: []llm.Part{}}
	if s := m.reasoning(); s != "" {
		resp.Parts = append(resp.Parts, llm.Part{Type: llm.PartThinking, Text: s})
	}
	if m.Content != "" {
		resp.Parts = append(resp.Parts, llm.Part{Type: llm.PartText, Text: string(m.Content)})
	}
	if m.Refusal != "" {
		resp.Parts = append(resp.Parts, llm.Part{Type: llm.PartText, Text: string(m.Refusal)})
	}
	calls := m.ToolCalls
	if m.FunctionCall != nil {
		calls = append(calls, toolCallIn{Function: *m.FunctionCall})
	}
	for i, tc := range calls {
		id := string(tc.ID)
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		resp.Parts = append(resp.Parts, llm.Part{
			Type: llm.PartToolCall, ToolCallID: id, ToolName: string(tc.Function.Name),
			Arguments: argumentsOrEmpty(string(tc.Function.Arguments)),
		})
	}
	resp.StopReason = stopReason(string(ch.FinishReason), len(calls) > 0, m.Refusal != "")
	if u := c.usage(); u != nil {
		resp.Usage = u.canonical()
	}
	return resp, nil
}

// DecodeError implements wire.Outbound. It reads OpenAI's {"error":{...}}
// and what compatible servers send instead: {"error":"..."},
// {"message":...}, {"detail":...} or plain text.
func (Chat) DecodeError(status int, body []byte) *llm.Error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// Some servers wrap the error object in an array.
		var a []json.RawMessage
		if json.Unmarshal(trimmed, &a) == nil && len(a) > 0 {
			trimmed = a[0]
		}
	}
	var o struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Type    json.RawMessage `json:"type"`
		Code    json.RawMessage `json:"code"`
		Param   json.RawMessage `json:"param"`
	}
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &o) == nil {
		switch {
		case !absent(o.Error) && o.Error[0] == '{':
			return decodeErrorObject(status, o.Error)
		case !absent(o.Error):
			return upstreamError(status, lenient(o.Error), "", "", "")
		case !absent(o.Message):
			return upstreamError(status, lenient(o.Message), lenient(o.Type), scalar(o.Code), lenient(o.Param))
		case !absent(o.Detail):
			return upstreamError(status, detail(o.Detail), "", "", "")
		}
	}
	return upstreamError(status, plainText(body), "", "", "")
}

// decodeErrorObject reads {"message","type","code","param"}. status 0
// means an error inside a 200 answer or a stream: the kind then comes
// from the type and code.
func decodeErrorObject(status int, raw json.RawMessage) *llm.Error {
	var e struct {
		Message json.RawMessage `json:"message"`
		Type    json.RawMessage `json:"type"`
		Code    json.RawMessage `json:"code"`
		Param   json.RawMessage `json:"param"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return upstreamError(status, plainText(raw), "", "", "")
	}
	return upstreamError(status, lenient(e.Message), lenient(e.Type), scalar(e.Code), lenient(e.Param))
}

func upstreamError(status int, msg, typ, code, param string) *llm.Error {
	var kind llm.ErrorKind
	if status == 0 {
		kind = kindOfType(typ, code)
	} else {
		kind = llm.KindOfStatus(status)
		if kind == llm.ErrServer && (strings.Contains(typ, "overloaded") || strings.Contains(code, "overloaded")) {
			kind = llm.ErrOverloaded
		}
	}
	if msg == "" {
		msg = "the provider gave no error message"
		if status != 0 {
			msg = fmt.Sprintf("the provider answered status %d with no error message", status)
		}
	}
	e := llm.Errorf(kind, "%s", msg)
	e.Param = param
	return e
}

// kindOfType classifies an error that came without a status.
func kindOfType(typ, code string) llm.ErrorKind {
	switch {
	case code == "rate_limit_exceeded" || typ == "requests" || typ == "tokens" ||
		typ == "insufficient_quota" || typ == "rate_limit_error":
		return llm.ErrRateLimit
	case code == "invalid_api_key" || typ == "authentication_error":
		return llm.ErrAuthentication
	case code == "context_length_exceeded" || typ == "invalid_request_error":
		return llm.ErrInvalidRequest
	case strings.Contains(typ, "overloaded") || strings.Contains(code, "overloaded"):
		return llm.ErrOverloaded
	}
	return llm.ErrServer
}

// scalar reads a code that is a string or a number.
func scalar(raw json.RawMessage) string {
	if len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return string(raw)
	}
	return lenient(raw)
}

// detail reads FastAPI's detail: a string or a list of {"msg": ...}.
func detail(raw json.RawMessage) string {
	if s := lenient(raw); s != "" {
		return s
	}
	var items []struct {
		Msg string `json:"msg"`
		Loc []any  `json:"loc"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return string(raw)
	}
	var msgs []string
	for _, it := range items {
		if len(it.Loc) > 0 {
			loc := make([]string, len(it.Loc))
			for i, l := range it.Loc {
				loc[i] = fmt.Sprint(l)
			}
			msgs = append(msgs, strings.Join(loc, ".")+": "+it.Msg)
		} else {
			msgs = append(msgs, it.Msg)
		}
	}
	return strings.Join(msgs, "; ")
}

// plainText returns a non-JSON error body as a short, one-line message.
func plainText(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "") + "..."
	}
	return s
}
