// Package gemini is the outbound codec for Google's Gemini API
// (generativelanguage.googleapis.com, v1beta): POST
// /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse. It registers itself with package wire
// under llm.APIGemini. The model goes in the URL, which the provider
// builds; the body never names it.
//
// # Requests
//
// System text becomes systemInstruction; messages become contents with
// role "user" or "model" (consecutive messages of one role are merged, and
// a system message in the middle of a conversation is sent as user text).
// Tool calls become functionCall parts and tool results functionResponse
// parts, whose function name is found from the earlier tool call with the
// same ToolCallID. A result is sent as {"output": text}, or {"error": text}
// when IsError is set, as the API reference recommends; images in a
// result follow it as inlineData parts. Thinking parts are sent back as
// thought text; redacted thinking has no Gemini form and is dropped.
//
// Tool choice maps to functionCallingConfig: auto → AUTO, none → NONE,
// required → ANY, a named tool → ANY with allowedFunctionNames. Gemini has
// no switch for parallel calls, so DisableParallel is ignored. Thinking
// maps to thinkingConfig with includeThoughts; an OpenAI effort without a
// budget becomes a budget (minimal 128, low 1024, medium 8192, high 24576
// tokens; "none" asks for a zero budget). A json_schema ResponseFormat
// becomes responseMimeType application/json with responseSchema, and
// json_object the MIME type alone.
//
// # Schemas
//
// functionDeclarations.parameters and responseSchema take Gemini's Schema,
// a subset of OpenAPI 3.0, and the API rejects what it does not know
// ("Unknown name \"additionalProperties\"", "only 'enum' and 'date-time'
// are supported for STRING type", "properties: should be non-empty for
// OBJECT type", "enum only allowed for STRING type"). JSON Schemas are
// therefore rewritten: local $ref into $defs or definitions are inlined
// (to a depth of 16); allOf is merged; oneOf becomes anyOf; a "null" type
// or a {"type":"null"} branch becomes nullable; const becomes a one-value
// enum; enums of non-strings move into the description; formats other than
// enum and date-time (strings), float and double (numbers), int32 and
// int64 (integers) are dropped; required names without a property are
// dropped; and only these keywords are kept: type, format, title,
// description, nullable, enum, items, properties, required, anyOf,
// minItems, maxItems, minLength, maxLength, minProperties, maxProperties,
// pattern, minimum, maximum, default, example and propertyOrdering.
// Everything else ($schema, $id, additionalProperties, patternProperties,
// exclusiveMinimum, multipleOf, uniqueItems, examples, not, if/then/else,
// ...) is removed. Tool parameters that describe an object with no
// properties are left out, as the API requires.
//
// # Answers
//
// candidates[0] is decoded. Text parts become text, thought parts
// thinking, functionCall parts tool calls whose Arguments are the JSON of
// args and whose ToolCallID is the call's id or, when Gemini gives none
// (it usually does not), "call_<responseId>_<n>" with n counting calls
// from 0 (just "call_<n>" without a responseId): deterministic, and unique
// across the turns of a conversation as clients such as Anthropic's
// require. finishReason STOP is end_turn, or tool_use when the answer
// calls a function; MAX_TOKENS is max_tokens; SAFETY, RECITATION,
// PROHIBITED_CONTENT, BLOCKLIST, SPII and the image safety reasons are
// content_filter, as is a prompt blocked by promptFeedback.blockReason.
//
// Usage: promptTokenCount includes cachedContentTokenCount, so InputTokens
// is prompt - cached (+ toolUsePromptTokenCount, billed as input) and
// CacheReadTokens is cached; OutputTokens is candidatesTokenCount +
// thoughtsTokenCount and ReasoningTokens is thoughtsTokenCount.
//
// # Thought signatures
//
// Gemini returns a thoughtSignature on whichever part it chooses: a
// function call, a text part, a thought, or an empty text part at the end
// of a stream. It must be sent back on the same part (Gemini 3 refuses a
// function call without one). The codec keeps it in Part.Signature of the
// part it came with, including text and tool-call parts, and an empty text
// part's signature goes to the part before it. In a stream, the signature
// of a text or thinking part arrives as a DeltaSignature delta on that
// part and the signature of a function call in its PartStart. On Gemini 3
// models, a model turn whose function calls carry no signature (history
// from another provider) gets Google's documented
// "skip_thought_signature_validator" on its first call. A signature from
// another provider (Anthropic thinking) is forwarded as is and Gemini will
// reject it; do not switch a thinking conversation to Gemini mid-way.
//
// # Streams
//
// Each SSE data line is a whole GenerateContentResponse. Text arrives in
// fragments: the first opens a part and later ones of the same kind (text
// or thought) extend it. A function call arrives whole and becomes
// PartStart, one arguments Delta and PartStop. There is no end marker: the
// chunk with a finishReason (or a blocked prompt) ends the stream, Done
// turns true and EventStop carries that chunk's usage. An {"error": {...}}
// object in the stream becomes EventError.
//
// # Errors
//
// Error bodies are {"error": {"code", "message", "status", "details"}}
// (or an array of them). The status names the kind: RESOURCE_EXHAUSTED is
// a rate limit (with RetryInfo's retryDelay as RetryAfter), UNAVAILABLE
// overloaded, DEADLINE_EXCEEDED a timeout, INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE and UNIMPLEMENTED an invalid request
// (but API_KEY_INVALID an authentication error), UNAUTHENTICATED
// authentication, PERMISSION_DENIED permission, NOT_FOUND not found and
// INTERNAL, UNKNOWN, DATA_LOSS, ABORTED and CANCELLED a server error. An
// unknown or missing status falls back to the HTTP status.
package gemini
