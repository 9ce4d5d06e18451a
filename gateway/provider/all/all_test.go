package all_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	_ "github.com/switchyard/switchyard/gateway/provider/all"
)

func TestKindsBuildRequests(t *testing.T) {
	t.Setenv("SY_TEST_PROVIDER_KEY", "sk-test-123")
	client := map[string]string{"anthropic-beta": "context-management-2025-06-27", "Anthropic-Version": "2023-06-01", "OpenAI-Beta": "x"}
	header := func(name string) string {
		for k, v := range client {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
	for _, tc := range []struct {
		name        string
		cfg         provider.Config
		api         llm.API
		stream      bool
		passthrough bool
		wantURL     string
		wantHeader  map[string]string
	}{
		{"openai chat", provider.Config{Kind: "openai", APIKey: "env:SY_TEST_PROVIDER_KEY"}, llm.APIOpenAIChat, false, false,
			"https://api.openai.com/v1/chat/completions", map[string]string{"Authorization": "Bearer sk-test-123", "Accept": "application/json"}},
		{"openai responses stream", provider.Config{Kind: "openai", APIKey: "k"}, llm.APIOpenAIResponses, true, true,
			"https://api.openai.com/v1/responses", map[string]string{"Accept": "text/event-stream", "OpenAI-Beta": "x"}},
		{"anthropic passthrough forwards betas", provider.Config{Kind: "anthropic", APIKey: "k"}, llm.APIAnthropicMessages, true, true,
			"https://api.anthropic.com/v1/messages", map[string]string{"x-api-key": "k", "anthropic-beta": "context-management-2025-06-27", "anthropic-version": "2023-06-01"}},
		{"anthropic translated drops client betas", provider.Config{Kind: "anthropic", APIKey: "k"}, llm.APIAnthropicMessages, false, false,
			"https://api.anthropic.com/v1/messages", map[string]string{"anthropic-beta": "", "anthropic-version": "2023-06-01"}},
		{"gemini stream", provider.Config{Kind: "gemini", APIKey: "g"}, llm.APIGemini, true, false,
			"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", map[string]string{"x-goog-api-key": "g"}},
		{"gemini unary", provider.Config{Kind: "gemini", APIKey: "g"}, llm.APIGemini, false, false,
			"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent", nil},
		{"compatible without key", provider.Config{Kind: "openai-compatible", Name: "ollama", BaseURL: "http://127.0.0.1:11434/v1/"}, llm.APIOpenAIChat, false, false,
			"http://127.0.0.1:11434/v1/chat/completions", map[string]string{"Authorization": ""}},
		{"sim messages", provider.Config{Kind: "sim", BaseURL: "http://127.0.0.1:4500"}, llm.APIAnthropicMessages, true, true,
			"http://127.0.0.1:4500/v1/messages", map[string]string{"anthropic-beta": "context-management-2025-06-27"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := provider.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			model := "gemini-2.5-pro"
			req, err := p.NewRequest(context.Background(), &provider.Request{API: tc.api, Model: model, Stream: tc.stream, Body: []byte(`{}`), Passthrough: tc.passthrough, ClientHeader: header})
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != "POST" || req.URL.String() != tc.wantURL {
				t.Fatalf("%s %s, want POST %s", req.Method, req.URL, tc.wantURL)
			}
			for k, want := range tc.wantHeader {
				if got := req.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  provider.Config
		want string
	}{
		{provider.Config{Kind: "nope"}, `unknown provider kind "nope"; known kinds: anthropic, gemini, openai, openai-compatible, sim`},
		{provider.Config{Kind: "openai"}, "api_key is required"},
		{provider.Config{Kind: "openai", APIKey: "env:SY_TEST_UNSET_VAR"}, "environment variable SY_TEST_UNSET_VAR is not set"},
		{provider.Config{Kind: "openai-compatible"}, "base_url is required"},
		{provider.Config{Kind: "sim", BaseURL: "127.0.0.1:4500"}, "must be an absolute http(s) URL"},
		{provider.Config{Kind: "anthropic", APIKey: "k", APIs: []llm.API{llm.APIOpenAIChat}}, `api "openai.chat" is not supported`},
	} {
		_, err := provider.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want it to contain %q", tc.cfg, err, tc.want)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := provider.Secret("sk-live-very-secret")
	b, _ := s.MarshalJSON()
	if strings.Contains(s.String(), "secret") || strings.Contains(string(b), "secret") {
		t.Fatalf("secret shown: %s %s", s, b)
	}
	if provider.Secret("env:OPENAI_API_KEY").String() != "env:OPENAI_API_KEY" {
		t.Fatal("env reference hidden")
	}
}

func TestOpenAIGetsMaxCompletionTokens(t *testing.T) {
	t.Setenv("SY_TEST_PROVIDER_KEY", "k")
	for _, tc := range []struct {
		kind, base, in, want string
	}{
		{"openai", "", `{"model":"gpt-5","max_tokens":512,"messages":[]}`, `{"max_completion_tokens":512,"messages":[],"model":"gpt-5"}`},
		{"openai", "", `{"model":"gpt-5","messages":[]}`, `{"model":"gpt-5","messages":[]}`},
		{"openai-compatible", "http://127.0.0.1:1/v1", `{"model":"m","max_tokens":512}`, `{"model":"m","max_tokens":512}`},
	} {
		p, err := provider.New(provider.Config{Kind: tc.kind, BaseURL: tc.base, APIKey: "env:SY_TEST_PROVIDER_KEY"})
		if err != nil {
			t.Fatal(err)
		}
		adj, ok := p.(provider.BodyAdjuster)
		if !ok {
			t.Fatalf("%s: not a BodyAdjuster", tc.kind)
		}
		got, err := adj.AdjustBody(llm.APIOpenAIChat, []byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("%s %s: %s %v, want %s", tc.kind, tc.in, got, err, tc.want)
		}
	}
}
