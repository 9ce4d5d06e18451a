// Package openai registers the "openai" provider kind: api.openai.com,
// Chat Completions and Responses, Bearer authentication.
package openai

import (
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
)

func init() {
	provider.Register(provider.Kind{ID: "openai", New: New})
}

// New builds an OpenAI provider. Chat Completions is preferred when a
// request must be translated: every OpenAI chat model speaks it.
func New(cfg provider.Config) (provider.Provider, error) {
	return provider.NewHTTP(provider.HTTPConfig{
		Config:      cfg,
		DefaultBase: "https://api.openai.com/v1",
		DefaultAPIs: []llm.API{llm.APIOpenAIChat, llm.APIOpenAIResponses},
		Paths: map[llm.API]string{
			llm.APIOpenAIChat:      "/chat/completions",
			llm.APIOpenAIResponses: "/responses",
		},
		Auth:    provider.Bearer,
		Forward: []string{"OpenAI-Beta"},
	})
}
