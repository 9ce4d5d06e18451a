package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
			{"tool.called", event.ToolCalled{Tool: "git.diff", Allowed: true}},
			{"message.added", event.MessageAdded{Role: "assistant", Text: "Two findings: a missing error check in store.go and an unbounded retry loop."}},
			{"session.ended", event.SessionEnded{Outcome: "completed", Turns: 2}},
		}},
		{"session-demo-2", event.Metadata{Actor: "schedule:nightly", Agent: "triager", Session: "demo-2", Team: "platform"}, []ev{
			{"session.started", event.SessionStarted{Agent: "triager", Harness: "codex", Prompt: "Triage new issues"}},
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

// demoCall makes one model call through the gateway with the demo key and
// prints the answer and the call's event, so the demo shows the data
// plane working without anything else installed.
func (a *app) demoCall(ctx context.Context, addr, secret string, gw interface {
	Flush(context.Context) error
}, store eventstore.Reader) error {
	body := `{"model":"fast","messages":[{"role":"user","content":"Say hello to the new Switchyard user."}]}`
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo call: %w", err)
	}
	defer res.Body.Close()
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || len(out.Choices) == 0 {
		return fmt.Errorf("demo call: status %s, %v", res.Status, err)
	}
	callID := res.Header.Get("x-switchyard-call-id")
	if err := gw.Flush(ctx); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A call through the gateway (POST /v1/chat/completions, model \"fast\", the demo key):\n")
	fmt.Fprintf(&b, "  answer: %s\n", out.Choices[0].Message.Content)
	fmt.Fprintf(&b, "  its events in the log:\n")
	var lines []string // newest first
	for e, err := range store.ReadAll(ctx, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards, Limit: 20}) {
		if err != nil {
			return err
		}
		if e.Metadata.CorrelationID != callID {
			continue
		}
		line := callLine(&e, true)
		if line == "" {
			line = fmt.Sprintf("%s %s on stream %s", e.Time.Local().Format("15:04:05"), e.Type, e.Stream)
		}
		lines = append(lines, line)
	}
	for i := len(lines) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "    %s\n", lines[i])
	}
	b.WriteString("\n")
	_, err = io.WriteString(a.io.Out, b.String())
	return err
}
