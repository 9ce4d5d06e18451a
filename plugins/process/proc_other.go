//go:build !unix

package process

import "os/exec"

// Elsewhere, cancelling the command's ctx kills the plugin process only.
func setProcessGroup(*exec.Cmd) {}

func killGroup(int) {}

// exitWithHost does nothing here: Windows has no cheap way to notice.
func exitWithHost() {}
