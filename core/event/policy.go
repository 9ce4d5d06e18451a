package event

import "github.com/switchyard/switchyard/internal/jsonw"

// Policy events: the verdicts of JS policies (plugins/js), and the
// sources that made them.
//
// Stream: a verdict goes where the thing it judged is recorded: a model
// call's verdicts on the call's stream, a tool call's and a session's on
// the session's; the call id is the correlation id. A policy.loaded event
// goes on the stream "policies".
//
// Schema of policy.verdict: 1 had no input and no fresh; 2 adds them, so
// that a verdict can be re-run. A version-1 verdict decodes with Input
// nil.

func init() {
	Register[PolicyVerdict]("policy.verdict", 2, "a policy allowed, denied or annotated a model call, tool call or session")
	Register[PolicyLoaded]("policy.loaded", 1, "a JS policy was loaded: its name, source, digest and how it runs")
}

// PoliciesStream is the stream of the policy.loaded events.
const PoliciesStream = "policies"

// PolicyVerdict records one policy's verdict at one hook.
type PolicyVerdict struct {
	// CallID is the model or tool call judged, if the hook is about one.
	CallID string `json:"call_id,omitempty"`
	Policy string `json:"policy"`
	// Digest names the policy source's content, "sha256:<hex>": the
	// policy.loaded event of that digest holds the source.
	Digest string `json:"digest"`
	// Hook is before_model_call, before_tool_call, session_start or
	// session_end.
	Hook string `json:"hook"`
	// Decision is allow, deny or annotate. When the policy failed (Error
	// is set), it is the decision the policy is configured to take on
	// error.
	Decision string `json:"decision"`
	// Reason is what a deny showed the caller.
	Reason      string            `json:"reason,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Error says why the policy failed to decide: it threw, overran its
	// time budget, returned no verdict, or was quarantined.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// ClockUnixMS and Seed are the clock and random seed the policy was
	// given, so that the verdict can be re-run.
	ClockUnixMS int64  `json:"clock_unix_ms,omitempty"`
	Seed        uint64 `json:"seed,omitempty"`
	// Fresh is set when the verdict was made in a new runtime that ran
	// the policy's file first, with the call's clock and seed (the
	// policy's fresh setting); a pooled runtime ran the file at load,
	// with clock 0 and seed 0.
	Fresh bool `json:"fresh,omitempty"`
	// Input is what the policy's function was given (schema 2 on).
	Input *PolicyInput `json:"input,omitempty"`
}

// PolicyInput is a hook's input as a policy saw it, under the names it
// saw: a field a hook does not have is left out. With the clock and seed
// of its verdict, it rebuilds the call exactly (plugins/js.InputOf).
type PolicyInput struct {
	CallID string `json:"call_id,omitempty"`
	// Model and API are before_model_call's.
	Model string `json:"model,omitempty"`
	API   string `json:"api,omitempty"`
	// Tool, Server and InputJSON (the tool's arguments, as text) are
	// before_tool_call's.
	Tool      string `json:"tool,omitempty"`
	Server    string `json:"server,omitempty"`
	InputJSON string `json:"input_json,omitempty"`
	Session   string `json:"session,omitempty"`
	Agent     string `json:"agent,omitempty"`
	// Harness is the session hooks'.
	Harness string            `json:"harness,omitempty"`
	Team    string            `json:"team,omitempty"`
	User    string            `json:"user,omitempty"`
	KeyID   string            `json:"key_id,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	// TaskType, EstimatedTokens, HasTools, Stream and BudgetLeftUSD are
	// before_model_call's.
	TaskType        string  `json:"task_type,omitempty"`
	EstimatedTokens int     `json:"estimated_tokens,omitempty"`
	HasTools        bool    `json:"has_tools,omitempty"`
	Stream          bool    `json:"stream,omitempty"`
	BudgetLeftUSD   float64 `json:"budget_left_usd,omitempty"`
	// Prompt is session_start's.
	Prompt string `json:"prompt,omitempty"`
	// Status, Error, Turns, CostUSD and DurationMS are session_end's.
	Status     string  `json:"status,omitempty"`
	Error      string  `json:"error,omitempty"`
	Turns      int     `json:"turns,omitempty"`
	CostUSD    float64 `json:"cost_usd,omitempty"`
	DurationMS float64 `json:"duration_ms,omitempty"`
}

// PolicyLoaded records a policy's source when it is loaded: by the
// gateway at start and on a config reload. The same policy (name, digest
// and configuration) is recorded once, however often it is loaded, so
// that a verdict's digest always finds its source.
type PolicyLoaded struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	// File is where the source was read from.
	File string `json:"file,omitempty"`
	// Source is the policy's JavaScript, whose sha256 is Digest.
	Source string `json:"source"`
	// Hooks lists the hook functions the source defines.
	Hooks  []string     `json:"hooks"`
	Config PolicyConfig `json:"config"`
}

// PolicyConfig is how a policy runs.
type PolicyConfig struct {
	// OnError is the decision of a call that fails: allow or deny.
	OnError   string  `json:"on_error"`
	TimeoutMS float64 `json:"timeout_ms"`
	Fresh     bool    `json:"fresh,omitempty"`
	Runtimes  int     `json:"runtimes,omitempty"`
}

// The gateway records a verdict per policy on every call it judges; these
// write its JSON as encoding/json would (see appendjson.go).

func (e PolicyVerdict) appendJSON(b []byte) ([]byte, error) {
	o := jsonw.Open(b)
	o.StringOmit("call_id", e.CallID)
	o.String("policy", e.Policy)
	o.String("digest", e.Digest)
	o.String("hook", e.Hook)
	o.String("decision", e.Decision)
	o.StringOmit("reason", e.Reason)
	o.StringMapOmit("annotations", e.Annotations)
	o.StringOmit("error", e.Error)
	o.Float("duration_ms", e.DurationMS)
	o.IntOmit("clock_unix_ms", e.ClockUnixMS)
	o.UintOmit("seed", e.Seed)
	o.BoolOmit("fresh", e.Fresh)
	if e.Input != nil {
		in := o.Nested("input")
		e.Input.members(&in)
		o.End(&in)
	}
	return o.Close()
}

func (in *PolicyInput) members(o *jsonw.Object) {
	o.StringOmit("call_id", in.CallID)
	o.StringOmit("model", in.Model)
	o.StringOmit("api", in.API)
	o.StringOmit("tool", in.Tool)
	o.StringOmit("server", in.Server)
	o.StringOmit("input_json", in.InputJSON)
	o.StringOmit("session", in.Session)
	o.StringOmit("agent", in.Agent)
	o.StringOmit("harness", in.Harness)
	o.StringOmit("team", in.Team)
	o.StringOmit("user", in.User)
	o.StringOmit("key_id", in.KeyID)
	o.StringMapOmit("tags", in.Tags)
	o.StringOmit("task_type", in.TaskType)
	o.IntOmit("estimated_tokens", int64(in.EstimatedTokens))
	o.BoolOmit("has_tools", in.HasTools)
	o.BoolOmit("stream", in.Stream)
	o.FloatOmit("budget_left_usd", in.BudgetLeftUSD)
	o.StringOmit("prompt", in.Prompt)
	o.StringOmit("status", in.Status)
	o.StringOmit("error", in.Error)
	o.IntOmit("turns", int64(in.Turns))
	o.FloatOmit("cost_usd", in.CostUSD)
	o.FloatOmit("duration_ms", in.DurationMS)
}
