package codex_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
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
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/harnesses/codex"
	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/harnesstest"
)

// mcpServerEnv makes the test binary an MCP server (see serveMCP).
const mcpServerEnv = "CODEX_TEST_MCP_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(mcpServerEnv) == "1" {
		serveMCP(os.Stdin, os.Stdout)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func parseFile(t *testing.T, name string) []harness.Event {
	return harnesstest.ParseFile(t, filepath.Join("testdata", name), codex.NewParser().Parse)
}

// The parser on lines the pinned CLI printed (testdata): a shell tool
// call; a resumed thread that adds a file with apply_patch; an MCP tool
// call; a turn the provider failed; a stream that was retried; a command
// the CLI's sandbox refused.
func TestParseRecorded(t *testing.T) {
	for _, c := range []struct {
		file  string
		kinds string
		check func(t *testing.T, evs []harness.Event)
	}{
		{"tool-call.jsonl", "started error tool_call tool_result message usage completed", func(t *testing.T, evs []harness.Event) {
			if id := evs[0].HarnessSessionID; id != "01a23be3-ac6d-7420-b7fb-08db943aa8e0" {
				t.Errorf("thread id %q", id)
			}
			if e := evs[1].Error; e.Fatal || !strings.Contains(e.Message, "Model metadata for `sim-large` not found") {
				t.Errorf("error item %+v", e)
			}
			tc, tr := evs[2].ToolCall, evs[3].ToolResult
			if tc.Name != "shell" || string(tc.Input) != `{"command":"/bin/bash -lc 'echo hi-there'"}` || tc.ID != "item_1" {
				t.Errorf("tool call %+v", tc)
			}
			if tr.ID != tc.ID || tr.Output != "hi-there\n" || tr.ExitCode == nil || *tr.ExitCode != 0 || tr.IsError {
				t.Errorf("tool result %+v", tr)
			}
			if m := evs[4].Message; m.Role != harness.RoleAssistant || !strings.HasPrefix(m.Text, "Tool result: ") {
				t.Errorf("message %+v", m)
			}
			if u := evs[5].Usage; u.InputTokens != 18956 || u.OutputTokens != 23 || u.CacheReadTokens != 0 {
				t.Errorf("usage %+v", u)
			}
			if c := evs[6].Completed; c.Result != evs[4].Message.Text {
				t.Errorf("completed %+v, want the last message as its result", c)
			}
		}},
		{"resume-file-change.jsonl", "started error tool_call tool_result message usage completed", func(t *testing.T, evs []harness.Event) {
			tc, tr := evs[2].ToolCall, evs[3].ToolResult
			if tc.Name != "file_change" || string(tc.Input) != `{"changes":[{"path":"/tmp/cx/rw/hello.txt","kind":"add"}]}` {
				t.Errorf("tool call %+v", tc)
			}
			if tr.ID != tc.ID || tr.Output != "add /tmp/cx/rw/hello.txt\n" || tr.IsError || tr.ExitCode != nil {
				t.Errorf("tool result %+v", tr)
			}
			if c := evs[6].Completed; !strings.Contains(c.Result, "A hello.txt") {
				t.Errorf("completed %+v", c)
			}
		}},
		{"mcp.jsonl", "started error tool_call tool_result message usage completed", func(t *testing.T, evs []harness.Event) {
			tc, tr := evs[2].ToolCall, evs[3].ToolResult
			if tc.Name != "mcp__tools__shout" || string(tc.Input) != `{"text":"hi there"}` {
				t.Errorf("tool call %+v", tc)
			}
			if tr.ID != tc.ID || tr.Output != "HI THERE" || tr.IsError {
				t.Errorf("tool result %+v", tr)
			}
		}},
		{"turn-failed.jsonl", "started error error error", func(t *testing.T, evs []harness.Event) {
			if e := evs[2].Error; !strings.Contains(e.Message, "Simulated error 400") || e.Fatal {
				t.Errorf("error line %+v", e)
			}
			if e := evs[3].Error; !strings.HasPrefix(e.Message, "turn failed: ") || !strings.Contains(e.Message, "Simulated error 400") {
				t.Errorf("turn.failed %+v", e)
			}
		}},
		{"retry.jsonl", "started error error message usage completed", func(t *testing.T, evs []harness.Event) {
			if e := evs[2].Error; !strings.HasPrefix(e.Message, "Reconnecting... 1/5") {
				t.Errorf("retry %+v", e)
			}
		}},
		// The refused command prints no item: only the answer tells.
		{"sandbox-denied.jsonl", "started error message usage completed", func(t *testing.T, evs []harness.Event) {
			if c := evs[4].Completed; !strings.Contains(c.Result, "Read-only file system") {
				t.Errorf("completed %+v", c)
			}
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			evs := parseFile(t, c.file)
			if got := harnesstest.Kinds(evs); got != c.kinds {
				t.Fatalf("kinds %q, want %q", got, c.kinds)
			}
			c.check(t, evs)
		})
	}
}

// A tool call is reported once, at item.started when there is one, and
// its result at item.completed, with the same id; an error status or
// exit code makes the result an error.
func TestParseToolCallOnce(t *testing.T) {
	lines := []string{
		`{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"false","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
		`{"type":"item.updated","item":{"id":"item_1","type":"command_execution","command":"false","aggregated_output":"","exit_code":null,"status":"in_progress"}}`,
		`{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"false","aggregated_output":"","exit_code":1,"status":"failed"}}`,
		// No item.started: the call comes with its result.
		`{"type":"item.completed","item":{"id":"item_2","type":"mcp_tool_call","server":"s","tool":"t","arguments":{},"result":null,"error":{"message":"boom"},"status":"failed"}}`,
	}
	p := codex.NewParser()
	var evs []harness.Event
	for i, l := range lines {
		out, err := p.Parse(harness.Line{N: i + 1, Bytes: []byte(l), Object: true})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, out...)
	}
	if got, want := harnesstest.Kinds(evs), "tool_call tool_result tool_call tool_result"; got != want {
		t.Fatalf("kinds %q, want %q", got, want)
	}
	if r := evs[1].ToolResult; r.ID != "item_1" || !r.IsError || r.ExitCode == nil || *r.ExitCode != 1 {
		t.Errorf("result %+v", r)
	}
	if c, r := evs[2].ToolCall, evs[3].ToolResult; c.Name != "mcp__s__t" || r.ID != "item_2" || !r.IsError || r.Output != "boom" {
		t.Errorf("call %+v, result %+v", c, r)
	}
}

func TestParseBadLines(t *testing.T) {
	p := codex.NewParser()
	for _, l := range []string{
		`{"type":"thread.started"}`,
		`{"type":"item.completed"}`,
		`{"type":"item.completed","item":"not an object"}`,
		`{"type":"item.started","item":{"type":"command_execution","command":"ls"}}`,
		`{"type":"error"}`,
		`{"type":"turn.completed","usage":{"input_tokens":"many"}}`,
	} {
		if _, err := p.Parse(harness.Line{Bytes: []byte(l), Object: true}); err == nil {
			t.Errorf("%s: no error", l)
		}
	}
	for _, l := range []string{`{"type":"turn.started"}`, `{"type":"item.completed","item":{"id":"item_3","type":"reasoning","text":"hm"}}`, `{"type":"thread.renamed","name":"x"}`} {
		if evs, err := p.Parse(harness.Line{Bytes: []byte(l), Object: true}); err != nil || len(evs) != 0 {
			t.Errorf("%s, a line of no interest: %v %v", l, evs, err)
		}
	}
}

func baseRequest() harness.StartRequest {
	return harness.StartRequest{
		SessionID: "s1", Prompt: "-p looks like a flag", Workdir: "/work/dir", StateDir: "/state/dir", CLIPath: "/bin/codex",
		Gateway: harness.Gateway{BaseURL: "http://127.0.0.1:4400/", Key: "sy-secret"}, Model: "gpt-5.5",
		Env: map[string]string{"FOO": "bar", "CODEX_HOME": "/elsewhere"},
	}
}

// The argv, start and resume: exec's options before `resume`, the
// prompt after --, the key only in the environment.
func TestCommand(t *testing.T) {
	common := []string{"exec", "--json", "--skip-git-repo-check", "-s", "workspace-write", "-C", "/work/dir",
		"--disable", "plugins", "--disable", "remote_plugin", "--disable", "apps",
		"--disable", "api_key_model_discovery", "--disable", "tool_suggest",
		"-c", "analytics.enabled=false", "-c", "check_for_update_on_startup=false",
		"-c", `model_provider="switchyard"`, "-c", `model_providers.switchyard.name="Switchyard"`,
		"-c", `model_providers.switchyard.base_url="http://127.0.0.1:4400/v1"`,
		"-c", `model_providers.switchyard.env_key="SWITCHYARD_GATEWAY_KEY"`,
		"-c", `model_providers.switchyard.wire_api="responses"`,
		"-c", `shell_environment_policy.exclude=["SWITCHYARD_GATEWAY_KEY"]`,
		"-m", "gpt-5.5"}
	req := baseRequest()
	for _, c := range []struct {
		name string
		run  *harness.Run
		want []string
	}{
		{"start", harness.NewStart(req), append(slices.Clone(common), "--", req.Prompt)},
		{"resume", harness.NewResume(harness.ResumeRequest{StartRequest: req, HarnessSessionID: "th-1"}),
			append(slices.Clone(common), "resume", "th-1", "--", req.Prompt)},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := codex.CommandOnAnyMachine(c.run)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cmd.Args, c.want) {
				t.Errorf("args\n%q\nwant\n%q", cmd.Args, c.want)
			}
			if cmd.Path != "/bin/codex" || cmd.Dir != "/work/dir" {
				t.Errorf("path %q, dir %q", cmd.Path, cmd.Dir)
			}
			env := strings.Join(cmd.Env, "\n")
			for _, kv := range []string{"HOME=/state/dir", "CODEX_HOME=/state/dir", "SWITCHYARD_GATEWAY_KEY=sy-secret", "FOO=bar"} {
				if !slices.Contains(cmd.Env, kv) {
					t.Errorf("env lacks %s:\n%s", kv, env)
				}
			}
			// Ours win: they come after the agent's.
			if strings.LastIndex(env, "CODEX_HOME=/state/dir") < strings.LastIndex(env, "CODEX_HOME=/elsewhere") {
				t.Errorf("the agent's CODEX_HOME wins:\n%s", env)
			}
			if strings.Contains(strings.Join(cmd.Args, " "), "sy-secret") {
				t.Error("the key is in the argv")
			}
		})
	}
}

// Instructions, tool lists and MCP servers become -c settings; what
// Codex cannot do is refused.
func TestCommandSettings(t *testing.T) {
	req := baseRequest()
	req.Instructions = "Be \"brief\".\nReally."
	req.AllowedTools = []string{"shell", "apply_patch", "mcp__remote__search"}
	req.DisallowedTools = []string{"web_search", "exec_command", "mcp__local__rm"}
	req.MCPServers = []harness.MCPServer{
		{Name: "remote", URL: "https://mcp.example/mcp", Headers: map[string]string{"Authorization": "Bearer t", "X-A": "1"}},
		{Name: "local", Command: "/bin/srv", Args: []string{"--stdio", `a "b"`}, Env: map[string]string{"K": "v"}},
	}
	cmd, err := codex.CommandOnAnyMachine(harness.NewStart(req))
	if err != nil {
		t.Fatal(err)
	}
	var settings []string
	for i, a := range cmd.Args {
		if a == "-c" {
			settings = append(settings, cmd.Args[i+1])
		}
	}
	for _, want := range []string{
		`developer_instructions="Be \"brief\".\nReally."`,
		`web_search="disabled"`,
		`features.shell_tool=false`,
		`mcp_servers.remote.url="https://mcp.example/mcp"`,
		`mcp_servers.remote.http_headers={ "Authorization" = "Bearer t", "X-A" = "1" }`,
		`mcp_servers.remote.default_tools_approval_mode="approve"`,
		`mcp_servers.remote.enabled_tools=["search"]`,
		`mcp_servers.local.command="/bin/srv"`,
		`mcp_servers.local.args=["--stdio", "a \"b\""]`,
		`mcp_servers.local.env={ "K" = "v" }`,
		`mcp_servers.local.default_tools_approval_mode="approve"`,
		`mcp_servers.local.disabled_tools=["rm"]`,
	} {
		if !slices.Contains(settings, want) {
			t.Errorf("no -c %s in\n%s", want, strings.Join(settings, "\n"))
		}
	}

	for _, c := range []struct {
		name string
		edit func(r *harness.StartRequest)
	}{
		{"a command pattern", func(r *harness.StartRequest) { r.AllowedTools = []string{"Bash(echo *)"} }},
		{"an unknown tool to remove", func(r *harness.StartRequest) { r.DisallowedTools = []string{"apply_patch"} }},
		{"an MCP tool of no server", func(r *harness.StartRequest) { r.AllowedTools = []string{"mcp__nope__x"} }},
		{"an MCP name without a tool", func(r *harness.StartRequest) { r.DisallowedTools = []string{"mcp__remote"} }},
		{"a server name with a dot", func(r *harness.StartRequest) { r.MCPServers = []harness.MCPServer{{Name: "a.b", URL: "http://x"}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := baseRequest()
			r.MCPServers = []harness.MCPServer{{Name: "remote", URL: "http://x"}}
			c.edit(&r)
			if _, err := codex.CommandOnAnyMachine(harness.NewStart(r)); !errors.Is(err, harness.ErrInvalidRequest) {
				t.Errorf("err %v, want ErrInvalidRequest", err)
			}
		})
	}
}

// newStack is a gateway in front of the simulator. apis limits the
// simulator's wire formats, so that calls are translated.
func newStack(t *testing.T, apis ...llm.API) *gatewaytest.Stack {
	return gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim", apis...)},
		Routes:    []route.Rule{{Model: "gpt-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}}},
	}})
}

func checkRaw(t *testing.T, evs []harness.Event) {
	t.Helper()
	for _, e := range evs {
		if len(e.Raw) == 0 || !json.Valid(e.Raw) {
			t.Fatalf("%s event without its raw line", e.Kind)
		}
	}
}

// The real CLI, headless, through the gateway to the simulator: a shell
// tool call, then a second turn through resume, on the same thread, that
// writes a file in the workdir (the sandbox lets it).
func TestRealCLI(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	req := harness.StartRequest{
		SessionID: "s1", Prompt: `Run it. [[sim tool=shell cmd="echo hi-there"]]`, Workdir: t.TempDir(), StateDir: t.TempDir(),
		CLIPath: filepath.Join(dir, "node_modules/.bin/codex"),
		Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key}, Model: "gpt-5.5",
		Instructions: "Be brief.", AllowedTools: []string{"shell"},
		Sandbox: &harness.Sandbox{WallClock: 2 * time.Minute},
	}
	if codex.SystemBwrapTooOld() != "" {
		harnesstest.HostBwrap(&req) // Codex's own sandbox cannot run here
	}
	ctx := context.Background()
	var first harnesstest.Recorder
	if err := harness.Start(ctx, codex.Adapter{}, req, first.Emit); err != nil {
		t.Fatal(err)
	}
	started := first.Find(harness.KindStarted)
	done := first.Find(harness.KindCompleted)
	if started == nil || done == nil || done.Completed.ExitCode != 0 || !strings.Contains(done.Completed.Result, "hi-there") {
		t.Fatalf("first turn: %s (%+v)", first.Kinds(), done.Completed)
	}
	call, res := first.Find(harness.KindToolCall), first.Find(harness.KindToolResult)
	if call == nil || res == nil || res.ToolResult.ID != call.ToolCall.ID || res.ToolResult.Output != "hi-there\n" ||
		res.ToolResult.ExitCode == nil || *res.ToolResult.ExitCode != 0 {
		t.Fatalf("first turn, want the echo's call and result: %s", first.Kinds())
	}
	if e := first.Find(harness.KindError); e != nil {
		t.Errorf("first turn: an error: %s", e.Error.Message)
	}
	if first.Find(harness.KindUsage) == nil {
		t.Errorf("first turn without usage: %s", first.Kinds())
	}

	var second harnesstest.Recorder
	next := harness.ResumeRequest{StartRequest: req, HarnessSessionID: started.HarnessSessionID}
	next.Prompt = `Make a file. [[sim tool=shell cmd="echo made > made-by-codex"]]`
	if err := harness.Resume(ctx, codex.Adapter{}, next, second.Emit); err != nil {
		t.Fatal(err)
	}
	if s := second.Find(harness.KindStarted); s == nil || s.HarnessSessionID != started.HarnessSessionID {
		t.Fatalf("resume started another thread: %s", second.Kinds())
	}
	if d := second.Find(harness.KindCompleted); d == nil || d.Completed.ExitCode != 0 {
		t.Fatalf("second turn: %s", second.Kinds())
	}
	if b, err := os.ReadFile(filepath.Join(req.Workdir, "made-by-codex")); err != nil || string(b) != "made\n" {
		t.Fatalf("the command did not write in the workdir: %q %v (%s)", b, err, second.Kinds())
	}
	if matches, _ := filepath.Glob(filepath.Join(req.StateDir, "sessions", "*", "*", "*", "*.jsonl")); len(matches) != 1 {
		t.Errorf("rollouts %v, want one for the thread", matches)
	}
	checkRaw(t, append(first.Events, second.Events...))
}

// An MCP server (this test binary) with an allow-list: the model is
// offered only the allowed tool, and its call's result comes back. The
// model name is one Codex does not know, so that the MCP tools are
// offered directly rather than behind tool_search; the gateway
// translates to Chat Completions, which flattens Codex's namespace of
// MCP tools into names the simulator can call (and cannot take Codex's
// web_search tool, which the request removes).
func TestRealCLIMCP(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, llm.APIOpenAIChat)
	req := harness.StartRequest{
		SessionID: "s1", Prompt: `Shout it. [[sim tool=mcp__tools__shout args='{"text":"hi there"}']]`,
		Workdir: t.TempDir(), StateDir: t.TempDir(), CLIPath: filepath.Join(dir, "node_modules/.bin/codex"),
		Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key}, Model: "sim-large",
		MCPServers:   []harness.MCPServer{{Name: "tools", Command: self, Env: map[string]string{mcpServerEnv: "1"}}},
		AllowedTools: []string{"mcp__tools__shout"},
		// Chat Completions has no web_search tool: the gateway refuses it.
		DisallowedTools: []string{"web_search"},
		Sandbox:         &harness.Sandbox{WallClock: 2 * time.Minute},
	}
	if codex.SystemBwrapTooOld() != "" {
		harnesstest.HostBwrap(&req)
	}
	var r harnesstest.Recorder
	if err := harness.Start(context.Background(), codex.Adapter{}, req, r.Emit); err != nil {
		t.Fatal(err)
	}
	call, res := r.Find(harness.KindToolCall), r.Find(harness.KindToolResult)
	if call == nil || res == nil || call.ToolCall.Name != "mcp__tools__shout" || string(call.ToolCall.Input) != `{"text":"hi there"}` ||
		res.ToolResult.ID != call.ToolCall.ID || res.ToolResult.Output != "HI THERE" || res.ToolResult.IsError {
		for _, e := range r.Events {
			t.Logf("%s", e.Raw)
		}
		t.Fatalf("want the MCP call and its result: %s %+v %+v", r.Kinds(), call, res)
	}
	if d := r.Find(harness.KindCompleted); d == nil || d.Completed.ExitCode != 0 || !strings.Contains(d.Completed.Result, "HI THERE") {
		t.Fatalf("completed: %s", r.Kinds())
	}
	// enabled_tools: whisper was not offered.
	resp, err := http.Get(s.Sims["sim"].URL + "/sim/requests?limit=10")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(b), "shout") || strings.Contains(string(b), "whisper") {
		t.Errorf("the requests do not offer shout alone: %v %.2000s", err, b)
	}
	checkRaw(t, r.Events)
}

// serveMCP is a minimal MCP server on stdio (newline-delimited
// JSON-RPC): the tools shout and whisper.
func serveMCP(in io.Reader, out io.Writer) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	enc := json.NewEncoder(out)
	textSchema := map[string]any{"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}, "required": []string{"text"}}
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				ProtocolVersion string `json:"protocolVersion"`
				Name            string `json:"name"`
				Arguments       struct {
					Text string `json:"text"`
				} `json:"arguments"`
			} `json:"params"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || m.ID == nil {
			continue // a notification
		}
		var result any
		switch m.Method {
		case "initialize":
			result = map[string]any{"protocolVersion": m.Params.ProtocolVersion, "capabilities": map[string]any{"tools": map[string]any{}},
				"serverInfo": map[string]any{"name": "shouter", "version": "1"}}
		case "tools/list":
			result = map[string]any{"tools": []any{
				map[string]any{"name": "shout", "description": "Upper-cases text", "inputSchema": textSchema},
				map[string]any{"name": "whisper", "description": "Lower-cases text", "inputSchema": textSchema},
			}}
		case "tools/call":
			text := strings.ToUpper(m.Params.Arguments.Text)
			if m.Params.Name == "whisper" {
				text = strings.ToLower(m.Params.Arguments.Text)
			}
			result = map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}}
		default:
			_ = enc.Encode(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "no method " + m.Method}})
			continue
		}
		_ = enc.Encode(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result})
	}
}

// Where the system's bwrap is too old for Codex's own sandbox, an
// unconfined run is refused with what to do, rather than run with every
// command failing.
func TestCommandRefusesOldSystemBwrap(t *testing.T) {
	old := codex.SystemBwrapTooOld()
	if old == "" {
		t.Skip("no old /usr/bin/bwrap here")
	}
	_, err := codex.Command(harness.NewStart(baseRequest()))
	if !errors.Is(err, harness.ErrInvalidRequest) || !strings.Contains(err.Error(), old) || !strings.Contains(err.Error(), "sandbox: bwrap") {
		t.Fatalf("err = %v", err)
	}
	req := baseRequest()
	harnesstest.HostBwrap(&req)
	cmd, err := codex.Command(harness.NewStart(req))
	if err != nil || !slices.Contains(cmd.Args, "--dangerously-bypass-approvals-and-sandbox") {
		t.Fatalf("wrapped: %v %v", cmd, err)
	}
}
