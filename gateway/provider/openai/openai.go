// Package openai registers the "openai" provider kind: api.openai.com,
// Chat Completions and Responses, Bearer authentication.
package openai

import (
	"encoding/json"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/wire"
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
		Adjust:  MaxCompletionTokens,
	})
}

// MaxCompletionTokens renames a translated Chat Completions body's
// max_tokens to max_completion_tokens: OpenAI's reasoning models (gpt-5,
// o-series) refuse the former, and every OpenAI chat model takes the
// latter. OpenAI-compatible servers keep max_tokens, which they all know.
func MaxCompletionTokens(api llm.API, body []byte) ([]byte, error) {
	if api != llm.APIOpenAIChat {
		return body, nil
	}
	v, err := wire.Get(body, "max_tokens")
	if err != nil || v == nil {
		return body, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	delete(m, "max_tokens")
	if _, ok := m["max_completion_tokens"]; !ok {
		m["max_completion_tokens"] = v
	}
	return wire.Marshal(m)
}
