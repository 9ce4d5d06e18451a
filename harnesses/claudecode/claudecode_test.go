package claudecode_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/harnesses/claudecode"
	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/harnesstest"
)

// The parser on lines the pinned CLI printed (testdata: a shell tool
// call; a resumed session whose tool call was denied).
func TestParseRecorded(t *testing.T) {
	for _, c := range []struct {
		file  string
		kinds string
		check func(t *testing.T, evs []harness.Event)
	}{
		{"tool-call.jsonl", "started tool_call tool_result message usage completed", func(t *testing.T, evs []harness.Event) {
			tc, tr := evs[1].ToolCall, evs[2].ToolResult
			if tc.Name != "Bash" || string(tc.Input) != `{"command":"echo hi-there"}` || tr.ID != tc.ID || tr.Output != "hi-there" || tr.IsError {
				t.Errorf("tool call %+v, result %+v", tc, tr)
			}
			if c := evs[5].Completed; c.Result != "Tool result: hi-there" || c.Turns != 2 {
				t.Errorf("completed %+v", c)
			}
			if u := evs[4].Usage; u.Model != "sim-large" || u.InputTokens != 23949 || u.OutputTokens != 7 || u.CostUSD != 0.095936 {
				t.Errorf("usage %+v", u)
			}
		}},
		{"resume-denied.jsonl", "started tool_call permission_denied tool_result message usage completed", func(t *testing.T, evs []harness.Event) {
			d := evs[2].PermissionDenied
			if d.Tool != "Bash" || !strings.Contains(string(d.Input), "touch") || !strings.Contains(d.Reason, "needs approval") {
				t.Errorf("denial %+v", d)
			}
			if !evs[3].ToolResult.IsError {
				t.Errorf("the denied call's result is not an error: %+v", evs[3].ToolResult)
			}
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			evs := harnesstest.ParseFile(t, filepath.Join("testdata", c.file), claudecode.NewParser().Parse)
			if got := harnesstest.Kinds(evs); got != c.kinds {
				t.Fatalf("kinds %q, want %q", got, c.kinds)
			}
			c.check(t, evs)
		})
	}
}

func TestParseBadLines(t *testing.T) {
	p := claudecode.NewParser()
	for _, l := range []string{`{"type":"system","subtype":"init"}`, `{"type":"assistant","message":{"content":{"not":"a list"}}}`} {
		if _, err := p.Parse(harness.Line{Bytes: []byte(l), Object: true}); err == nil {
			t.Errorf("%s: no error", l)
		}
	}
	if evs, err := p.Parse(harness.Line{Bytes: []byte(`{"type":"stream_event","event":{}}`), Object: true}); err != nil || len(evs) != 0 {
		t.Errorf("a line of no interest: %v %v", evs, err)
	}
}

func newStack(t *testing.T) *gatewaytest.Stack {
	return gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Routes: []route.Rule{{Model: "claude-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}}},
	}})
}

// The real CLI, headless, through the gateway to the simulator: a shell
// tool call, then a second turn through resume that the CLI denies.
func TestRealCLI(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	req := harness.StartRequest{
		SessionID: "s1", Prompt: `Run it. [[sim tool=shell cmd="echo hi-there"]]`, Workdir: t.TempDir(), StateDir: t.TempDir(),
		CLIPath: filepath.Join(dir, "node_modules/.bin/claude"),
		Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key}, Model: "claude-sonnet-4-5",
		Instructions: "Be brief.", AllowedTools: []string{"Bash(echo *)"},
		Sandbox: &harness.Sandbox{WallClock: 2 * time.Minute},
	}
	ctx := context.Background()
	var first harnesstest.Recorder
	if err := harness.Start(ctx, claudecode.Adapter{}, req, first.Emit); err != nil {
		t.Fatal(err)
	}
	started := first.Find(harness.KindStarted)
	done := first.Find(harness.KindCompleted)
	if started == nil || done == nil || done.Completed.ExitCode != 0 || !strings.Contains(done.Completed.Result, "hi-there") {
		t.Fatalf("first turn: %s", first.Kinds())
	}
	if r := first.Find(harness.KindToolResult); r == nil || r.ToolResult.Output != "hi-there" {
		t.Fatalf("first turn, want the echo's result: %s", first.Kinds())
	}

	var second harnesstest.Recorder
	next := harness.ResumeRequest{StartRequest: req, HarnessSessionID: started.HarnessSessionID}
	next.Prompt = `Make a file. [[sim tool=shell cmd="touch made-by-claude"]]`
	if err := harness.Resume(ctx, claudecode.Adapter{}, next, second.Emit); err != nil {
		t.Fatal(err)
	}
	if s := second.Find(harness.KindStarted); s == nil || s.HarnessSessionID != started.HarnessSessionID {
		t.Fatalf("resume started another session: %s", second.Kinds())
	}
	d := second.Find(harness.KindPermissionDenied)
	if d == nil || d.PermissionDenied.Tool != "Bash" {
		t.Fatalf("second turn, want a denial: %s", second.Kinds())
	}
	if _, err := os.Stat(filepath.Join(req.Workdir, "made-by-claude")); err == nil {
		t.Fatal("the denied command ran")
	}
	for _, e := range append(first.Events, second.Events...) {
		if len(e.Raw) == 0 || !json.Valid(e.Raw) {
			t.Fatalf("%s event without its raw line", e.Kind)
		}
	}
}
