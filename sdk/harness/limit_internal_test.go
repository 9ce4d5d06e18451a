//go:build linux

package harness

import (
	"syscall"
	"testing"
	"time"
)

// Processes limits cannot be hit as root, which the tests may run as:
// this checks the inference alone.
func TestLimitHit(t *testing.T) {
	t.Parallel()
	all := &Sandbox{MemoryBytes: 1, Processes: 1, CPUSeconds: 2}
	tests := []struct {
		name       string
		sandbox    *Sandbox
		exit       Exit
		oom, nproc string
		want       Limit
	}{
		{"no sandbox", nil, Exit{Code: 1}, "out of memory", "", ""},
		{"sigxcpu", all, Exit{Code: -1, Signal: syscall.SIGXCPU}, "", "", LimitCPU},
		{"shell's 152", all, Exit{Code: 152}, "", "", LimitCPU},
		{"sigkill after the cpu time", all, Exit{Code: -1, Signal: syscall.SIGKILL, CPU: 2 * time.Second}, "", "", LimitCPU},
		{"sigkill before it", all, Exit{Code: -1, Signal: syscall.SIGKILL, CPU: time.Second}, "", "", ""},
		{"oom", all, Exit{Code: 2}, "fatal error: out of memory", "", LimitMemory},
		{"oom without a memory limit", &Sandbox{Processes: 1}, Exit{Code: 2}, "fatal error: out of memory", "", ""},
		{"fork", all, Exit{Code: 1}, "", "bash: fork: retry: Resource temporarily unavailable", LimitProcesses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := limitHit(tt.sandbox, tt.exit, tt.oom, tt.nproc); got != tt.want {
				t.Errorf("limitHit = %q, want %q", got, tt.want)
			}
		})
	}
}
