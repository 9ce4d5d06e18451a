// Package harness is the conformance suite every harness adapter must
// pass (sdk/harness), run against the real CLI through Switchyard's
// gateway, with the gateway's provider simulator answering: its prompt
// directives ([[sim tool=shell cmd="..."]], gateway/sim) make the model
// call the CLI's shell tool.
//
// The checks: a text turn; a shell tool call and its result; a denied
// tool that does not run; a second turn through the CLI's resume with the
// same session id; a run stopped mid-tool and then resumed; a CLI that
// exits non-zero; garbage on the CLI's stdout.
package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Config is an adapter under test and what the suite needs to drive it.
type Config struct {
	Adapter harness.Adapter
	// CLIPath is the real CLI; Gateway the gateway it calls, with a key.
	CLIPath string
	Gateway harness.Gateway
	// Model is what the CLI asks for; the gateway must route it to the
	// simulator.
	Model string
	// AllowShell lets the CLI run `echo` and `sleep` commands without
	// asking (AllowedTools): Claude Code needs ["Bash(echo *)", "Bash(sleep *)"].
	AllowShell []string
	// Deny makes the CLI refuse `touch FILE` (added to the request as it
	// is). DenialEvent says the CLI reports the refusal, which then must
	// come as a permission_denied event.
	Deny        func(*harness.StartRequest)
	DenialEvent bool
	// Timeout bounds each run. Default 3 minutes.
	Timeout time.Duration
	// Parallel runs the checks in parallel (a CLI light enough).
	Parallel bool
	// Prepare, if set, adjusts every request before it runs (a host
	// sandbox, say).
	Prepare func(*harness.StartRequest)
	// CallTags, if set, returns the tags of every model call the gateway
	// recorded for the key: the suite then checks that the CLI sent
	// Gateway.Headers (an x-switchyard-tags header) with its calls.
	CallTags func() []map[string]string
}

// Run runs every check as a subtest of t.
func Run(t *testing.T, c Config) {
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Minute
	}
	checks := []struct {
		name string
		f    func(*testing.T, Config)
	}{
		{"TextTurn", textTurn},
		{"ShellTool", shellTool},
		{"DeniedTool", deniedTool},
		{"ResumeSecondTurn", resumeSecondTurn},
		{"StopMidToolAndResume", stopAndResume},
		{"NonZeroExit", nonZeroExit},
		{"GarbageOnStdout", garbage},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if c.Parallel {
				t.Parallel()
			}
			ch.f(t, c)
		})
	}
}

func (c Config) request(t *testing.T, prompt string) harness.StartRequest {
	r := harness.StartRequest{
		SessionID: "conformance", Prompt: prompt, Workdir: t.TempDir(), StateDir: t.TempDir(),
		CLIPath: c.CLIPath, Gateway: c.Gateway, Model: c.Model, AllowedTools: c.AllowShell,
	}
	if c.Prepare != nil {
		c.Prepare(&r)
	}
	return r
}

// run is one run's events and how it ended.
type run struct {
	events []harness.Event
	err    error
}

func (r *run) kinds() string {
	var k []string
	for _, e := range r.events {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, " ")
}

func (r *run) find(k harness.Kind) *harness.Event {
	for i := range r.events {
		if r.events[i].Kind == k {
			return &r.events[i]
		}
	}
	return nil
}

func (r *run) last() *harness.Event {
	if len(r.events) == 0 {
		return nil
	}
	return &r.events[len(r.events)-1]
}

// start runs a request to its end (Start, or Resume when id is set),
// with onEvent, if set, seeing each event as it comes.
func (c Config) start(ctx context.Context, req harness.StartRequest, id string, onEvent func(harness.Event)) *run {
	r := &run{}
	emit := func(e harness.Event) error {
		r.events = append(r.events, e)
		if onEvent != nil {
			onEvent(e)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if id == "" {
		r.err = harness.Start(ctx, c.Adapter, req, emit)
	} else {
		r.err = harness.Resume(ctx, c.Adapter, harness.ResumeRequest{StartRequest: req, HarnessSessionID: id}, emit)
	}
	return r
}

// completed checks that the run ended by itself with exit status 0 and
// follows the contract: started first, every event with its raw line.
func completed(t *testing.T, r *run) *harness.Completed {
	t.Helper()
	if r.err != nil {
		t.Fatalf("run failed: %v (events: %s)", r.err, r.kinds())
	}
	if len(r.events) == 0 || r.events[0].Kind != harness.KindStarted || r.events[0].HarnessSessionID == "" {
		t.Fatalf("the first event is not started with the CLI's session id: %s", r.kinds())
	}
	for _, e := range r.events {
		if len(e.Raw) == 0 && !e.Terminal() && e.Kind != harness.KindError {
			t.Errorf("a %s event without its raw line", e.Kind)
		}
		if len(e.Raw) > 0 && !json.Valid(e.Raw) {
			t.Errorf("a %s event whose raw line is not JSON: %s", e.Kind, e.Raw)
		}
	}
	l := r.last()
	if l.Kind != harness.KindCompleted || l.Completed.ExitCode != 0 {
		t.Fatalf("the run did not complete with status 0: %s (last %+v)", r.kinds(), l)
	}
	return l.Completed
}

func textTurn(t *testing.T, c Config) {
	r := c.start(context.Background(), c.request(t, "Say hello to the conformance suite."), "", nil)
	done := completed(t, r)
	if m := r.find(harness.KindMessage); m == nil || !strings.Contains(m.Message.Text, "Simulated answer") {
		t.Fatalf("no assistant message with the simulator's answer: %s", r.kinds())
	}
	if !strings.Contains(done.Result, "Simulated answer") {
		t.Errorf("completed.result %q lacks the answer", done.Result)
	}
}

func shellTool(t *testing.T, c Config) {
	req := c.request(t, `Run it. [[sim tool=shell cmd="echo conformance-ok"]]`)
	mark := fmt.Sprintf("%x", time.Now().UnixNano())
	req.Gateway.Headers = map[string]string{"x-switchyard-tags": "conformance=" + mark}
	r := c.start(context.Background(), req, "", nil)
	completed(t, r)
	if c.CallTags != nil {
		n := 0
		for _, tags := range c.CallTags() {
			if tags["conformance"] == mark {
				n++
			}
		}
		if n < 2 {
			t.Errorf("%d model calls carry the header's tag conformance=%s, want the 2 calls of the turn: the CLI did not send Gateway.Headers", n, mark)
		}
	}
	call, res := r.find(harness.KindToolCall), r.find(harness.KindToolResult)
	if call == nil || res == nil {
		t.Fatalf("want a tool call and its result: %s", r.kinds())
	}
	if res.ToolResult.ID != call.ToolCall.ID {
		t.Errorf("result id %q does not pair with call id %q", res.ToolResult.ID, call.ToolCall.ID)
	}
	if !strings.Contains(res.ToolResult.Output, "conformance-ok") || res.ToolResult.IsError {
		t.Errorf("tool result %+v: want the echo's output", res.ToolResult)
	}
}

func deniedTool(t *testing.T, c Config) {
	req := c.request(t, `Make a file. [[sim tool=shell cmd="touch denied-file"]]`)
	c.Deny(&req)
	r := c.start(context.Background(), req, "", nil)
	if r.err != nil {
		t.Fatalf("run failed: %v (events: %s)", r.err, r.kinds())
	}
	if _, err := os.Stat(filepath.Join(req.Workdir, "denied-file")); err == nil {
		t.Fatal("the denied command ran: the file exists")
	}
	if c.DenialEvent && r.find(harness.KindPermissionDenied) == nil {
		t.Fatalf("no permission_denied event: %s", r.kinds())
	}
	if !r.last().Terminal() {
		t.Fatalf("the run did not end with a terminal event: %s", r.kinds())
	}
}

func resumeSecondTurn(t *testing.T, c Config) {
	req := c.request(t, "Remember the word pelican.")
	first := c.start(context.Background(), req, "", nil)
	completed(t, first)
	id := first.events[0].HarnessSessionID
	req.Prompt = "What was the word?"
	second := c.start(context.Background(), req, id, nil)
	completed(t, second)
	if got := second.events[0].HarnessSessionID; got != id {
		t.Fatalf("resume reported session %q, want %q", got, id)
	}
}

func stopAndResume(t *testing.T, c Config) {
	req := c.request(t, `Wait. [[sim tool=shell cmd="sleep 20"]]`)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// The stop comes once the command runs: found in /proc by its command
	// line and working directory (some CLIs report a tool call only once
	// it has finished).
	found := make(chan int, 1)
	var foundAt atomic.Int64
	watchCtx, unwatch := context.WithCancel(ctx)
	defer unwatch()
	go func() {
		for watchCtx.Err() == nil {
			if pid := findProcess(req.Workdir, "sleep\x0020"); pid > 0 {
				foundAt.Store(time.Now().UnixNano())
				found <- pid
				time.Sleep(500 * time.Millisecond)
				stop()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	first := c.start(ctx, req, "", nil)
	unwatch()
	if !errors.Is(first.err, context.Canceled) {
		var out string
		if r := first.find(harness.KindToolResult); r != nil {
			out = r.ToolResult.Output
		}
		t.Fatalf("a stopped run returned %v, want context.Canceled (events: %s; the tool said %q)", first.err, first.kinds(), out)
	}
	if l := first.last(); l != nil && l.Terminal() {
		t.Fatalf("a stopped run emitted a terminal event: %s", first.kinds())
	}
	// The run must end before the command would have (20 s; Claude Code
	// refuses longer sleeps): a CLI that waited for it did not stop.
	// Counted from when the command was seen, not from the start: a
	// loaded machine can take long to start a CLI.
	if at := foundAt.Load(); at != 0 && time.Since(time.Unix(0, at)) > 18*time.Second {
		t.Fatalf("the run ended %v after its command began: the CLI was not stopped mid-sleep", time.Since(time.Unix(0, at)))
	}
	select {
	case pid := <-found:
		if alive(pid) {
			t.Fatalf("the tool's command (pid %d) outlived the stopped run", pid)
		}
	default:
	}
	started := first.find(harness.KindStarted)
	if started == nil {
		t.Fatalf("the CLI never reported its session id: %s", first.kinds())
	}
	id := started.HarnessSessionID
	req.Prompt = "You were interrupted. Say hello instead."
	second := c.start(context.Background(), req, id, nil)
	completed(t, second)
	if got := second.events[0].HarnessSessionID; got != id {
		t.Fatalf("resume after a stop reported session %q, want %q", got, id)
	}
}

// findProcess returns a process whose command line (NUL-separated) is
// cmdline and whose working directory is dir, or 0.
func findProcess(dir, cmdline string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || strings.TrimRight(string(b), "\x00") != cmdline {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			return pid
		}
	}
	return 0
}

// alive reports whether pid runs (a zombie, dead but not reaped by a
// container's init, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// wrapper writes a shell script that runs the CLI within body ("$CLI"
// "$@" where it goes) and returns its path.
func wrapper(t *testing.T, cli, body string) string {
	p := filepath.Join(t.TempDir(), "cli-wrapper")
	script := fmt.Sprintf("#!/bin/sh\nCLI=%q\n%s\n", cli, body)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func nonZeroExit(t *testing.T, c Config) {
	req := c.request(t, "Say hello.")
	req.CLIPath = wrapper(t, c.CLIPath, `"$CLI" "$@"; echo "wrapper: failing on purpose" >&2; exit 3`)
	r := c.start(context.Background(), req, "", nil)
	if r.err != nil {
		t.Fatalf("run failed: %v (events: %s)", r.err, r.kinds())
	}
	l := r.last()
	if l.Kind != harness.KindCompleted || l.Completed.ExitCode != 3 {
		t.Fatalf("want completed with exit status 3 last: %s (%+v)", r.kinds(), l)
	}
	e := r.find(harness.KindError)
	if e == nil || !strings.Contains(e.Error.Message, "failing on purpose") {
		t.Fatalf("want an error event quoting the CLI's stderr: %s", r.kinds())
	}
}

func garbage(t *testing.T, c Config) {
	req := c.request(t, "Say hello.")
	req.CLIPath = wrapper(t, c.CLIPath, `echo 'this is not JSON'; echo '[1,2,3]'; exec "$CLI" "$@"`)
	r := c.start(context.Background(), req, "", nil)
	if r.err != nil {
		t.Fatalf("run failed: %v (events: %s)", r.err, r.kinds())
	}
	var garbage int
	for _, e := range r.events {
		if e.Kind == harness.KindError && !e.Error.Fatal && len(e.Raw) > 0 {
			garbage++
		}
	}
	if garbage < 2 {
		t.Fatalf("want a non-fatal error with its raw line for each garbage line: %s", r.kinds())
	}
	if l := r.last(); l.Kind != harness.KindCompleted || l.Completed.ExitCode != 0 {
		t.Fatalf("the run did not go on past the garbage: %s", r.kinds())
	}
	if r.find(harness.KindStarted) == nil {
		t.Fatalf("no started event: %s", r.kinds())
	}
}
