// Package opencode is the harness adapter for OpenCode: it runs
// `opencode run --format json PROMPT` headless, pointed at Switchyard's
// gateway, and maps its output lines to normalized harness events
// (sdk/harness).
//
// What it relies on, found by running the pinned CLI (opencode-ai
// 1.18.33; ../shared/notes/harness-clis.md, and testdata/ here):
//
//   - Its config is a file the adapter writes into the state directory,
//     named by OPENCODE_CONFIG: a provider "sy" using
//     @ai-sdk/openai-compatible with baseURL GATEWAY/v1 and the key from
//     the environment, the only provider enabled. XDG_DATA_HOME,
//     XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_STATE_HOME and HOME are all
//     under the state directory: its sessions live in XDG_DATA_HOME, so
//     `--session ID` finds them. It works in its process's directory
//     (no flag needed).
//   - Instructions go in a file named by the config's "instructions":
//     OpenCode adds it to its own system prompt ("Instructions from:
//     FILE" and the text).
//   - Every output line carries the sessionID. `text` lines are the
//     model's text parts, `tool_use` lines a tool call once it has
//     completed or failed (call and result in one line), `step_finish`
//     lines a model call's end (reason, tokens, cost), `error` lines the
//     CLI's own errors (an API error, say). A run ends when a step
//     finishes for another reason than calling tools.
//   - Resume is `opencode run --session ID NEXT`: the same session id.
package opencode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Name is the harness name agents give.
const Name = "opencode"

// Files the adapter writes into the state directory, and the provider
// the gateway is to OpenCode.
const (
	ConfigFile       = "switchyard-opencode.json"
	InstructionsFile = "switchyard-instructions.md"
	providerID       = "sy"
	// keyEnv is the variable the config's apiKey reads the gateway key from.
	keyEnv = "SWITCHYARD_GATEWAY_KEY"
)

// Adapter drives OpenCode. The zero value is ready to use.
type Adapter struct{}

var _ harness.Adapter = Adapter{}

// Describe implements harness.Adapter.
func (Adapter) Describe(context.Context) (harness.Info, error) {
	return harness.Info{Harness: Name, CLI: "opencode", Version: "1"}, nil
}

// Run implements harness.Adapter.
func (Adapter) Run(ctx context.Context, run *harness.Run, emit harness.Emit) error {
	cmd, err := Command(run)
	if err != nil {
		return err
	}
	return harness.Drive(ctx, cmd, NewParser().Parse, emit)
}

// Command is the CLI invocation for run. It writes the CLI's config
// file (ConfigFile, and InstructionsFile when there are instructions)
// into the run's state directory.
func Command(run *harness.Run) (*harness.Command, error) {
	r := &run.Request
	if r.Model == "" {
		// Through a custom provider OpenCode has no default model.
		return nil, fmt.Errorf("%w: model is empty: OpenCode needs a model name to ask the gateway for", harness.ErrInvalidRequest)
	}
	cfg, err := config(r)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("opencode state dir: %w", err)
	}
	if r.Instructions != "" {
		if err := os.WriteFile(filepath.Join(r.StateDir, InstructionsFile), []byte(r.Instructions), 0o600); err != nil {
			return nil, fmt.Errorf("write opencode instructions: %w", err)
		}
	}
	path := filepath.Join(r.StateDir, ConfigFile)
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("write opencode config: %w", err)
	}

	args := []string{"run", "--format", "json", "--model", providerID + "/" + r.Model}
	if run.Mode == harness.ModeResume {
		args = append(args, "--session", run.HarnessSessionID)
	}
	// After "--", a prompt that starts with "-" is not taken for a flag.
	args = append(args, "--", r.Prompt)

	env := harness.BaseEnv()
	// The agent's own variables first: ours, after them, win.
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		env = append(env, k+"="+r.Env[k])
	}
	env = append(env,
		"HOME="+r.StateDir,
		"XDG_DATA_HOME="+filepath.Join(r.StateDir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(r.StateDir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(r.StateDir, "cache"),
		"XDG_STATE_HOME="+filepath.Join(r.StateDir, "state"),
		"OPENCODE_CONFIG="+path,
		keyEnv+"="+r.Gateway.Key,
		"OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1", "OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
		"OPENCODE_DISABLE_LSP_DOWNLOAD=1", "OPENCODE_DISABLE_SHARE=1",
	)
	if perm := permission(r.AllowedTools, r.DisallowedTools); len(perm) > 0 {
		// The workdir's own opencode.json is merged over OPENCODE_CONFIG;
		// OPENCODE_PERMISSION is merged last, over it.
		b, err := json.Marshal(perm)
		if err != nil {
			return nil, err
		}
		env = append(env, "OPENCODE_PERMISSION="+string(b))
	}
	return &harness.Command{Path: r.CLIPath, Args: args, Env: env, Dir: r.Workdir, Sandbox: r.Sandbox}, nil
}

// config is the OpenCode config file Command writes for r.
func config(r *harness.StartRequest) ([]byte, error) {
	type model struct {
		Name string `json:"name"`
	}
	type providerConfig struct {
		NPM     string `json:"npm"`
		Name    string `json:"name"`
		Options struct {
			BaseURL string            `json:"baseURL"`
			APIKey  string            `json:"apiKey"`
			Headers map[string]string `json:"headers,omitempty"`
		} `json:"options"`
		Models map[string]model `json:"models"`
	}
	p := providerConfig{NPM: "@ai-sdk/openai-compatible", Name: "Switchyard", Models: map[string]model{r.Model: {Name: r.Model}}}
	p.Options.BaseURL = strings.TrimSuffix(r.Gateway.BaseURL, "/") + "/v1"
	p.Options.APIKey = "{env:" + keyEnv + "}"
	p.Options.Headers = r.Gateway.Headers
	cfg := struct {
		Schema           string            `json:"$schema"`
		Autoupdate       bool              `json:"autoupdate"`
		Share            string            `json:"share"`
		EnabledProviders []string          `json:"enabled_providers"`
		Provider         map[string]any    `json:"provider"`
		Model            string            `json:"model"`
		SmallModel       string            `json:"small_model"`
		Instructions     []string          `json:"instructions,omitempty"`
		Permission       rules             `json:"permission,omitempty"`
		MCP              map[string]server `json:"mcp,omitempty"`
	}{
		Schema: "https://opencode.ai/config.json", Share: "disabled",
		EnabledProviders: []string{providerID},
		Provider:         map[string]any{providerID: p},
		Model:            providerID + "/" + r.Model,
		// The title of a new session is asked of the same model.
		SmallModel: providerID + "/" + r.Model,
		Permission: permission(r.AllowedTools, r.DisallowedTools),
		MCP:        mcpConfig(r.MCPServers),
	}
	if r.Instructions != "" {
		cfg.Instructions = []string{filepath.Join(r.StateDir, InstructionsFile)}
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// server is an MCP server in OpenCode's config.
type server struct {
	Type        string            `json:"type"`
	URL         string            `json:"url,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	OAuth       *bool             `json:"oauth,omitempty"`
	Command     []string          `json:"command,omitempty"`
	Environment map[string]string `json:"environment,omitempty"`
}

// mcpConfig is the config's "mcp": remote servers by URL and headers,
// with OAuth off (credentials come in the headers: no OAuth discovery or
// browser flow, which a headless run cannot finish), local ones by their
// argv and environment. OpenCode names their tools SERVER_TOOL.
func mcpConfig(servers []harness.MCPServer) map[string]server {
	if len(servers) == 0 {
		return nil
	}
	m := map[string]server{}
	off := false
	for _, s := range servers {
		if s.URL != "" {
			m[s.Name] = server{Type: "remote", URL: s.URL, Headers: s.Headers, OAuth: &off}
		} else {
			m[s.Name] = server{Type: "local", Command: append([]string{s.Command}, s.Args...), Environment: s.Env}
		}
	}
	return m
}

// permission maps AllowedTools and DisallowedTools to OpenCode's
// "permission" config, whose rules are {permission: {pattern: action}}
// with the actions allow, ask and deny, and the last matching rule
// winning (so the order of keys matters: rules keeps it).
//
// A tool is NAME or NAME(PATTERN), PATTERN being OpenCode's (for bash, a
// glob on the command line: "bash(git *)"). NAME is OpenCode's permission
// key: bash, edit (which covers write and patch: those names map to it),
// read, glob, grep, list, task, webfetch, websearch, todowrite, skill,
// external_directory, or an MCP tool SERVER_TOOL (globs allowed, e.g.
// "github_*"); built-in names are matched case-insensitively ("Bash").
//
//   - Allowed NAME: {"NAME": "allow"}.
//   - Allowed NAME(PATTERN): {"NAME": {"*": "ask", "PATTERN": "allow"}}.
//     What is not allowed asks, and `opencode run` rejects what asks:
//     the tool call fails ("The user rejected permission...") and the
//     run ends there.
//   - Disallowed NAME: {"NAME": "deny"}: the tool is not offered to the
//     model at all.
//   - Disallowed NAME(PATTERN): {"NAME": {..., "PATTERN": "deny"}}, after
//     any allow, so that it wins: the call fails ("The user has specified
//     a rule which prevents you...") and the model goes on.
//
// By default `opencode run` allows every tool but external_directory
// (asks, so is rejected).
func permission(allowed, disallowed []string) rules {
	var perm rules
	add := func(spec, action string) {
		name, pattern := splitTool(spec)
		i := slices.IndexFunc(perm, func(r rule) bool { return r.key == name })
		if i < 0 {
			perm = append(perm, rule{key: name})
			i = len(perm) - 1
		}
		r := &perm[i]
		if pattern == "*" {
			// The whole tool: earlier patterns of it no longer matter.
			r.sub = rules{{key: "*", action: action}}
			return
		}
		if len(r.sub) == 0 && action == "allow" {
			r.sub = rules{{key: "*", action: "ask"}}
		}
		r.sub = slices.DeleteFunc(r.sub, func(s rule) bool { return s.key == pattern })
		r.sub = append(r.sub, rule{key: pattern, action: action})
	}
	for _, t := range allowed {
		add(t, "allow")
	}
	for _, t := range disallowed {
		add(t, "deny")
	}
	return perm
}

// builtin maps OpenCode's built-in permission keys, lower-cased, to
// themselves, and the edit tools to "edit".
var builtin = map[string]string{
	"bash": "bash", "edit": "edit", "write": "edit", "patch": "edit", "multiedit": "edit", "apply_patch": "edit",
	"read": "read", "glob": "glob", "grep": "grep", "list": "list", "task": "task", "webfetch": "webfetch",
	"websearch": "websearch", "codesearch": "codesearch", "todowrite": "todowrite", "todoread": "todoread",
	"skill": "skill", "lsp": "lsp", "question": "question", "external_directory": "external_directory",
	"doom_loop": "doom_loop",
}

// splitTool splits NAME(PATTERN) into the permission key and the
// pattern, "*" for a bare NAME.
func splitTool(spec string) (name, pattern string) {
	name, pattern = spec, "*"
	if i := strings.IndexByte(spec, '('); i > 0 && strings.HasSuffix(spec, ")") {
		name, pattern = spec[:i], spec[i+1:len(spec)-1]
	}
	name = strings.TrimSpace(name)
	if k, ok := builtin[strings.ToLower(name)]; ok {
		name = k
	}
	return name, pattern
}

// rules is an ordered JSON object: a permission key to its action (a
// rule with only {"*": action}) or to its own rules.
type rules []rule

type rule struct {
	key    string
	action string
	sub    rules
}

// MarshalJSON writes the rules as an object, in order.
func (rs rules) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(r.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		var v []byte
		switch {
		case r.sub == nil:
			v, err = json.Marshal(r.action)
		case len(r.sub) == 1 && r.sub[0].key == "*":
			v, err = json.Marshal(r.sub[0].action)
		default:
			v, err = r.sub.MarshalJSON()
		}
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Parser maps OpenCode's json lines to events. It remembers the session
// id (reported once, as started), the tool calls it has reported, the
// text of the latest assistant message (the final answer) and the
// number of model calls.
type Parser struct {
	session string
	calls   map[string]bool // callID -> tool_call emitted
	msgID   string          // the message text holds the text of
	text    strings.Builder
	steps   int
	blocked bool // a call of this step was rejected: the run ends with it
}

// NewParser returns a parser for one run.
func NewParser() *Parser { return &Parser{calls: map[string]bool{}} }

// line is the part of a json line the parser reads.
type line struct {
	Type      string          `json:"type"`
	SessionID string          `json:"sessionID"`
	Part      *part           `json:"part"`
	Error     json.RawMessage `json:"error"`
}

type part struct {
	MessageID string `json:"messageID"`
	// text
	Text string `json:"text"`
	// tool_use
	Tool   string `json:"tool"`
	CallID string `json:"callID"`
	State  struct {
		Status   string          `json:"status"`
		Input    json.RawMessage `json:"input"`
		Output   string          `json:"output"`
		Error    string          `json:"error"`
		Metadata struct {
			Exit *int `json:"exit"`
		} `json:"metadata"`
	} `json:"state"`
	// step_finish
	Reason string `json:"reason"`
	Tokens struct {
		Input     int64 `json:"input"`
		Output    int64 `json:"output"`
		Reasoning int64 `json:"reasoning"`
		Cache     struct {
			Read  int64 `json:"read"`
			Write int64 `json:"write"`
		} `json:"cache"`
	} `json:"tokens"`
	Cost float64 `json:"cost"`
}

// The texts OpenCode's permission errors start with: asked and rejected
// (`opencode run` rejects what asks; this exact text, with a period,
// also ends the run after the step), and denied by a rule.
const (
	rejected = "The user rejected permission to use this specific tool call"
	denied   = "The user has specified a rule which prevents you from using this specific tool call"
)

// Parse implements harness.ParseFunc.
func (p *Parser) Parse(l harness.Line) ([]harness.Event, error) {
	var v line
	if err := json.Unmarshal(l.Bytes, &v); err != nil {
		return nil, err
	}
	var out []harness.Event
	if p.session == "" {
		if v.SessionID == "" {
			return nil, fmt.Errorf("a %q line without a sessionID", v.Type)
		}
		p.session = v.SessionID
		out = append(out, harness.Event{Kind: harness.KindStarted, HarnessSessionID: v.SessionID})
	}
	needPart := func() error {
		if v.Part == nil {
			return fmt.Errorf("a %s line without its part", v.Type)
		}
		return nil
	}
	switch v.Type {
	case "text":
		if err := needPart(); err != nil {
			return nil, err
		}
		if v.Part.MessageID != p.msgID {
			p.msgID = v.Part.MessageID
			p.text.Reset()
		}
		p.text.WriteString(v.Part.Text)
		out = append(out, harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant, Text: v.Part.Text}})
	case "tool_use":
		if err := needPart(); err != nil {
			return nil, err
		}
		events, err := p.tool(v.Part)
		if err != nil {
			return nil, err
		}
		out = append(out, events...)
	case "step_finish":
		if err := needPart(); err != nil {
			return nil, err
		}
		pt := v.Part
		p.steps++
		out = append(out, harness.Event{Kind: harness.KindUsage, Usage: &harness.Usage{
			InputTokens: pt.Tokens.Input, OutputTokens: pt.Tokens.Output, ReasoningTokens: pt.Tokens.Reasoning,
			CacheReadTokens: pt.Tokens.Cache.Read, CacheWriteTokens: pt.Tokens.Cache.Write, CostUSD: pt.Cost}})
		// OpenCode calls the model again after "tool-calls" (and
		// "unknown"), unless a call was rejected; any other reason ends
		// the run.
		last := p.blocked || (pt.Reason != "tool-calls" && pt.Reason != "unknown")
		p.blocked = false
		if last {
			var result string
			if pt.MessageID == p.msgID {
				result = p.text.String()
			}
			out = append(out, harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: result, Turns: p.steps}})
		}
	case "error":
		out = append(out, harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: errorMessage(v.Error)}})
	}
	// step_start, reasoning (with --thinking) and lines of later
	// versions: nothing but the session id.
	return out, nil
}

// tool maps a tool_use line: the call, once, then its result when it
// has one (the json format prints a call once it has completed or
// failed); a call the permissions refused is also a permission_denied.
func (p *Parser) tool(pt *part) ([]harness.Event, error) {
	if pt.CallID == "" || pt.Tool == "" {
		return nil, fmt.Errorf("a tool_use line without its tool %q or callID %q", pt.Tool, pt.CallID)
	}
	var out []harness.Event
	if !p.calls[pt.CallID] {
		p.calls[pt.CallID] = true
		out = append(out, harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: pt.CallID, Name: pt.Tool, Input: pt.State.Input}})
	}
	switch pt.State.Status {
	case "completed":
		out = append(out, harness.Event{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{
			ID: pt.CallID, Output: pt.State.Output, ExitCode: pt.State.Metadata.Exit}})
	case "error":
		if pt.State.Error == rejected+"." {
			p.blocked = true
		}
		if strings.HasPrefix(pt.State.Error, rejected) || strings.HasPrefix(pt.State.Error, denied) {
			out = append(out, harness.Event{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{
				Tool: pt.Tool, Input: pt.State.Input, Reason: pt.State.Error}})
		}
		out = append(out, harness.Event{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{
			ID: pt.CallID, Output: pt.State.Error, ExitCode: pt.State.Metadata.Exit, IsError: true}})
	}
	return out, nil
}

// errorMessage is the message of an error line's error: its
// data.message, else its name, else the error as JSON.
func errorMessage(raw json.RawMessage) string {
	var e struct {
		Name string `json:"name"`
		Data struct {
			Message string `json:"message"`
		} `json:"data"`
	}
	_ = json.Unmarshal(raw, &e)
	switch {
	case e.Data.Message != "" && e.Name != "":
		return e.Name + ": " + e.Data.Message
	case e.Data.Message != "":
		return e.Data.Message
	case e.Name != "":
		return e.Name
	case len(raw) > 0 && string(raw) != "null":
		return "opencode reported an error: " + string(raw)
	}
	return "opencode reported an error"
}
