// Package tape records the answers of a session's model calls and plays
// them back, so that the session's CLI can be run again on a fresh
// workspace and retrace the session without calling a provider (a
// harness replay, docs/replay.md).
//
// # Recording
//
// For each call of a session the gateway writes a model.answer.recorded
// event (core/event): a [Print] of the request and the answer in a
// normalized form ([FromResponse], or a [Collector] over a stream), or
// the error the call ended with.
//
// # Fingerprint
//
// A request's print is its inbound API, model, stream flag, the names of
// its tools, and, per system part and message, its role, a digest of its
// content and its length; the system parts and the latest messages also
// keep an excerpt of each part, to say what changed. Two requests match
// when their digests do. Before the content is hashed, what differs
// between two honest runs of the same session is rewritten (see
// [Normaliser]): the session's id (its workspace and state directories
// are named after it), the CLI's own session id, UUIDs and dates. Request
// settings other than these (max tokens, temperature, thinking budget,
// tool schemas, metadata, prompt-cache markers) are left out.
//
// # Playback
//
// A [Player] serves a recorded session's calls to its replay: each
// request must match a recorded call of the same turn that has not been
// served yet, which is then answered, re-encoded in the request's API
// (streamed or not) by [StreamEvents] or as a whole. The first request
// that matches none stops the replay with a divergence that says which
// call, field and message differ, recorded against now.
package tape
