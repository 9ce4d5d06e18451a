package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// TestReplayAClaudeCodeSession routes a real Claude Code session with an
// installed routing plugin, then replays it: every decision re-runs from
// the log to the same targets and reason, with no provider called.
func TestReplayAClaudeCodeSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: replayer\n    harness: claude-code\n    model: fast\n    tools: {allow: [\"Bash(echo *)\"]}\n")
	addr := srv.addr
	module := filepath.Join(t.TempDir(), "behaviours.wasm")
	if err := os.WriteFile(module, wasmtest.Build(t, wasmtest.Behaviours), 0o644); err != nil {
		t.Fatal(err)
	}
	cli(t, ctx, "", "plugin", "install", module, "--addr", addr).ok(t)
	cli(t, ctx, "", "plugin", "enable", "behaviours", "--addr", addr).ok(t)

	r := cli(t, ctx, "", "session", "start", "--agent", "replayer", "-f", `Run it. [[sim tool=shell cmd="echo again"]]`, "--addr", addr).ok(t)
	id := strings.SplitN(r.out, "\n", 2)[0]
	cli(t, ctx, "", "session", "send", id, "-f", "And once more.", "--addr", addr).ok(t)

	var rep replay.Report
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "replay", id, "--json", "--addr", addr).ok(t).out), &rep); err != nil {
		t.Fatal(err)
	}
	turns := map[string]int{}
	for _, d := range rep.Decisions {
		turns[d.Turn]++
		if !d.Replayed || d.Router != "plugin:behaviours" || d.Reason != "default route" {
			t.Fatalf("decision %+v", d)
		}
	}
	if !rep.OK() || rep.Replayed < 3 || turns["1"] < 2 || turns["2"] < 1 {
		t.Fatalf("replay %+v (decisions by turn %v)", rep, turns)
	}
	r = cli(t, ctx, "", "replay", id, "--decision", "2", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "turn 2") || strings.Contains(r.out, "turn 1") || !strings.Contains(r.out, ": same") || !strings.Contains(r.err, "0 difference(s)") {
		t.Fatalf("replay --decision 2:\n%s\n%s", r.out, r.err)
	}
	if r := cli(t, ctx, "", "replay", "s-nope", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "session list") {
		t.Fatalf("replay of an unknown session: %d %q", r.code, r.err)
	}

	// What-if with the same plugin: every call decided again, the
	// session's exactly (from their recorded facts; the demo's own call,
	// made before the plugin was enabled, from its request), and none
	// would move.
	var w replay.WhatIf
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "whatif", "--plugin", module, "--since", "1d", "--json", "--addr", addr).ok(t).out), &w); err != nil {
		t.Fatal(err)
	}
	if w.Exact != rep.Replayed || w.Evaluated != w.Calls || w.Reconstructed != w.Calls-w.Exact || w.Changed != 0 || w.DeltaUSD != 0 || w.RecordedCostUSD <= 0 {
		t.Fatalf("what-if of the plugin that decided: %+v", w)
	}
	r = cli(t, ctx, "", "whatif", "--plugin", module, "--addr", addr).ok(t)
	if !strings.Contains(r.out, "0 would move") || !strings.Contains(r.out, "cost: recorded $") {
		t.Fatalf("whatif:\n%s", r.out)
	}
	if r := cli(t, ctx, "", "whatif", "--addr", addr); r.code != 2 || !strings.Contains(r.err, "--plugin FILE.wasm is required") {
		t.Fatalf("whatif without a plugin: %d %q", r.code, r.err)
	}
}
