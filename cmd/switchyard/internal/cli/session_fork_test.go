package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/gateway/tape"
	builtinplugins "github.com/switchyard/switchyard/plugins/builtin"
)

// forkCall is a model call of a fork, as its key's call stream tells
// it: its turn, whether a routing decision was recorded for it (and
// what), and where it went.
type forkCall struct {
	turn      int
	routed    *event.RoutingDecided
	completed *event.ModelCallCompleted
}

func forkCalls(t *testing.T, ctx context.Context, addr, keyID string) []*forkCall {
	t.Helper()
	byID := map[string]*forkCall{}
	var calls []*forkCall
	for _, e := range callEvents(t, ctx, addr, keyID) {
		var d struct {
			CallID string `json:"call_id"`
		}
		json.Unmarshal(e.Data, &d)
		switch e.Type {
		case "model.call.started":
			var s event.ModelCallStarted
			if err := json.Unmarshal(e.Data, &s); err != nil {
				t.Fatal(err)
			}
			turn, _ := strconv.Atoi(s.Tags["turn"])
			c := &forkCall{turn: turn}
			byID[s.CallID] = c
			calls = append(calls, c)
		case "routing.decided":
			var r event.RoutingDecided
			if err := json.Unmarshal(e.Data, &r); err != nil {
				t.Fatal(err)
			}
			if c := byID[d.CallID]; c != nil {
				c.routed = &r
			}
		case "model.call.completed":
			var m event.ModelCallCompleted
			if err := json.Unmarshal(e.Data, &m); err != nil {
				t.Fatal(err)
			}
			if c := byID[d.CallID]; c != nil {
				c.completed = &m
			}
		}
	}
	return calls
}

// turnStartedAt is the log position of session id's turn n's start.
func turnStartedAt(t *testing.T, ctx context.Context, addr, id string, n int) uint64 {
	t.Helper()
	var d struct {
		Events []event.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "session", "show", id, "--json", "--addr", addr).ok(t).out), &d); err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Events {
		var ts session.TurnStarted
		if e.Type == "session.turn.started" && json.Unmarshal(e.Data, &ts) == nil && ts.Turn == n {
			return e.Position
		}
	}
	t.Fatalf("session %s has no turn %d", id, n)
	return 0
}

// A session of two turns of each harness, recorded against the simulator,
// forked at turn 2 with a change: turn 1 is a harness replay (its calls
// served from the recording, never routed), and turn 2 goes live, with
// its calls routed to the model --model names, or decided by the
// installed routing plugin --routing-plugin names (and with the prompt
// --prompt gives); the fork records where it comes from, and goes on as
// a session like any other.
func TestSessionForkAt(t *testing.T) {
	t.Parallel()
	for _, h := range goldenHarnesses {
		t.Run(h.harness, func(t *testing.T) {
			t.Parallel()
			// The routing plugin change is the same for every harness
			// (the gateway's, by key): Claude Code's fork tries it.
			testSessionForkAt(t, h, h.harness == "claude-code")
		})
	}
}

func testSessionForkAt(t *testing.T, h goldenHarness, withPlugin bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, id := goldenSession(t, ctx, "fork-"+h.harness, h)
	addr := srv.addr
	orig := sessionJSON(t, ctx, addr, id)
	var turn1 int
	for _, c := range forkCalls(t, ctx, addr, orig["key_id"].(string)) {
		if c.turn == 1 {
			turn1++
		}
		if c.routed == nil || c.routed.Router == "" || c.routed.Targets[0].Model != "sim-small" {
			t.Fatalf("a call of the recorded session was not routed by the static route to sim-small: %+v", c.routed)
		}
	}
	if turn1 == 0 {
		t.Fatal("the recorded session made no call in turn 1")
	}

	// fork runs `session fork` and checks what every fork must be: turn
	// 1 retraced from the recording, turn 2 live and completed, the
	// origin recorded. It returns the fork's session and its calls of
	// turn 2.
	fork := func(t *testing.T, args ...string) (map[string]any, []*forkCall) {
		t.Helper()
		r := cli(t, ctx, "", append([]string{"session", "fork", id, "-f", "--addr", addr}, args...)...)
		lines := strings.Split(r.out, "\n")
		if r.code != 0 || len(lines) < 2 || lines[1] != fmt.Sprintf("retraced %d calls of 1 turn; turn 2 live", turn1) || !strings.Contains(r.out, "turn 2 completed") {
			t.Fatalf("session fork %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
		}
		fid := lines[0]
		fs := sessionJSON(t, ctx, addr, fid)
		if fs["fork_of"] != id || fs["fork_at"] != 2.0 || fs["replay_of"] != nil || fs["status"] != string(session.StatusIdle) ||
			fs["turns"] != 2.0 || fs["workspace"] == orig["workspace"] || fs["key_id"] == orig["key_id"] {
			t.Fatalf("the fork %v\nof %v", fs, orig)
		}
		var live []*forkCall
		for _, c := range forkCalls(t, ctx, addr, fs["key_id"].(string)) {
			switch {
			case c.completed == nil:
				t.Fatalf("a call of the fork did not complete: %+v", c)
			case c.turn == 1 && (c.routed != nil || c.completed.Provider != tape.Provider):
				t.Fatalf("a call of turn 1 of the fork was not served from the recording: %+v %+v", c.routed, c.completed)
			case c.turn == 2 && (c.routed == nil || c.completed.Provider != "sim"):
				t.Fatalf("a call of turn 2 of the fork did not go live: %+v %+v", c.routed, c.completed)
			case c.turn == 2:
				live = append(live, c)
			}
		}
		if len(live) == 0 {
			t.Fatal("the fork made no call in turn 2")
		}
		// It goes on as a session like any other.
		if r := cli(t, ctx, "", "session", "send", fid, "-f", "One more thing.", "--addr", addr).ok(t); !strings.Contains(r.out, "turn 3 completed") {
			t.Fatalf("turn 3 of the fork:\n%s", r.out)
		}
		show := cli(t, ctx, "", "session", "show", fid, "--addr", addr).ok(t).out
		if !strings.Contains(show, "fork of "+id+" at turn 2") {
			t.Fatalf("session show of the fork:\n%s", show)
		}
		return fs, live
	}

	t.Run("model", func(t *testing.T) {
		fs, live := fork(t, "--at", "2", "--model", "sim-large")
		if ch, _ := fs["changes"].(map[string]any); ch["model"] != "sim-large" {
			t.Fatalf("the fork's changes: %v", fs["changes"])
		}
		for _, c := range live {
			if c.routed.RequestModel != "sim-large" || c.routed.Targets[0].Model != "sim-large" || c.completed.ResponseModel != "sim-large" {
				t.Fatalf("a call of turn 2 was not routed to the fork's model: %+v %+v", c.routed, c.completed)
			}
		}
	})

	if !withPlugin {
		return
	}
	t.Run("routing plugin", func(t *testing.T) {
		// The built-in strategies, installed under a name of their own,
		// preferring sim-large where the static route says sim-small.
		dir := t.TempDir()
		module, err := builtinplugins.Module("rules")
		if err != nil {
			// Built by `task gen:builtin`, which the test task runs.
			if realclients.Required() {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		wasmFile, configFile := filepath.Join(dir, "large.wasm"), filepath.Join(dir, "large.json")
		if err := os.WriteFile(wasmFile, module, 0o644); err != nil {
			t.Fatal(err)
		}
		config := `{"strategy": "rules", "rules": [{"when": {"model": "fast"}, "prefer": ["sim/sim-large"]}]}`
		if err := os.WriteFile(configFile, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		cli(t, ctx, "", "plugin", "install", wasmFile, "--name", "large", "--config", configFile, "--addr", addr).ok(t)
		if r := cli(t, ctx, "", "session", "fork", id, "--at", "2", "--routing-plugin", "nosuch", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "nosuch") {
			t.Fatalf("a fork with a plugin not installed: exit %d\nstderr: %s", r.code, r.err)
		}

		// At turn 2 named by its event, with another prompt too.
		at := turnStartedAt(t, ctx, addr, id, 2)
		fs, live := fork(t, "--at-event", strconv.FormatUint(at, 10), "--routing-plugin", "large", "--prompt", "Now say something else.")
		if ch, _ := fs["changes"].(map[string]any); ch["routing_plugin"] != "large" || ch["prompt"] != "Now say something else." {
			t.Fatalf("the fork's changes: %v", fs["changes"])
		}
		for _, c := range live {
			if c.routed.Router != "plugin:large" || c.routed.PluginDigest == "" || c.routed.Targets[0].Model != "sim-large" || c.completed.ResponseModel != "sim-large" {
				t.Fatalf("a call of turn 2 was not decided by the fork's plugin: %+v %+v", c.routed, c.completed)
			}
		}
		// The gateway-wide router is untouched: the recorded session's
		// own calls still go by the static route.
		if r := cli(t, ctx, "", "session", "send", id, "-f", "And again.", "--addr", addr).ok(t); !strings.Contains(r.out, "turn 3 completed") {
			t.Fatalf("turn 3 of the recorded session:\n%s", r.out)
		}
		for _, c := range forkCalls(t, ctx, addr, orig["key_id"].(string)) {
			if c.turn == 3 && (c.routed == nil || c.routed.Router == "plugin:large" || c.routed.Targets[0].Model != "sim-small") {
				t.Fatalf("a call of the recorded session went by the fork's plugin: %+v", c.routed)
			}
		}
	})
}
