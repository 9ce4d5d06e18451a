// Package harness is the stable interface harness adapters are written
// against: an [Adapter] drives one coding-agent CLI (Claude Code, Codex,
// OpenCode) headless, and turns what it prints into normalized [Event]s.
// Adapters run out of process, as go-plugin plugins (see [Plugin] and
// [Serve]); the host calls them through the same interface either way.
//
// # Start, Resume, Stop
//
// An adapter has one verb, [Adapter].Run, which runs the CLI to its end:
//
//   - Start a session: [Start] (a Run with [ModeStart]). The CLI makes up
//     its own session id and reports it: the started event.
//   - Resume it: [Resume] (a Run with [ModeResume] and the
//     HarnessSessionID of the first run's started event), with the same
//     StateDir. Each CLI keeps its transcripts in its state directory, and
//     the adapter passes the id back: `claude -p ... --resume ID` (the
//     transcript lives under CLAUDE_CONFIG_DIR), `codex exec resume ID ...`
//     (rollouts under CODEX_HOME/sessions), `opencode run --session ID`
//     (under XDG_DATA_HOME). The host must keep StateDir across runs.
//   - Stop a run: cancel the ctx given to Run. The CLI's process group
//     gets SIGTERM, then SIGKILL after a grace period; Run returns, with
//     an error wrapping ctx.Err(), once the CLI and what it started are
//     gone, in process and out of process alike. A stopped run has no
//     terminal event.
//
// # Events
//
// Run calls its [Emit] once per event, in the order the CLI printed
// them, from one goroutine at a time. The guarantees, which [Checked]
// enforces (the host wraps every run with it, and so does the plugin
// server):
//
//   - started comes first, at most once, as soon as the CLI has reported
//     its session id (only non-fatal errors, such as garbage the CLI
//     printed before, may precede it); every later event carries that id.
//   - A run that ends by itself ends with exactly one terminal event:
//     completed when the CLI exited by itself (with its exit status:
//     non-zero is the CLI's own failure, reported before by a non-fatal
//     error quoting its stderr), or a fatal error when the run was cut
//     short (a sandbox limit, named in Error.Limit; a signal; unreadable
//     output). Run then returns nil. Nothing follows a terminal event.
//   - Run returns an error, and emits no terminal event, when the request
//     is invalid ([ErrInvalidRequest]), the CLI cannot start, ctx is done,
//     or emit failed.
//   - Non-fatal errors (a line that is not JSON, a line over the cap, a
//     line the adapter could not parse, the CLI's own error items) may
//     come anywhere; the run goes on.
//   - Raw holds the CLI's output line each event came from, byte for
//     byte; a line that is not JSON is kept as a JSON string. The host can
//     store it to re-derive events when adapters improve.
//
// # Writing an adapter
//
// Most adapters are a Run that builds a [Command] (argv, environment and
// config files from the request: gateway URL and key, model, tools, MCP
// servers, state directory) and hands it to [Drive] with a [ParseFunc]
// that maps one line of the CLI's output to events. Drive does the rest:
// the process group, the sandbox (a wrapper such as bwrap, rlimits
// through prlimit(1), a wall-clock deadline), stdin from /dev/null,
// output lines of many megabytes ([Lines]), stderr kept for messages,
// stop, and the terminal event. Its main is one call:
//
//	func main() {
//		harness.Serve(process.Description{Name: "claude-code", Version: "0.1.0"}, &claude.Adapter{})
//	}
//
// internal/fakeharness is a small complete adapter, for the fake CLI in
// testdata/fakecli.
//
// # Protocol
//
// The gRPC service is written by hand: JSON in wrapperspb.BytesValue
// messages, Describe unary and Run a stream, at [ProtocolVersion] under
// the plugin name [PluginName] and the plugin kind [PluginKind]. Hosts
// accept [HostVersions] and get an Adapter with [Dispense].
package harness
