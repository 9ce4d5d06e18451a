// Package trace builds a decision's trace from the event log: the tree
// of what one turn of a session did, with what each part cost.
//
//	decision SESSION/TURN        the turn: prompt, outcome, total cost
//	├─ model call CALL_ID        tokens, cost, latency, target
//	│  ├─ routing                router, plugin digest, reason, targets
//	│  ├─ policy NAME            verdict
//	│  └─ attempt N              provider/model, outcome, what came next
//	├─ tool call NAME            input, output, exit code
//	└─ ...                       in the order they happened
//
// Nothing here is stored: a trace is read from the session's stream and
// its key's call stream whenever it is asked for, so it is always what
// the log says. The same tree exports as OpenTelemetry spans
// (core/trace/otlp).
package trace

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/sdk/harness"
)

// Node kinds.
const (
	KindDecision   = "decision"
	KindModelCall  = "model_call"
	KindRouting    = "routing"
	KindAttempt    = "attempt"
	KindPolicy     = "policy"
	KindToolCall   = "tool_call"
	KindDenial     = "permission_denied"
	KindHarnessErr = "error"
)

// Node is one part of a trace.
type Node struct {
	Kind string `json:"kind"`
	// Name is the node's title: the decision id, a call id, a tool's
	// name, a policy's name, "attempt 2".
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Summary is one line for people.
	Summary string `json:"summary,omitempty"`
	// Model calls (and the decision, summed over its calls).
	CostUSD      float64 `json:"cost_usd,omitempty"`
	InputTokens  int64   `json:"input_tokens,omitempty"`
	OutputTokens int64   `json:"output_tokens,omitempty"`
	// Attrs are the node's facts, named after the OpenTelemetry GenAI
	// conventions where there is one (gen_ai.request.model, ...).
	Attrs map[string]any `json:"attrs,omitempty"`
	// Error is set when the part failed.
	Error string `json:"error,omitempty"`
	// Events are the positions of the events the node is made of.
	Events   []uint64 `json:"events"`
	Children []*Node  `json:"children,omitempty"`
}

// ErrNotFound is returned for a decision the log does not have.
var ErrNotFound = errors.New("no such decision")

// ParseDecision splits "SESSION/TURN".
func ParseDecision(s string) (session string, turn int, err error) {
	id, t, ok := strings.Cut(s, "/")
	if !ok || id == "" {
		return "", 0, fmt.Errorf("%q is not a decision: write SESSION/TURN, e.g. s0123456789abcdef/2 (`switchyard costs --by decision` lists them)", s)
	}
	turn, err = strconv.Atoi(t)
	if err != nil || turn < 1 {
		return "", 0, fmt.Errorf("%q: the turn after the / is a number from 1", s)
	}
	return id, turn, nil
}

// Build reads the trace of turn `turn` of session `id` from r.
func Build(ctx context.Context, r eventstore.Reader, id string, turn int) (*Node, error) {
	root := &Node{Kind: KindDecision, Name: fmt.Sprintf("%s/%d", id, turn), Attrs: map[string]any{"session.id": id, "turn": turn}}
	var keyID string
	found := false
	byTool := map[string]*Node{}
	for e, err := range r.ReadStream(ctx, "session-"+id, eventstore.ReadOptions{}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return nil, fmt.Errorf("%w: no session %s", ErrNotFound, id)
			}
			return nil, err
		}
		var d struct {
			Turn    int    `json:"turn"`
			KeyID   string `json:"key_id"`
			Agent   string `json:"agent"`
			Harness string `json:"harness"`
			Prompt  string `json:"prompt"`
			Mode    string `json:"mode"`
			Outcome string `json:"outcome"`
			Result  string `json:"result"`
			// Error is a string in session.turn.ended, an object in
			// session.harness.error (read by harnessNode).
			Error  json.RawMessage `json:"error"`
			Reason string          `json:"reason"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, fmt.Errorf("%s event at position %d: %w", e.Type, e.Position, err)
		}
		if e.Type == "session.created" {
			keyID = d.KeyID
			root.Attrs["gen_ai.agent.name"], root.Attrs["harness"] = d.Agent, d.Harness
			continue
		}
		if d.Turn != turn {
			continue
		}
		switch e.Type {
		case "session.turn.started":
			found = true
			if root.Start.IsZero() {
				root.Start = e.Time
				root.Attrs["prompt"] = d.Prompt
			}
			root.Attrs["mode"] = d.Mode // the last run of the turn: resume after an interruption
			root.End = time.Time{}
		case "session.turn.ended":
			root.End = e.Time
			root.Attrs["outcome"] = d.Outcome
			if d.Outcome != "completed" {
				var msg string
				_ = json.Unmarshal(d.Error, &msg)
				root.Error = cmp.Or(msg, d.Outcome)
			}
			if d.Result != "" {
				root.Attrs["result"] = d.Result
			}
		case "session.interrupted":
			root.Children = append(root.Children, &Node{Kind: KindHarnessErr, Name: "interrupted", Start: e.Time, Error: d.Reason, Events: []uint64{e.Position}})
		default:
			if err := harnessNode(root, byTool, &e); err != nil {
				return nil, err
			}
		}
		root.Events = append(root.Events, e.Position)
	}
	if !found {
		return nil, fmt.Errorf("%w: session %s has no turn %d", ErrNotFound, id, turn)
	}
	if keyID != "" {
		want := strconv.Itoa(turn)
		if err := addCalls(ctx, r, root, "calls-"+keyID, func(s *event.ModelCallStarted) bool { return s.Tags["turn"] == want }); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(root.Children, func(a, b *Node) int { return a.Start.Compare(b.Start) })
	for _, c := range root.Children {
		if c.Kind == KindModelCall {
			root.CostUSD += c.CostUSD
			root.InputTokens += c.InputTokens
			root.OutputTokens += c.OutputTokens
		}
	}
	root.Summary = fmt.Sprintf("%d model call(s), %d tool call(s), $%.6f", count(root, KindModelCall), count(root, KindToolCall), root.CostUSD)
	return root, nil
}

func count(n *Node, kind string) int {
	c := 0
	for _, ch := range n.Children {
		if ch.Kind == kind {
			c++
		}
	}
	return c
}

// harnessNode adds what a session.harness.<kind> event says to the tree.
func harnessNode(root *Node, byTool map[string]*Node, e *event.Event) error {
	var h struct {
		harness.Event
	}
	if err := json.Unmarshal(e.Data, &h); err != nil {
		return fmt.Errorf("%s event at position %d: %w", e.Type, e.Position, err)
	}
	switch {
	case h.ToolCall != nil:
		n := &Node{Kind: KindToolCall, Name: h.ToolCall.Name, Start: e.Time, Events: []uint64{e.Position},
			Attrs: map[string]any{"gen_ai.tool.name": h.ToolCall.Name, "gen_ai.tool.call.id": h.ToolCall.ID, "input": excerpt(string(h.ToolCall.Input))}}
		n.Summary = excerpt(string(h.ToolCall.Input))
		byTool[h.ToolCall.ID] = n
		root.Children = append(root.Children, n)
	case h.ToolResult != nil:
		n := byTool[h.ToolResult.ID]
		if n == nil {
			return nil // a result whose call is in another turn
		}
		n.End = e.Time
		n.Events = append(n.Events, e.Position)
		n.Attrs["output"] = excerpt(h.ToolResult.Output)
		if h.ToolResult.ExitCode != nil {
			n.Attrs["exit_code"] = *h.ToolResult.ExitCode
		}
		if h.ToolResult.IsError {
			n.Error = excerpt(h.ToolResult.Output)
		}
	case h.PermissionDenied != nil:
		root.Children = append(root.Children, &Node{Kind: KindDenial, Name: h.PermissionDenied.Tool, Start: e.Time, Events: []uint64{e.Position},
			Summary: h.PermissionDenied.Reason, Attrs: map[string]any{"gen_ai.tool.name": h.PermissionDenied.Tool, "input": excerpt(string(h.PermissionDenied.Input))}})
	case h.Error != nil:
		root.Children = append(root.Children, &Node{Kind: KindHarnessErr, Name: "harness error", Start: e.Time, Error: h.Error.Message, Events: []uint64{e.Position}})
	}
	return nil
}

// addCalls adds the model calls of a call stream that keep selects.
func addCalls(ctx context.Context, r eventstore.Reader, root *Node, stream string, keep func(*event.ModelCallStarted) bool) error {
	calls := map[string]*Node{}
	for e, err := range r.ReadStream(ctx, stream, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil // no call yet
		}
		if err != nil {
			return err
		}
		if _, known := event.Lookup(e.Type); !known {
			continue // a type this build does not know: not part of a trace it can draw
		}
		v, err := event.Decode(&e)
		if err != nil {
			return err
		}
		if s, ok := v.(*event.ModelCallStarted); ok {
			if !keep(s) {
				continue
			}
			n := &Node{Kind: KindModelCall, Name: s.CallID, Start: e.Time, Events: []uint64{e.Position},
				Attrs: map[string]any{"gen_ai.operation.name": s.Operation, "gen_ai.request.model": s.RequestModel, "api": s.API, "stream": s.Stream}}
			calls[s.CallID] = n
			root.Children = append(root.Children, n)
			continue
		}
		n := calls[callID(v)]
		if n == nil {
			continue
		}
		n.Events = append(n.Events, e.Position)
		switch d := v.(type) {
		case *event.RoutingDecided:
			rn := &Node{Kind: KindRouting, Name: d.Router, Start: e.Time, Events: []uint64{e.Position}, Summary: d.Reason,
				Attrs: map[string]any{"router": d.Router, "targets": event.TargetNames(d.Targets)}}
			if d.PluginDigest != "" {
				rn.Attrs["plugin_digest"], rn.Attrs["seed"], rn.Attrs["clock_unix_ms"] = d.PluginDigest, d.Seed, d.ClockUnixMS
			}
			if len(d.Skipped) > 0 {
				rn.Attrs["skipped"] = d.Skipped
			}
			rn.Error = d.PluginError
			n.Children = append(n.Children, rn)
		case *event.PolicyVerdict:
			n.Children = append(n.Children, &Node{Kind: KindPolicy, Name: d.Policy, Start: e.Time, Events: []uint64{e.Position},
				Summary: strings.TrimSpace(d.Decision + " " + d.Reason), Error: d.Error,
				Attrs: map[string]any{"hook": d.Hook, "decision": d.Decision, "digest": d.Digest}})
		case *event.ModelCallAttempt:
			an := &Node{Kind: KindAttempt, Name: "attempt " + strconv.Itoa(d.Attempt), Start: e.Time.Add(-ms(d.LatencyMS)), End: e.Time,
				Events: []uint64{e.Position}, Summary: strings.TrimSpace(d.Outcome + " → " + d.Next + " " + d.Reason),
				Attrs: map[string]any{"gen_ai.provider.name": d.Provider, "gen_ai.request.model": d.Model, "outcome": d.Outcome, "next": d.Next}}
			if d.Status != 0 {
				an.Attrs["status"] = d.Status
			}
			an.Error = d.Error
			n.Children = append(n.Children, an)
		case *event.ModelCallCompleted:
			finishCall(n, e.Time, d.Provider, cmp.Or(d.TargetModel, d.ResponseModel), d.CallUsage, d.LatencyMS, d.Attempts, d.CallRoute)
			n.Attrs["gen_ai.response.model"] = d.ResponseModel
			if d.FinishReason != "" {
				n.Attrs["gen_ai.response.finish_reasons"] = []string{d.FinishReason}
			}
		case *event.ModelCallFailed:
			finishCall(n, e.Time, d.Provider, d.TargetModel, d.CallUsage, d.LatencyMS, d.Attempts, d.CallRoute)
			n.Error = fmt.Sprintf("%s (%d): %s", d.ErrorKind, d.Status, d.Message)
		}
	}
	return nil
}

// BuildCall reads the trace of one model call by its id, made outside a
// session or in one: the call, its routing decision, policy verdicts and
// attempts. Call ids are UUIDv7s, whose time says where in the log the
// call began; the search reads from a little before that time until it
// finds the call, for at most maxScan events.
func BuildCall(ctx context.Context, r eventstore.Reader, callID string, maxScan int) (*Node, error) {
	id, err := uuid.Parse(callID)
	if err != nil || id.Version() != 7 {
		return nil, fmt.Errorf("%q is not a call id (the x-switchyard-call-id of a response, a UUIDv7) nor a decision SESSION/TURN", callID)
	}
	ms := int64(id[0])<<40 | int64(id[1])<<32 | int64(id[2])<<24 | int64(id[3])<<16 | int64(id[4])<<8 | int64(id[5])
	from, err := eventstore.PositionAt(ctx, r, time.UnixMilli(ms).Add(-2*time.Second))
	if err != nil {
		return nil, err
	}
	stream, scanned := "", 0
	for e, err := range r.ReadAll(ctx, eventstore.ReadOptions{From: from}) {
		if err != nil {
			return nil, err
		}
		if e.Type == "model.call.started" && e.Metadata.CorrelationID == callID {
			stream = e.Stream
			break
		}
		if scanned++; scanned >= maxScan {
			break
		}
	}
	if stream == "" {
		return nil, fmt.Errorf("%w: no model call %s in the %d events after its time", ErrNotFound, callID, scanned)
	}
	root := &Node{}
	if err := addCalls(ctx, r, root, stream, func(s *event.ModelCallStarted) bool { return s.CallID == callID }); err != nil {
		return nil, err
	}
	if len(root.Children) != 1 {
		return nil, fmt.Errorf("%w: model call %s is not in %s", ErrNotFound, callID, stream)
	}
	return root.Children[0], nil
}

func finishCall(n *Node, at time.Time, provider, model string, u event.CallUsage, latencyMS float64, attempts int, route event.CallRoute) {
	n.End = at
	n.CostUSD, n.InputTokens, n.OutputTokens = u.CostUSD, int64(u.InputTokens), int64(u.OutputTokens)
	n.Attrs["gen_ai.provider.name"], n.Attrs["target_model"] = provider, model
	n.Attrs["gen_ai.usage.input_tokens"], n.Attrs["gen_ai.usage.output_tokens"] = u.InputTokens, u.OutputTokens
	if u.CacheReadTokens > 0 {
		n.Attrs["gen_ai.usage.cache_read.input_tokens"] = u.CacheReadTokens
	}
	if u.ReasoningTokens > 0 {
		n.Attrs["gen_ai.usage.reasoning.output_tokens"] = u.ReasoningTokens
	}
	n.Attrs["cost_usd"], n.Attrs["latency_ms"], n.Attrs["attempts"] = u.CostUSD, latencyMS, attempts
	if route.Retries+route.Fallbacks > 0 {
		n.Attrs["retries"], n.Attrs["fallbacks"] = route.Retries, route.Fallbacks
	}
	if n.Start.IsZero() || n.Start.After(at) {
		n.Start = at.Add(-ms(latencyMS))
	}
	n.Summary = fmt.Sprintf("%s/%s, %d in / %d out tokens, $%.6f, %.0f ms", provider, model, u.InputTokens, u.OutputTokens, u.CostUSD, latencyMS)
	if attempts > 1 {
		n.Summary += fmt.Sprintf(", %d attempts", attempts)
	}
}

func callID(v any) string {
	switch d := v.(type) {
	case *event.RoutingDecided:
		return d.CallID
	case *event.PolicyVerdict:
		return d.CallID
	case *event.ModelCallAttempt:
		return d.CallID
	case *event.ModelCallCompleted:
		return d.CallID
	case *event.ModelCallFailed:
		return d.CallID
	}
	return ""
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// excerpt shortens s for a trace line.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:197] + "..."
	}
	return s
}
