// Package responses is the codec of the OpenAI Responses API
// (POST /v1/responses), inbound and outbound. It registers itself with
// package wire under llm.APIOpenAIResponses.
//
// Inbound it serves Codex CLI and the openai SDKs' responses.create:
// it decodes their requests into llm.Request and encodes answers as a
// Response object or as the Responses stream of typed events. Outbound it
// talks to OpenAI's /v1/responses (always with store=false, since the
// gateway keeps no responses) and decodes its answers and events.
//
// # Requests
//
// instructions, and system or developer messages that come before any
// user, assistant or tool item, become Request.System; later ones stay in
// place as RoleSystem messages. A plain string input is one user message.
// Consecutive assistant-side items (assistant messages, reasoning and
// tool calls) form one assistant message; consecutive tool outputs form
// one user message of tool results. text.format is kept in
// Request.ResponseFormat in Chat Completions' response_format shape, so
// that it reads the same whichever API it came from. store, include, prompt_cache_key, text.verbosity,
// metadata, service_tier and truncation have no canonical field and are
// not kept.
//
// Items and tools that only OpenAI can run (web_search, file_search,
// local_shell, computer use, MCP, code interpreter, a server-executed
// tool search, ...) have no canonical form: DecodeRequest refuses them,
// naming the type, and so does a previous_response_id (the gateway stores
// nothing: send store=false and the full input). Codex sends web_search
// unless it runs with -c web_search="disabled".
//
// # Reasoning items
//
// A reasoning item is a thinking part: its summary texts, joined with a
// blank line, are Part.Text (or its reasoning_text content when it has no
// summary), encrypted_content is Part.Signature, and the item id, if any,
// is kept in Part.Data as the JSON object {"id":"rs_..."}. Going out, a
// thinking part becomes a reasoning item with one summary_text and the
// signature as encrypted_content; a redacted_thinking part becomes a
// reasoning item with no summary and Data as encrypted_content. Towards
// OpenAI only thinking parts that carry a signature are sent, since
// without encrypted content (store=false) OpenAI cannot use them;
// redacted_thinking, Anthropic's own, is dropped.
//
// # Tools beyond functions
//
// What a tool's Responses form says beyond a plain function is kept in an
// "x-openai-tool" member at the top of its canonical Parameters, so that
// the canonical request alone tells how to answer calls of it:
//
//   - A custom (freeform) tool ({"type":"custom"}, such as Codex's
//     apply_patch) takes free text instead of JSON arguments. Canonically
//     it takes an object with one string property, "input", whose
//     description repeats the tool's grammar so that other models see it;
//     a call of it has Arguments {"input":"<the text>"}. The marker is
//     {"type":"custom","format":{...}} with the original format.
//   - The tools of a namespace ({"type":"namespace"}, as Codex groups MCP
//     servers' and sub-agent tools) become tools named
//     "<namespace>__<name>", marked {"namespace":...,
//     "namespace_description":...}; function_call items carrying a
//     namespace use the same names.
//   - A client-executed tool search ({"type":"tool_search",
//     "execution":"client"}) becomes a function tool named tool_search,
//     marked {"type":"tool_search"}. A tool_search_call item is a call of
//     it; a tool_search_output item is its result, whose loaded tools join
//     Request.Tools, and whose text ({"loaded_tools":[...]}) names them.
//
// IsCustomTool recognises a custom tool. Answers map calls back to
// custom_tool_call, tool_search_call or namespaced function_call items
// when the codec knows the request (see ForRequest). EncodeRequest sends
// marked tools to OpenAI in their own form again, except the tool search,
// which goes as a function tool since its results cannot be rebuilt.
// Going to other providers the marker stays in the schema, where JSON
// Schema allows unknown members.
//
// # Answers
//
// Each text part is one message item, each tool call one function_call
// (or custom_tool_call, tool_search_call) item, each thinking part one
// reasoning item, in the order of the parts; images in answers, which
// the API cannot carry, are left out. Ids are derived from the response id and the
// item's position, and created_at comes from Codec.Now, so an answer
// encodes the same way twice. The Response object echoes the request's
// settings (tools, tool_choice, instructions, ...) only for a codec bound
// to the request with ForRequest; otherwise it carries the API's defaults.
//
// A stream is response.created and response.in_progress, then per output
// item response.output_item.added, the item's own events and
// response.output_item.done, then response.completed (or
// response.incomplete after max_tokens or a content filter). Each event is
// written as soon as it is known and carries a sequence_number counting
// from 0; a custom tool's input is streamed as custom_tool_call_input
// deltas, unescaped from the canonical {"input":"..."} arguments as they
// arrive. A failed answer ends with an "error" event (carrying both the
// documented flat fields and the nested "error" object OpenAI sends, so
// both SDK generations raise it) followed by response.failed, whose
// error.code is what Codex branches on: rate_limit_exceeded (retried, with
// "Please try again in Ns." when a Retry-After is known),
// insufficient_quota (budget: not retried), server_is_overloaded,
// context_length_exceeded, invalid_prompt (other client errors: not
// retried) or server_error (retried).
//
// # Usage
//
// Responses usage counts cached tokens inside input_tokens and reasoning
// tokens inside output_tokens; llm.Usage.InputTokens excludes cache reads
// and writes. Going out, input_tokens is the whole prompt and
// cached_tokens the cache reads; coming in, InputTokens is input_tokens
// minus cached_tokens.
package responses
