// Package llm holds the gateway's canonical model-call types: one request,
// one response and one stream-event vocabulary that every wire format
// (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, Gemini)
// decodes into and encodes from.
//
// # Why a canonical form
//
// With N inbound APIs and M provider formats, direct translation needs N×M
// converters; through one canonical form it needs N+M. The canonical form
// is modelled on Anthropic Messages, the most structured of the four:
// content is a list of typed parts, tool results are parts of a user
// message, and streams are part start / delta / stop.
//
// When the inbound API and the provider's format are the same, the gateway
// does not translate at all: it forwards the client's bytes (with the model
// name rewritten) and only observes the answer to account for usage. See
// package gateway/wire for the codecs.
//
// # Token accounting
//
// Usage.InputTokens counts input tokens that were neither read from nor
// written to a prompt cache, so the whole prompt is InputTokens +
// CacheReadTokens + CacheWriteTokens (Anthropic's convention; OpenAI's
// prompt_tokens includes cached tokens and is converted). OutputTokens
// counts every generated token including reasoning; ReasoningTokens is the
// part of OutputTokens spent on reasoning (OpenAI's convention).
package llm
