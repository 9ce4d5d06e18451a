package event

// The catalogue of event types this build knows. Each later subsystem adds
// its own in its package's init; the ones below are the vocabulary shared by
// both planes. Fields are snake_case JSON and only ever added to: a change
// that is not additive bumps the schema version.

func init() {
	Register[SessionStarted]("session.started", 1, "a harness session began")
	Register[SessionEnded]("session.ended", 1, "a harness session ended, with how it ended")
	Register[MessageAdded]("message.added", 1, "a user or assistant message entered a session")
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

// ToolCalled records a tool call made by an agent.
type ToolCalled struct {
	Tool    string `json:"tool"`
	Allowed bool   `json:"allowed"`
}
