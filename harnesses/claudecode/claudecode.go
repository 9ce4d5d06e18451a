// Package claudecode is the harness adapter for Claude Code: it runs
// `claude -p PROMPT --output-format stream-json --verbose` headless,
// pointed at Switchyard's gateway, and maps its output lines to
// normalized harness events (sdk/harness).
//
// What it relies on, found by running the pinned CLI
// (../shared/notes/harness-clis.md, and testdata/ here):
//
//   - ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY point it at the gateway
//     with the session's key; CLAUDE_CONFIG_DIR is the session's state
//     directory, where its transcripts live, so `--resume ID` finds them.
//   - A `system`/`init` line carries the native session id; `assistant`
//     lines carry text and tool_use blocks; `user` lines carry
//     tool_result blocks; a `system`/`permission_denied` line is a tool
//     call the CLI refused; the `result` line ends the run with the final
//     answer, the number of turns, usage and cost.
//   - Resume is `claude -p NEXT --resume ID`: the same session id.
package claudecode

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Name is the harness name agents give.
const Name = "claude-code"

// Adapter drives Claude Code. The zero value is ready to use.
type Adapter struct{}

var _ harness.Adapter = Adapter{}

// Describe implements harness.Adapter.
func (Adapter) Describe(context.Context) (harness.Info, error) {
	return harness.Info{Harness: Name, CLI: "claude", Version: "1"}, nil
}

// Run implements harness.Adapter.
func (Adapter) Run(ctx context.Context, run *harness.Run, emit harness.Emit) error {
	cmd, err := Command(run)
	if err != nil {
		return err
	}
	return harness.Drive(ctx, cmd, NewParser().Parse, emit)
}

// Command is the CLI invocation for run.
func Command(run *harness.Run) (*harness.Command, error) {
	r := &run.Request
	args := []string{"-p", r.Prompt, "--output-format", "stream-json", "--verbose"}
	if r.Model != "" {
		args = append(args, "--model", r.Model)
	}
	if run.Mode == harness.ModeResume {
		args = append(args, "--resume", run.HarnessSessionID)
	}
	if r.Instructions != "" {
		args = append(args, "--append-system-prompt", r.Instructions)
	}
	if len(r.AllowedTools) > 0 {
		args = append(args, "--allowedTools", strings.Join(r.AllowedTools, ","))
	}
	if len(r.DisallowedTools) > 0 {
		args = append(args, "--disallowedTools", strings.Join(r.DisallowedTools, ","))
	}
	env := harness.BaseEnv()
	// The agent's own variables first: ours, after them, win.
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		env = append(env, k+"="+r.Env[k])
	}
	if len(r.MCPServers) > 0 {
		cfg, err := mcpConfig(r.MCPServers)
		if err != nil {
			return nil, err
		}
		args = append(args, "--mcp-config", cfg, "--strict-mcp-config")
		// Otherwise MCP tools hide behind its ToolSearch tool.
		env = append(env, "ENABLE_TOOL_SEARCH=false")
	}
	if h := r.Gateway.Headers; len(h) > 0 {
		// "Name: value" lines, sent with every model call.
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(h)) {
			lines = append(lines, k+": "+h[k])
		}
		env = append(env, "ANTHROPIC_CUSTOM_HEADERS="+strings.Join(lines, "\n"))
	}
	env = append(env,
		"HOME="+r.StateDir,
		"CLAUDE_CONFIG_DIR="+r.StateDir,
		"ANTHROPIC_BASE_URL="+strings.TrimSuffix(r.Gateway.BaseURL, "/"),
		"ANTHROPIC_API_KEY="+r.Gateway.Key,
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1",
	)
	return &harness.Command{Path: r.CLIPath, Args: args, Env: env, Dir: r.Workdir, Sandbox: r.Sandbox}, nil
}

// mcpConfig is --mcp-config's JSON for the servers.
func mcpConfig(servers []harness.MCPServer) (string, error) {
	type server struct {
		Type    string            `json:"type"`
		URL     string            `json:"url,omitempty"`
		Headers map[string]string `json:"headers,omitempty"`
		Command string            `json:"command,omitempty"`
		Args    []string          `json:"args,omitempty"`
		Env     map[string]string `json:"env,omitempty"`
	}
	m := map[string]server{}
	for _, s := range servers {
		if s.URL != "" {
			m[s.Name] = server{Type: "http", URL: s.URL, Headers: s.Headers}
		} else {
			m[s.Name] = server{Type: "stdio", Command: s.Command, Args: s.Args, Env: s.Env}
		}
	}
	b, err := json.Marshal(map[string]any{"mcpServers": m})
	return string(b), err
}

// Parser maps Claude Code's stream-json lines to events. It remembers
// tool calls' inputs, so that a permission denial can name what was
// refused.
type Parser struct {
	inputs map[string]json.RawMessage // tool_use id -> input
}

// NewParser returns a parser for one run.
func NewParser() *Parser { return &Parser{inputs: map[string]json.RawMessage{}} }

// line is the part of a stream-json line the parser reads.
type line struct {
	Type      string `json:"type"`
	Subtype   string `json:"subtype"`
	SessionID string `json:"session_id"`
	// Message is the model's or user's message (assistant, user), or
	// the reason of a system/permission_denied line.
	Message json.RawMessage `json:"message"`
	// system/permission_denied
	ToolName  string `json:"tool_name"`
	ToolUseID string `json:"tool_use_id"`
	// result
	Result    string  `json:"result"`
	IsError   bool    `json:"is_error"`
	NumTurns  int     `json:"num_turns"`
	TotalCost float64 `json:"total_cost_usd"`
	Usage     struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		CacheRead    int64 `json:"cache_read_input_tokens"`
		CacheWrite   int64 `json:"cache_creation_input_tokens"`
		Details      struct {
			Thinking int64 `json:"thinking_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
	ModelUsage     map[string]json.RawMessage `json:"modelUsage"`
	APIErrorStatus any                        `json:"api_error_status"`
	Errors         []string                   `json:"errors"`
}

type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// Parse implements harness.ParseFunc.
func (p *Parser) Parse(l harness.Line) ([]harness.Event, error) {
	var v line
	if err := json.Unmarshal(l.Bytes, &v); err != nil {
		return nil, err
	}
	switch v.Type {
	case "system":
		switch v.Subtype {
		case "init":
			if v.SessionID == "" {
				return nil, fmt.Errorf("an init line without a session_id")
			}
			return []harness.Event{{Kind: harness.KindStarted, HarnessSessionID: v.SessionID}}, nil
		case "permission_denied":
			var reason string
			_ = json.Unmarshal(v.Message, &reason)
			return []harness.Event{{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{
				Tool: v.ToolName, Input: p.inputs[v.ToolUseID], Reason: reason}}}, nil
		}
		return nil, nil
	case "assistant", "user":
		var m struct {
			Content json.RawMessage `json:"content"`
		}
		if err := json.Unmarshal(v.Message, &m); err != nil {
			return nil, fmt.Errorf("%s message: %w", v.Type, err)
		}
		return p.content(v.Type, m.Content)
	case "result":
		var out []harness.Event
		if v.IsError {
			msg := v.Result
			if msg == "" {
				msg = strings.Join(v.Errors, "; ")
			}
			if msg == "" {
				msg = "claude reported an error (" + v.Subtype + ")"
			}
			out = append(out, harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: msg}})
		}
		u := &harness.Usage{InputTokens: v.Usage.InputTokens, OutputTokens: v.Usage.OutputTokens,
			CacheReadTokens: v.Usage.CacheRead, CacheWriteTokens: v.Usage.CacheWrite,
			ReasoningTokens: v.Usage.Details.Thinking, CostUSD: v.TotalCost}
		if len(v.ModelUsage) == 1 {
			for m := range v.ModelUsage {
				u.Model = m
			}
		}
		out = append(out,
			harness.Event{Kind: harness.KindUsage, Usage: u},
			harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: v.Result, Turns: v.NumTurns}})
		return out, nil
	}
	return nil, nil // stream_event and lines of later versions: kept raw by nobody, harmless
}

// content maps a message's content blocks: text, tool calls, tool results.
func (p *Parser) content(role string, raw json.RawMessage) ([]harness.Event, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if raw[0] == '"' { // a plain string: the user's prompt echoed
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []harness.Event{{Kind: harness.KindMessage, Message: &harness.Message{Role: role, Text: s}}}, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, fmt.Errorf("message content: %w", err)
	}
	var out []harness.Event
	for _, b := range blocks {
		switch b.Type {
		case "text":
			out = append(out, harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: role, Text: b.Text}})
		case "tool_use":
			p.inputs[b.ID] = b.Input
			out = append(out, harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: b.ID, Name: b.Name, Input: b.Input}})
		case "tool_result":
			out = append(out, harness.Event{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{
				ID: b.ToolUseID, Output: resultText(b.Content), IsError: b.IsError}})
		}
	}
	return out, nil
}

// resultText is a tool result's content: a string, or text blocks.
func resultText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []block
	if json.Unmarshal(raw, &blocks) != nil {
		return string(raw)
	}
	var b strings.Builder
	for _, x := range blocks {
		if x.Type == "text" {
			b.WriteString(x.Text)
		}
	}
	return b.String()
}
