package harness_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
)

func TestEventValidate(t *testing.T) {
	t.Parallel()
	code := 1
	tests := []struct {
		name  string
		event harness.Event
		err   string // "" is valid
	}{
		{"started", harness.Event{Kind: harness.KindStarted, HarnessSessionID: "x"}, ""},
		{"started without id", harness.Event{Kind: harness.KindStarted}, "needs the CLI's harness_session_id"},
		{"message", harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: "assistant", Text: "hi"}}, ""},
		{"bad role", harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: "robot"}}, `role "robot"`},
		{"no payload", harness.Event{Kind: harness.KindUsage}, "needs its usage payload"},
		{"wrong payload", harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: "user"}, Usage: &harness.Usage{}}, "carries a usage payload"},
		{"started with payload", harness.Event{Kind: harness.KindStarted, HarnessSessionID: "x", Error: &harness.Error{Message: "m"}}, "carries a error payload"},
		{"unknown kind", harness.Event{Kind: "thought"}, `unknown kind "thought"`},
		{"tool call", harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: "1", Name: "Bash", Input: json.RawMessage(`{}`)}}, ""},
		{"tool call without id", harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{Name: "Bash"}}, "are both required"},
		{"tool call bad input", harness.Event{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: "1", Name: "Bash", Input: json.RawMessage(`{`)}}, "input is not JSON"},
		{"tool result", harness.Event{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{ID: "1", ExitCode: &code}}, ""},
		{"tool result without id", harness.Event{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{}}, "id is required"},
		{"denied", harness.Event{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{Tool: "Bash"}}, ""},
		{"denied without tool", harness.Event{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{}}, "tool is required"},
		{"negative usage", harness.Event{Kind: harness.KindUsage, Usage: &harness.Usage{InputTokens: -1}}, "negative"},
		{"error without message", harness.Event{Kind: harness.KindError, Error: &harness.Error{}}, "message is required"},
		{"unknown limit", harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: "m", Limit: "disk"}}, `unknown limit "disk"`},
		{"completed", harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{ExitCode: 2}}, ""},
		{"raw not JSON", harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{}, Raw: json.RawMessage("oops")}, "raw is not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.event.Validate()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, harness.ErrInvalidEvent)):
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
}

func validRequest() harness.StartRequest {
	return harness.StartRequest{
		SessionID: "s1", Prompt: "hi", Workdir: "/work", StateDir: "/state", CLIPath: "claude",
		Gateway: harness.Gateway{BaseURL: "http://127.0.0.1:8080", Key: "k"},
	}
}

func TestRequestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(r *harness.StartRequest)
		err    string
	}{
		{"valid", func(*harness.StartRequest) {}, ""},
		{"no session", func(r *harness.StartRequest) { r.SessionID = "" }, "session_id is empty"},
		{"no prompt", func(r *harness.StartRequest) { r.Prompt = "" }, "prompt is empty"},
		{"no cli", func(r *harness.StartRequest) { r.CLIPath = "" }, "cli_path is empty"},
		{"relative workdir", func(r *harness.StartRequest) { r.Workdir = "w" }, `workdir "w" is relative`},
		{"no state dir", func(r *harness.StartRequest) { r.StateDir = "" }, "state_dir is empty"},
		{"bad gateway", func(r *harness.StartRequest) { r.Gateway.BaseURL = "127.0.0.1:8080" }, "not an absolute URL"},
		{"no key", func(r *harness.StartRequest) { r.Gateway.Key = "" }, "session-scoped gateway key"},
		{"mcp", func(r *harness.StartRequest) {
			r.MCPServers = []harness.MCPServer{{Name: "a", URL: "http://x"}, {Name: "b", Command: "srv", Args: []string{"-v"}}}
		}, ""},
		{"mcp both", func(r *harness.StartRequest) {
			r.MCPServers = []harness.MCPServer{{Name: "a", URL: "http://x", Command: "c"}}
		}, "either url"},
		{"mcp twice", func(r *harness.StartRequest) {
			r.MCPServers = []harness.MCPServer{{Name: "a", URL: "http://x"}, {Name: "a", URL: "http://y"}}
		}, "used twice"},
		{"mcp headers on local", func(r *harness.StartRequest) {
			r.MCPServers = []harness.MCPServer{{Name: "a", Command: "c", Headers: map[string]string{"h": "v"}}}
		}, "headers are for a remote server"},
		{"negative limit", func(r *harness.StartRequest) { r.Sandbox = &harness.Sandbox{WallClock: -time.Second} }, "negative limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(&r)
			err := r.Validate()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, harness.ErrInvalidRequest)):
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
	t.Run("resume", func(t *testing.T) {
		r := harness.ResumeRequest{StartRequest: validRequest()}
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "harness_session_id is empty") {
			t.Errorf("err = %v", err)
		}
		r.HarnessSessionID = "abc"
		if err := harness.NewResume(r).Validate(); err != nil {
			t.Error(err)
		}
		bad := harness.NewStart(validRequest())
		bad.HarnessSessionID = "abc"
		if err := bad.Validate(); err == nil {
			t.Error("a start with a harness session id is valid")
		}
	})
}

func TestChecked(t *testing.T) {
	t.Parallel()
	started := harness.Event{Kind: harness.KindStarted, HarnessSessionID: "h1"}
	msg := harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: "assistant", Text: "x"}}
	done := harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{}}
	fatal := harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: "x", Fatal: true}}
	warn := harness.Event{Kind: harness.KindError, Error: &harness.Error{Message: "x"}}
	tests := []struct {
		name   string
		events []harness.Event
		bad    int // index of the event refused, -1 for none
	}{
		{"in order", []harness.Event{started, msg, warn, done}, -1},
		{"no started", []harness.Event{msg, fatal}, -1},
		{"started late", []harness.Event{msg, started}, 1},
		{"started twice", []harness.Event{started, started}, 1},
		{"after completed", []harness.Event{started, done, msg}, 2},
		{"after fatal error", []harness.Event{fatal, done}, 1},
		{"invalid", []harness.Event{{Kind: harness.KindMessage}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []harness.Event
			emit := harness.Checked(func(e harness.Event) error { got = append(got, e); return nil })
			for i, e := range tt.events {
				err := emit(e)
				if (err != nil) != (i == tt.bad) {
					t.Fatalf("event %d: err = %v", i, err)
				}
				if err != nil && !errors.Is(err, harness.ErrInvalidEvent) {
					t.Fatalf("event %d: err = %v does not wrap ErrInvalidEvent", i, err)
				}
			}
			for _, e := range got {
				if e.Time.IsZero() {
					t.Error("time not filled in")
				}
				if tt.events[0].Kind == harness.KindStarted && e.HarnessSessionID != "h1" {
					t.Errorf("%s: session id %q not filled in", e.Kind, e.HarnessSessionID)
				}
			}
		})
	}
}
