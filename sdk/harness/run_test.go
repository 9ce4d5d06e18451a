//go:build linux

package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
)

// conversation is a whole run of fakecli, one line of each kind.
var conversation = []string{
	`!init`,
	`{"type":"text","role":"assistant","text":"I will look."}`,
	`{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}`,
	`{"type":"tool_result","id":"t1","output":"a.go\n","exit_code":0}`,
	`{"type":"denied","tool":"Bash","input":{"command":"rm -rf /"},"reason":"not allowed"}`,
	`{"type":"result","result":"done","turns":2,"usage":{"model":"m1","input_tokens":10,"output_tokens":5,"cost_usd":0.01}}`,
}

func TestRunEvents(t *testing.T) {
	t.Parallel()
	lines := append(slices.Clone(conversation), "!env FAKE_API_KEY", "!env HOME", "!env GOPATH", "!stdin")
	req := request(t, script(lines...))
	var rec recorder
	if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
		t.Fatal(err)
	}
	events := rec.all()
	want := []harness.Kind{
		harness.KindStarted, harness.KindMessage, harness.KindToolCall, harness.KindToolResult,
		harness.KindPermissionDenied, harness.KindUsage,
		harness.KindMessage, harness.KindMessage, harness.KindMessage, harness.KindMessage,
		harness.KindCompleted,
	}
	if got := kinds(events); !slices.Equal(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	for i, e := range events {
		if e.HarnessSessionID != "fake-s1" {
			t.Errorf("event %d (%s): harness session id %q, want fake-s1", i, e.Kind, e.HarnessSessionID)
		}
		if e.Time.IsZero() {
			t.Errorf("event %d (%s): no time", i, e.Kind)
		}
	}
	// Raw is the line each event came from; usage and completed share the result line.
	for i, line := range conversation[1:] {
		if got := string(events[i+1].Raw); got != line {
			t.Errorf("event %d raw = %s, want %s", i+1, got, line)
		}
	}
	if got := string(last(t, events).Raw); got != conversation[5] {
		t.Errorf("completed raw = %s, want the result line", got)
	}
	if tc := events[2].ToolCall; tc.ID != "t1" || tc.Name != "Bash" || string(tc.Input) != `{"command":"ls"}` {
		t.Errorf("tool call = %+v", tc)
	}
	if tr := events[3].ToolResult; tr.ExitCode == nil || *tr.ExitCode != 0 || tr.Output != "a.go\n" {
		t.Errorf("tool result = %+v", tr)
	}
	if u := events[5].Usage; u.Model != "m1" || u.InputTokens != 10 || u.OutputTokens != 5 || u.CostUSD != 0.01 {
		t.Errorf("usage = %+v", u)
	}
	texts := []string{"FAKE_API_KEY=key-s1", "HOME=" + req.StateDir, "GOPATH=", "stdin: 0 bytes"}
	for i, text := range texts {
		if got := events[6+i].Message.Text; got != text {
			t.Errorf("message %d = %q, want %q (the env is the adapter's only; stdin is /dev/null)", i, got, text)
		}
	}
	if c := last(t, events).Completed; *c != (harness.Completed{ExitCode: 0, Result: "done", Turns: 2}) {
		t.Errorf("completed = %+v", c)
	}
}

func TestRunOutputProblems(t *testing.T) {
	t.Parallel()
	req := request(t, script(
		`!init`,
		`this is not JSON`,
		`[1,2,3]`,
		`{"type":"mystery"}`,
		`{"type":"error","message":"the model is sad","fatal":true}`,
		`!big 3000000`, // over the cap below
		`!big 100000`,  // fine
		`{"type":"result","result":"still done"}`,
	))
	var rec recorder
	a := adapter()
	a.MaxLineBytes = 1 << 20
	if err := harness.Start(ctxFor(t, 20*time.Second), a, req, rec.emit); err != nil {
		t.Fatal(err)
	}
	events := rec.all()
	want := []harness.Kind{
		harness.KindStarted, harness.KindError, harness.KindError, harness.KindError, harness.KindError,
		harness.KindError, harness.KindMessage, harness.KindCompleted,
	}
	if got := kinds(events); !slices.Equal(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	for i, e := range events[1:6] {
		if e.Error.Fatal {
			t.Errorf("error %d is fatal: %s", i, e.Error.Message)
		}
	}
	if raw := string(events[1].Raw); raw != `"this is not JSON"` {
		t.Errorf("garbage raw = %s, want it as a JSON string", raw)
	}
	if raw := string(events[2].Raw); raw != `[1,2,3]` {
		t.Errorf("array raw = %s", raw)
	}
	if msg := events[3].Error.Message; !strings.Contains(msg, `unknown line type "mystery"`) {
		t.Errorf("parse error = %q", msg)
	}
	if msg := events[4].Error.Message; msg != "the model is sad" {
		t.Errorf("CLI's error = %q", msg)
	}
	if msg := events[5].Error.Message; !strings.Contains(msg, "longer than 1048576 bytes") || events[5].Raw != nil {
		t.Errorf("long line error = %q, raw %d bytes", msg, len(events[5].Raw))
	}
	if n := len(events[6].Message.Text); n != 100000 {
		t.Errorf("the line after the long one has %d bytes of text", n)
	}
	if c := last(t, events).Completed; c.Result != "still done" || c.ExitCode != 0 {
		t.Errorf("completed = %+v", c)
	}
}

func TestRunMultiMegabyteLine(t *testing.T) {
	t.Parallel()
	req := request(t, script(`!init`, `!big 5000000`))
	var rec recorder
	if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
		t.Fatal(err)
	}
	events := rec.all()
	if got := kinds(events); !slices.Equal(got, []harness.Kind{harness.KindStarted, harness.KindMessage, harness.KindCompleted}) {
		t.Fatalf("kinds = %v", got)
	}
	if n := len(events[1].Message.Text); n != 5000000 {
		t.Errorf("text has %d bytes, want 5000000", n)
	}
}

func TestRunNonZeroExit(t *testing.T) {
	t.Parallel()
	req := request(t, script(`!init`, `!stderr first`, `!stderr boom: the API said no`, `!exit 3`))
	var rec recorder
	if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
		t.Fatal(err)
	}
	events := rec.all()
	if got := kinds(events); !slices.Equal(got, []harness.Kind{harness.KindStarted, harness.KindError, harness.KindCompleted}) {
		t.Fatalf("kinds = %v", got)
	}
	if e := events[1].Error; e.Fatal || !strings.Contains(e.Message, "exited with status 3") || !strings.Contains(e.Message, "boom: the API said no") {
		t.Errorf("error = %+v", e)
	}
	if c := events[2].Completed; c.ExitCode != 3 {
		t.Errorf("completed = %+v", c)
	}
}

func TestRunStartFails(t *testing.T) {
	t.Parallel()
	req := request(t, "!init")
	req.CLIPath = filepath.Join(t.TempDir(), "no-such-cli")
	var rec recorder
	err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit)
	if err == nil || !strings.Contains(err.Error(), "no-such-cli") {
		t.Fatalf("err = %v", err)
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("%d events", n)
	}
}

func TestRunInvalidRequest(t *testing.T) {
	t.Parallel()
	req := request(t, "!init")
	req.Gateway.Key = ""
	err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, (&recorder{}).emit)
	if !errors.Is(err, harness.ErrInvalidRequest) || !strings.Contains(err.Error(), "gateway.key") {
		t.Fatalf("err = %v", err)
	}
}

// stopScript starts a grandchild, then makes the CLI ignore SIGTERM.
var stopScript = script(`!init`, `!pid`, `!spawn`, `!ignore-term`, `!sleep 1h`)

// stopOnSpawn returns a recorder that cancels once the grandchild is
// spawned, and the pids it saw.
func stopOnSpawn(cancel context.CancelFunc) (*recorder, *[]int) {
	var pids []int
	rec := &recorder{on: func(e harness.Event) error {
		if pid, ok := systemPID(e, "pid"); ok {
			pids = append(pids, pid)
		}
		if pid, ok := systemPID(e, "spawned"); ok {
			pids = append(pids, pid)
			cancel()
		}
		return nil
	}}
	return rec, &pids
}

func TestRunStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(ctxFor(t, 20*time.Second))
	defer cancel()
	rec, pids := stopOnSpawn(cancel)
	a := adapter()
	err := harness.Start(ctx, a, request(t, stopScript), rec.emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(*pids) != 2 {
		t.Fatalf("pids = %v", *pids)
	}
	// The CLI ignored SIGTERM and got SIGKILL: Run returned after it died.
	if alive((*pids)[0]) {
		t.Errorf("the CLI %d outlived Run", (*pids)[0])
	}
	waitGone(t, *pids...)
	for _, e := range rec.all() {
		if e.Terminal() {
			t.Errorf("a stopped run emitted a terminal event: %+v", e)
		}
	}
}

func TestRunEmitFails(t *testing.T) {
	t.Parallel()
	var pids []int
	errFull := errors.New("the event store is full")
	rec := &recorder{on: func(e harness.Event) error {
		if pid, ok := systemPID(e, "spawned"); ok {
			pids = append(pids, pid)
			return errFull
		}
		return nil
	}}
	err := harness.Start(ctxFor(t, 20*time.Second), adapter(), request(t, script(`!init`, `!spawn`, `!big 1000000`, `!big 1000000`, `!sleep 1h`)), rec.emit)
	if !errors.Is(err, errFull) {
		t.Fatalf("err = %v", err)
	}
	waitGone(t, pids...)
}

func TestRunLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sandbox harness.Sandbox
		script  string
		limit   harness.Limit
	}{
		{"wall clock", harness.Sandbox{WallClock: 300 * time.Millisecond}, script(`!init`, `!sleep 1h`), harness.LimitWallClock},
		// Go reserves most of a GiB of address space at start.
		{"memory", harness.Sandbox{MemoryBytes: 1 << 30}, script(`!init`, `!alloc 2048`), harness.LimitMemory},
		{"cpu", harness.Sandbox{CPUSeconds: 1}, script(`!init`, `!busy`), harness.LimitCPU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := request(t, tt.script)
			req.Sandbox = &tt.sandbox
			var rec recorder
			if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
				t.Fatal(err)
			}
			events := rec.all()
			e := last(t, events)
			if e.Kind != harness.KindError || !e.Error.Fatal || e.Error.Limit != tt.limit {
				t.Fatalf("last event = %s %+v, want a fatal error with limit %s", e.Kind, e.Error, tt.limit)
			}
			if events[0].Kind != harness.KindStarted {
				t.Errorf("first event = %s", events[0].Kind)
			}
			t.Log(e.Error.Message)
		})
	}
	t.Run("within limits", func(t *testing.T) {
		t.Parallel()
		req := request(t, script(`!init`, `!alloc 64`))
		req.Sandbox = &harness.Sandbox{MemoryBytes: 1 << 30, CPUSeconds: 10, Processes: 10000, WallClock: time.Minute}
		var rec recorder
		if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
			t.Fatal(err)
		}
		if e := last(t, rec.all()); e.Kind != harness.KindCompleted || e.Completed.ExitCode != 0 {
			t.Fatalf("last event = %s %+v %+v", e.Kind, e.Error, e.Completed)
		}
	})
}

func TestResume(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t, 20*time.Second)
	req := request(t, script(`!init`, `{"type":"result","result":"one"}`))
	var first recorder
	if err := harness.Start(ctx, adapter(), req, first.emit); err != nil {
		t.Fatal(err)
	}
	id := first.all()[0].HarnessSessionID

	next := req
	next.Prompt = script(`!init`, `{"type":"result","result":"two"}`)
	var second recorder
	if err := harness.Resume(ctx, adapter(), harness.ResumeRequest{StartRequest: next, HarnessSessionID: id}, second.emit); err != nil {
		t.Fatal(err)
	}
	events := second.all()
	if events[0].Kind != harness.KindStarted || events[0].HarnessSessionID != id {
		t.Errorf("resumed run started as %+v, want session %s", events[0], id)
	}
	if c := last(t, events).Completed; c == nil || c.Result != "two" {
		t.Errorf("resumed run ended with %+v", last(t, events))
	}
	b, err := os.ReadFile(filepath.Join(req.StateDir, "sessions", id))
	if err != nil || strings.Count(string(b), "!init") != 2 {
		t.Errorf("the session's state holds %q (%v), want both prompts", b, err)
	}

	var unknown recorder
	err = harness.Resume(ctx, adapter(), harness.ResumeRequest{StartRequest: next, HarnessSessionID: "fake-nope"}, unknown.emit)
	if err != nil {
		t.Fatal(err)
	}
	events = unknown.all()
	if got := kinds(events); !slices.Equal(got, []harness.Kind{harness.KindError, harness.KindCompleted}) || events[1].Completed.ExitCode != 1 ||
		!strings.Contains(events[0].Error.Message, "no session fake-nope") {
		t.Errorf("resuming an unknown session: %v %+v", got, events)
	}
}

// TestEventJSON checks that events survive the trip through JSON that
// the plugin protocol makes.
func TestEventJSON(t *testing.T) {
	t.Parallel()
	req := request(t, script(conversation...))
	var rec recorder
	if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, rec.emit); err != nil {
		t.Fatal(err)
	}
	for _, e := range rec.all() {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back harness.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Errorf("round trip:\n%s\n%s", b, b2)
		}
		if err := back.Validate(); err != nil {
			t.Error(err)
		}
	}
}
