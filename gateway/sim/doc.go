// Package sim is a provider simulator: a real HTTP server that speaks the
// wire formats of OpenAI Chat Completions, OpenAI Responses, Anthropic
// Messages and Gemini, and answers with deterministic, configurable
// content, timing and faults. It stands in for real providers in tests,
// benchmarks and the demo; the gateway, the official SDKs and the coding
// CLIs talk to it exactly as they would to the real APIs.
//
// The simulator is an independent implementation of the four formats: it
// does not use the gateway's codecs, so that it can catch their bugs.
//
// # Endpoints
//
//	POST   /v1/chat/completions                        OpenAI Chat Completions (stream and not)
//	POST   /v1/responses                               OpenAI Responses (stream and not)
//	POST   /v1/messages                                Anthropic Messages (?beta=true accepted)
//	POST   /v1/messages/count_tokens                   Anthropic token count
//	POST   /v1beta/models/{model}:generateContent      Gemini
//	POST   /v1beta/models/{model}:streamGenerateContent?alt=sse
//	GET    /v1/models, /v1/models/{id}                 OpenAI list shape, or Anthropic's with an anthropic-version header
//	GET    /v1beta/models                              Gemini list shape
//	GET    /sim/requests?limit=N                       the last N requests received (a ring of Config.RequestLogSize)
//	DELETE /sim/requests                               clear the request log
//	GET    /sim/healthz                                liveness
//
// Errors use each API's own JSON error shape and status. With
// Config.APIKeys set, a missing or wrong key gets 401 (OpenAI,
// Anthropic) or, as Google answers, 403 for a missing key and 400
// API_KEY_INVALID for a wrong one (Gemini). The /sim/ endpoints need no
// key and are not recorded.
//
// Streams are framed as each API frames them: OpenAI Chat Completions
// sends unnamed data events ending with "data: [DONE]"; Responses and
// Anthropic name every event; Gemini ends its events with CRLF CRLF, and
// without ?alt=sse streams a JSON array instead. Every event is flushed as
// it is produced.
//
// # Answers
//
// The same request gets the same answer, byte for byte: ids derive from a
// hash of the request body and a per-server counter, and timestamps come
// from Config.Clock. The default answer is a text of Model.OutputWords
// words, "Simulated answer to <first 8 words of the prompt>: lorem ...",
// whose filler words are drawn from a generator seeded by a hash of the
// last user message.
//
// Token counts: input tokens are ceil(bytes of all prompt text, system
// text and tools JSON / 4); every streamed content chunk (a word of text
// or thinking, a piece of tool arguments) is one output token. Reasoning
// tokens (Model.ReasoningTokens) count as output tokens as each API does;
// when the request enables thinking, the answer also carries a thinking
// block (Anthropic), a reasoning item (Responses) or thought parts
// (Gemini) of that many words. Model.CachedFraction of the input is
// reported as read from the prompt cache.
//
// # Directives
//
// The text of the last user message (the last user turn that holds text,
// so that a turn carrying only tool results keeps its prompt's
// directives) may hold directives, [[sim key=value key="quoted value"]],
// several allowed, later keys winning:
//
//	fault=429|500|503|529|NNN   answer with that error status in the API's shape
//	retry_after=SECONDS         with fault=429: Retry-After and the rate-limit headers
//	fault=timeout [hold=DUR]    hold the request until the client gives up (or for DUR, then answer)
//	fault=reset                 close the TCP connection without a response
//	fault=cut after=N           stream N content chunks, then drop the connection;
//	                            non-streaming: send half the body, then drop it
//	fault=malformed [after=N]   invalid JSON body, or after N chunks an event with invalid JSON data
//	fault=error_event after=N   after N chunks, the API's in-stream error event (Responses:
//	                            "error" then "response.failed"); non-streaming: a 500
//	times=N                     the fault applies to the first N requests carrying exactly
//	                            these directives, then requests succeed
//	id=ANY                      ignored; makes a directive unique for times=N
//	text="..."                  answer exactly this text
//	words=N                     answer with N words
//	reasoning=N, cached=N       report N reasoning / cached tokens
//	tool=shell cmd="echo hi"    call the request's shell tool (see below)
//	tool=NAME args='{"k":"v"}'  call the named tool with these arguments
//
// An unknown key or a bad value is answered with 400, so a typo in a test
// does not pass silently.
//
// # Tool calls
//
// With tool=shell, if the conversation's last message is not a tool
// result, the answer is one call to the request's shell tool: the first
// tool named, case-insensitively, bash, shell, exec_command, local_shell,
// run_shell_command or shell_command. Its arguments are built from the
// tool's JSON schema: a "command" array gets ["bash","-lc",cmd], a
// "command" or "cmd" string gets cmd, a required string "description"
// gets "Run a command", and other required properties get the zero value
// of their type. A Responses custom tool gets a custom_tool_call whose
// input is cmd, and a Responses local_shell tool a local_shell_call. If
// the last message is a tool result, the answer is the text "Tool result:
// <first 200 characters of the result>", so that a CLI's tool turn
// completes. A request whose tools include no shell tool gets 400 "no
// shell tool in the request"; a request with no tools at all (the title
// or topic calls CLIs make with the user's prompt) gets the default
// answer.
//
// Note that a CLI's side calls carry the prompt, and so its directives,
// too: a fault with times=N may be spent on them.
package sim
