//go:build !linux

package harness

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"syscall"
	"time"
)

// Command runs a CLI as a supervised child process: on Linux only.
type Command struct {
	Path         string
	Args         []string
	Env          []string
	Dir          string
	Sandbox      *Sandbox
	Grace        time.Duration
	StderrLines  int
	Prlimit      string
	Log          *slog.Logger
	MaxLineBytes int
}

// Process is a running Command.
type Process struct{}

// Exit is how a process ended.
type Exit struct {
	Code          int
	Signal        syscall.Signal
	Stopped       bool
	Limit         Limit
	Cause         string
	Stderr        []string
	Duration, CPU time.Duration
}

var errNotLinux = errors.New("harness.Command runs CLIs on Linux only")

// BaseEnv returns nothing off Linux.
func BaseEnv() []string { return nil }

// Start fails off Linux.
func (c *Command) Start(context.Context) (*Process, error) { return nil, errNotLinux }

func (p *Process) PID() int              { return 0 }
func (p *Process) Stdout() io.Reader     { return nil }
func (p *Process) Stop()                 {}
func (p *Process) Wait() Exit            { return Exit{} }
func (p *Process) Done() <-chan struct{} { return nil }
func (e Exit) Exited() bool              { return false }
func (e Exit) String() string            { return "not run" }
