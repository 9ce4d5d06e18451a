package anthropic

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

var (
	bigBodyOnce sync.Once
	bigBody     []byte
)

// claudeCodeBody builds a ~200 KB request shaped like a Claude Code turn
// deep into a session: two cached system blocks, 12 tools with JSON
// schemas, and a history of thinking, tool_use and tool_result turns that
// read source files.
func claudeCodeBody(tb testing.TB) []byte {
	bigBodyOnce.Do(func() {
		type obj = map[string]any
		cache := obj{"type": "ephemeral"}
		system := []obj{
			{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": cache},
			{"type": "text", "text": strings.Repeat("You are an interactive CLI tool that helps users with software engineering tasks. <important>Do what has been asked.</important>\n", 120), "cache_control": cache},
		}
		var tools []obj
		for _, name := range []string{"Task", "Bash", "Glob", "Grep", "ExitPlanMode", "Read", "Edit", "Write", "NotebookEdit", "WebFetch", "TodoWrite", "WebSearch"} {
			props := obj{}
			for i := range 6 {
				props[fmt.Sprintf("param_%d", i)] = obj{"type": "string", "description": strings.Repeat("What this parameter does and when to use it. ", 4)}
			}
			tools = append(tools, obj{
				"name":        name,
				"description": strings.Repeat("Use this tool to "+name+" things in the workspace. ", 20),
				"input_schema": obj{
					"type": "object", "properties": props, "required": []string{"param_0"},
					"additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#",
				},
			})
		}
		file := strings.Repeat("     1\tfunc handler(w http.ResponseWriter, r *http.Request) {\n     2\t\tfmt.Fprintf(w, \"<p>%s</p>\", r.URL.Path)\n     3\t}\n", 25)
		messages := []obj{{"role": "user", "content": []obj{{"type": "text", "text": "<system-reminder>context</system-reminder>"}, {"type": "text", "text": "refactor the handlers"}}}}
		for i := 0; ; i++ {
			id := fmt.Sprintf("toolu_01%024d", i)
			messages = append(messages,
				obj{"role": "assistant", "content": []obj{
					{"type": "thinking", "thinking": "I should read the next file before editing it.", "signature": strings.Repeat("EqQBCkYIBxgCKkB", 12)},
					{"type": "tool_use", "id": id, "name": "Read", "input": obj{"file_path": fmt.Sprintf("/src/handlers/h%d.go", i)}},
				}},
				obj{"role": "user", "content": []obj{{"type": "tool_result", "tool_use_id": id, "content": file}}},
			)
			b, err := json.Marshal(obj{
				"model": "claude-sonnet-4-5-20250929", "max_tokens": 32000, "stream": true,
				"system": system, "tools": tools, "messages": messages,
				"metadata":    obj{"user_id": `{"device_id":"d","account_uuid":"","session_id":"1b6f1c9e-7d2a-4c3b-9e8f-0a1b2c3d4e5f"}`},
				"thinking":    obj{"type": "enabled", "budget_tokens": 31999},
				"temperature": 1,
			})
			if err != nil {
				panic(err)
			}
			if len(b) >= 200<<10 {
				bigBody = b
				return
			}
		}
	})
	return bigBody
}

func BenchmarkPeek(b *testing.B) {
	body := claudeCodeBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Codec{}.Peek(body)
		if err != nil || !p.HasTools {
			b.Fatal(p, err)
		}
	}
}

// BenchmarkPeekEncodingJSON is the baseline Peek's doc compares with:
// encoding/json into a small struct with the big members left raw.
func BenchmarkPeekEncodingJSON(b *testing.B) {
	body := claudeCodeBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v struct {
			Model    string          `json:"model"`
			Stream   bool            `json:"stream"`
			Tools    json.RawMessage `json:"tools"`
			Messages json.RawMessage `json:"messages"`
			System   json.RawMessage `json:"system"`
			Metadata struct {
				UserID string `json:"user_id"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	body := claudeCodeBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Codec{}).DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	req, err := Codec{}.DecodeRequest(claudeCodeBody(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Codec{}).EncodeRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEncodeDelta is the cost per text delta, the bulk of every
// streamed answer.
func BenchmarkStreamEncodeDelta(b *testing.B) {
	enc := Codec{}.NewStreamEncoder(io.Discard)
	if err := enc.Encode(llm.StreamEvent{Type: llm.EventStart, ID: "msg_1", Model: "m"}); err != nil {
		b.Fatal(err)
	}
	if err := enc.Encode(llm.StreamEvent{Type: llm.EventPartStart, Part: &llm.Part{Type: llm.PartText}}); err != nil {
		b.Fatal(err)
	}
	ev := llm.StreamEvent{Type: llm.EventDelta, Kind: llm.DeltaText, Delta: "Here is the updated handler, with \"quotes\" escaped:\n"}
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamDecodeDelta is the provider-side counterpart.
func BenchmarkStreamDecodeDelta(b *testing.B) {
	dec := Codec{}.NewStreamDecoder()
	var out []llm.StreamEvent
	for _, d := range []string{
		`{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
	} {
		if _, err := dec.Decode(sse.Event{Data: []byte(d)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	ev := sse.Event{Name: "content_block_delta", Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Here is the updated handler, with \"quotes\" escaped:\n"}}`)}
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = dec.Decode(ev, out[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
