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
			f, err := os.Open(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p := claudecode.NewParser()
			var evs []harness.Event
			var kinds []string
			for l, err := range harness.Lines(f, 0) {
				if err != nil {
					t.Fatal(err)
				}
				out, err := p.Parse(l)
				if err != nil {
					t.Fatalf("line %d: %v", l.N, err)
				}
				for _, e := range out {
					if err := e.Validate(); err != nil {
						t.Fatalf("line %d: %v", l.N, err)
					}
					evs = append(evs, e)
					kinds = append(kinds, string(e.Kind))
				}
			}
			if got := strings.Join(kinds, " "); got != c.kinds {
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

type recorder struct{ evs []harness.Event }

func (r *recorder) emit(e harness.Event) error { r.evs = append(r.evs, e); return nil }

func (r *recorder) kinds() string {
	var k []string
	for _, e := range r.evs {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, " ")
}

func (r *recorder) find(k harness.Kind) *harness.Event {
	for i := range r.evs {
		if r.evs[i].Kind == k {
			return &r.evs[i]
		}
	}
	return nil
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
	var first recorder
	if err := harness.Start(ctx, claudecode.Adapter{}, req, first.emit); err != nil {
		t.Fatal(err)
	}
	started := first.find(harness.KindStarted)
	done := first.find(harness.KindCompleted)
	if started == nil || done == nil || done.Completed.ExitCode != 0 || !strings.Contains(done.Completed.Result, "hi-there") {
		t.Fatalf("first turn: %s", first.kinds())
	}
	if r := first.find(harness.KindToolResult); r == nil || r.ToolResult.Output != "hi-there" {
		t.Fatalf("first turn, want the echo's result: %s", first.kinds())
	}

	var second recorder
	next := harness.ResumeRequest{StartRequest: req, HarnessSessionID: started.HarnessSessionID}
	next.Prompt = `Make a file. [[sim tool=shell cmd="touch made-by-claude"]]`
	if err := harness.Resume(ctx, claudecode.Adapter{}, next, second.emit); err != nil {
		t.Fatal(err)
	}
	if s := second.find(harness.KindStarted); s == nil || s.HarnessSessionID != started.HarnessSessionID {
		t.Fatalf("resume started another session: %s", second.kinds())
	}
	d := second.find(harness.KindPermissionDenied)
	if d == nil || d.PermissionDenied.Tool != "Bash" {
		t.Fatalf("second turn, want a denial: %s", second.kinds())
	}
	if _, err := os.Stat(filepath.Join(req.Workdir, "made-by-claude")); err == nil {
		t.Fatal("the denied command ran")
	}
	for _, e := range append(first.evs, second.evs...) {
		if len(e.Raw) == 0 || !json.Valid(e.Raw) {
			t.Fatalf("%s event without its raw line", e.Kind)
		}
	}
}
