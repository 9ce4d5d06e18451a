package opencode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/harnesses/opencode"
	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/harnesstest"
)

// The parser on lines the pinned CLI printed against the gateway and
// its simulator (testdata):
//
//   - tool-call: a shell tool call, `echo hi-there`;
//   - resume: the same session resumed with --session, another echo;
//   - rejected: bash allowed only for "echo *", so `touch` asks, and
//     `opencode run` rejects it and ends the run;
//   - denied: bash denied for "touch *" (OPENCODE_PERMISSION), so the
//     call fails and the model answers;
//   - api-error: bash denied outright, so not offered, and the
//     simulator answers the shell directive with a 400;
//   - mcp: a call to the tool whoami of a local MCP server "loc".
func TestParseRecorded(t *testing.T) {
	const session = "ses_dc41e37f1ffeh15of5NJQla15f"
	for _, c := range []struct {
		file  string
		kinds string
		check func(t *testing.T, evs []harness.Event)
	}{
		{"tool-call.jsonl", "started tool_call tool_result usage message usage completed", func(t *testing.T, evs []harness.Event) {
			if evs[0].HarnessSessionID != session {
				t.Errorf("session %q", evs[0].HarnessSessionID)
			}
			tc, tr := evs[1].ToolCall, evs[2].ToolResult
			if tc.Name != "bash" || string(tc.Input) != `{"command":"echo hi-there"}` || tr.ID != tc.ID || tr.Output != "hi-there\n" ||
				tr.IsError || tr.ExitCode == nil || *tr.ExitCode != 0 {
				t.Errorf("tool call %+v, result %+v", tc, tr)
			}
			if u := evs[3].Usage; u.InputTokens != 7601 || u.OutputTokens != 4 || u.CostUSD != 0 {
				t.Errorf("usage %+v", u)
			}
			if m := evs[4].Message; m.Role != harness.RoleAssistant || m.Text != "Tool result: hi-there\n" {
				t.Errorf("message %+v", m)
			}
			if c := evs[6].Completed; c.Result != "Tool result: hi-there\n" || c.Turns != 2 {
				t.Errorf("completed %+v", c)
			}
		}},
		{"resume.jsonl", "started tool_call tool_result usage message usage completed", func(t *testing.T, evs []harness.Event) {
			if evs[0].HarnessSessionID != session {
				t.Errorf("resumed session %q, want %q", evs[0].HarnessSessionID, session)
			}
			if c := evs[6].Completed; c.Result != "Tool result: second-turn\n" || c.Turns != 2 {
				t.Errorf("completed %+v", c)
			}
		}},
		{"rejected.jsonl", "started tool_call permission_denied tool_result usage completed", func(t *testing.T, evs []harness.Event) {
			d, tr := evs[2].PermissionDenied, evs[3].ToolResult
			if d.Tool != "bash" || string(d.Input) != `{"command":"touch made-by-oc"}` || !strings.Contains(d.Reason, "rejected permission") {
				t.Errorf("denial %+v", d)
			}
			if !tr.IsError || tr.ID != evs[1].ToolCall.ID || tr.Output != d.Reason {
				t.Errorf("the rejected call's result %+v", tr)
			}
			// The rejection ends the run after its step.
			if c := evs[5].Completed; c.Result != "" || c.Turns != 1 {
				t.Errorf("completed %+v", c)
			}
		}},
		{"denied.jsonl", "started tool_call permission_denied tool_result usage message usage completed", func(t *testing.T, evs []harness.Event) {
			if d := evs[2].PermissionDenied; d.Tool != "bash" || !strings.Contains(d.Reason, "specified a rule") {
				t.Errorf("denial %+v", d)
			}
			if c := evs[7].Completed; !strings.HasPrefix(c.Result, "Tool result: The user has specified a rule") {
				t.Errorf("completed %+v", c)
			}
		}},
		{"api-error.jsonl", "started error", func(t *testing.T, evs []harness.Event) {
			if e := evs[1].Error; e.Fatal || !strings.HasPrefix(e.Message, "APIError: no shell tool in the request") {
				t.Errorf("error %+v", e)
			}
		}},
		{"mcp.jsonl", "started tool_call tool_result usage message usage completed", func(t *testing.T, evs []harness.Event) {
			tc, tr := evs[1].ToolCall, evs[2].ToolResult
			if tc.Name != "loc_whoami" || string(tc.Input) != `{"who":"ana"}` || tr.Output != "mcp-envok says ana" || tr.ExitCode != nil {
				t.Errorf("tool call %+v, result %+v", tc, tr)
			}
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			evs := parseFile(t, c.file)
			var kinds []string
			for _, e := range evs {
				kinds = append(kinds, string(e.Kind))
			}
			if got := strings.Join(kinds, " "); got != c.kinds {
				t.Fatalf("kinds %q, want %q", got, c.kinds)
			}
			c.check(t, evs)
		})
	}
}

func parseFile(t *testing.T, name string) []harness.Event {
	return harnesstest.ParseFile(t, filepath.Join("testdata", name), opencode.NewParser().Parse)
}

func TestParseBadLines(t *testing.T) {
	parse := func(p *opencode.Parser, l string) ([]harness.Event, error) {
		return p.Parse(harness.Line{Bytes: []byte(l), Object: true})
	}
	if _, err := parse(opencode.NewParser(), `{"type":"step_start","part":{}}`); err == nil {
		t.Error("a first line without a sessionID: no error")
	}
	p := opencode.NewParser()
	if evs, err := parse(p, `{"type":"step_start","sessionID":"ses_1","part":{}}`); err != nil || len(evs) != 1 || evs[0].Kind != harness.KindStarted {
		t.Fatalf("first line: %v %v", evs, err)
	}
	for _, l := range []string{
		`{"type":"tool_use","sessionID":"ses_1","part":{"tool":"bash","state":{"status":"completed"}}}`,
		`{"type":"step_finish","sessionID":"ses_1","part":{"tokens":"many"}}`,
		`{"type":"text","sessionID":"ses_1"}`,
		`{"type":"text","sessionID":"ses_1","part":[]}`,
	} {
		if _, err := parse(p, l); err == nil {
			t.Errorf("%s: no error", l)
		}
	}
	for _, l := range []string{`{"type":"step_start","sessionID":"ses_1","part":{}}`, `{"type":"later","sessionID":"ses_1"}`} {
		if evs, err := parse(p, l); err != nil || len(evs) != 0 {
			t.Errorf("%s: %v %v, want no events (started comes once)", l, evs, err)
		}
	}
	evs, err := parse(p, `{"type":"error","sessionID":"ses_1","error":{"name":"UnknownError"}}`)
	if err != nil || len(evs) != 1 || evs[0].Error.Message != "UnknownError" {
		t.Errorf("error line: %v %v", evs, err)
	}
}

// The text of the last assistant message is the result: an earlier
// message's text is not.
func TestParseResult(t *testing.T) {
	p := opencode.NewParser()
	var last []harness.Event
	for _, l := range []string{
		`{"type":"text","sessionID":"s","part":{"messageID":"m1","text":"first"}}`,
		`{"type":"step_finish","sessionID":"s","part":{"messageID":"m1","reason":"tool-calls"}}`,
		`{"type":"text","sessionID":"s","part":{"messageID":"m2","text":"a"}}`,
		`{"type":"text","sessionID":"s","part":{"messageID":"m2","text":"b"}}`,
		`{"type":"step_finish","sessionID":"s","part":{"messageID":"m2","reason":"stop","tokens":{"input":3,"output":2,"reasoning":1,"cache":{"read":5,"write":4}},"cost":0.5}}`,
	} {
		evs, err := p.Parse(harness.Line{Bytes: []byte(l), Object: true})
		if err != nil {
			t.Fatal(err)
		}
		last = evs
	}
	if len(last) != 2 || last[1].Completed == nil || last[1].Completed.Result != "ab" || last[1].Completed.Turns != 2 {
		t.Fatalf("last line's events %+v", last)
	}
	if u := *last[0].Usage; u != (harness.Usage{InputTokens: 3, OutputTokens: 2, ReasoningTokens: 1, CacheReadTokens: 5, CacheWriteTokens: 4, CostUSD: 0.5}) {
		t.Errorf("usage %+v", u)
	}
}

func request(t *testing.T) harness.StartRequest {
	return harness.StartRequest{
		SessionID: "s1", Prompt: "-v is a prompt", Workdir: t.TempDir(), StateDir: filepath.Join(t.TempDir(), "state"),
		CLIPath: "/bin/opencode", Gateway: harness.Gateway{BaseURL: "http://127.0.0.1:9/", Key: "sk-test"}, Model: "oc-large",
		Env: map[string]string{"HOME": "/elsewhere", "FOO": "bar"},
	}
}

func TestCommand(t *testing.T) {
	for _, c := range []struct {
		name   string
		run    func(req harness.StartRequest) *harness.Run
		edit   func(req *harness.StartRequest)
		args   string
		config string // JSON the config file must hold (its other keys are not compared)
		perm   string // OPENCODE_PERMISSION, "" for none
	}{
		{
			name: "start", run: harness.NewStart,
			args: "run --format json --model sy/oc-large -- -v is a prompt",
			config: `{"provider":{"sy":{"npm":"@ai-sdk/openai-compatible","name":"Switchyard",
				"options":{"baseURL":"http://127.0.0.1:9/v1","apiKey":"{env:SWITCHYARD_GATEWAY_KEY}"},"models":{"oc-large":{"name":"oc-large"}}}},
				"enabled_providers":["sy"],"model":"sy/oc-large","small_model":"sy/oc-large","autoupdate":false,"share":"disabled"}`,
		},
		{
			name: "resume",
			run: func(req harness.StartRequest) *harness.Run {
				return harness.NewResume(harness.ResumeRequest{StartRequest: req, HarnessSessionID: "ses_abc"})
			},
			args: "run --format json --model sy/oc-large --session ses_abc -- -v is a prompt",
		},
		{
			name: "tools, instructions, MCP", run: harness.NewStart,
			edit: func(r *harness.StartRequest) {
				r.Instructions = "Be brief."
				r.AllowedTools = []string{"Bash(git *)", "bash(echo *)", "Read", "github_*"}
				r.DisallowedTools = []string{"bash(git push *)", "Write", "webfetch", "Bash(echo *)"}
				r.MCPServers = []harness.MCPServer{
					{Name: "github", URL: "https://mcp.example/x", Headers: map[string]string{"Authorization": "Bearer t"}},
					{Name: "loc", Command: "node", Args: []string{"srv.js", "--stdio"}, Env: map[string]string{"A": "1"}},
				}
			},
			args: "run --format json --model sy/oc-large -- -v is a prompt",
			config: `{"instructions":["STATE/switchyard-instructions.md"],
				"mcp":{"github":{"type":"remote","url":"https://mcp.example/x","headers":{"Authorization":"Bearer t"},"oauth":false},
				"loc":{"type":"local","command":["node","srv.js","--stdio"],"environment":{"A":"1"}}}}`,
			perm: `{"bash":{"*":"ask","git *":"allow","git push *":"deny","echo *":"deny"},"read":"allow","github_*":"allow","edit":"deny","webfetch":"deny"}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := request(t)
			if c.edit != nil {
				c.edit(&req)
			}
			cmd, err := opencode.Command(c.run(req))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(cmd.Args, " "); got != c.args {
				t.Errorf("args %q, want %q", got, c.args)
			}
			if cmd.Path != req.CLIPath || cmd.Dir != req.Workdir {
				t.Errorf("path %q, dir %q", cmd.Path, cmd.Dir)
			}
			env := map[string]string{}
			for _, kv := range cmd.Env {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v // the last one wins, as for the process
			}
			cfgPath := filepath.Join(req.StateDir, opencode.ConfigFile)
			for k, v := range map[string]string{
				"HOME": req.StateDir, "XDG_DATA_HOME": req.StateDir + "/data", "XDG_CONFIG_HOME": req.StateDir + "/config",
				"XDG_CACHE_HOME": req.StateDir + "/cache", "XDG_STATE_HOME": req.StateDir + "/state",
				"OPENCODE_CONFIG": cfgPath, "SWITCHYARD_GATEWAY_KEY": "sk-test", "FOO": "bar",
				"OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_PERMISSION": c.perm,
			} {
				if env[k] != v {
					t.Errorf("env %s=%q, want %q", k, env[k], v)
				}
			}
			b, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			// The permission rules are ordered: compare the text.
			if c.perm != "" && !strings.Contains(compact(t, string(b)), `"permission":`+c.perm) {
				t.Errorf("config's permission is not %s:\n%s", c.perm, b)
			}
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if c.config != "" {
				if err := json.Unmarshal([]byte(strings.ReplaceAll(c.config, "STATE", req.StateDir)), &want); err != nil {
					t.Fatal(err)
				}
				for k, v := range want {
					if g, _ := json.Marshal(got[k]); compact(t, string(g)) != compact(t, mustJSON(t, v)) {
						t.Errorf("config %s = %s, want %s", k, g, mustJSON(t, v))
					}
				}
			}
			ins, err := os.ReadFile(filepath.Join(req.StateDir, opencode.InstructionsFile))
			if (req.Instructions != "") != (err == nil) || string(ins) != req.Instructions {
				t.Errorf("instructions file %q, %v", ins, err)
			}
		})
	}
}

func TestCommandNeedsModel(t *testing.T) {
	req := request(t)
	req.Model = ""
	if _, err := opencode.Command(harness.NewStart(req)); err == nil || !strings.Contains(err.Error(), "model") {
		t.Fatalf("no model: %v", err)
	}
}

// compact drops the spaces of a JSON text, and keeps its keys' order.
func compact(t *testing.T, s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newStack(t *testing.T) *gatewaytest.Stack {
	return gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Routes: []route.Rule{{Model: "oc-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}}},
	}})
}

// simRequest is a request the simulator received.
type simRequest struct {
	Path string `json:"path"`
	Body string `json:"body"`
}

func simRequests(t *testing.T, s *gatewaytest.Stack) []simRequest {
	t.Helper()
	res, err := http.Get(s.Sims["sim"].URL + "/sim/requests?limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Requests []simRequest }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v.Requests
}

// The real CLI, headless, through the gateway to the simulator: a shell
// tool call that the allowed tools let run, with instructions, then a
// second turn through resume whose command they don't allow, which
// `opencode run` rejects.
func TestRealCLI(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	const marker = "Be brief, SY-INSTRUCTIONS-7f3a."
	req := harness.StartRequest{
		SessionID: "s1", Prompt: `Run it. [[sim tool=shell cmd="echo hi-there"]]`, Workdir: t.TempDir(), StateDir: t.TempDir(),
		CLIPath: filepath.Join(dir, "node_modules/.bin/opencode"),
		Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key}, Model: "oc-large",
		Instructions: marker, AllowedTools: []string{"bash(echo *)"}, DisallowedTools: []string{"webfetch"},
		Sandbox: &harness.Sandbox{WallClock: 3 * time.Minute},
	}
	ctx := context.Background()
	var first harnesstest.Recorder
	if err := harness.Start(ctx, opencode.Adapter{}, req, first.Emit); err != nil {
		t.Fatal(err)
	}
	started := first.Find(harness.KindStarted)
	done := first.Events[len(first.Events)-1]
	if started == nil || !strings.HasPrefix(started.HarnessSessionID, "ses_") || done.Kind != harness.KindCompleted ||
		done.Completed.ExitCode != 0 || !strings.Contains(done.Completed.Result, "hi-there") || done.Completed.Turns != 2 {
		t.Fatalf("first turn: %s; last %+v", first.Kinds(), done.Completed)
	}
	if r := first.Find(harness.KindToolResult); r == nil || strings.TrimSpace(r.ToolResult.Output) != "hi-there" || r.ToolResult.IsError {
		t.Fatalf("first turn, want the echo's result: %s", first.Kinds())
	}
	// The instructions reach the model in the system prompt, and the
	// denied tool is not offered.
	var withTools int
	for _, r := range simRequests(t, s) {
		var body struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
			Tools []struct {
				Function struct{ Name string } `json:"function"`
			} `json:"tools"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || len(body.Tools) == 0 {
			continue // the title call has no tools
		}
		withTools++
		var names []string
		for _, tl := range body.Tools {
			names = append(names, tl.Function.Name)
		}
		if !slices.Contains(names, "bash") || slices.Contains(names, "webfetch") {
			t.Errorf("%s: tools %v, want bash and not webfetch", r.Path, names)
		}
		if sys, _ := body.Messages[0].Content.(string); body.Messages[0].Role != "system" || !strings.Contains(sys, marker) {
			t.Errorf("%s: the system prompt lacks the instructions", r.Path)
		}
	}
	if withTools != 2 {
		t.Errorf("%d model calls with tools, want 2 (the call, the answer)", withTools)
	}

	var second harnesstest.Recorder
	next := harness.ResumeRequest{StartRequest: req, HarnessSessionID: started.HarnessSessionID}
	next.Prompt = `Make a file. [[sim tool=shell cmd="touch made-by-opencode"]]`
	if err := harness.Resume(ctx, opencode.Adapter{}, next, second.Emit); err != nil {
		t.Fatal(err)
	}
	if s := second.Find(harness.KindStarted); s == nil || s.HarnessSessionID != started.HarnessSessionID {
		t.Fatalf("resume started another session: %s", second.Kinds())
	}
	d := second.Find(harness.KindPermissionDenied)
	if d == nil || d.PermissionDenied.Tool != "bash" || !strings.Contains(string(d.PermissionDenied.Input), "touch") {
		t.Fatalf("second turn, want a denial: %s", second.Kinds())
	}
	if last := second.Events[len(second.Events)-1]; last.Kind != harness.KindCompleted || last.Completed.ExitCode != 0 {
		t.Fatalf("second turn: %s", second.Kinds())
	}
	if _, err := os.Stat(filepath.Join(req.Workdir, "made-by-opencode")); err == nil {
		t.Fatal("the rejected command ran")
	}
	for _, e := range append(first.Events, second.Events...) {
		if len(e.Raw) == 0 || !json.Valid(e.Raw) {
			t.Fatalf("%s event without its raw line", e.Kind)
		}
	}
}
