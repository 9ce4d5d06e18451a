package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// seedDemo appends two example sessions to an empty store, and returns
// how many events it wrote (0 if the store already held events).
func seedDemo(ctx context.Context, s interface {
	eventstore.Appender
	eventstore.Reader
}) (int, error) {
	empty, err := storeEmpty(ctx, s)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	if !empty {
		return 0, nil
	}
	type ev struct {
		typ  string
		data any
	}
	sessions := []struct {
		stream string
		md     event.Metadata
		events []ev
	}{
		{"session-demo-1", event.Metadata{Actor: "user:alice", Agent: "reviewer", Session: "demo-1", Team: "platform", User: "alice"}, []ev{
			{"session.started", event.SessionStarted{Agent: "reviewer", Harness: "claudecode", Prompt: "Review the open pull request"}},
			{"message.added", event.MessageAdded{Role: "user", Text: "Review the open pull request"}},
			{"routing.decided", event.RoutingDecided{CallID: "call-1", Router: "gateway.routers.task-type", RequestModel: "sim-large", Targets: []event.RouteTarget{{Provider: "sim", Model: "sim-large"}, {Provider: "sim", Model: "sim-small"}}, Reason: "task type review"}},
			{"model.call.started", event.ModelCallStarted{CallID: "call-1", API: "anthropic.messages", Operation: "chat", RequestModel: "sim-large"}},
			{"model.call.completed", event.ModelCallCompleted{CallID: "call-1", API: "anthropic.messages", Provider: "sim", RequestModel: "sim-large", ResponseModel: "sim-large", CallUsage: event.CallUsage{InputTokens: 1830, OutputTokens: 412, CostUSD: 0.0117}, LatencyMS: 842, Attempts: 1}},
			{"tool.called", event.ToolCalled{Tool: "git.diff", Allowed: true}},
			{"message.added", event.MessageAdded{Role: "assistant", Text: "Two findings: a missing error check in store.go and an unbounded retry loop."}},
			{"session.ended", event.SessionEnded{Outcome: "completed", Turns: 2}},
		}},
		{"session-demo-2", event.Metadata{Actor: "schedule:nightly", Agent: "triager", Session: "demo-2", Team: "platform"}, []ev{
			{"session.started", event.SessionStarted{Agent: "triager", Harness: "codex", Prompt: "Triage new issues"}},
			{"model.call.failed", event.ModelCallFailed{CallID: "call-2", RequestModel: "sim-small", ErrorKind: "overloaded", Message: "provider returned 529 after 3 retries", Status: 503, Attempts: 3}},
			{"session.ended", event.SessionEnded{Outcome: "failed", Error: "no model answered"}},
		}},
	}
	n := 0
	start := time.Now().Add(-time.Minute)
	for _, sess := range sessions {
		batch := make([]event.Proposed, 0, len(sess.events))
		corr := event.NewID().String()
		for i, e := range sess.events {
			md := sess.md
			md.CorrelationID = corr
			p, err := event.New(e.typ, e.data, md)
			if err != nil {
				return n, fmt.Errorf("demo: %w", err)
			}
			p.Time = start.Add(time.Duration(n+i) * time.Second)
			batch = append(batch, p)
		}
		// NoStream: seeding twice cannot duplicate a session.
		if _, err := s.Append(ctx, sess.stream, eventstore.NoStream, batch...); err != nil {
			return n, fmt.Errorf("demo: seed %s: %w", sess.stream, err)
		}
		n += len(batch)
	}
	return n, nil
}
