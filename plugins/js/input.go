package js

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/dop251/goja"

	"github.com/switchyard/switchyard/core/event"
)

// Hook is a point where policies run. A policy handles a hook by defining
// a global function of the hook's name.
type Hook string

// The hooks, each named as the function that handles it.
const (
	BeforeModelCall Hook = "before_model_call"
	BeforeToolCall  Hook = "before_tool_call"
	SessionStart    Hook = "session_start"
	SessionEnd      Hook = "session_end"
)

// hookList lists every hook, in the order of the index hookIndex gives.
var hookList = [...]Hook{BeforeModelCall, BeforeToolCall, SessionStart, SessionEnd}

// hookIndex is h's index in hookList, or -1.
func hookIndex(h Hook) int {
	switch h {
	case BeforeModelCall:
		return 0
	case BeforeToolCall:
		return 1
	case SessionStart:
		return 2
	case SessionEnd:
		return 3
	}
	return -1
}

// Input is what a hook's function is called with: *ModelCall,
// *ToolCall, *SessionStarting or *SessionEnded. Each carries the clock
// and seed of the call, which is all the time and randomness a policy
// sees (see the package doc).
type Input interface {
	// Hook is the hook this input is for.
	Hook() Hook
	// env returns the call id (model and tool calls have one) and the
	// clock and seed of the call.
	env() (callID string, now time.Time, seed uint64)
	// record is the input as its verdict's event records it.
	record() *event.PolicyInput
}

// ModelCall is the input of before_model_call: a model call the gateway
// has accepted and not yet routed.
type ModelCall struct {
	CallID string
	// Model is the model the client asked for.
	Model string
	// API is the inbound API: openai.chat, openai.responses or
	// anthropic.messages.
	API     string
	Agent   string
	Session string
	Team    string
	User    string
	// KeyID is the virtual key's id, never its secret.
	KeyID string
	// Tags are the key's tags merged with the request's.
	Tags map[string]string
	// TaskType is the call's task type (its "task" tag), if any.
	TaskType        string
	EstimatedTokens int
	// HasTools is set when the request offers the model tools.
	HasTools bool
	Stream   bool
	// BudgetLeftUSD is the smallest spend left among the caller's capped
	// scopes; negative when none is capped.
	BudgetLeftUSD float64

	// Now is the call's clock: what Date.now() and new Date() return.
	// Zero means the host's clock at the call (recorded in the verdict).
	Now time.Time
	// Seed seeds Math.random for the call.
	Seed uint64
}

// ToolCall is the input of before_tool_call: a tool call an agent made,
// before it runs.
type ToolCall struct {
	CallID string
	Tool   string
	// Server is the MCP server that provides the tool.
	Server string
	// Input is the tool's arguments as JSON. The policy sees it parsed
	// (call.input), or as a string when it is not valid JSON, and always
	// as text (call.input_json).
	Input   json.RawMessage
	Agent   string
	Session string
	Team    string
	User    string
	Tags    map[string]string

	Now  time.Time
	Seed uint64
}

// SessionStarting is the input of session_start: a harness session about
// to begin.
type SessionStarting struct {
	Session string
	Agent   string
	// Harness is claude-code, codex, opencode, ...
	Harness string
	Team    string
	User    string
	Tags    map[string]string
	Prompt  string

	Now  time.Time
	Seed uint64
}

// SessionEnded is the input of session_end: a session that has ended.
// A deny cannot undo the end; it is recorded.
type SessionEnded struct {
	Session string
	Agent   string
	Harness string
	Team    string
	User    string
	Tags    map[string]string
	// Status is completed, failed, interrupted or stopped.
	Status  string
	Error   string
	Turns   int
	CostUSD float64
	// Duration is how long the session ran; the policy sees
	// duration_ms.
	Duration time.Duration

	Now  time.Time
	Seed uint64
}

func (*ModelCall) Hook() Hook       { return BeforeModelCall }
func (*ToolCall) Hook() Hook        { return BeforeToolCall }
func (*SessionStarting) Hook() Hook { return SessionStart }
func (*SessionEnded) Hook() Hook    { return SessionEnd }

func (in *ModelCall) env() (string, time.Time, uint64)       { return in.CallID, in.Now, in.Seed }
func (in *ToolCall) env() (string, time.Time, uint64)        { return in.CallID, in.Now, in.Seed }
func (in *SessionStarting) env() (string, time.Time, uint64) { return "", in.Now, in.Seed }
func (in *SessionEnded) env() (string, time.Time, uint64)    { return "", in.Now, in.Seed }

var (
	_ Input = (*ModelCall)(nil)
	_ Input = (*ToolCall)(nil)
	_ Input = (*SessionStarting)(nil)
	_ Input = (*SessionEnded)(nil)
)

// The policy sees its input as a read-only object with lower_snake field
// names (the names of the events' JSON). Each field is converted when the
// policy reads it, not before: a policy that reads two fields pays for
// two. The tables below are the whole mapping; docs/policies.md lists it.

// getter reads one field of an input of type T as a JS value.
type getter[T any] func(r *runner, in *T) goja.Value

// fields maps a JS field name to its getter, and lists the names in the
// order Object.keys gives them.
type fields[T any] struct {
	get   map[string]getter[T]
	names []string
}

type field[T any] struct {
	name string
	get  getter[T]
}

func newFields[T any](fs ...field[T]) *fields[T] {
	t := &fields[T]{get: make(map[string]getter[T], len(fs))}
	for _, f := range fs {
		t.get[f.name] = f.get
		t.names = append(t.names, f.name)
	}
	return t
}

var modelCallFields = newFields(
	field[ModelCall]{"call_id", func(r *runner, in *ModelCall) goja.Value { return r.str(in.CallID) }},
	field[ModelCall]{"model", func(r *runner, in *ModelCall) goja.Value { return r.str(in.Model) }},
	field[ModelCall]{"api", func(r *runner, in *ModelCall) goja.Value { return r.str(in.API) }},
	field[ModelCall]{"agent", func(r *runner, in *ModelCall) goja.Value { return r.str(in.Agent) }},
	field[ModelCall]{"session", func(r *runner, in *ModelCall) goja.Value { return r.str(in.Session) }},
	field[ModelCall]{"team", func(r *runner, in *ModelCall) goja.Value { return r.str(in.Team) }},
	field[ModelCall]{"user", func(r *runner, in *ModelCall) goja.Value { return r.str(in.User) }},
	field[ModelCall]{"key_id", func(r *runner, in *ModelCall) goja.Value { return r.str(in.KeyID) }},
	field[ModelCall]{"tags", func(r *runner, in *ModelCall) goja.Value { return r.tagsOf(in.Tags) }},
	field[ModelCall]{"task_type", func(r *runner, in *ModelCall) goja.Value { return r.str(in.TaskType) }},
	field[ModelCall]{"estimated_tokens", func(r *runner, in *ModelCall) goja.Value { return r.vm.ToValue(in.EstimatedTokens) }},
	field[ModelCall]{"has_tools", func(r *runner, in *ModelCall) goja.Value { return r.vm.ToValue(in.HasTools) }},
	field[ModelCall]{"stream", func(r *runner, in *ModelCall) goja.Value { return r.vm.ToValue(in.Stream) }},
	field[ModelCall]{"budget_left_usd", func(r *runner, in *ModelCall) goja.Value { return r.vm.ToValue(in.BudgetLeftUSD) }},
)

var toolCallFields = newFields(
	field[ToolCall]{"call_id", func(r *runner, in *ToolCall) goja.Value { return r.str(in.CallID) }},
	field[ToolCall]{"tool", func(r *runner, in *ToolCall) goja.Value { return r.str(in.Tool) }},
	field[ToolCall]{"server", func(r *runner, in *ToolCall) goja.Value { return r.str(in.Server) }},
	field[ToolCall]{"input", func(r *runner, in *ToolCall) goja.Value { return r.parsedInput(in.Input) }},
	field[ToolCall]{"input_json", func(r *runner, in *ToolCall) goja.Value { return r.str(string(in.Input)) }},
	field[ToolCall]{"agent", func(r *runner, in *ToolCall) goja.Value { return r.str(in.Agent) }},
	field[ToolCall]{"session", func(r *runner, in *ToolCall) goja.Value { return r.str(in.Session) }},
	field[ToolCall]{"team", func(r *runner, in *ToolCall) goja.Value { return r.str(in.Team) }},
	field[ToolCall]{"user", func(r *runner, in *ToolCall) goja.Value { return r.str(in.User) }},
	field[ToolCall]{"tags", func(r *runner, in *ToolCall) goja.Value { return r.tagsOf(in.Tags) }},
)

var sessionStartingFields = newFields(
	field[SessionStarting]{"session", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.Session) }},
	field[SessionStarting]{"agent", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.Agent) }},
	field[SessionStarting]{"harness", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.Harness) }},
	field[SessionStarting]{"team", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.Team) }},
	field[SessionStarting]{"user", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.User) }},
	field[SessionStarting]{"tags", func(r *runner, in *SessionStarting) goja.Value { return r.tagsOf(in.Tags) }},
	field[SessionStarting]{"prompt", func(r *runner, in *SessionStarting) goja.Value { return r.str(in.Prompt) }},
)

var sessionEndedFields = newFields(
	field[SessionEnded]{"session", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Session) }},
	field[SessionEnded]{"agent", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Agent) }},
	field[SessionEnded]{"harness", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Harness) }},
	field[SessionEnded]{"team", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Team) }},
	field[SessionEnded]{"user", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.User) }},
	field[SessionEnded]{"tags", func(r *runner, in *SessionEnded) goja.Value { return r.tagsOf(in.Tags) }},
	field[SessionEnded]{"status", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Status) }},
	field[SessionEnded]{"error", func(r *runner, in *SessionEnded) goja.Value { return r.str(in.Error) }},
	field[SessionEnded]{"turns", func(r *runner, in *SessionEnded) goja.Value { return r.vm.ToValue(in.Turns) }},
	field[SessionEnded]{"cost_usd", func(r *runner, in *SessionEnded) goja.Value { return r.vm.ToValue(in.CostUSD) }},
	field[SessionEnded]{"duration_ms", func(r *runner, in *SessionEnded) goja.Value {
		return r.vm.ToValue(float64(in.Duration) / float64(time.Millisecond))
	}},
)

// view is a read-only JS object over the input of the call in progress
// (a goja.DynamicObject). A runtime keeps one per hook and points it at
// each call's input; between calls it points at nothing, and every field
// reads as undefined.
type view[T any] struct {
	r  *runner
	t  *fields[T]
	in *T
}

func (v *view[T]) Get(key string) goja.Value {
	if v.in == nil {
		return nil
	}
	if get := v.t.get[key]; get != nil {
		return get(v.r, v.in)
	}
	return nil
}

func (v *view[T]) Has(key string) bool         { _, ok := v.t.get[key]; return ok && v.in != nil }
func (v *view[T]) Set(string, goja.Value) bool { return false }
func (v *view[T]) Delete(string) bool          { return false }
func (v *view[T]) Keys() []string              { return slices.Clone(v.t.names) }

var (
	_ goja.DynamicObject = (*view[ModelCall])(nil)
	_ goja.DynamicObject = (*tagsView)(nil)
	_ goja.DynamicObject = (*verdictValue)(nil)
)

// tagsView is a read-only JS object over the current call's tags. Its
// keys are listed sorted, so that a policy iterating over them sees the
// same order on every run (a map's order is random).
type tagsView struct {
	r *runner
	m map[string]string
}

func (t *tagsView) Get(key string) goja.Value {
	v, ok := t.m[key]
	if !ok {
		return nil
	}
	return t.r.str(v)
}

func (t *tagsView) Has(key string) bool         { _, ok := t.m[key]; return ok }
func (t *tagsView) Set(string, goja.Value) bool { return false }
func (t *tagsView) Delete(string) bool          { return false }
func (t *tagsView) Keys() []string {
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
