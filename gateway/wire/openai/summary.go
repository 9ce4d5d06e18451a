package openai

import (
	"bytes"
	"encoding/json"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

var _ wire.ResponseSummarizer = Chat{}

// SummarizeResponse implements wire.ResponseSummarizer: the id, model,
// stop reason and usage of a chat completion, read without decoding the
// choices (a scan for their finish_reason and tool_calls keys: inside a
// JSON string a quote is escaped, so the quoted key names cannot match
// text). An answer that is an error object is decoded in full.
func (c Chat) SummarizeResponse(body []byte) (*llm.Response, error) {
	var id, model, usage, choices, groq []byte
	isError := false
	err := wire.TopLevelRaw(body, func(k []byte, s, e int) bool {
		switch string(k) {
		case "id":
			id = body[s:e]
		case "model":
			model = body[s:e]
		case "usage":
			usage = body[s:e]
		case "choices":
			choices = body[s:e]
		case "x_groq":
			groq = body[s:e]
		case "error":
			isError = !bytes.Equal(body[s:e], []byte("null"))
		}
		return true
	})
	if err != nil || isError || choices == nil {
		return c.DecodeResponse(body)
	}
	resp := &llm.Response{}
	resp.ID, resp.Model = jsonString(id), jsonString(model)
	var u *usageIn
	if len(usage) > 0 && !bytes.Equal(usage, []byte("null")) {
		u = new(usageIn)
		if err := json.Unmarshal(usage, u); err != nil {
			return nil, llm.Errorf(llm.ErrServer, "decode chat completion usage: %v", err)
		}
	} else if groq != nil {
		var g struct {
			Usage *usageIn `json:"usage"`
		}
		if json.Unmarshal(groq, &g) == nil {
			u = g.Usage
		}
	}
	if u != nil {
		resp.Usage = u.canonical()
	}
	resp.StopReason = stopReason(lastStringAfter(choices, `"finish_reason"`),
		keyThen(choices, `"tool_calls"`, '[', '{') || keyThen(choices, `"function_call"`, '{', '"'),
		keyThen(choices, `"refusal"`, '"', 0))
	return resp, nil
}

// lastStringAfter returns the string value of the last key in b, or "".
func lastStringAfter(b []byte, key string) string {
	i := bytes.LastIndex(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := skipColon(b[i+len(key):])
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return ""
	}
	return string(rest[1 : 1+end])
}

// keyThen reports whether key occurs in b followed by open (and, if not
// 0, then by next), skipping blanks: a non-empty array or object, or a
// string.
func keyThen(b []byte, key string, open, next byte) bool {
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return false
		}
		b = b[i+len(key):]
		rest := skipColon(b)
		if len(rest) > 0 && rest[0] == open {
			if next == 0 {
				return true
			}
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if len(rest) > 0 && rest[0] == next {
				return true
			}
		}
	}
}

func skipColon(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return nil
	}
	return bytes.TrimLeft(b[1:], " \t\r\n")
}

// jsonString reads a JSON string value, quickly when it has no escapes.
func jsonString(b []byte) string {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1])
	}
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}
