// Package proxy is the gateway's request path, independent of the HTTP
// framework: authenticate the key, admit the call against budgets, ask the
// router for targets, try them with fallback and bounded retries, stream
// the answer back (translated if the provider speaks another format),
// price it and record every step as an event.
//
// # Before and after the first byte
//
// Until the first byte of an answer is sent to the client, a failed
// attempt (429, 5xx, timeout, connection error, a stream that breaks
// before its first event) moves on: to the next target at once, or to the
// same target again after an exponential backoff with full jitter that
// honours Retry-After. Attempts are bounded per request (MaxAttempts) and
// per key (a retry budget: retries may be at most RetryRatio of a key's
// calls, plus a small floor), so an outage cannot multiply the load on
// providers. A target that keeps failing cools down and is tried last.
//
// Once the first byte is sent the status line is gone: a failure is
// reported inside the stream, in the client API's own error event, so a
// client never mistakes a truncated answer for a complete one.
//
// # Accounting
//
// Usage comes from the provider's own report (in the final stream events
// or the response body). A stream the client cancels is billed for what
// passed through, counted by the gateway (usage_estimated); a model with
// no price is recorded as unpriced, never as free.
package proxy
