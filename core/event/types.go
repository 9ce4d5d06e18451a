package event

// The catalogue of event types this build knows. Each later subsystem adds
// its own in its package's init; the ones below are the vocabulary shared by
// both planes. Fields are snake_case JSON and only ever added to: a change
// that is not additive bumps the schema version.

func init() {
	Register[SessionStarted]("session.started", 1, "a harness session began")
	Register[SessionEnded]("session.ended", 1, "a harness session ended, with how it ended")
	Register[MessageAdded]("message.added", 1, "a user or assistant message entered a session")
	Register[ModelCallStarted]("model.call.started", 1, "the gateway began a model call")
	Register[ModelCallCompleted]("model.call.completed", 1, "a model call finished, with usage and cost")
	Register[ModelCallFailed]("model.call.failed", 1, "a model call failed after its retries and fallbacks")
	Register[RoutingDecided]("routing.decided", 1, "a router chose the ordered targets for a call")
	Register[ToolCalled]("tool.called", 1, "an agent called a tool")
}

// SessionStarted is written when a harness session begins.
type SessionStarted struct {
	Agent   string `json:"agent"`
	Harness string `json:"harness"`
	// NativeID is the harness's own session id (e.g. Claude Code's).
	NativeID string `json:"native_id,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
}

// SessionEnded is written when a session ends.
type SessionEnded struct {
	// Outcome is "completed", "failed", "interrupted" or "stopped".
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	Turns   int    `json:"turns,omitempty"`
}

// MessageAdded is a message in a session's conversation.
type MessageAdded struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// ModelCallStarted is written when the gateway begins a model call.
type ModelCallStarted struct {
	API   string `json:"api"`
	Model string `json:"model"`
}

// ModelCallCompleted records a finished model call.
type ModelCallCompleted struct {
	Model        string  `json:"model"`
	Provider     string  `json:"provider"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	LatencyMS    float64 `json:"latency_ms"`
}

// ModelCallFailed records a model call that failed for good.
type ModelCallFailed struct {
	Model  string `json:"model"`
	Reason string `json:"reason"`
	Status int    `json:"status,omitempty"`
}

// RoutingDecided records where a router sent a call and why.
type RoutingDecided struct {
	Router  string   `json:"router"`
	Model   string   `json:"model"`
	Targets []string `json:"targets"`
	Reason  string   `json:"reason,omitempty"`
}

// ToolCalled records a tool call made by an agent.
type ToolCalled struct {
	Tool    string `json:"tool"`
	Allowed bool   `json:"allowed"`
}
