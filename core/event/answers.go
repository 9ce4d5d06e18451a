package event

import (
	"fmt"
	"strings"
)

// Recorded answers, for harness replay: the gateway keeps, for each model
// call of a session, a fingerprint of the request and the answer it gave,
// so that the session's CLI can be run again on a fresh workspace and be
// served the same answers in the same order without calling a provider
// (docs/replay.md). They go on the call's stream ("calls-<key id>", the
// session's own key) next to the call's other events.

func init() {
	Register[AnswerRecorded]("model.answer.recorded", 1, "a model call's request fingerprint and answer, kept so that a harness replay can serve it again")
	Register[ReplayDiverged]("replay.diverged", 1, "a harness replay got a model call that does not match the recording, and stopped")
}

// MessagePrint is the fingerprint of one system part or message of a
// request: its digest over the normalised content, the content's length,
// and, for the system and the latest messages, an excerpt of each part.
type MessagePrint struct {
	Role string `json:"role"`
	// Digest is the first 16 hex digits of the SHA-256 of the
	// normalised content.
	Digest string `json:"digest"`
	// Bytes is the normalised content's length.
	Bytes int `json:"bytes"`
	// Parts are the parts' own prints, kept for the system and the
	// latest messages (those a divergence is most likely to be in).
	Parts []PartPrint `json:"parts,omitempty"`
}

// PartPrint is the fingerprint of one part of a message.
type PartPrint struct {
	// Type is text, image, thinking, redacted_thinking, tool_call or
	// tool_result, with the tool's name or call id after a space.
	Type    string `json:"type"`
	Digest  string `json:"digest"`
	Bytes   int    `json:"bytes"`
	Excerpt string `json:"excerpt,omitempty"`
}

// RequestPrint is what a recorded request is held to in a replay. Two
// requests match when their Digests do.
type RequestPrint struct {
	API    string `json:"api"`
	Model  string `json:"model"`
	Stream bool   `json:"stream,omitempty"`
	// Tools are the names of the tools offered, in order.
	Tools    []string       `json:"tools,omitempty"`
	System   []MessagePrint `json:"system,omitempty"`
	Messages []MessagePrint `json:"messages"`
	// Digest covers everything above but the excerpts.
	Digest string `json:"digest"`
}

// AnswerPart is one part of a recorded answer.
type AnswerPart struct {
	// Type is text, thinking, redacted_thinking or tool_call.
	Type string `json:"type"`
	// Text is a text part's text, a thinking part's reasoning.
	Text string `json:"text,omitempty"`
	// Signature verifies a thinking part; Data is redacted thinking's
	// opaque payload.
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// ToolCallID, ToolName and Arguments (a JSON object, as text) are a
	// tool call's.
	ToolCallID string `json:"tool_call_id,omitempty"`
	ToolName   string `json:"tool_name,omitempty"`
	Arguments  string `json:"arguments,omitempty"`
}

// AnswerUsage is the usage the answer reported to the client.
type AnswerUsage struct {
	InputTokens      int `json:"input_tokens"`
	OutputTokens     int `json:"output_tokens"`
	CacheReadTokens  int `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int `json:"reasoning_tokens,omitempty"`
}

// AnswerError is the error a call answered with.
type AnswerError struct {
	// Kind is the llm error kind, Status the HTTP status the client got.
	Kind    string `json:"kind"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// Answer is a model's answer in a normalized form, enough to encode it
// again in any inbound API, streamed or not; or the error the call ended
// with.
type Answer struct {
	ID           string       `json:"id,omitempty"`
	Model        string       `json:"model,omitempty"`
	Parts        []AnswerPart `json:"parts,omitempty"`
	StopReason   string       `json:"stop_reason,omitempty"`
	StopSequence string       `json:"stop_sequence,omitempty"`
	Usage        AnswerUsage  `json:"usage"`
	// Error, when set, is what the client got instead of an answer.
	Error *AnswerError `json:"error,omitempty"`
}

// AnswerRecorded is the model.answer.recorded event.
type AnswerRecorded struct {
	CallID string `json:"call_id"`
	// Turn is the session turn the call belongs to (its "turn" tag), 0
	// when it has none.
	Turn    int          `json:"turn,omitempty"`
	Request RequestPrint `json:"request"`
	// Answer is left out when the call cannot be replayed; NotReplayable
	// then says why (an answer over the size bound, say).
	Answer        *Answer `json:"answer,omitempty"`
	NotReplayable string  `json:"not_replayable,omitempty"`
}

// FieldDiff is one difference between a recorded request and a replayed
// one.
type FieldDiff struct {
	// Field names what differs: "model", "tools", "system[0]",
	// "messages[4] (user) part 1 (text)", "messages" (their number).
	Field    string `json:"field"`
	Recorded string `json:"recorded"`
	Now      string `json:"now"`
}

// ReplayDiverged is the replay.diverged event: a harness replay stopped
// because a model call did not match the recording (or came after its
// end, or a turn ended before its recorded calls were made).
type ReplayDiverged struct {
	// CallID is the replay's call that diverged, if a call did.
	CallID string `json:"call_id,omitempty"`
	// Session is the replay session, ReplayOf the recorded one.
	Session  string `json:"session,omitempty"`
	ReplayOf string `json:"replay_of"`
	Turn     int    `json:"turn,omitempty"`
	// Call is the number of the replay's call, from 1.
	Call int `json:"call,omitempty"`
	// RecordedCall (from 1) and RecordedCallID name the recorded call
	// the request was held to.
	RecordedCall   int    `json:"recorded_call,omitempty"`
	RecordedCallID string `json:"recorded_call_id,omitempty"`
	// Reason says in one line what happened.
	Reason string      `json:"reason"`
	Diffs  []FieldDiff `json:"diffs,omitempty"`
}

// String is the divergence for people: a line, then each difference.
func (d *ReplayDiverged) String() string {
	var b strings.Builder
	b.WriteString("replay of ")
	b.WriteString(d.ReplayOf)
	b.WriteString(" diverged")
	if d.Call > 0 {
		fmt.Fprintf(&b, " at call %d", d.Call)
	}
	if d.Turn > 0 {
		fmt.Fprintf(&b, " (turn %d)", d.Turn)
	}
	if d.RecordedCall > 0 {
		fmt.Fprintf(&b, ", held to recorded call %d (%s)", d.RecordedCall, d.RecordedCallID)
	}
	b.WriteString(": ")
	b.WriteString(d.Reason)
	for _, f := range d.Diffs {
		fmt.Fprintf(&b, "\n  %s:\n    recorded: %s\n    now:      %s", f.Field, f.Recorded, f.Now)
	}
	return b.String()
}
