// Package codex is the harness adapter for the Codex CLI: it runs
// `codex exec --json ... PROMPT` headless, pointed at Switchyard's
// gateway, and maps its output lines to normalized harness events
// (sdk/harness).
//
// What it relies on, found by running the pinned CLI (0.169.0;
// ../shared/notes/harness-clis.md, and testdata/ here):
//
//   - The gateway is a custom model provider set with -c flags
//     (OPENAI_BASE_URL is ignored): base_url is the gateway's /v1,
//     wire_api "responses", and the session's key is read from the
//     variable env_key names. CODEX_HOME (and HOME) is the session's
//     state directory: rollouts live under CODEX_HOME/sessions, so that
//     `codex exec resume ID` finds them.
//   - Lines: thread.started carries the native session (thread) id;
//     item.started and item.completed carry agent_message,
//     command_execution, file_change, mcp_tool_call and error items;
//     turn.completed carries the usage, turn.failed and `error` lines the
//     failures. No line carries the final answer: the completed event's
//     Result is the turn's last agent_message.
//   - Resume is `codex exec [OPTIONS] resume ID PROMPT`: the same thread
//     id, the history re-sent. `codex exec resume` takes neither -s nor
//     -C, but exec's options given before `resume` hold for it.
//
// # Sandbox
//
// The CLI runs the model's commands in its own sandbox, with the
// bubblewrap it ships (codex-resources/bwrap): the default, read-only,
// cannot edit the workspace, so the adapter asks for workspace-write
// (-s workspace-write, on resume too: a resumed thread is read-only
// again otherwise). That works in our containers, as root, without a
// bwrap installed: the workdir is writable, the rest of the file system
// read-only, and the network off, loopback included. A command that runs
// into the sandbox (a write outside the workdir, a connection) prints no
// command_execution item at all in this version: the model sees the
// failure, the event stream only the agent's answer (testdata/
// sandbox-denied.jsonl). The CLI's bwrap does not nest in a
// Request.Sandbox wrapper that is itself bwrap (it fails to exec its
// codex-linux-sandbox helper): with a wrapper, the adapter passes
// --dangerously-bypass-approvals-and-sandbox instead, leaving the
// confinement to the wrapper.
//
// The gateway key reaches the CLI in SWITCHYARD_GATEWAY_KEY, which the
// CLI would otherwise pass on to the model's commands (its default
// shell_environment_policy keeps it): the adapter excludes it.
//
// # Instructions, tools, MCP
//
//   - Instructions: -c developer_instructions=..., sent as the first part
//     of the developer message after Codex's own base prompt, once per
//     thread. (-c instructions=... would replace the base prompt.)
//   - Codex exec never asks for approval: every built-in tool runs, within
//     the sandbox. So AllowedTools naming a built-in tool (shell,
//     exec_command, write_stdin, apply_patch, web_search, view_image) is
//     already true, and a pattern such as "Bash(git *)" cannot be kept:
//     Codex has no per-tool or per-command allow-list, and the adapter
//     refuses the request rather than allow more than asked.
//     AllowedTools "mcp__SERVER__TOOL" become the server's enabled_tools
//     (only those tools are offered), DisallowedTools "mcp__SERVER__TOOL"
//     its disabled_tools. DisallowedTools removes shell (or exec_command:
//     features.shell_tool=false) and web_search (web_search="disabled");
//     no setting of this version removes apply_patch or view_image, so
//     those, like unknown names, are refused.
//   - MCP servers: mcp_servers.NAME.url (HTTP, with http_headers) or
//     command/args/env, with default_tools_approval_mode="approve" (or
//     calls fail with "requires approval"). Models Codex knows get MCP
//     tools behind its tool_search tool; others get them as a namespace
//     (mcp__NAME) directly.
package codex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Name is the harness name agents give.
const Name = "codex"

// KeyEnv is the variable the gateway key reaches the CLI in.
const KeyEnv = "SWITCHYARD_GATEWAY_KEY"

// provider is the id of the model provider the adapter configures.
const provider = "switchyard"

// Adapter drives the Codex CLI. The zero value is ready to use.
type Adapter struct{}

var _ harness.Adapter = Adapter{}

// Describe implements harness.Adapter.
func (Adapter) Describe(context.Context) (harness.Info, error) {
	return harness.Info{Harness: Name, CLI: "codex", Version: "1"}, nil
}

// Run implements harness.Adapter.
func (Adapter) Run(ctx context.Context, run *harness.Run, emit harness.Emit) error {
	cmd, err := Command(run)
	if err != nil {
		return err
	}
	return harness.Drive(ctx, cmd, NewParser().Parse, emit)
}

// features are turned off: they reach for OpenAI's services, or offer
// the model tools that make no sense headless.
var features = []string{"plugins", "remote_plugin", "apps", "api_key_model_discovery", "tool_suggest"}

// Command is the CLI invocation for run. It fails, wrapping
// harness.ErrInvalidRequest, on tool names or MCP server names Codex
// cannot take.
func Command(run *harness.Run) (*harness.Command, error) { return command(run, SystemBwrapTooOld) }

// command is Command, with the check of the system's bwrap given.
func command(run *harness.Run, systemBwrapTooOld func() string) (*harness.Command, error) {
	r := &run.Request
	// exec's options all come before `resume`, which takes them.
	args := []string{"exec", "--json", "--skip-git-repo-check", "-s", "workspace-write", "-C", r.Workdir}
	wrapped := r.Sandbox != nil && len(r.Sandbox.Wrapper) > 0
	if old := systemBwrapTooOld(); old != "" && !wrapped {
		return nil, fmt.Errorf("%w: Codex runs the model's commands under /usr/bin/bwrap when it exists, and %s is too old for it (every command would fail): run the agent in Switchyard's sandbox (sandbox: bwrap, or auto), which turns Codex's own off, or remove the system's bubblewrap",
			harness.ErrInvalidRequest, old)
	}
	if wrapped {
		// The host confines the CLI already (a bubblewrap of its own):
		// Codex's bwrap cannot nest in it (it fails to exec its
		// codex-linux-sandbox helper), so the host's sandbox is the one.
		args = []string{"exec", "--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "-C", r.Workdir}
	}
	for _, f := range features {
		args = append(args, "--disable", f)
	}
	set := func(key string, value any) {
		args = append(args, "-c", key+"="+toml(value))
	}
	set("analytics.enabled", false)
	set("check_for_update_on_startup", false)
	set("model_provider", provider)
	set("model_providers."+provider+".name", "Switchyard")
	set("model_providers."+provider+".base_url", strings.TrimSuffix(r.Gateway.BaseURL, "/")+"/v1")
	set("model_providers."+provider+".env_key", KeyEnv)
	set("model_providers."+provider+".wire_api", "responses")
	if len(r.Gateway.Headers) > 0 {
		set("model_providers."+provider+".http_headers", inlineTable(r.Gateway.Headers))
	}
	set("shell_environment_policy.exclude", []string{KeyEnv})
	if r.Instructions != "" {
		set("developer_instructions", r.Instructions)
	}
	tools, err := mapTools(r)
	if err != nil {
		return nil, err
	}
	for _, kv := range tools {
		set(kv.key, kv.value)
	}
	if r.Model != "" {
		args = append(args, "-m", r.Model)
	}
	if run.Mode == harness.ModeResume {
		args = append(args, "resume", run.HarnessSessionID)
	}
	// After --, a prompt that starts with - is not an option.
	args = append(args, "--", r.Prompt)

	env := harness.BaseEnv()
	// The agent's own variables first: ours, after them, win.
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		env = append(env, k+"="+r.Env[k])
	}
	env = append(env,
		"HOME="+r.StateDir,
		"CODEX_HOME="+r.StateDir,
		KeyEnv+"="+r.Gateway.Key,
	)
	return &harness.Command{Path: r.CLIPath, Args: args, Env: env, Dir: r.Workdir, Sandbox: r.Sandbox}, nil
}

type setting struct {
	key   string
	value any
}

// builtins are the names of Codex's built-in tools that AllowedTools
// may give: allowed already, since codex exec never asks.
var builtins = []string{"shell", "exec_command", "write_stdin", "apply_patch", "web_search", "view_image"}

// serverName is what can stand in a -c key path (split on dots) and in
// Codex's mcp__SERVER__TOOL names.
var serverName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// mapTools maps the MCP servers and the tool lists to config settings.
func mapTools(r *harness.StartRequest) ([]setting, error) {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", harness.ErrInvalidRequest, fmt.Sprintf(format, a...))
	}
	servers := map[string]bool{}
	for _, s := range r.MCPServers {
		if !serverName.MatchString(s.Name) || strings.Contains(s.Name, "__") {
			return nil, invalid("mcp server %q: codex takes names of letters, digits, _ and - (no __)", s.Name)
		}
		servers[s.Name] = true
	}
	// mcpTool splits mcp__SERVER__TOOL.
	mcpTool := func(field, name string) (server, tool string, ok bool, err error) {
		rest, found := strings.CutPrefix(name, "mcp__")
		if !found {
			return "", "", false, nil
		}
		server, tool, found = strings.Cut(rest, "__")
		switch {
		case !found || tool == "":
			return "", "", false, invalid("%s %q: name an MCP tool as mcp__SERVER__TOOL", field, name)
		case !servers[server]:
			return "", "", false, invalid("%s %q: no MCP server %q in the request", field, name, server)
		}
		return server, tool, true, nil
	}
	enabled, disabled := map[string][]string{}, map[string][]string{}
	var out []setting
	for _, name := range r.AllowedTools {
		server, tool, ok, err := mcpTool("allowed_tools", name)
		switch {
		case err != nil:
			return nil, err
		case ok:
			enabled[server] = append(enabled[server], tool)
		case !slices.Contains(builtins, name):
			return nil, invalid("allowed_tools %q: codex has no per-tool or per-command allow-list (it runs every built-in tool in its sandbox); give built-in names (%s) or mcp__SERVER__TOOL",
				name, strings.Join(builtins, ", "))
		}
	}
	for _, name := range r.DisallowedTools {
		server, tool, ok, err := mcpTool("disallowed_tools", name)
		switch {
		case err != nil:
			return nil, err
		case ok:
			disabled[server] = append(disabled[server], tool)
		case name == "shell" || name == "exec_command":
			out = append(out, setting{"features.shell_tool", false})
		case name == "web_search":
			out = append(out, setting{"web_search", "disabled"})
		default:
			return nil, invalid("disallowed_tools %q: codex can remove only shell (exec_command), web_search and MCP tools (mcp__SERVER__TOOL)", name)
		}
	}
	for _, s := range r.MCPServers {
		k := "mcp_servers." + s.Name + "."
		if s.URL != "" {
			out = append(out, setting{k + "url", s.URL})
			if len(s.Headers) > 0 {
				out = append(out, setting{k + "http_headers", inlineTable(s.Headers)})
			}
		} else {
			out = append(out, setting{k + "command", s.Command})
			if len(s.Args) > 0 {
				out = append(out, setting{k + "args", s.Args})
			}
			if len(s.Env) > 0 {
				out = append(out, setting{k + "env", inlineTable(s.Env)})
			}
		}
		// Otherwise calls fail: "requires approval".
		out = append(out, setting{k + "default_tools_approval_mode", "approve"})
		if t := enabled[s.Name]; len(t) > 0 {
			out = append(out, setting{k + "enabled_tools", t})
		}
		if t := disabled[s.Name]; len(t) > 0 {
			out = append(out, setting{k + "disabled_tools", t})
		}
	}
	return out, nil
}

// inlineTable is a TOML inline table of strings.
type inlineTable map[string]string

// toml writes v as a TOML value, which is how -c parses what follows
// the =. A JSON string (or array of strings) is a TOML basic string (or
// array): the same escapes.
func toml(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "true"
		}
		return "false"
	case inlineTable:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, jsonString(k)+" = "+jsonString(v[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = jsonString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return jsonString(v)
	}
	panic(fmt.Sprintf("codex: no TOML for %T", v))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// Parser maps the lines of `codex exec --json` to events. It remembers
// which items it reported the start of, so that each tool call comes
// once, and the turn's last answer, for the completed event.
type Parser struct {
	started map[string]bool // item id -> its tool_call was emitted
	last    string          // the turn's last agent_message
}

// NewParser returns a parser for one run.
func NewParser() *Parser { return &Parser{started: map[string]bool{}} }

// line is the part of a --json line the parser reads.
type line struct {
	Type     string `json:"type"`
	ThreadID string `json:"thread_id"`
	// error
	Message string `json:"message"`
	// turn.failed
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
	// turn.completed
	Usage *struct {
		InputTokens      int64 `json:"input_tokens"`
		CachedInput      int64 `json:"cached_input_tokens"`
		CacheWriteInput  int64 `json:"cache_write_input_tokens"`
		OutputTokens     int64 `json:"output_tokens"`
		ReasoningOutputs int64 `json:"reasoning_output_tokens"`
	} `json:"usage"`
	// item.started, item.updated, item.completed
	Item *item `json:"item"`
}

type item struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status"`
	// agent_message, reasoning
	Text string `json:"text"`
	// error
	Message string `json:"message"`
	// command_execution
	Command          string `json:"command"`
	AggregatedOutput string `json:"aggregated_output"`
	ExitCode         *int   `json:"exit_code"`
	// file_change
	Changes []struct {
		Path string `json:"path"`
		Kind string `json:"kind"`
	} `json:"changes"`
	// mcp_tool_call
	Server    string          `json:"server"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    *struct {
		Content    []block         `json:"content"`
		Structured json.RawMessage `json:"structured_content"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type block struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Parse implements harness.ParseFunc.
func (p *Parser) Parse(l harness.Line) ([]harness.Event, error) {
	var v line
	if err := json.Unmarshal(l.Bytes, &v); err != nil {
		return nil, err
	}
	switch v.Type {
	case "thread.started":
		if v.ThreadID == "" {
			return nil, errors.New("a thread.started line without a thread_id")
		}
		return []harness.Event{{Kind: harness.KindStarted, HarnessSessionID: v.ThreadID}}, nil
	case "turn.started":
		p.last = ""
		return nil, nil
	case "item.started", "item.completed":
		if v.Item == nil || v.Item.Type == "" {
			return nil, fmt.Errorf("an %s line without an item", v.Type)
		}
		return p.item(v.Type == "item.completed", v.Item)
	case "turn.completed":
		var out []harness.Event
		if u := v.Usage; u != nil {
			out = append(out, harness.Event{Kind: harness.KindUsage, Usage: &harness.Usage{
				InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, CacheReadTokens: u.CachedInput,
				CacheWriteTokens: u.CacheWriteInput, ReasoningTokens: u.ReasoningOutputs}})
		}
		// Codex prints no result line: the turn's end is the run's.
		out = append(out, harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: p.last}})
		return out, nil
	case "turn.failed":
		msg := "codex reported a failed turn"
		if v.Error != nil && v.Error.Message != "" {
			msg = "turn failed: " + v.Error.Message
		}
		return []harness.Event{errorEvent(msg)}, nil
	case "error":
		if v.Message == "" {
			return nil, errors.New("an error line without a message")
		}
		return []harness.Event{errorEvent(v.Message)}, nil
	}
	return nil, nil // item.updated, and lines of later versions
}

func errorEvent(msg string) harness.Event {
	return harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: msg}}
}

// item maps an item's start or completion.
func (p *Parser) item(completed bool, it *item) ([]harness.Event, error) {
	var call *harness.ToolCall
	switch it.Type {
	case "agent_message":
		if !completed {
			return nil, nil
		}
		p.last = it.Text
		return []harness.Event{{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant, Text: it.Text}}}, nil
	case "error":
		if !completed {
			return nil, nil
		}
		return []harness.Event{errorEvent(it.Message)}, nil
	case "command_execution":
		call = &harness.ToolCall{Name: "shell", Input: marshal(map[string]string{"command": it.Command})}
	case "file_change":
		call = &harness.ToolCall{Name: "file_change", Input: marshal(map[string]any{"changes": it.Changes})}
	case "mcp_tool_call":
		call = &harness.ToolCall{Name: "mcp__" + it.Server + "__" + it.Tool, Input: it.Arguments}
	default:
		return nil, nil // reasoning, todo_list, web_search, and items of later versions
	}
	if it.ID == "" {
		return nil, fmt.Errorf("a %s item without an id", it.Type)
	}
	call.ID = it.ID
	var out []harness.Event
	if !p.started[it.ID] {
		p.started[it.ID] = true
		out = append(out, harness.Event{Kind: harness.KindToolCall, ToolCall: call})
	}
	if !completed {
		return out, nil
	}
	delete(p.started, it.ID)
	res := &harness.ToolResult{ID: it.ID, IsError: it.Status == "failed" || it.Status == "declined"}
	switch it.Type {
	case "command_execution":
		res.Output, res.ExitCode = it.AggregatedOutput, it.ExitCode
		if it.ExitCode != nil && *it.ExitCode != 0 {
			res.IsError = true
		}
	case "file_change":
		var b strings.Builder
		for _, c := range it.Changes {
			fmt.Fprintf(&b, "%s %s\n", c.Kind, c.Path)
		}
		res.Output = b.String()
	case "mcp_tool_call":
		switch {
		case it.Error != nil:
			res.Output, res.IsError = it.Error.Message, true
		case it.Result != nil:
			var b strings.Builder
			for _, c := range it.Result.Content {
				if c.Type == "text" {
					b.WriteString(c.Text)
				}
			}
			res.Output = b.String()
			if res.Output == "" && len(it.Result.Structured) > 0 && string(it.Result.Structured) != "null" {
				res.Output = string(it.Result.Structured)
			}
		}
	}
	return append(out, harness.Event{Kind: harness.KindToolResult, ToolResult: res}), nil
}

func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v) // maps of strings and slices of structs of strings
	return b
}

// SystemBwrapTooOld returns the version of /usr/bin/bwrap when it is
// older than 0.9, and "" otherwise. Codex runs /usr/bin/bwrap, rather
// than the one it bundles, whenever it exists (strace shows the absolute
// path), and with Debian 12's 0.8 every command fails ("bwrap: execvp
// codex-linux-sandbox: No such file or directory"); 0.9 is where I
// expect it to work, untried here.
func SystemBwrapTooOld() string { return systemBwrapTooOld() }

// systemBwrapTooOld asks /usr/bin/bwrap once per process, not once per
// turn.
var systemBwrapTooOld = sync.OnceValue(func() string {
	out, err := exec.Command("/usr/bin/bwrap", "--version").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(out)) // "bubblewrap 0.8.0"
	var major, minor int
	if _, err := fmt.Sscanf(strings.TrimPrefix(v, "bubblewrap "), "%d.%d", &major, &minor); err != nil {
		return ""
	}
	if major == 0 && minor < 9 {
		return v
	}
	return ""
})
