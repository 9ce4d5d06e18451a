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
)

// TestReplayPolicyVerdicts serves a gateway whose policy counts its calls
// in a global (pooled, one runtime), makes a session's calls through it,
// and replays them: the first verdict is the same, the later ones are
// not (the policy decided on more than its input), and the command says
// where and exits 1. A turn whose verdict holds replays clean.
func TestReplayPolicyVerdicts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simAddr := startSim(t, ctx)
	dir := t.TempDir()
	policy := filepath.Join(dir, "counter.js")
	cfg := filepath.Join(dir, "switchyard.yaml")
	os.WriteFile(policy, []byte("let n = 0\nfunction before_model_call(call) { n++; return annotate({n: n}) }\n"), 0o644)
	os.WriteFile(cfg, []byte("gateway:\n  providers:\n    - name: sim\n      kind: sim\n      base_url: http://"+simAddr+"\n      models: [sim-small]\n"+
		"  policies:\n    - path: counter.js\n      runtimes: 1\n      timeout: 2s\n"), 0o644)
	addr, _, stop := serveInProcess(t, filepath.Join(dir, "data"), "--config", cfg)
	defer stop()

	var ck struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "keys", "create", "s1", "--json", "--addr", addr).ok(t).out), &ck); err != nil {
		t.Fatal(err)
	}
	// The session whose key it is.
	cli(t, ctx, "", "events", "append", "session-s1", "--type", "test.session", "--data", `{"key_id":"`+ck.Key.ID+`"}`, "--addr", addr).ok(t)
	for _, turn := range []string{"1", "2", "2"} {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"sim-small","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+ck.Secret)
		req.Header.Set("x-switchyard-tags", "turn="+turn)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("call: %d", res.StatusCode)
		}
	}

	r := cli(t, ctx, "", "replay", "s1", "--addr", addr)
	if r.code != 1 || strings.Count(r.out, "policy counter at before_model_call → annotate: same") != 1 ||
		strings.Count(r.out, "policy counter at before_model_call → annotate: DIFFERENT") != 2 ||
		!strings.Contains(r.out, `annotations: recorded "{\"n\":\"2\"}", replayed "{\"n\":\"1\"}"`) ||
		strings.Count(r.out, "gateway.routers.static → sim/sim-small: same") != 3 ||
		!strings.Contains(r.err, "6 decision(s), verdict(s) and budget check(s) replayed") || !strings.Contains(r.err, "2 difference(s)") ||
		!strings.Contains(r.err, "nondeterminism at position") || !strings.Contains(r.err, "policy counter): annotations was") {
		t.Fatalf("replay: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = cli(t, ctx, "", "replay", "s1", "--decision", "1", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "turn 1") || strings.Contains(r.out, "turn 2") || !strings.Contains(r.err, "0 difference(s)") {
		t.Fatalf("replay --decision 1:\n%s\n%s", r.out, r.err)
	}
	var rep replay.Report
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "replay", "s1", "--json", "--addr", addr).out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Verdicts) != 3 || rep.Mismatches != 2 || rep.Verdicts[2].Mismatches[0].Recorded != `{"n":"3"}` {
		t.Fatalf("replay --json: %+v", rep)
	}
}
