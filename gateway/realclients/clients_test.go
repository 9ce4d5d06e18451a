package realclients_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
)

// newStack is a gateway whose routes send the model names the CLIs use by
// default to the simulator.
func newStack(t *testing.T) *gatewaytest.Stack {
	return gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: nil,
		Routes: []route.Rule{
			{Model: "claude-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "gpt-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "solo", Targets: []route.Target{{Provider: "sim", Model: "sim-small"}}},
		},
	}})
}

// run runs a command with env added, bounded by timeout, killing its whole
// process group at the end. It returns stdout; stderr is logged on failure.
func run(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(t), env...)
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers
	}
	if err != nil {
		t.Logf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 4000), tail(stdout.String(), 4000))
	}
	return stdout.Bytes(), err
}

// cleanEnv is the environment without anything that would point a client
// elsewhere or lend it the developer's own credentials and settings, and
// with a HOME of its own.
func cleanEnv(t *testing.T) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME",
			strings.HasPrefix(name, "ANTHROPIC_"), strings.HasPrefix(name, "OPENAI_"),
			strings.HasPrefix(name, "CLAUDE_"), strings.HasPrefix(name, "CODEX_"),
			strings.HasPrefix(name, "OPENCODE_"), strings.HasPrefix(name, "XDG_"):
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+t.TempDir())
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// node runs a case of an SDK script and decodes its JSON answer.
func node(t *testing.T, script, name string, env ...string) map[string]any {
	t.Helper()
	env = append(env, "CLIENTS_DIR="+realclients.DirOrSkip(t))
	out, err := run(t, time.Minute, ".", env, "node", "testdata/"+script, name)
	var res map[string]any
	if jerr := json.Unmarshal(bytes.TrimSpace(out), &res); jerr != nil {
		t.Fatalf("%s %s: %v, output %q", script, name, err, out)
	}
	if c, ok := res["crash"]; ok {
		t.Fatalf("%s %s crashed: %v", script, name, c)
	}
	return res
}

// checkCompleted asserts the call's completion event: attributed to the
// key and client, with tokens and a price.
func checkCompleted(t *testing.T, s *gatewaytest.Stack, callID, client string) event.ModelCallCompleted {
	t.Helper()
	if callID == "" {
		t.Fatal("the answer has no x-switchyard-call-id header")
	}
	done := gatewaytest.Find[event.ModelCallCompleted](t, s.Events(callID), "model.call.completed")
	if done.KeyID != s.KeyID || done.Client != client || done.InputTokens == 0 || done.OutputTokens == 0 || done.CostUSD <= 0 || done.Unpriced {
		t.Fatalf("completed event %+v: want key %s, client %s, tokens and a price", done, s.KeyID, client)
	}
	return done
}

// completedBy returns every completed call of the stack's key made by
// client, after flushing the recorder.
func completedBy(t *testing.T, s *gatewaytest.Stack, client string) []event.ModelCallCompleted {
	t.Helper()
	if err := s.GW.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var out []event.ModelCallCompleted
	for e, err := range s.Store.ReadAll(t.Context(), readAll) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != "model.call.completed" {
			continue
		}
		var d event.ModelCallCompleted
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Client == client {
			out = append(out, d)
		}
	}
	return out
}
