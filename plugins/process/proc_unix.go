//go:build unix

package process

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// setProcessGroup puts the plugin in a process group of its own, which
// also holds whatever it starts (a harness adapter starts a CLI), and makes
// cancelling the command's ctx kill that whole group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		killGroup(cmd.Process.Pid)
		return nil
	}
}

// killGroup kills what is left of the process group a plugin led, so that
// no child of it outlives it. The group keeps the plugin's pid as its id
// while any member lives.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH: nothing left
	}
}

// exitWithHost ends the plugin, and what it started, within a second of
// its host's death, which nothing else notices: the plugin just gets a new
// parent. It kills its process group only if it leads it, as a plugin
// started by the host does.
func exitWithHost() {
	ppid := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != ppid {
			if syscall.Getpgrp() == os.Getpid() {
				_ = syscall.Kill(0, syscall.SIGKILL)
			}
			os.Exit(1)
		}
	}
}
