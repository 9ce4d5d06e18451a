// Package anthropic is the codec of the Anthropic Messages API
// (POST /v1/messages), both client-facing (Claude Code, the
// @anthropic-ai/sdk packages) and provider-facing. Its one type, Codec,
// implements wire.Inbound and wire.Outbound and registers itself under
// llm.APIAnthropicMessages in init.
//
// # Passthrough and translation
//
// A request from an Anthropic client to an Anthropic provider is not
// translated: the gateway calls Peek and RewriteModel and forwards the
// client's bytes, so everything the canonical form cannot hold (server
// tools such as web_search_20250305, document and search_result blocks,
// container_upload, context_management, mcp_servers, ...) reaches the
// provider untouched.
//
// DecodeRequest is called only when the request must be translated to
// another provider's format. It refuses, with an ErrInvalidRequest that
// names the JSON path and the block or tool type, what cannot be
// translated, rather than drop part of the conversation silently. Unknown
// top-level members (context_management, service_tier, top_k, container,
// mcp_servers, output_config) are ignored.
//
// # Mapping decisions
//
//   - thinking {"type":"enabled","budget_tokens":N} is llm.Thinking{BudgetTokens: N};
//     {"type":"adaptive"} is a non-nil llm.Thinking with no budget; "disabled" is nil.
//     The API's minimum budget of 1024 is left to the provider to enforce,
//     since a translated request may go to one with another minimum.
//   - metadata.user_id is llm.Request.User as given. Claude Code puts a JSON
//     object (as a string) there; SessionID reads its session_id.
//   - Stop reasons map 1:1, except that canonical content_filter is sent as
//     "refusal" and the API's model_context_window_exceeded is read as
//     max_tokens. Other stop reasons the API adds (pause_turn) are kept
//     verbatim. A response with no stop reason is sent as end_turn.
//   - Tool results are sent with string content when they are one text part
//     without cache_control, and as a block array otherwise.
//
// # Outbound requests
//
// EncodeRequest produces a body the Messages API accepts from any
// canonical request, which means adapting what other APIs allow:
//
//   - max_tokens is required by the API; a request without one gets 8192.
//   - System parts become system text blocks (cache_control kept). A
//     system message in the middle of the conversation (OpenAI allows them)
//     becomes a user text block "System: <text>".
//   - Consecutive messages of one role are merged into one, since the API
//     wants user and assistant to alternate, and tool_result blocks are
//     moved to the front of their user message, as the API requires.
//     Messages left without content, empty text parts, thinking parts
//     without a signature and redacted thinking without data (the API
//     rejects them) are dropped.
//   - ToolChoice required is {"type":"any"}. Thinking with a budget is
//     "enabled" with that budget; with only an OpenAI effort it is enabled
//     with 1024 (minimal, low), 4096 (medium or unknown), 16384 (high) or
//     32768 (xhigh, max) tokens; effort "none" sends no thinking; with
//     neither it is "adaptive".
//   - The budget must be below max_tokens: a defaulted max_tokens is raised
//     to budget+8192; an explicit one clamps the budget to max_tokens-1,
//     and thinking is dropped when that is under the API's minimum of 1024.
//   - With thinking on, the API accepts only temperature 1 and top_p of at
//     least 0.95, and no forced tool use: other temperatures and top_p are
//     dropped, and thinking is dropped when tool_choice forces a tool.
//     Temperature is clamped to the API's range [0, 1].
//   - ResponseFormat is ignored.
//
// # Streams
//
// The stream encoder writes each event as soon as it is given (it never
// buffers) and folds canonical Usage events into the final message_delta.
// It keeps the API's content block indices dense: parts the API cannot
// show (an image produced by another provider) are skipped and the
// following blocks renumbered. The stream decoder ignores ping and unknown
// event types, emits EventStop at message_stop with the stop reason of
// message_delta and the final cumulative usage, and turns an error event
// into EventError.
package anthropic
