package anthropic

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
)

// sameJSON compares two values by their JSON, which also normalises the
// whitespace inside json.RawMessage members.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var gb, wb bytes.Buffer
	_ = json.Compact(&gb, g)
	_ = json.Compact(&wb, w)
	if !bytes.Equal(gb.Bytes(), wb.Bytes()) {
		t.Errorf("%s differs\ngot:  %s\nwant: %s", what, gb.Bytes(), wb.Bytes())
	}
}

// TestRequestRoundTrip: a canonical request decoded from the API, encoded
// for the API and decoded again is unchanged.
func TestRequestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inbound_request", "*.json"))
	n := 0
	for _, f := range files {
		if strings.Contains(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c := Codec{}
			first, err := c.DecodeRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			wireBody, err := c.EncodeRequest(first)
			if err != nil {
				t.Fatal(err)
			}
			second, err := c.DecodeRequest(wireBody)
			if err != nil {
				t.Fatalf("decode of encoded request: %v\n%s", err, wireBody)
			}
			sameJSON(t, "request after encode and decode", second, first)
		})
	}
	if n == 0 {
		t.Fatal("no requests")
	}
}

// TestCanonicalRequestRoundTrip starts from canonical requests that use
// every part type and setting the API can carry.
func TestCanonicalRequestRoundTrip(t *testing.T) {
	temp, topP := 0.3, 0.8
	for _, tc := range []struct {
		name string
		req  llm.Request
	}{
		{"every part type", llm.Request{
			Model:     "claude-sonnet-4-5",
			MaxTokens: 2000,
			System:    []llm.Part{{Type: llm.PartText, Text: "be terse", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)}},
			Messages: []llm.Message{
				{Role: llm.RoleUser, Parts: []llm.Part{
					{Type: llm.PartText, Text: "look"},
					{Type: llm.PartImage, MediaType: "image/webp", Data: "UklGRg=="},
					{Type: llm.PartImage, URL: "https://example.com/a.png", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)},
				}},
				{Role: llm.RoleAssistant, Parts: []llm.Part{
					{Type: llm.PartThinking, Text: "hmm", Signature: "sig=="},
					{Type: llm.PartRedactedThinking, Data: "opaque"},
					{Type: llm.PartToolCall, ToolCallID: "toolu_1", ToolName: "grep", Arguments: `{"pattern":"a<b"}`},
					{Type: llm.PartToolCall, ToolCallID: "toolu_2", ToolName: "ls", Arguments: `{}`},
				}},
				{Role: llm.RoleUser, Parts: []llm.Part{
					{Type: llm.PartToolResult, ToolCallID: "toolu_1", Result: []llm.Part{{Type: llm.PartText, Text: "x.go:1"}}},
					{Type: llm.PartToolResult, ToolCallID: "toolu_2", IsError: true, Result: []llm.Part{
						{Type: llm.PartText, Text: "a"}, {Type: llm.PartText, Text: "b", CacheControl: json.RawMessage(`{"type":"ephemeral"}`)},
					}},
					{Type: llm.PartToolResult, ToolCallID: "toolu_3"},
					{Type: llm.PartText, Text: "go on"},
				}},
			},
			Tools:       []llm.Tool{{Name: "grep", Description: "search", Parameters: json.RawMessage(`{"type":"object"}`), CacheControl: json.RawMessage(`{"type":"ephemeral","ttl":"1h"}`)}},
			ToolChoice:  &llm.ToolChoice{Mode: llm.ToolChoiceRequired, DisableParallel: true},
			Temperature: &temp,
			TopP:        &topP,
			Stop:        []string{"###"},
			Stream:      true,
			User:        "u-1",
		}},
		{"adaptive thinking", llm.Request{
			Model: "claude-opus-4-6", MaxTokens: 64000,
			Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}},
			Thinking: &llm.Thinking{},
		}},
		{"thinking budget and named tool choice off", llm.Request{
			Model: "claude-opus-4-1", MaxTokens: 20000,
			Messages:   []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}},
			Thinking:   &llm.Thinking{BudgetTokens: 10000},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceNone},
		}},
		{"named tool", llm.Request{
			Model: "m", MaxTokens: 10,
			Messages:   []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "hi"}}}},
			Tools:      []llm.Tool{{Name: "t", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
			ToolChoice: &llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "t"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Codec{}
			body, err := c.EncodeRequest(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.DecodeRequest(body)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			sameJSON(t, "request", got, &tc.req)
		})
	}
}

// TestResponseRoundTrip: EncodeResponse then DecodeResponse is the
// identity for what the API can carry.
func TestResponseRoundTrip(t *testing.T) {
	want := &llm.Response{
		ID: "msg_1", Model: "claude-sonnet-4-5",
		Parts: []llm.Part{
			{Type: llm.PartThinking, Text: "t", Signature: "s"},
			{Type: llm.PartRedactedThinking, Data: "d"},
			{Type: llm.PartText, Text: "a \"b\" <c>"},
			{Type: llm.PartToolCall, ToolCallID: "toolu_1", ToolName: "f", Arguments: `{"x":[1,2]}`},
		},
		StopReason: llm.StopSequence, StopSequence: "\n\n",
		Usage: llm.Usage{InputTokens: 1, OutputTokens: 2, CacheReadTokens: 3, CacheWriteTokens: 4},
	}
	body, err := Codec{}.EncodeResponse(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Codec{}.DecodeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "response", got, want)
}

// TestStreamRoundTrip feeds the encoder's SSE to the decoder: the events
// come back, except Usage events, which the API folds into message_delta.
func TestStreamRoundTrip(t *testing.T) {
	for _, name := range []string{"claude_code_turn", "error_mid_stream"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "inbound_stream", name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			in := readEvents(t, data)
			got, done := decodeStream(t, encodeStream(t, in))
			var want []llm.StreamEvent
			for _, ev := range in {
				if ev.Type == llm.EventUsage {
					continue
				}
				want = append(want, ev)
				if ev.Type == llm.EventError || ev.Type == llm.EventStop {
					break
				}
			}
			sameJSON(t, "events", got, want)
			if wantDone := want[len(want)-1].Type == llm.EventStop; done != wantDone {
				t.Errorf("Done() = %v, want %v", done, wantDone)
			}
		})
	}
}

// TestOutboundStreamMatchesInboundStream: the provider stream in
// testdata/outbound_stream/claude_code_turn.sse decodes to the canonical
// events of testdata/inbound_stream/claude_code_turn.jsonl (without its
// Usage event), so the two golden directions describe the same turn.
func TestOutboundStreamMatchesInboundStream(t *testing.T) {
	sseData, err := os.ReadFile(filepath.Join("testdata", "outbound_stream", "claude_code_turn.sse"))
	if err != nil {
		t.Fatal(err)
	}
	jsonl, err := os.ReadFile(filepath.Join("testdata", "inbound_stream", "claude_code_turn.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	got, done := decodeStream(t, sseData)
	if !done {
		t.Error("Done() = false after message_stop")
	}
	var want []llm.StreamEvent
	for _, ev := range readEvents(t, jsonl) {
		if ev.Type != llm.EventUsage {
			want = append(want, ev)
		}
	}
	sameJSON(t, "events", got, want)
}
