// Package process runs plugins as separate processes with HashiCorp
// go-plugin over gRPC: the generic host the harness adapters build on.
//
// A plugin is an executable named switchyard-plugin-<name>. Its main calls
// [Serve]; the host finds it with [Discover], starts and supervises it with
// [Start] (or a [Host] that owns several), and asks it for typed clients
// with [Dispense].
//
// # Lifecycle
//
// Starting a plugin runs `<binary> describe`, which prints a JSON
// [Description] (name, kind, protocol versions, capabilities), checks the
// kind and the protocol versions against what the host accepts, and only
// then starts the long-lived process and does go-plugin's handshake. From
// then on the process is watched: an exit, or a health check that fails or
// hangs, kills the process and its children and starts it again after an
// exponential backoff. After [Config].MaxFailures failures within
// [Config].FailureWindow the plugin is [Failed] and stays so.
//
// # Calls
//
// Every call takes a ctx and returns when it is done; the error then wraps
// ctx.Err(), so errors.Is(err, context.DeadlineExceeded) works, and names
// the plugin and the method. A client dispensed before a restart talks to
// the dead process and fails: dispense a new one per operation, it is cheap.
//
// # Logging
//
// Everything a plugin writes to stderr or stdout is logged under the
// plugin's name (attribute plugin). JSON lines from [Logger] (or hclog)
// keep their level and attributes; other lines are logged at Info. The last
// lines are quoted in the error when the plugin fails to start or crashes.
package process
