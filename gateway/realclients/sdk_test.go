package realclients_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/realclients"
)

var readAll = eventstore.ReadOptions{}

func TestOpenAINodeSDK(t *testing.T) {
	t.Parallel()
	realclients.DirOrSkip(t)
	s := newStack(t)
	env := []string{"BASE_URL=" + s.URL + "/v1", "API_KEY=" + s.Key}

	t.Run("chat", func(t *testing.T) {
		r := node(t, "openai.cjs", "chat", env...)
		if !strings.Contains(r["text"].(string), "Simulated answer") || r["finish"] != "stop" {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "openai-node")
	})
	t.Run("chat stream with a tool call", func(t *testing.T) {
		r := node(t, "openai.cjs", "chat_stream_tool", env...)
		args, _ := r["args"].(map[string]any)
		if r["tool"] != "get_weather" || args["city"] != "Paris" || r["finish"] != "tool_calls" || r["usage"] == nil {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "openai-node")
	})
	t.Run("chat stream text", func(t *testing.T) {
		r := node(t, "openai.cjs", "chat_stream_text", env...)
		if !strings.Contains(r["text"].(string), "Simulated answer") || r["chunks"].(float64) < 10 {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "openai-node")
	})
	t.Run("responses", func(t *testing.T) {
		r := node(t, "openai.cjs", "responses", env...)
		if !strings.Contains(r["text"].(string), "Simulated answer") || r["status"] != "completed" {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "openai-node")
	})
	t.Run("responses stream with a tool call", func(t *testing.T) {
		r := node(t, "openai.cjs", "responses_stream_tool", env...)
		args, _ := r["args"].(map[string]any)
		if r["tool"] != "get_weather" || args["city"] != "Paris" || r["status"] != "completed" {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "openai-node")
	})

	_, broke, err := s.GW.CreateKey(t.Context(), keys.Spec{Name: "broke", MaxBudgetUSD: 0.000001}, "test")
	if err != nil {
		t.Fatal(err)
	}
	sdkErrors(t, "openai.cjs", s.URL+"/v1", []sdkError{
		{"bad key", "sy-wrong", "sim-small", "hi", "AuthenticationError", 401, "invalid API key"},
		{"unknown model", s.Key, "no-such-model", "hi", "NotFoundError", 404, "not found"},
		{"rate limited", s.Key, "solo", "hi [[sim fault=429 retry_after=60 id=oa429]]", "RateLimitError", 429, ""},
		{"budget exhausted", broke, "sim-small", "hi", "RateLimitError", 429, "budget exceeded"},
		{"malformed answer upstream", s.Key, "solo", "hi [[sim fault=malformed id=oamal]]", "InternalServerError", 502, "malformed answer from provider"},
	})
	t.Run("error stream cut mid-answer", func(t *testing.T) {
		r := node(t, "openai.cjs", "error_stream", "BASE_URL="+s.URL+"/v1", "API_KEY="+s.Key, "MODEL=solo", "PROMPT=hi [[sim fault=cut after=3 id=oacut]]")
		if r["error"] == nil {
			t.Fatalf("a cut stream read as a complete answer: %v", r)
		}
	})
}

func TestAnthropicNodeSDK(t *testing.T) {
	t.Parallel()
	realclients.DirOrSkip(t)
	s := newStack(t)
	env := []string{"BASE_URL=" + s.URL, "API_KEY=" + s.Key}

	t.Run("messages", func(t *testing.T) {
		r := node(t, "anthropic.cjs", "messages", env...)
		if !strings.Contains(r["text"].(string), "Simulated answer") || r["stop"] != "end_turn" {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "anthropic-node")
	})
	t.Run("messages stream with a tool call", func(t *testing.T) {
		r := node(t, "anthropic.cjs", "messages_stream_tool", env...)
		args, _ := r["args"].(map[string]any)
		if r["tool"] != "get_weather" || args["city"] != "Paris" || r["stop"] != "tool_use" {
			t.Fatalf("%v", r)
		}
		checkCompleted(t, s, r["callID"].(string), "anthropic-node")
	})
	t.Run("messages stream helper", func(t *testing.T) {
		r := node(t, "anthropic.cjs", "messages_stream_helper", env...)
		if !strings.Contains(r["text"].(string), "Simulated answer") || r["stop"] != "end_turn" {
			t.Fatalf("%v", r)
		}
	})

	_, broke, err := s.GW.CreateKey(t.Context(), keys.Spec{Name: "broke", MaxBudgetUSD: 0.000001}, "test")
	if err != nil {
		t.Fatal(err)
	}
	sdkErrors(t, "anthropic.cjs", s.URL, []sdkError{
		{"bad key", "sy-wrong", "sim-small", "hi", "AuthenticationError", 401, "invalid API key"},
		{"unknown model", s.Key, "no-such-model", "hi", "NotFoundError", 404, "not found"},
		{"rate limited", s.Key, "solo", "hi [[sim fault=429 retry_after=60 id=an429]]", "RateLimitError", 429, ""},
		{"budget exhausted", broke, "sim-small", "hi", "RateLimitError", 429, "budget exceeded"},
		{"overloaded", s.Key, "solo", "hi [[sim fault=529 id=an529]]", "OverloadedError", 529, "overloaded"},
	})
	t.Run("error stream cut mid-answer", func(t *testing.T) {
		r := node(t, "anthropic.cjs", "error_stream", "BASE_URL="+s.URL, "API_KEY="+s.Key, "MODEL=solo", "PROMPT=hi [[sim fault=cut after=3 id=ancut]]")
		if r["error"] == nil {
			t.Fatalf("a cut stream read as a complete answer: %v", r)
		}
	})
}

// sdkError is a call an SDK must end with a given error class and status,
// with inMessage in its message.
type sdkError struct {
	name, key, model, prompt string
	class                    string
	status                   float64
	inMessage                string
}

// sdkErrors runs each case through the script's "error" case.
func sdkErrors(t *testing.T, script, baseURL string, cases []sdkError) {
	t.Helper()
	for _, tc := range cases {
		t.Run("error "+tc.name, func(t *testing.T) {
			r := node(t, script, "error", "BASE_URL="+baseURL, "API_KEY="+tc.key, "MODEL="+tc.model, "PROMPT="+tc.prompt)
			if r["error"] != tc.class || r["status"] != tc.status || !strings.Contains(strings.ToLower(r["message"].(string)), strings.ToLower(tc.inMessage)) {
				t.Fatalf("got %v, want %s %v with %q", r, tc.class, tc.status, tc.inMessage)
			}
		})
	}
}
