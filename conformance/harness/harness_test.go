package harness_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	conformance "github.com/switchyard/switchyard/conformance/harness"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/harnesses/claudecode"
	"github.com/switchyard/switchyard/harnesses/codex"
	"github.com/switchyard/switchyard/harnesses/opencode"
	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/harnesstest"
)

// The three adapters, each against its pinned CLI, through a gateway in
// front of the simulator.

func stack(t *testing.T) *gatewaytest.Stack {
	return gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Routes: []route.Rule{
			{Model: "claude-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "gpt-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
		},
	}})
}

// callTags reads the tags of the calls made with the stack's key.
func callTags(t *testing.T, s *gatewaytest.Stack) func() []map[string]string {
	return func() []map[string]string {
		s.GW.Flush(context.Background())
		var out []map[string]string
		for e, err := range s.Store.ReadStream(context.Background(), "calls-"+s.KeyID, eventstore.ReadOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Type == "model.call.started" {
				var st event.ModelCallStarted
				json.Unmarshal(e.Data, &st)
				out = append(out, st.Tags)
			}
		}
		return out
	}
}

func cli(t *testing.T, name string) string {
	return filepath.Join(realclients.DirOrSkip(t), "node_modules", ".bin", name)
}

func TestClaudeCode(t *testing.T) {
	t.Parallel()
	s := stack(t)
	conformance.Run(t, conformance.Config{
		Adapter: claudecode.Adapter{}, CLIPath: cli(t, "claude"), Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key},
		Model: "claude-sonnet-4-5", AllowShell: []string{"Bash(echo *)", "Bash(sleep *)"},
		// touch is not allowed: in -p mode Claude Code denies it, and says so.
		Deny: func(*harness.StartRequest) {}, DenialEvent: true,
		Parallel: true, CallTags: callTags(t, s),
	})
}

func TestCodex(t *testing.T) {
	t.Parallel()
	s := stack(t)
	conformance.Run(t, conformance.Config{
		Adapter: codex.Adapter{}, CLIPath: cli(t, "codex"), Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key},
		Model: "gpt-5.5",
		// Codex has no per-command rules: the shell tool is withheld, and
		// the model cannot call it.
		Deny: func(r *harness.StartRequest) { r.DisallowedTools = []string{"shell"} },
		Prepare: func(r *harness.StartRequest) {
			if codex.SystemBwrapTooOld() != "" {
				harnesstest.HostBwrap(r) // Codex's own sandbox cannot run here
			}
		},
		Parallel: true, CallTags: callTags(t, s),
	})
}

func TestOpenCode(t *testing.T) {
	t.Parallel()
	s := stack(t)
	conformance.Run(t, conformance.Config{
		Adapter: opencode.Adapter{}, CLIPath: cli(t, "opencode"), Gateway: harness.Gateway{BaseURL: s.URL, Key: s.Key},
		Model: "gpt-5.5",
		Deny:  func(r *harness.StartRequest) { r.DisallowedTools = []string{"bash(touch *)"} }, DenialEvent: true,
		// 5-10 s and ~500 MB a run: one at a time.
		CallTags: callTags(t, s),
	})
}
