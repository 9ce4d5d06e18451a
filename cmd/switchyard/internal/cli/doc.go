// Package cli holds the commands of the switchyard binary, built with
// cobra: serve, which opens the data directory and runs the HTTP API, and
// the client commands (events append, read, tail, streams), which talk to a
// running server. Offline tools (events verify) open the data directory
// themselves.
//
// # Output
//
// Commands print results for scripts on stdout as JSON lines (one event
// envelope per line) and summaries for people on stderr (-q silences them).
// Errors go to stderr and say what to do.
//
// # Exit codes
//
//	0  success
//	1  error
//	2  bad usage: unknown command or flag, wrong arguments
//	3  conflict: the stream was not at the expected version, or an id was reused
//	130 interrupted (SIGINT or SIGTERM) before it finished; tail and serve exit 0
package cli
