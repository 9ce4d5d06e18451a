package harness

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// ErrInvalidRequest is wrapped by the errors of the requests' Validate
// methods, in process and across the plugin boundary.
var ErrInvalidRequest = errors.New("invalid harness request")

// StartRequest asks for a new session: run the CLI on Prompt.
type StartRequest struct {
	// SessionID is Switchyard's id for the session (not the CLI's).
	SessionID string `json:"session_id"`
	// Prompt is the user's message.
	Prompt string `json:"prompt"`
	// Workdir is where the CLI works: an absolute path.
	Workdir string `json:"workdir"`
	// StateDir is the CLI's own config and state directory (Claude
	// Code's CLAUDE_CONFIG_DIR, Codex's CODEX_HOME, OpenCode's
	// XDG_DATA_HOME): an absolute path, isolated per session, which the
	// host keeps across runs so a resume finds the CLI's transcript.
	StateDir string `json:"state_dir"`
	// CLIPath is the CLI binary the adapter runs.
	CLIPath string `json:"cli_path"`
	// Gateway is where the CLI sends its model calls.
	Gateway Gateway `json:"gateway"`
	// Model is the model name to ask for; empty leaves the CLI's default.
	Model string `json:"model,omitempty"`
	// Instructions is a system prompt added to the CLI's own.
	Instructions string `json:"instructions,omitempty"`
	// AllowedTools and DisallowedTools are tool names (or the CLI's
	// patterns) to allow without asking and to remove.
	AllowedTools    []string `json:"allowed_tools,omitempty"`
	DisallowedTools []string `json:"disallowed_tools,omitempty"`
	// MCPServers are MCP servers the CLI connects to.
	MCPServers []MCPServer `json:"mcp_servers,omitempty"`
	// Env is added to the CLI's environment; the adapter's own variables
	// (gateway, state dir) win over it.
	Env map[string]string `json:"env,omitempty"`
	// Sandbox confines the CLI; nil runs it unconfined.
	Sandbox *Sandbox `json:"sandbox,omitempty"`
}

// Gateway is Switchyard's LLM gateway, as the CLI sees it.
type Gateway struct {
	// BaseURL is the gateway's URL, e.g. http://127.0.0.1:8080. Adapters
	// add the path their CLI wants (/v1).
	BaseURL string `json:"base_url"`
	// Key is a key scoped to this session; the CLI sends it as its API key.
	Key string `json:"key"`
	// Headers are sent by the CLI with every model call: the host's
	// attribution, such as x-switchyard-tags: turn=3 (the gateway records
	// a call's tags). Adapters pass them in the CLI's own way.
	Headers map[string]string `json:"headers,omitempty"`
}

// MCPServer is an MCP server: remote (URL, Headers) or local (Command,
// Args, Env), not both.
type MCPServer struct {
	Name    string            `json:"name"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// Sandbox confines the CLI. Zero fields are no limit. Command applies it;
// see there for how.
type Sandbox struct {
	// Wrapper is an argv prefix the CLI runs under, e.g.
	// ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all", "--die-with-parent"].
	Wrapper []string `json:"wrapper,omitempty"`
	// MemoryBytes caps the address space of each process (RLIMIT_AS).
	// Node and Go reserve much more than they use: allow 1 GiB at least.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// Processes caps the processes of the CLI's user (RLIMIT_NPROC): it
	// counts every process of that user, and does not bind root.
	Processes int64 `json:"processes,omitempty"`
	// CPUSeconds caps each process's CPU time (RLIMIT_CPU).
	CPUSeconds int64 `json:"cpu_seconds,omitempty"`
	// WallClock caps the run's duration (in JSON, nanoseconds).
	WallClock time.Duration `json:"wall_clock,omitempty"`
}

// Limited says whether the sandbox sets an rlimit.
func (s *Sandbox) Limited() bool {
	return s != nil && (s.MemoryBytes > 0 || s.Processes > 0 || s.CPUSeconds > 0)
}

// ResumeRequest asks to continue a session the CLI knows as
// HarnessSessionID (the id of the first run's started event), with the
// same StateDir.
type ResumeRequest struct {
	StartRequest
	HarnessSessionID string `json:"harness_session_id"`
}

// Validate reports what is missing or wrong, and what to do about it.
func (r *StartRequest) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return nil
}

func (r *StartRequest) validate() error {
	abs := func(field, path, what string) error {
		switch {
		case path == "":
			return fmt.Errorf("%s is empty: set it to %s", field, what)
		case !filepath.IsAbs(path):
			return fmt.Errorf("%s %q is relative: make it absolute", field, path)
		}
		return nil
	}
	switch {
	case r.SessionID == "":
		return errors.New("session_id is empty: set it to Switchyard's id for the session")
	case r.Prompt == "":
		return errors.New("prompt is empty: the CLI needs a prompt to run on")
	case r.CLIPath == "":
		return errors.New("cli_path is empty: set it to the CLI binary to run")
	}
	if err := abs("workdir", r.Workdir, "the directory the CLI works in"); err != nil {
		return err
	}
	if err := abs("state_dir", r.StateDir, "a directory kept per session for the CLI's config and transcripts"); err != nil {
		return err
	}
	if u, err := url.Parse(r.Gateway.BaseURL); r.Gateway.BaseURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("gateway.base_url %q is not an absolute URL: set it to the gateway, e.g. http://127.0.0.1:8080", r.Gateway.BaseURL)
	}
	if r.Gateway.Key == "" {
		return errors.New("gateway.key is empty: issue a session-scoped gateway key")
	}
	seen := map[string]bool{}
	for i, m := range r.MCPServers {
		switch {
		case m.Name == "":
			return fmt.Errorf("mcp_servers[%d]: name is empty: name each server (its tools are named after it)", i)
		case seen[m.Name]:
			return fmt.Errorf("mcp_servers[%d]: name %q is used twice: names must be unique", i, m.Name)
		case (m.URL == "") == (m.Command == ""):
			return fmt.Errorf("mcp server %q: set either url (a remote server) or command (a local one), not both or neither", m.Name)
		case m.URL == "" && len(m.Headers) > 0:
			return fmt.Errorf("mcp server %q: headers are for a remote server: drop them or set url", m.Name)
		case m.Command == "" && (len(m.Args) > 0 || len(m.Env) > 0):
			return fmt.Errorf("mcp server %q: args and env are for a local server: drop them or set command", m.Name)
		}
		seen[m.Name] = true
	}
	if s := r.Sandbox; s != nil {
		if s.MemoryBytes < 0 || s.Processes < 0 || s.CPUSeconds < 0 || s.WallClock < 0 {
			return fmt.Errorf("sandbox: negative limit in %+v: use 0 for no limit", *s)
		}
		if len(s.Wrapper) > 0 && s.Wrapper[0] == "" {
			return errors.New("sandbox.wrapper[0] is empty: it must be the wrapper's binary")
		}
	}
	return nil
}

// Validate reports what is missing or wrong, and what to do about it.
func (r *ResumeRequest) Validate() error {
	if r.HarnessSessionID == "" {
		return fmt.Errorf("%w: harness_session_id is empty: set it to the id from the session's started event", ErrInvalidRequest)
	}
	return r.StartRequest.Validate()
}

// Mode is what a Run does.
type Mode string

const (
	ModeStart  Mode = "start"
	ModeResume Mode = "resume"
)

// Run is what an Adapter runs: a new session (ModeStart), or more of one
// (ModeResume, with HarnessSessionID). Make one with NewStart or
// NewResume.
type Run struct {
	Mode Mode `json:"mode"`
	// Request is the start request, or a resume request's StartRequest:
	// for a resume, Prompt is the next message and StateDir the one the
	// session started with.
	Request StartRequest `json:"request"`
	// HarnessSessionID is the CLI's session to resume (ModeResume only).
	HarnessSessionID string `json:"harness_session_id,omitempty"`
}

// NewStart returns the Run that starts a session.
func NewStart(req StartRequest) *Run { return &Run{Mode: ModeStart, Request: req} }

// NewResume returns the Run that resumes a session.
func NewResume(req ResumeRequest) *Run {
	return &Run{Mode: ModeResume, Request: req.StartRequest, HarnessSessionID: req.HarnessSessionID}
}

// Validate reports what is missing or wrong, and what to do about it.
func (r *Run) Validate() error {
	switch r.Mode {
	case ModeStart:
		if r.HarnessSessionID != "" {
			return fmt.Errorf("%w: a start has no harness_session_id: use mode resume to continue a session", ErrInvalidRequest)
		}
		return r.Request.Validate()
	case ModeResume:
		rr := ResumeRequest{StartRequest: r.Request, HarnessSessionID: r.HarnessSessionID}
		return rr.Validate()
	}
	return fmt.Errorf("%w: mode %q is neither start nor resume", ErrInvalidRequest, r.Mode)
}
