// Package agent holds agents: declarative definitions of what a session
// runs (which harness, which model, which instructions, tools, MCP
// servers, budget, workspace and limits).
//
// An agent's definition lives in the event log, on the stream
// "agent-<name>": agent.applied carries the whole definition each time it
// changes, agent.deleted ends it. The Registry is a projection of those
// events, so the current set of agents is rebuilt on start-up and every
// change to an agent, with who made it, is in its history.
package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/core/config"
)

// Harnesses are the harness names a definition may give.
var Harnesses = []string{"claude-code", "codex", "opencode"}

// Definition is an agent. JSON is its native form; `switchyard apply -f`
// also reads it from YAML.
type Definition struct {
	// Name is unique: lower-case letters, digits and dashes, starting with
	// a letter, at most 63 characters.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Harness is the CLI the agent runs in: claude-code, codex or opencode.
	Harness string `json:"harness"`
	// Model is the model name the CLI asks the gateway for. It may be a
	// route of the gateway's config (an alias with targets and
	// fallbacks): that route is the agent's routing policy.
	Model string `json:"model"`
	// Tags are attached to every model call the agent's sessions make;
	// routing plugins and policies see them (a "task" tag is the task
	// type).
	Tags map[string]string `json:"tags,omitempty"`
	// Instructions are added to the harness's system prompt.
	Instructions string `json:"instructions,omitempty"`
	// Tools allow and deny the harness's tools, in the harness's own
	// names and patterns ("Bash(git *)" for Claude Code).
	Tools Tools `json:"tools,omitzero"`
	// MCPServers are handed to the harness, and their tools are allowed
	// only as Tools says.
	MCPServers []MCPServer `json:"mcp_servers,omitempty"`
	// Budget caps what one session of the agent may spend.
	Budget Budget `json:"budget,omitzero"`
	// Workspace is what a session works on: each session gets its own copy
	// or git worktree of it.
	Workspace Workspace `json:"workspace,omitzero"`
	// Env is added to the CLI's environment. Names the harness adapters
	// set themselves (the gateway's address and key) cannot be overridden.
	Env map[string]string `json:"env,omitempty"`
	// Limits bound each session.
	Limits Limits `json:"limits,omitzero"`
	// Sandbox says how the CLI is isolated: "auto" (bubblewrap when it is
	// installed, the default), "bwrap" (required) or "none".
	Sandbox string `json:"sandbox,omitempty"`
	// Resume says what happens to the agent's sessions that a crash
	// interrupted: "manual" (the default: they wait for `session resume`)
	// or "auto" (resumed when switchyard starts again).
	Resume string `json:"resume,omitempty"`
}

// Tools allows and denies tools. An empty Allow leaves the harness's
// defaults.
type Tools struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// MCPServer is an MCP server the harness may use: remote (URL, over
// Streamable HTTP) or local (Command, over stdio).
type MCPServer struct {
	Name    string            `json:"name"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// Budget caps a session's spend in US dollars; 0 means no cap beyond the
// gateway's own budgets.
type Budget struct {
	MaxUSDPerSession float64 `json:"max_usd_per_session,omitempty"`
}

// Workspace is a local directory or git repository. With Git, each
// session gets a worktree of Ref (default HEAD); with Path, a copy.
type Workspace struct {
	Path string `json:"path,omitempty"`
	Git  string `json:"git,omitempty"`
	Ref  string `json:"ref,omitempty"`
}

// Limits bound one session's CLI. Zero means no limit of that kind.
type Limits struct {
	WallClock config.Duration `json:"wall_clock,omitempty"`
	CPUTime   config.Duration `json:"cpu_time,omitempty"`
	MemoryMB  int             `json:"memory_mb,omitempty"`
	Processes int             `json:"processes,omitempty"`
	MaxTurns  int             `json:"max_turns,omitempty"`
}

// FieldError is one thing wrong with a definition, at a field path such
// as "mcp_servers[1].url".
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// FieldErrors is everything wrong with a definition, in field order.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	mcpNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// ValidName reports what is wrong with an agent name, or nil.
func ValidName(name string) error {
	if !nameRE.MatchString(name) || strings.HasSuffix(name, "-") {
		return fmt.Errorf("%q is not an agent name: use lower-case letters, digits and dashes, starting with a letter, at most 63 characters", name)
	}
	return nil
}

// Validate reports everything wrong with d, or nil. The errors are
// FieldErrors, so a file reader can point at each one's line.
func (d *Definition) Validate() error {
	var errs FieldErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if d.Name == "" {
		add("name", "required: the agent's unique name, such as \"reviewer\"")
	} else if err := ValidName(d.Name); err != nil {
		add("name", "%v", err)
	}
	if d.Harness == "" {
		add("harness", "required: one of %s", strings.Join(Harnesses, ", "))
	} else if !slices.Contains(Harnesses, d.Harness) {
		add("harness", "%q is not a harness: use one of %s", d.Harness, strings.Join(Harnesses, ", "))
	}
	if strings.TrimSpace(d.Model) == "" {
		add("model", "required: the model (or gateway route) the agent's CLI asks for")
	}
	for k := range d.Tags {
		if k == "" {
			add("tags", "a tag needs a name")
		}
	}
	for i, t := range d.Tools.Allow {
		if strings.TrimSpace(t) == "" {
			add(fmt.Sprintf("tools.allow[%d]", i), "empty tool name")
		}
	}
	for i, t := range d.Tools.Deny {
		if strings.TrimSpace(t) == "" {
			add(fmt.Sprintf("tools.deny[%d]", i), "empty tool name")
		}
	}
	seen := map[string]bool{}
	for i, m := range d.MCPServers {
		p := fmt.Sprintf("mcp_servers[%d]", i)
		switch {
		case m.Name == "":
			add(p+".name", "required: harnesses name the server's tools after it")
		case !mcpNameRE.MatchString(m.Name):
			add(p+".name", "%q: use letters, digits, - and _ only (harnesses build tool names from it)", m.Name)
		case seen[m.Name]:
			add(p+".name", "%q is already the name of another MCP server of this agent", m.Name)
		}
		seen[m.Name] = true
		switch {
		case m.URL == "" && m.Command == "":
			add(p, "give url (a remote server) or command (a local one)")
		case m.URL != "" && m.Command != "":
			add(p, "give url or command, not both")
		case m.URL != "":
			if u, err := url.Parse(m.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(p+".url", "%q is not an http(s) URL", m.URL)
			}
			if len(m.Args) > 0 || len(m.Env) > 0 {
				add(p, "args and env are for a local server (command); a remote one takes headers")
			}
		case m.Command != "":
			if len(m.Headers) > 0 {
				add(p+".headers", "headers are for a remote server (url)")
			}
		}
	}
	if d.Budget.MaxUSDPerSession < 0 {
		add("budget.max_usd_per_session", "%v is negative", d.Budget.MaxUSDPerSession)
	}
	w := d.Workspace
	switch {
	case w.Path != "" && w.Git != "":
		add("workspace", "give path (a directory, copied per session) or git (a repository, a worktree per session), not both")
	case w.Ref != "" && w.Git == "":
		add("workspace.ref", "ref is for a git workspace: add git")
	case w.Path != "" && !filepath.IsAbs(w.Path):
		add("workspace.path", "%q is relative: `switchyard apply -f` makes it absolute from the file's directory; over the API give an absolute path", w.Path)
	}
	for k := range d.Env {
		if !envNameRE.MatchString(k) {
			add("env", "%q is not an environment variable name", k)
		}
	}
	l := d.Limits
	if l.WallClock < 0 || l.CPUTime < 0 {
		add("limits", "wall_clock and cpu_time cannot be negative")
	}
	if l.MemoryMB < 0 || l.Processes < 0 || l.MaxTurns < 0 {
		add("limits", "memory_mb, processes and max_turns cannot be negative")
	}
	switch d.Sandbox {
	case "", "auto", "bwrap", "none":
	default:
		add("sandbox", "%q: use auto (bubblewrap when installed), bwrap or none", d.Sandbox)
	}
	switch d.Resume {
	case "", "manual", "auto":
	default:
		add("resume", "%q: use manual or auto", d.Resume)
	}
	if errs == nil {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return fieldOrder(a.Path) - fieldOrder(b.Path) })
	return errs
}

// fieldOrder sorts errors in the order of the definition's fields, which
// is the order people write them in.
func fieldOrder(p string) int {
	top, _, _ := strings.Cut(p, ".")
	top, _, _ = strings.Cut(top, "[")
	order := []string{"name", "description", "harness", "model", "tags", "instructions", "tools", "mcp_servers", "budget", "workspace", "env", "limits", "sandbox", "resume"}
	if i := slices.Index(order, top); i >= 0 {
		return i
	}
	return len(order)
}

// Normalized returns d with its defaults written out, so that two
// definitions that mean the same thing are equal and have one digest.
func (d Definition) Normalized() Definition {
	if d.Sandbox == "" {
		d.Sandbox = "auto"
	}
	if d.Resume == "" {
		d.Resume = "manual"
	}
	if d.Workspace.Git != "" && d.Workspace.Ref == "" {
		d.Workspace.Ref = "HEAD"
	}
	d.Instructions = strings.TrimRight(d.Instructions, "\n")
	return d
}

// Digest is the SHA-256 of d's JSON: maps' keys are sorted, so equal
// definitions give equal digests. Apply it to a normalized definition.
func (d *Definition) Digest() string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
