//go:build linux

package harness_test

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
)

func sh(script string) *harness.Command {
	return &harness.Command{Path: "/bin/sh", Args: []string{"-c", script}, Env: harness.BaseEnv()}
}

func TestCommand(t *testing.T) {
	t.Parallel()
	t.Run("exit status, stderr tail, stdin, env, dir", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		c := sh(`cat; echo "home=$HOME"; pwd; for i in 1 2 3 4; do echo "e$i" >&2; done; exit 7`)
		c.Dir, c.StderrLines = dir, 2
		c.Env = append(c.Env, "X=1")
		p, err := c.Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.Stdout())
		exit := p.Wait()
		if got, want := string(out), "home=\n"+dir+"\n"; got != want {
			t.Errorf("stdout = %q, want %q", got, want)
		}
		if exit.Code != 7 || !exit.Exited() || exit.Stopped || exit.Limit != "" || !slices.Equal(exit.Stderr, []string{"e3", "e4"}) {
			t.Errorf("exit = %+v", exit)
		}
		if s := exit.String(); s != "exited with status 7" {
			t.Errorf("exit.String() = %q", s)
		}
	})
	t.Run("stop kills the group", func(t *testing.T) {
		t.Parallel()
		c := sh(`trap '' TERM; sleep 1000 & echo $$ $!; wait`)
		c.Grace = 200 * time.Millisecond
		p, err := c.Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for l, err := range harness.Lines(p.Stdout(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			first = string(l.Bytes)
			p.Stop()
		}
		exit := p.Wait()
		if !exit.Stopped || exit.Signal != syscall.SIGKILL || exit.Duration < c.Grace {
			t.Errorf("exit = %+v, want stopped by SIGKILL after the grace", exit)
		}
		var pids []int
		for f := range strings.FieldsSeq(first) {
			pid, _ := strconv.Atoi(f)
			pids = append(pids, pid)
		}
		waitGone(t, pids...)
	})
	t.Run("a process left behind is killed", func(t *testing.T) {
		t.Parallel()
		p, err := sh(`sleep 1000 & echo $!`).Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.Stdout())
		exit := p.Wait()
		pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if exit.Code != 0 || pid == 0 {
			t.Fatalf("exit %+v, out %q", exit, out)
		}
		waitGone(t, pid)
	})
	t.Run("output of a process that left the group ends", func(t *testing.T) {
		t.Parallel()
		// setsid takes the sleep out of the group, holding stdout open;
		// the shell waits until it has left.
		c := sh(`setsid sh -c 'echo > "$0"; exec sleep 1000' "$F" & while [ ! -s "$F" ]; do :; done; echo $!`)
		c.Env = append(c.Env, "F="+filepath.Join(t.TempDir(), "left"))
		p, err := c.Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := io.ReadAll(p.Stdout())
		p.Wait()
		// Read until nothing came for a second, not until the sleep ends.
		if took := time.Since(start); err != nil || took < 900*time.Millisecond || took > 5*time.Second {
			t.Errorf("reading took %v: %v", took, err)
		}
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(out))); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	t.Run("stop kills what left the group", func(t *testing.T) {
		t.Parallel()
		// As OpenCode runs its bash tool: in a session and group of its own.
		c := sh(`setsid sleep 1000 & echo $!; wait`)
		p, err := c.Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(p.Stdout()).ReadString('\n')
		pid, _ := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || pid == 0 {
			t.Fatalf("no pid: %q %v", line, err)
		}
		defer syscall.Kill(pid, syscall.SIGKILL)
		p.Stop()
		p.Wait()
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil && !strings.Contains(string(b), ") Z ") {
			t.Fatalf("the process outside the group outlived the stop: %s", b)
		}
	})
	t.Run("no prlimit", func(t *testing.T) {
		t.Parallel()
		c := sh("true")
		c.Sandbox = &harness.Sandbox{MemoryBytes: 1 << 30}
		c.Prlimit = filepath.Join(t.TempDir(), "prlimit")
		_, err := c.Start(ctxFor(t, 10*time.Second))
		if err == nil || !strings.Contains(err.Error(), "util-linux") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrapper", func(t *testing.T) {
		t.Parallel()
		c := sh(`echo "$0 $1"`)
		c.Args = append(c.Args, "arg")
		c.Sandbox = &harness.Sandbox{Wrapper: []string{"/usr/bin/env", "WRAPPED=yes"}}
		c.Args[1] = `echo "$WRAPPED"`
		p, err := c.Start(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.Stdout())
		if exit := p.Wait(); exit.Code != 0 || string(out) != "yes\n" {
			t.Errorf("exit %+v, out %q", exit, out)
		}
	})
}

// A parser that panics on a line costs that line (a non-fatal error),
// not the run.
func TestDriveParserPanic(t *testing.T) {
	t.Parallel()
	c := sh(`echo '{"n":1}'; echo '{"n":2}'`)
	var kinds []string
	parse := func(l harness.Line) ([]harness.Event, error) {
		if l.N == 1 {
			panic("a line it never saw before")
		}
		return []harness.Event{{Kind: harness.KindStarted, HarnessSessionID: "h"}}, nil
	}
	err := harness.Drive(ctxFor(t, 10*time.Second), c, parse, func(e harness.Event) error {
		kinds = append(kinds, string(e.Kind))
		if e.Kind == harness.KindError && !strings.Contains(e.Error.Message, "parser panicked: a line it never saw before") {
			t.Errorf("error %q", e.Error.Message)
		}
		return nil
	})
	if err != nil || strings.Join(kinds, " ") != "error started completed" {
		t.Fatalf("err %v, events %v", err, kinds)
	}
}
