package llm

// EventType is the kind of a StreamEvent.
type EventType string

// Stream event types. A well-formed stream is:
//
//	Start (PartStart Delta* PartStop)* Stop
//
// with Usage events allowed anywhere after Start, or a single Error at any
// point, which ends the stream.
const (
	// EventStart opens the stream: ID and Model are set; Usage may carry
	// the input tokens if the provider reports them up front.
	EventStart EventType = "start"
	// EventPartStart opens part Index. Part carries its type and, for a
	// tool call, ToolCallID and ToolName; for redacted thinking, Data.
	EventPartStart EventType = "part_start"
	// EventDelta appends to part Index: Text to a text or thinking part,
	// Arguments text to a tool call, or Signature to a thinking part.
	EventDelta EventType = "delta"
	// EventPartStop closes part Index.
	EventPartStop EventType = "part_stop"
	// EventUsage reports cumulative usage so far (not an increment).
	EventUsage EventType = "usage"
	// EventStop ends the stream normally, with the stop reason and the
	// final cumulative usage.
	EventStop EventType = "stop"
	// EventError ends the stream with Err.
	EventError EventType = "error"
)

// DeltaKind says which field of a part a delta extends.
type DeltaKind string

// Delta kinds.
const (
	DeltaText      DeltaKind = "text"      // Part.Text of a text part
	DeltaThinking  DeltaKind = "thinking"  // Part.Text of a thinking part
	DeltaSignature DeltaKind = "signature" // Part.Signature of a thinking part
	DeltaArguments DeltaKind = "arguments" // Part.Arguments of a tool call
)

// StreamEvent is one event of a streamed answer in canonical form.
type StreamEvent struct {
	Type EventType `json:"type"`

	// Start
	ID    string `json:"id,omitempty"`
	Model string `json:"model,omitempty"`

	// PartStart, Delta, PartStop. Index counts parts from 0 in the order
	// they start; a part's events all carry its index.
	Index int   `json:"index"`
	Part  *Part `json:"part,omitempty"`

	// Delta
	Kind  DeltaKind `json:"kind,omitempty"`
	Delta string    `json:"delta,omitempty"`

	// Stop
	StopReason   StopReason `json:"stop_reason,omitempty"`
	StopSequence string     `json:"stop_sequence,omitempty"`

	// Start, Usage, Stop: cumulative usage.
	Usage *Usage `json:"usage,omitempty"`

	// Error
	Err *Error `json:"error,omitempty"`
}
