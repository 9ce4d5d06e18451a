// Package simprovider registers the "sim" provider kind: Switchyard's
// simulator (package gateway/sim), which speaks all four wire formats, so
// every inbound API reaches it without translation unless a route forces
// a format with "apis".
package simprovider

import (
	"net/http"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/provider/gemini"
)

func init() {
	provider.Register(provider.Kind{ID: "sim", New: New})
}

// New builds a simulator provider. base_url is the simulator's root
// (http://127.0.0.1:4500); the key is optional.
func New(cfg provider.Config) (provider.Provider, error) {
	return provider.NewHTTP(provider.HTTPConfig{
		Config: cfg,
		DefaultAPIs: []llm.API{
			llm.APIAnthropicMessages, llm.APIOpenAIChat, llm.APIOpenAIResponses, llm.APIGemini,
		},
		Paths: map[llm.API]string{
			llm.APIOpenAIChat:        "/v1/chat/completions",
			llm.APIOpenAIResponses:   "/v1/responses",
			llm.APIAnthropicMessages: "/v1/messages",
			llm.APIGemini:            "/v1beta/models/{model}:{action}",
		},
		Auth: func(h http.Header, key string) {
			h.Set("Authorization", "Bearer "+key)
			h.Set("x-api-key", key)
		},
		KeyOptional:   true,
		StaticHeaders: map[string]string{"anthropic-version": "2023-06-01"},
		Forward:       []string{"anthropic-version", "anthropic-beta"},
		Action:        gemini.Action,
	})
}
