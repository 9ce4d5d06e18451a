package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kind says what an Event is, and so which of its payloads is set.
type Kind string

const (
	// KindStarted: the CLI reported its own (harness-native) session id,
	// in Event.HarnessSessionID. No payload. At most once, and first.
	KindStarted Kind = "started"
	// KindMessage: text from the model or the user (Event.Message).
	KindMessage Kind = "message"
	// KindToolCall: the model called a tool (Event.ToolCall).
	KindToolCall Kind = "tool_call"
	// KindToolResult: a tool call's result (Event.ToolResult).
	KindToolResult Kind = "tool_result"
	// KindPermissionDenied: the CLI refused a tool call
	// (Event.PermissionDenied).
	KindPermissionDenied Kind = "permission_denied"
	// KindUsage: tokens and cost, as the CLI reports them (Event.Usage).
	KindUsage Kind = "usage"
	// KindError: something went wrong (Event.Error). A fatal error ends
	// the run: it is the last event.
	KindError Kind = "error"
	// KindCompleted: the CLI ran to its end by itself (Event.Completed).
	// It is the last event.
	KindCompleted Kind = "completed"
)

// Message roles.
const (
	RoleAssistant = "assistant"
	RoleUser      = "user"
	RoleSystem    = "system"
)

// Event is one normalized thing a harness CLI did. Exactly the payload
// that matches Kind is set (none for KindStarted).
type Event struct {
	Kind Kind `json:"kind"`
	// Time is when the adapter saw the event.
	Time time.Time `json:"time,omitzero"`
	// HarnessSessionID is the CLI's own session id: set on the started
	// event, and on every later one (Checked fills it in).
	HarnessSessionID string `json:"harness_session_id,omitempty"`

	Message          *Message          `json:"message,omitempty"`
	ToolCall         *ToolCall         `json:"tool_call,omitempty"`
	ToolResult       *ToolResult       `json:"tool_result,omitempty"`
	PermissionDenied *PermissionDenied `json:"permission_denied,omitempty"`
	Usage            *Usage            `json:"usage,omitempty"`
	Error            *Error            `json:"error,omitempty"`
	Completed        *Completed        `json:"completed,omitempty"`

	// Raw is the CLI's output line the event came from, as is. It is
	// always kept for an event that came from a line; a line that is not
	// JSON is kept as a JSON string. Several events from one line share
	// it. Empty for events the adapter made up (a fatal error at exit).
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Message is text from the model (RoleAssistant), the user (RoleUser),
// or the CLI itself (RoleSystem).
type Message struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// ToolCall is the model calling a tool. ID pairs it with its ToolResult.
type ToolCall struct {
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input,omitempty"`
}

// ToolResult is what a tool call returned.
type ToolResult struct {
	ID     string `json:"id"`
	Output string `json:"output,omitempty"`
	// ExitCode is set for tools that run a command, when the CLI says.
	ExitCode *int `json:"exit_code,omitempty"`
	IsError  bool `json:"is_error,omitempty"`
}

// PermissionDenied is the CLI refusing a tool call, e.g. Claude Code's
// Bash in -p mode without --allowedTools.
type PermissionDenied struct {
	Tool   string          `json:"tool"`
	Input  json.RawMessage `json:"input,omitempty"`
	Reason string          `json:"reason,omitempty"`
}

// Usage is what a turn or a run used, as the CLI reports it. Adapters
// emit what the CLI reports, per turn or per run; they do not add up.
type Usage struct {
	Model            string `json:"model,omitempty"`
	InputTokens      int64  `json:"input_tokens,omitempty"`
	OutputTokens     int64  `json:"output_tokens,omitempty"`
	CacheReadTokens  int64  `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64  `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int64  `json:"reasoning_tokens,omitempty"`
	// CostUSD is the cost the CLI reports, 0 if it reports none. The
	// gateway's own accounting is the one to bill by.
	CostUSD float64 `json:"cost_usd,omitempty"`
}

// Error is something that went wrong. A non-fatal error (a garbage line,
// a CLI's error item) is informational and the run goes on; a fatal one
// is the run's last event: the run was cut short (a limit, a signal,
// unreadable output).
type Error struct {
	Message string `json:"message"`
	Fatal   bool   `json:"fatal,omitempty"`
	// Limit names the sandbox limit the CLI hit, if that is what ended it.
	Limit Limit `json:"limit,omitempty"`
}

// Completed is the end of a run whose CLI exited by itself.
type Completed struct {
	// ExitCode is the CLI's exit status; non-zero is the CLI's own
	// failure (an API error, an unknown session to resume).
	ExitCode int `json:"exit_code"`
	// Result is the final answer, if the CLI reported one.
	Result string `json:"result,omitempty"`
	// Turns is the number of model turns, if the CLI reported it.
	Turns int `json:"turns,omitempty"`
}

// Terminal says whether e ends a run: completed, or a fatal error.
func (e *Event) Terminal() bool {
	return e.Kind == KindCompleted || (e.Kind == KindError && e.Error != nil && e.Error.Fatal)
}

// ErrInvalidEvent is wrapped by the errors of Event.Validate and of an
// Emit returned by Checked.
var ErrInvalidEvent = errors.New("invalid event")

// Validate reports whether the event is well formed: a known kind with
// exactly its payload, and the payload's required fields.
func (e *Event) Validate() error {
	if err := e.validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, err)
	}
	return nil
}

func (e *Event) validate() error {
	payloads := []struct {
		kind Kind
		set  bool
	}{
		{KindMessage, e.Message != nil},
		{KindToolCall, e.ToolCall != nil},
		{KindToolResult, e.ToolResult != nil},
		{KindPermissionDenied, e.PermissionDenied != nil},
		{KindUsage, e.Usage != nil},
		{KindError, e.Error != nil},
		{KindCompleted, e.Completed != nil},
	}
	known, has := e.Kind == KindStarted, false
	for _, p := range payloads {
		if p.kind == e.Kind {
			known, has = true, p.set
		} else if p.set {
			return fmt.Errorf("a %q event carries a %s payload: set only the payload of its kind", e.Kind, p.kind)
		}
	}
	switch {
	case !known:
		return fmt.Errorf("unknown kind %q", e.Kind)
	case e.Kind != KindStarted && !has:
		return fmt.Errorf("a %s event needs its %s payload", e.Kind, e.Kind)
	}
	if len(e.Raw) > 0 && !json.Valid(e.Raw) {
		return fmt.Errorf("%s event: raw is not JSON (keep a line that is not JSON as a JSON string)", e.Kind)
	}
	switch e.Kind {
	case KindStarted:
		if e.HarnessSessionID == "" {
			return errors.New("a started event needs the CLI's harness_session_id")
		}
	case KindMessage:
		switch e.Message.Role {
		case RoleAssistant, RoleUser, RoleSystem:
		default:
			return fmt.Errorf("message: role %q is not one of assistant, user, system", e.Message.Role)
		}
	case KindToolCall:
		switch {
		case e.ToolCall.ID == "" || e.ToolCall.Name == "":
			return fmt.Errorf("tool_call: id %q and name %q are both required", e.ToolCall.ID, e.ToolCall.Name)
		case len(e.ToolCall.Input) > 0 && !json.Valid(e.ToolCall.Input):
			return fmt.Errorf("tool_call %s: input is not JSON", e.ToolCall.ID)
		}
	case KindToolResult:
		if e.ToolResult.ID == "" {
			return errors.New("tool_result: id is required (the id of its tool_call)")
		}
	case KindPermissionDenied:
		switch {
		case e.PermissionDenied.Tool == "":
			return errors.New("permission_denied: tool is required")
		case len(e.PermissionDenied.Input) > 0 && !json.Valid(e.PermissionDenied.Input):
			return fmt.Errorf("permission_denied %s: input is not JSON", e.PermissionDenied.Tool)
		}
	case KindUsage:
		u := e.Usage
		if min(u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheWriteTokens, u.ReasoningTokens) < 0 || u.CostUSD < 0 {
			return fmt.Errorf("usage: negative count in %+v", *u)
		}
	case KindError:
		if e.Error.Message == "" {
			return errors.New("error: message is required")
		}
		if e.Error.Limit != "" && !e.Error.Limit.valid() {
			return fmt.Errorf("error: unknown limit %q", e.Error.Limit)
		}
	case KindCompleted:
		if e.Completed.Turns < 0 {
			return fmt.Errorf("completed: turns %d is negative", e.Completed.Turns)
		}
	}
	return nil
}

// Limit names a sandbox limit.
type Limit string

const (
	LimitMemory    Limit = "memory"     // Sandbox.MemoryBytes (RLIMIT_AS)
	LimitProcesses Limit = "processes"  // Sandbox.Processes (RLIMIT_NPROC)
	LimitCPU       Limit = "cpu"        // Sandbox.CPUSeconds (RLIMIT_CPU)
	LimitWallClock Limit = "wall_clock" // Sandbox.WallClock
)

func (l Limit) valid() bool {
	switch l {
	case LimitMemory, LimitProcesses, LimitCPU, LimitWallClock:
		return true
	}
	return false
}
