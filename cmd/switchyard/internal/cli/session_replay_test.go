package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/gateway/tape"
)

// callEvents reads the events of a session's key's call stream.
func callEvents(t *testing.T, ctx context.Context, addr, keyID string) []event.Event {
	t.Helper()
	var out []event.Event
	for _, l := range readStreamLines(t, ctx, addr, "calls-"+keyID) {
		var e event.Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, e)
	}
	return out
}

func countTypes(evs []event.Event) map[string]int {
	n := map[string]int{}
	for _, e := range evs {
		n[e.Type]++
	}
	return n
}

// A session of each harness, recorded against the simulator (a shell
// tool call, then a plain answer), replayed with the real CLI on a fresh
// workspace: it retraces every recorded call, with no provider called
// and the tool run again for real; and a replay with the prompt of turn
// 2 changed diverges at that turn's first call, naming the prompt.
func TestHarnessReplay(t *testing.T) {
	t.Parallel()
	for _, h := range goldenHarnesses {
		t.Run(h.harness, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			name := "replay-" + h.harness
			srv, id := goldenSession(t, ctx, name, h)
			addr := srv.addr
			orig := sessionJSON(t, ctx, addr, id)
			recorded := countTypes(callEvents(t, ctx, addr, orig["key_id"].(string)))
			calls := recorded["model.answer.recorded"]
			if calls < 3 || calls != recorded["model.call.started"] {
				t.Fatalf("the recorded session's calls: %v", recorded)
			}

			// The replay retraces it.
			r := cli(t, ctx, "", "session", "replay", id, "--addr", addr)
			if r.code != 0 {
				t.Fatalf("the replay of %s failed (exit %d)\nstdout: %s\nstderr: %s\nthe replay's timeline:\n%s", id, r.code, r.out, r.err,
					cli(t, ctx, "", "session", "logs", strings.SplitN(r.out, "\n", 2)[0], "--addr", addr).out)
			}
			lines := strings.Split(strings.TrimSpace(r.out), "\n")
			rid := lines[0]
			if want := fmt.Sprintf("retraced %d calls of 2 turns", calls); len(lines) != 2 || lines[1] != want {
				t.Fatalf("replay said %q, want %q", r.out, want)
			}
			rs := sessionJSON(t, ctx, addr, rid)
			if rs["replay_of"] != id || rs["agent"] != name || rs["status"] != string(session.StatusStopped) ||
				rs["workspace"] == orig["workspace"] || rs["key_id"] == orig["key_id"] {
				t.Fatalf("the replay session %v\nof %v", rs, orig)
			}
			served := countTypes(callEvents(t, ctx, addr, rs["key_id"].(string)))
			if served["model.call.completed"] != calls || served["routing.decided"] != 0 || served["model.answer.recorded"] != 0 || served["replay.diverged"] != 0 {
				t.Fatalf("the replay's calls: %v (recorded %d)", served, calls)
			}
			for _, e := range callEvents(t, ctx, addr, rs["key_id"].(string)) {
				if e.Type == "model.call.completed" && !strings.Contains(string(e.Data), `"gen_ai.provider.name":"`+tape.Provider+`"`) {
					t.Fatalf("a replayed call went to a provider: %s", e.Data)
				}
			}
			// The tool ran again, in the replay's own workspace.
			logs := cli(t, ctx, "", "session", "logs", rid, "--addr", addr).ok(t).out
			if !strings.Contains(logs, "session.harness.tool_result  golden") || !strings.Contains(logs, "replay of "+id+" retraced") {
				t.Fatalf("the replay's timeline:\n%s", logs)
			}

			// Another prompt for turn 2: the replay parts from the
			// recording there, and says so.
			r = cli(t, ctx, "", "session", "replay", id, "--prompt", "2=Now say something else.", "--addr", addr)
			if r.code != exitError {
				t.Fatalf("a replay with another prompt: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
			}
			for _, want := range []string{"diverged at call", "(turn 2)", "recorded:", "Now say something.", "now:", "Now say something else."} {
				if !strings.Contains(r.out, want) {
					t.Fatalf("the divergence lacks %q:\nstdout: %s\nstderr: %s", want, r.out, r.err)
				}
			}
			if !strings.Contains(r.err, "diverged after") {
				t.Fatalf("stderr: %s", r.err)
			}
			did := strings.SplitN(r.out, "\n", 2)[0]
			ds := sessionJSON(t, ctx, addr, did)
			div := countTypes(callEvents(t, ctx, addr, ds["key_id"].(string)))
			if div["replay.diverged"] != 1 || ds["status"] != string(session.StatusStopped) {
				t.Fatalf("the diverged replay: %v, its calls %v", ds, div)
			}
		})
	}
}
