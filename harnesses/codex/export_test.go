package codex

import "github.com/switchyard/switchyard/sdk/harness"

// CommandOnAnyMachine is Command as on a machine without an old system
// bwrap: for tests of the command line.
func CommandOnAnyMachine(run *harness.Run) (*harness.Command, error) {
	return command(run, func() string { return "" })
}
