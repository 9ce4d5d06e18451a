// Package gemini registers the "gemini" provider kind: the Gemini API
// (generativelanguage.googleapis.com) with x-goog-api-key authentication.
package gemini

import (
	"net/http"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
)

func init() {
	provider.Register(provider.Kind{ID: "gemini", New: New})
}

// New builds a Gemini provider. The model is part of the URL; streaming
// uses streamGenerateContent with alt=sse.
func New(cfg provider.Config) (provider.Provider, error) {
	return provider.NewHTTP(provider.HTTPConfig{
		Config:      cfg,
		DefaultBase: "https://generativelanguage.googleapis.com",
		DefaultAPIs: []llm.API{llm.APIGemini},
		Paths:       map[llm.API]string{llm.APIGemini: "/v1beta/models/{model}:{action}"},
		Auth:        func(h http.Header, key string) { h.Set("x-goog-api-key", key) },
		Action:      Action,
	})
}

// Action is the method and query of a Gemini call.
func Action(stream bool) (string, string) {
	if stream {
		return "streamGenerateContent", "alt=sse"
	}
	return "generateContent", ""
}
