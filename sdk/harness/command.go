//go:build linux

package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Defaults of Command's fields.
const (
	DefaultGrace       = 5 * time.Second
	DefaultStderrLines = 20
)

// orphanWait is how long the output of a CLI that has exited is read
// for after its process group was killed: only a process that left the
// group (setsid) can still write to it.
const orphanWait = time.Second

// Command runs a CLI as a supervised child process:
//
//   - Env is its whole environment: nothing is inherited from the host,
//     which holds secrets. Start from BaseEnv.
//   - Its stdin is /dev/null (the CLIs otherwise wait on it); its stdout
//     is read through Process.Stdout; its stderr is logged at Debug and
//     its last lines kept for errors (Exit.Stderr).
//   - It leads a process group of its own, which holds what it starts.
//     Stopping it sends SIGTERM to the group, and SIGKILL after Grace. Once
//     it has exited, whatever is left in its group is killed. On Linux it
//     also gets SIGKILL if the host process dies.
//   - Sandbox applies: the argv is prefixed with Sandbox.Wrapper; the
//     rlimits are set by running it through util-linux's prlimit(1),
//     which sets them on itself and execs the rest of the argv, so the
//     limits hold from the first instruction and are inherited by the
//     wrapper, the CLI and its children; WallClock is a deadline after
//     which it is stopped as by Stop. The argv is
//     [prlimit --as=M --nproc=P --cpu=S:S+1 --] [Wrapper...] Path Args...
//     At the soft CPU limit the kernel sends SIGXCPU, at the hard one
//     (a second more, for processes that catch SIGXCPU) SIGKILL.
type Command struct {
	Path string
	Args []string
	Env  []string
	Dir  string
	// Sandbox confines the process; nil does not.
	Sandbox *Sandbox
	// Grace is how long a stop waits after SIGTERM before SIGKILL.
	// Default DefaultGrace.
	Grace time.Duration
	// StderrLines is how many last lines of stderr to keep. Default
	// DefaultStderrLines.
	StderrLines int
	// Prlimit is the prlimit binary, used only when Sandbox sets an
	// rlimit. Default: prlimit, looked up in the host's PATH.
	Prlimit string
	// Log gets the CLI's stderr at Debug, with the pid. nil discards.
	Log *slog.Logger
	// MaxLineBytes is the longest stdout line Drive reads (see Lines).
	// Default DefaultMaxLineBytes.
	MaxLineBytes int
}

// BaseEnv returns the host's variables a CLI needs to run at all: PATH,
// the locale, the time zone, TMPDIR and the TLS certificate locations,
// those that are set. It leaves out HOME: set it to the state directory.
func BaseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// argv returns the command line to run, with the sandbox applied.
func (c *Command) argv() ([]string, error) {
	var argv []string
	if s := c.Sandbox; s.Limited() {
		prlimit := c.Prlimit
		if prlimit == "" {
			prlimit = "prlimit"
		}
		path, err := exec.LookPath(prlimit)
		if err != nil {
			return nil, fmt.Errorf("the sandbox sets rlimits, which are applied with prlimit, but: %w (install util-linux, or set Command.Prlimit)", err)
		}
		argv = append(argv, path)
		if s.MemoryBytes > 0 {
			argv = append(argv, "--as="+strconv.FormatInt(s.MemoryBytes, 10))
		}
		if s.Processes > 0 {
			argv = append(argv, "--nproc="+strconv.FormatInt(s.Processes, 10))
		}
		if s.CPUSeconds > 0 {
			argv = append(argv, fmt.Sprintf("--cpu=%d:%d", s.CPUSeconds, s.CPUSeconds+1))
		}
		argv = append(argv, "--")
	}
	if c.Sandbox != nil {
		argv = append(argv, c.Sandbox.Wrapper...)
	}
	return append(append(argv, c.Path), c.Args...), nil
}

// Process is a running Command.
type Process struct {
	cmd    *exec.Cmd
	pid    int
	start  time.Time
	grace  time.Duration
	sb     *Sandbox
	stdout *os.File
	stderr *os.File
	tail   *tail

	stopOnce sync.Once
	closeOut sync.Once
	reason   stopReason // set by stopOnce
	// left are the CLI's descendants found when it was stopped: killed
	// with it even if they left its process group.
	leftMu sync.Mutex
	left   []proc
	exited chan struct{}
	done   chan struct{}
	exit   Exit // set before done is closed
}

type stopReason int

const (
	notStopped stopReason = iota
	stoppedByCaller
	stoppedByWallClock
)

// Exit is how a process ended.
type Exit struct {
	// Code is the exit status, or -1 if a signal killed the process.
	Code int
	// Signal is the signal that killed it, if one did.
	Signal syscall.Signal
	// Stopped says the process was stopped by Stop or by its ctx.
	Stopped bool
	// Limit is the sandbox limit it hit, if that is what ended it. The
	// wall clock is certain; the CPU limit is read from the signal;
	// memory and processes are inferred from stderr (a message, anywhere
	// in it, of an allocation or a fork that failed), since nothing else
	// records them.
	Limit Limit
	// Cause is the stderr line a memory or processes Limit was inferred
	// from.
	Cause string
	// Stderr holds the last lines of its stderr.
	Stderr []string
	// Duration is its wall-clock time, CPU its user plus system time.
	Duration, CPU time.Duration
}

// Exited says whether the process exited by itself, with a status.
func (e Exit) Exited() bool { return e.Code >= 0 && !e.Stopped && e.Limit == "" }

func (e Exit) String() string {
	s := "exited with status " + strconv.Itoa(e.Code)
	if e.Code < 0 {
		s = "killed by signal " + e.Signal.String()
	}
	switch {
	case e.Stopped:
		s = "stopped (" + s + ")"
	case e.Limit != "" && e.Cause != "":
		s = fmt.Sprintf("hit the sandbox's %s limit (%s: %q)", e.Limit, s, e.Cause)
	case e.Limit != "":
		s = fmt.Sprintf("hit the sandbox's %s limit (%s)", e.Limit, s)
	}
	return s
}

// Start starts the command. The process runs until it exits, ctx is done
// (then it is stopped as by Stop), or Sandbox.WallClock has passed.
// Read Stdout to its end, then call Wait.
func (c *Command) Start(ctx context.Context) (*Process, error) {
	argv, err := c.argv()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	path := argv[0]
	if lp, err := exec.LookPath(path); err == nil {
		path = lp
	} else {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   argv,
		Env:    append([]string{}, c.Env...), // not nil: nil inherits the host's
		Dir:    c.Dir,
		Stdout: outW,
		Stderr: errW,
		// Stdin nil is /dev/null.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	grace := c.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	n := c.StderrLines
	if n <= 0 {
		n = DefaultStderrLines
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Process{
		cmd:    cmd,
		pid:    cmd.Process.Pid,
		start:  time.Now(),
		grace:  grace,
		sb:     c.Sandbox,
		stdout: outR,
		stderr: errR,
		tail:   &tail{n: n, log: log.With("pid", cmd.Process.Pid)},
		exited: make(chan struct{}),
		done:   make(chan struct{}),
	}
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		p.tail.read(errR)
	}()
	go p.watch(ctx)
	go p.wait(stderrDone)
	return p, nil
}

// PID returns the process's id, which is also its process group's.
func (p *Process) PID() int { return p.pid }

// Stdout returns the process's standard output. It ends once the process
// has exited and what it wrote is read.
func (p *Process) Stdout() io.Reader { return stdoutReader{p} }

type stdoutReader struct{ p *Process }

func (r stdoutReader) Read(b []byte) (int, error) {
	select {
	case <-r.p.exited:
		// Only a process that left the group can still write: read what
		// is there, and stop when nothing comes for a while.
		_ = r.p.stdout.SetReadDeadline(time.Now().Add(orphanWait))
	default:
	}
	n, err := r.p.stdout.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, io.EOF
	}
	return n, err
}

func (p *Process) addLeft(ps []proc) {
	p.leftMu.Lock()
	defer p.leftMu.Unlock()
	for _, n := range ps {
		if !slices.Contains(p.left, n) {
			p.left = append(p.left, n)
		}
	}
}

func (p *Process) leftOver() []proc {
	p.leftMu.Lock()
	defer p.leftMu.Unlock()
	return slices.Clone(p.left)
}

// Stop stops the process: SIGTERM to its group and to every process
// below it (some CLIs run tools in groups of their own), SIGKILL after
// the grace period. It returns at once; Wait waits for the end.
func (p *Process) Stop() { p.stop(stoppedByCaller) }

// Wait waits for the process to end, and for its group and what a stop
// found below it in other groups to be gone (up to a second for those),
// and returns how it ended. It closes Stdout: call it once done reading.
func (p *Process) Wait() Exit {
	<-p.done
	p.closeOut.Do(func() { p.stdout.Close() })
	return p.exit
}

// Done is closed when Wait's result is ready.
func (p *Process) Done() <-chan struct{} { return p.done }

func (p *Process) stop(why stopReason) {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			return // too late: it ended by itself
		default:
		}
		p.reason = why
		p.addLeft(descendants(p.pid))
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		signal(p.leftOver(), syscall.SIGTERM)
		go func() {
			t := time.NewTimer(p.grace)
			defer t.Stop()
			select {
			case <-t.C:
				p.addLeft(descendants(p.pid))
				_ = syscall.Kill(-p.pid, syscall.SIGKILL)
				signal(p.leftOver(), syscall.SIGKILL)
			case <-p.exited: // wait kills the rest
			}
		}()
	})
}

// watch stops the process when ctx is done or the wall clock has passed.
func (p *Process) watch(ctx context.Context) {
	var wall <-chan time.Time
	if p.sb != nil && p.sb.WallClock > 0 {
		t := time.NewTimer(p.sb.WallClock)
		defer t.Stop()
		wall = t.C
	}
	select {
	case <-ctx.Done():
		p.stop(stoppedByCaller)
	case <-wall:
		p.stop(stoppedByWallClock)
	case <-p.exited:
	}
}

func (p *Process) wait(stderrDone chan struct{}) {
	_ = p.cmd.Wait() // the state is in ProcessState
	close(p.exited)
	// Nothing of the CLI outlives it: its group, and what a stop found
	// below it in other groups, which Wait also waits to be gone.
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	left := p.leftOver()
	signal(left, syscall.SIGKILL)
	waitGone(left, orphanWait)
	// Set a deadline for a reader blocked now; stdoutReader sets one for
	// the later reads.
	_ = p.stdout.SetReadDeadline(time.Now().Add(orphanWait))
	_ = p.stderr.SetReadDeadline(time.Now().Add(orphanWait))
	<-stderrDone
	p.stderr.Close()

	ps := p.cmd.ProcessState
	ws, _ := ps.Sys().(syscall.WaitStatus)
	e := Exit{
		Code:     ps.ExitCode(),
		Stderr:   p.tail.get(),
		Duration: time.Since(p.start),
		CPU:      ps.UserTime() + ps.SystemTime(),
	}
	if ws.Signaled() {
		e.Signal = ws.Signal()
	}
	p.stopOnce.Do(func() {}) // no stop from now on: p.reason is final
	switch p.reason {
	case stoppedByCaller:
		e.Stopped = true
	case stoppedByWallClock:
		e.Limit = LimitWallClock
	default:
		if e.Code != 0 {
			p.tail.mu.Lock()
			oom, nproc := p.tail.oom, p.tail.nproc
			p.tail.mu.Unlock()
			e.Limit, e.Cause = limitHit(p.sb, e, oom, nproc)
		}
	}
	p.exit = e
	close(p.done)
}

// limitHit infers the rlimit a process that failed hit, if any, from
// how it ended and the first line of its stderr that said an allocation
// (oom) or a fork (nproc) failed; it returns the line it went by.
func limitHit(s *Sandbox, e Exit, oom, nproc string) (Limit, string) {
	if s == nil {
		return "", ""
	}
	// Processes that catch SIGXCPU, as Go's runtime does, get SIGKILL at
	// the hard limit. A shell reports a child's death by signal as 128+n.
	if s.CPUSeconds > 0 && (e.Signal == syscall.SIGXCPU || e.Code == 128+int(syscall.SIGXCPU) ||
		(e.Signal == syscall.SIGKILL && e.CPU >= time.Duration(s.CPUSeconds)*time.Second)) {
		return LimitCPU, ""
	}
	switch {
	case s.MemoryBytes > 0 && oom != "":
		return LimitMemory, oom
	case s.Processes > 0 && nproc != "":
		return LimitProcesses, nproc
	}
	return "", ""
}
