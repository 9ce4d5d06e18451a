package cli

import (
	"context"
	"encoding/json"
	"net/http"
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

// TestReplayBudgetChecks makes a session's calls with a key that has a
// spend cap and a rate limit: calls admitted, one refused by the cap, one
// by the limit. The replay re-runs every check to the same outcome; a
// refusal appended to the log whose recorded check admits the call is a
// difference, and the command says where and exits 1.
func TestReplayBudgetChecks(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simAddr := startSim(t, ctx)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(cfg, []byte("gateway:\n  providers:\n    - name: sim\n      kind: sim\n      base_url: http://"+simAddr+"\n      models: [sim-small, sim-large]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _, stop := serveInProcess(t, filepath.Join(dir, "data"), "--config", cfg)
	defer stop()

	// sim-small's estimate (4096 output tokens reserved) is some $0.006,
	// sim-large's $0.06.
	var ck struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	out := cli(t, ctx, "", "keys", "create", "s1", "--max-budget", "0.05", "--rpm", "3", "--tag", "session=s1", "--json", "--addr", addr).ok(t).out
	if err := json.Unmarshal([]byte(out), &ck); err != nil {
		t.Fatal(err)
	}
	cli(t, ctx, "", "events", "append", "session-s1", "--type", "test.session", "--data", `{"key_id":"`+ck.Key.ID+`"}`, "--addr", addr).ok(t)
	for i, c := range []struct {
		model, turn string
		status      int
	}{{"sim-small", "1", 200}, {"sim-large", "1", 429}, {"sim-small", "2", 200}, {"sim-small", "2", 200}, {"sim-small", "2", 429}} {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"`+c.model+`","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+ck.Secret)
		req.Header.Set("x-switchyard-tags", "turn="+c.turn)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Fatalf("call %d: %d, want %d", i, res.StatusCode, c.status)
		}
	}

	scope := "key:" + ck.Key.ID
	r := cli(t, ctx, "", "replay", "s1", "--addr", addr).ok(t)
	if strings.Count(r.out, "budget "+scope+" → admitted: same") != 3 || strings.Count(r.out, "budget "+scope+" → denied by "+scope+" (spend, total): same") != 1 ||
		strings.Count(r.out, "budget "+scope+" → denied by "+scope+" (requests_per_minute): same") != 1 ||
		strings.Count(r.out, "gateway.routers.static → sim/sim-small: same") != 3 ||
		!strings.Contains(r.err, "8 decision(s), verdict(s) and budget check(s) replayed") || !strings.Contains(r.err, "0 difference(s)") {
		t.Fatalf("replay:\n%s\n%s", r.out, r.err)
	}
	r = cli(t, ctx, "", "replay", "s1", "--decision", "2", "--addr", addr).ok(t)
	if strings.Count(r.out, "budget ") != 3 || strings.Contains(r.out, "turn 1") {
		t.Fatalf("replay --decision 2:\n%s\n%s", r.out, r.err)
	}

	// A refusal by the cap whose recorded check has $0.01 spent of $0.05:
	// the check admits a call of $0.000001.
	forged := `{"call_id":"forged","key_id":"` + ck.Key.ID + `","scope":"` + scope + `","limit":"spend","period":"total","max":0.05,"current":0.05,"message":"forged","tags":{"turn":"3"},` +
		`"budget_check":{"clock_unix_ns":1796294790871234567,"cost_nano_usd":1000,"tokens":10,"scopes":[{"scope":"` + scope + `","cap_total_nano_usd":50000000,"spent_total_nano_usd":10000000}]}}`
	cli(t, ctx, "", "events", "append", "calls-"+ck.Key.ID, "--type", "budget.exceeded", "--data", forged, "--addr", addr).ok(t)
	r = cli(t, ctx, "", "replay", "s1", "--decision", "3", "--addr", addr)
	if r.code != 1 || !strings.Contains(r.out, "turn 3  call forged  budget "+scope+" → denied by "+scope+" (spend, total): DIFFERENT") ||
		!strings.Contains(r.out, `outcome: recorded "denied by `+scope+` (spend, total)", replayed "admitted"`) ||
		!strings.Contains(r.err, "(budget.exceeded ") || !strings.Contains(r.err, `, call forged): outcome was "denied by `+scope+` (spend, total)", the replay gives "admitted"`) {
		t.Fatalf("replay of a forged refusal: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	var rep replay.Report
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "replay", "s1", "--json", "--addr", addr).out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.BudgetChecks) != 6 || rep.Mismatches != 1 || rep.BudgetChecks[5].Mismatches[0].Field != "outcome" || rep.BudgetChecks[1].Limit != "spend" {
		t.Fatalf("replay --json: %+v", rep)
	}
}
