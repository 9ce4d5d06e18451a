package cli

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/trace"
)

// TestTraceOfAClaudeCodeDecision runs a turn of the real Claude Code in
// which the first model call falls back and a tool runs, and reads the
// turn back as a tree: the calls with their routing and attempts, the
// tool call with its output, and a total that is the cost model's.
func TestTraceOfAClaudeCodeDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: tracer\n    harness: claude-code\n    model: fast\n    tools: {allow: [\"Bash(echo *)\"]}\n")
	addr := srv.addr
	r := cli(t, ctx, "", "session", "start", "--agent", "tracer", "-f",
		`Run it. [[sim tool=shell cmd="echo traced"]] [[sim fault=429 times=1 id=trace-fb]]`, "--addr", addr).ok(t)
	id := strings.SplitN(r.out, "\n", 2)[0]

	var n trace.Node
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "trace", id+"/1", "--json", "--addr", addr).ok(t).out), &n); err != nil {
		t.Fatal(err)
	}
	if n.Kind != trace.KindDecision || n.Attrs["outcome"] != "completed" || n.Attrs["gen_ai.agent.name"] != "tracer" {
		t.Fatalf("root %+v", n)
	}
	var calls, tools, fellBack int
	var sum float64
	for _, c := range n.Children {
		switch c.Kind {
		case trace.KindModelCall:
			calls++
			sum += c.CostUSD
			kinds := map[string]int{}
			for _, cc := range c.Children {
				kinds[cc.Kind]++
				if cc.Kind == trace.KindAttempt && cc.Attrs["next"] == "fallback" {
					fellBack++
				}
			}
			if kinds[trace.KindRouting] != 1 || c.CostUSD <= 0 || c.End.IsZero() {
				t.Errorf("model call %s: %+v with children %v", c.Name, c, kinds)
			}
		case trace.KindToolCall:
			tools++
			if c.Name != "Bash" || !strings.Contains(c.Attrs["output"].(string), "traced") {
				t.Errorf("tool call %+v", c)
			}
		}
	}
	if calls < 2 || tools != 1 || fellBack != 1 || math.Abs(sum-n.CostUSD) > 1e-12 {
		t.Fatalf("%d model calls, %d tool calls, %d fallbacks, cost %v summing to %v:\n%s", calls, tools, fellBack, n.CostUSD, sum,
			cli(t, ctx, "", "trace", id+"/1", "--addr", addr).out)
	}
	// The same decision in the cost model.
	var rep costs.JSONReport
	json.Unmarshal([]byte(cli(t, ctx, "", "costs", "--where", "decision="+id+"/1", "--format", "json", "--addr", addr).ok(t).out), &rep)
	if rep.Total.Calls != int64(calls) || math.Abs(rep.Total.CostUSD-n.CostUSD) > 1e-9 {
		t.Fatalf("cost model: %d calls $%v; trace: %d calls $%v", rep.Total.Calls, rep.Total.CostUSD, calls, n.CostUSD)
	}
	out := cli(t, ctx, "", "trace", id+"/1", "--addr", addr).ok(t).out
	for _, want := range []string{"decision " + id + "/1 (completed", "├─ model call", "routing", "attempt 1", "→ fallback", "tool call Bash"} {
		if !strings.Contains(out, want) {
			t.Fatalf("trace lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []struct{ arg, want string }{{id, "SESSION/TURN"}, {id + "/9", "no turn 9"}, {"nosuch/1", "no session"}} {
		if r := cli(t, ctx, "", "trace", bad.arg, "--addr", addr); r.code == 0 || !strings.Contains(r.err, bad.want) {
			t.Errorf("trace %s: %d %q, want an error with %q", bad.arg, r.code, r.err, bad.want)
		}
	}
}
