// Package httpapi serves the control plane's HTTP API over an event store:
// health and readiness probes, appending and reading events, a live
// server-sent-events feed of the whole log, and the stream catalogue.
// It is the only package of the control plane that imports fiber.
//
// # Endpoints
//
//	GET  /healthz                          the process is up
//	GET  /readyz                           the store answers and the server is not shutting down
//	POST /api/v1/streams/{stream}/events   append one event or a JSON array of them
//	GET  /api/v1/streams/{stream}/events   read a stream (JSON lines)
//	GET  /api/v1/events                    read the whole log by position (JSON lines)
//	GET  /api/v1/events/feed               every event from a position, then live (SSE)
//	GET  /api/v1/streams                   the stream catalogue
//
// Reads answer with JSON lines (Content-Type application/x-ndjson): one
// event envelope per line, streamed as it is read, so a read of millions of
// events never sits in memory. A read that fails before its first event
// answers with an error status; one that fails later ends with a line
// {"error":{...}}, which no envelope has.
//
// Errors are JSON, {"error":{"code":"...","message":"..."}}, with a status
// that says what kind they are: 400 for bad input, 404 for a missing stream,
// 409 for a version or id conflict, 503 while the store is closed.
//
// # Feed
//
// The feed is text/event-stream. Each event is sent as
//
//	id: <position>
//	data: <envelope JSON>
//
// so a client that reconnects with Last-Event-ID resumes after the last
// event it saw. Comment lines (": heartbeat") keep the connection alive and
// are how the server notices that a client has gone: fasthttp runs the
// stream writer on its own goroutine and a write to a closed connection is
// the only sign of it. A feed that fails ends with "event: error".
//
// # Fiber contexts
//
// The app runs with fiber's Immutable setting, so every string and byte
// slice taken from a *fiber.Ctx is a copy and may be handed to the store,
// which can keep it after the handler returns (gofiber/fiber#185).
package httpapi
