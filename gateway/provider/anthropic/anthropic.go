// Package anthropic registers the "anthropic" provider kind:
// api.anthropic.com Messages with x-api-key authentication.
package anthropic

import (
	"net/http"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
)

func init() {
	provider.Register(provider.Kind{ID: "anthropic", New: New})
}

// Version is the anthropic-version sent unless the client's own is
// forwarded.
const Version = "2023-06-01"

// New builds an Anthropic provider. On passthrough calls the client's
// anthropic-version and anthropic-beta headers are forwarded, so Claude
// Code's beta features (context management, interleaved thinking) keep
// working through the gateway.
func New(cfg provider.Config) (provider.Provider, error) {
	return provider.NewHTTP(provider.HTTPConfig{
		Config:        cfg,
		DefaultBase:   "https://api.anthropic.com",
		DefaultAPIs:   []llm.API{llm.APIAnthropicMessages},
		Paths:         map[llm.API]string{llm.APIAnthropicMessages: "/v1/messages"},
		Auth:          func(h http.Header, key string) { h.Set("x-api-key", key) },
		StaticHeaders: map[string]string{"anthropic-version": Version},
		Forward:       []string{"anthropic-version", "anthropic-beta"},
	})
}
