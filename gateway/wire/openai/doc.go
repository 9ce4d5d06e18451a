// Package openai is the OpenAI Chat Completions codec (POST
// /v1/chat/completions), inbound and outbound. It registers Chat under
// llm.APIOpenAIChat in init, so importing the package for its side effect
// is enough:
//
//	import _ "github.com/switchyard/switchyard/gateway/wire/openai"
//
// Inbound it serves OpenCode (through @ai-sdk/openai-compatible), the
// official openai SDKs and anything else that speaks Chat Completions.
// Outbound it talks to OpenAI and to OpenAI-compatible servers (vLLM,
// Ollama, OpenRouter, Groq, DeepSeek), and is tolerant of how they differ.
// The Responses API is another package.
//
// # Requests (inbound)
//
// DecodeRequest validates like the real API and names the field at fault
// ("messages[2].role: ..."). Unknown top-level members are ignored, not
// refused: compatible clients put provider options there. Leading system
// and developer messages become Request.System; later ones stay in place
// as RoleSystem messages. Consecutive tool messages become one user
// message of tool_result parts, each carrying the name of the tool it
// answers. Tool ordering is checked as OpenAI checks it: a tool message
// must answer the assistant message right before it, and every tool call
// must be answered before the conversation goes on. Legacy functions,
// function_call and role "function" messages are mapped to tools, tool
// choice and tool results (the calls get IDs "call_legacy_<message
// index>"). n > 1 is refused: the gateway returns one choice. Top-level
// member names with escapes are refused, so that no upstream parser can
// read a member the gateway did not see (model smuggling).
//
// # Responses and streams (inbound)
//
// Thinking parts are returned as "reasoning_content", the field DeepSeek,
// vLLM and @ai-sdk/openai-compatible use; OpenAI's SDKs ignore it.
// Signatures and redacted thinking cannot be expressed and are dropped.
// "created" comes from Chat.Now, so tests can fix the clock.
//
// A stream is written as OpenAI writes it: a first chunk with role
// "assistant" and content "", text and reasoning deltas, tool call deltas
// (index counts tool calls, not parts; id, type and name on the first),
// a chunk with the finish_reason and an empty delta, then, if the client
// asked for stream_options.include_usage, a chunk with "choices":[] and
// the usage (and "usage":null on every other chunk), then "data: [DONE]".
// NewStreamEncoder always includes usage; Chat.NewChatStreamEncoder and
// Chat.NewStreamEncoderFor follow the client's request. An error in the
// stream is written as data: {"error":{...}}, which the openai SDKs raise
// as an APIError and the AI SDK reports as an error part. No "data: [DONE]"
// follows an error: a client that ignores the error chunk must still not
// read the stream as complete.
//
// # Errors (inbound)
//
// EncodeError answers in OpenAI's shape, {"error":{"message","type",
// "param","code"}}, with the types and codes OpenAI uses for the same
// status: invalid_request_error (400; 401 with code invalid_api_key; 404
// with code model_not_found), type "requests" with code
// rate_limit_exceeded (429), server_error (5xx). A spent budget is 429
// with type and code insufficient_quota: it is what OpenAI returns when a
// quota is exhausted, and clients treat it as "do not retry" rather than
// as a rate limit to back off from. Where OpenAI has no code of its own
// the code is the gateway's: permission_denied (403; OpenAI says
// model_not_found there, which would mislead), request_too_large,
// overloaded, timeout, connection_error, stream_cut, internal_error.
//
// # Requests (outbound)
//
// System parts become one leading "system" message (texts joined by a
// blank line). Tool results become "tool" messages, one per result, with
// the text of their text parts; images in a tool result, which a tool
// message cannot hold, are sent in a user message right after the tool
// messages. Thinking parts are dropped: Chat Completions has no input
// field for them, and DeepSeek refuses reasoning_content in input.
// Streaming requests set stream_options.include_usage so the answer can be
// priced. MaxTokens is sent as max_tokens, which every compatible server
// knows, except when Thinking.Effort is set: reasoning models refuse
// max_tokens, so it is sent as max_completion_tokens.
//
// # Answers (outbound)
//
// Canonical part indexes are assigned in order of appearance: a thinking
// part for reasoning_content (or OpenRouter's reasoning), a text part, and
// one part per tool call index. Parts are kept sequential: a new part
// closes the open one, and text after a tool call opens a new text part.
// (Argument fragments for a call that is no longer open, which no server
// is known to send, still go to that call's part index rather than being
// lost.) Tool call deltas without an index (older Ollama) are matched by
// id. finish_reason "stop" on an answer with tool calls (Ollama) is read
// as tool_use. Reasoning is read from reasoning_content (vLLM, DeepSeek)
// or reasoning (OpenRouter), usage also from Groq's x_groq.usage and
// DeepSeek's prompt_cache_hit_tokens.
//
// OpenAI sends the finish_reason before the usage chunk, so the decoder
// emits EventStop at "[DONE]", or at the usage-only chunk that follows the
// finish_reason, whichever comes first; the usage is never lost. A server
// that closes the stream after a finish_reason without "[DONE]" is handled
// by StreamDecoder.Finish, which the caller calls at the end of the body:
// it emits the Stop if a finish_reason was seen. A stream that ends
// without a finish_reason is cut. A stream with no usage at all ends with
// a Stop whose Usage is nil, so the caller can tell "not reported" from
// zero.
package openai
