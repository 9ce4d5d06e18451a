// Package fakeharness is the adapter of testdata/fakecli, a fake CLI: the
// tests' adapter, and a small example of one. Its CLI prints lines such as
//
//	{"type":"init","session_id":"..."}
//	{"type":"text","role":"assistant","text":"..."}
//	{"type":"tool_use","id":"t1","name":"Bash","input":{...}}
//	{"type":"tool_result","id":"t1","output":"...","exit_code":0,"is_error":false}
//	{"type":"denied","tool":"Bash","input":{...},"reason":"..."}
//	{"type":"error","message":"...","fatal":true}
//	{"type":"result","result":"...","turns":2,"usage":{"model":"m","input_tokens":10,...}}
//
// and is resumed with --resume ID.
package fakeharness

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Adapter drives fakecli.
type Adapter struct {
	Grace        time.Duration // harness.Command.Grace
	MaxLineBytes int           // harness.Command.MaxLineBytes
	Log          *slog.Logger
}

var _ harness.Adapter = (*Adapter)(nil)

func (a *Adapter) Describe(context.Context) (harness.Info, error) {
	return harness.Info{Harness: "fake", CLI: "fakecli", Version: "0.1.0"}, nil
}

func (a *Adapter) Run(ctx context.Context, r *harness.Run, emit harness.Emit) error {
	if err := r.Validate(); err != nil {
		return err
	}
	req := r.Request
	args := []string{"-p", req.Prompt}
	if r.Mode == harness.ModeResume {
		args = append(args, "--resume", r.HarnessSessionID)
	}
	env := harness.BaseEnv()
	for _, k := range slices.Sorted(maps.Keys(req.Env)) {
		env = append(env, k+"="+req.Env[k])
	}
	env = append(env,
		"HOME="+req.StateDir,
		"FAKECLI_STATE="+req.StateDir,
		"FAKECLI_SESSION="+req.SessionID,
		"FAKE_BASE_URL="+req.Gateway.BaseURL,
		"FAKE_API_KEY="+req.Gateway.Key,
	)
	cmd := &harness.Command{
		Path:         req.CLIPath,
		Args:         args,
		Env:          env,
		Dir:          req.Workdir,
		Sandbox:      req.Sandbox,
		Grace:        a.Grace,
		MaxLineBytes: a.MaxLineBytes,
		Log:          a.Log,
	}
	return harness.Drive(ctx, cmd, parse, emit)
}

type line struct {
	Type      string          `json:"type"`
	SessionID string          `json:"session_id"`
	Role      string          `json:"role"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	Output    string          `json:"output"`
	ExitCode  *int            `json:"exit_code"`
	IsError   bool            `json:"is_error"`
	Tool      string          `json:"tool"`
	Reason    string          `json:"reason"`
	Message   string          `json:"message"`
	Fatal     bool            `json:"fatal"`
	Result    string          `json:"result"`
	Turns     int             `json:"turns"`
	Usage     *harness.Usage  `json:"usage"`
}

func parse(l harness.Line) ([]harness.Event, error) {
	var v line
	if err := json.Unmarshal(l.Bytes, &v); err != nil {
		return nil, err
	}
	switch v.Type {
	case "init":
		return []harness.Event{{Kind: harness.KindStarted, HarnessSessionID: v.SessionID}}, nil
	case "text":
		role := v.Role
		if role == "" {
			role = harness.RoleAssistant
		}
		return []harness.Event{{Kind: harness.KindMessage, Message: &harness.Message{Role: role, Text: v.Text}}}, nil
	case "tool_use":
		return []harness.Event{{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: v.ID, Name: v.Name, Input: v.Input}}}, nil
	case "tool_result":
		return []harness.Event{{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{ID: v.ID, Output: v.Output, ExitCode: v.ExitCode, IsError: v.IsError}}}, nil
	case "denied":
		return []harness.Event{{Kind: harness.KindPermissionDenied, PermissionDenied: &harness.PermissionDenied{Tool: v.Tool, Input: v.Input, Reason: v.Reason}}}, nil
	case "error":
		return []harness.Event{{Kind: harness.KindError, Error: &harness.Error{Message: v.Message, Fatal: v.Fatal}}}, nil
	case "result":
		var events []harness.Event
		if v.Usage != nil {
			events = append(events, harness.Event{Kind: harness.KindUsage, Usage: v.Usage})
		}
		return append(events, harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: v.Result, Turns: v.Turns}}), nil
	}
	return nil, fmt.Errorf("unknown line type %q", v.Type)
}
