// Package openaicompat registers the "openai-compatible" provider kind: any
// server that speaks OpenAI Chat Completions at a base URL (vLLM, Ollama,
// OpenRouter, Groq, LM Studio, ...). The key is optional, for local servers.
package openaicompat

import (
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
)

func init() {
	provider.Register(provider.Kind{ID: "openai-compatible", New: New})
}

// New builds an OpenAI-compatible provider. base_url is required and
// includes the version prefix (e.g. http://127.0.0.1:11434/v1). Servers
// that also implement the Responses API can say so with "apis".
func New(cfg provider.Config) (provider.Provider, error) {
	return provider.NewHTTP(provider.HTTPConfig{
		Config:      cfg,
		DefaultAPIs: []llm.API{llm.APIOpenAIChat},
		Paths: map[llm.API]string{
			llm.APIOpenAIChat:      "/chat/completions",
			llm.APIOpenAIResponses: "/responses",
		},
		Auth:        provider.Bearer,
		KeyOptional: true,
	})
}
