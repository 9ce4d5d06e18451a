package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// serveProcess runs `switchyard serve` as a child process over dir and
// returns it with its address.
func serveProcess(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json")
	cmd.Env = append(os.Environ(), "SWITCHYARD_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := bufio.NewScanner(stderr)
	var seen []string
	for logs.Scan() {
		seen = append(seen, logs.Text())
		var l struct{ Msg, Addr string }
		if json.Unmarshal(logs.Bytes(), &l) == nil && l.Msg == "switchyard serving" {
			go func() {
				for logs.Scan() {
				}
			}()
			return cmd, l.Addr
		}
	}
	t.Fatalf("serve did not start:\n%s", strings.Join(seen, "\n"))
	return nil, ""
}

// A session that was running when switchyard got SIGKILL is listed as
// interrupted once it is back, with the reason in its stream.
func TestKill9InterruptsRunningSessions(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL on Windows")
	}
	ctx := context.Background()
	dir := t.TempDir()
	cmd, addr := serveProcess(t, dir)
	// What a server running a session has written by mid-turn.
	for _, e := range []struct{ stream, typ, data string }{
		{"session-s1", "session.created", `{"id":"s1","agent":"reviewer","agent_digest":"sha256:x","agent_revision":1,"harness":"claude-code","model":"sim-small","prompt":"review"}`},
		{"session-s1", "session.turn.started", `{"turn":1,"mode":"start","prompt":"review"}`},
		{"session-s1", "session.harness.started", `{"turn":1,"kind":"started","harness_session_id":"h-1"}`},
		{"session-s2", "session.created", `{"id":"s2","agent":"reviewer","agent_digest":"sha256:x","agent_revision":1,"harness":"codex","model":"sim-small","prompt":"done already"}`},
		{"session-s2", "session.turn.started", `{"turn":1,"mode":"start","prompt":"done already"}`},
		{"session-s2", "session.turn.ended", `{"turn":1,"outcome":"completed","result":"ok"}`},
	} {
		cli(t, ctx, "", "events", "append", e.stream, "--type", e.typ, "--data", e.data, "--addr", addr).ok(t)
	}
	r := cli(t, ctx, "", "session", "list", "--status", "running", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "s1") || strings.Contains(r.out, "s2") {
		t.Fatalf("running before the kill:\n%s", r.out)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	_, addr = serveProcess(t, dir)
	r = cli(t, ctx, "", "session", "list", "--json", "--addr", addr).ok(t)
	got := map[string]string{}
	for _, l := range r.lines(t) {
		got[l["id"].(string)] = l["status"].(string)
	}
	if got["s1"] != "interrupted" || got["s2"] != "idle" {
		t.Fatalf("after restart: %v", got)
	}
	r = cli(t, ctx, "", "session", "show", "s1", "--addr", addr).ok(t)
	for _, want := range []string{"status interrupted, 1 turn(s)", "harness session h-1", "session.interrupted", "switchyard stopped while the session ran"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("session show lacks %q:\n%s", want, r.out)
		}
	}
	r = cli(t, ctx, "", "session", "list", "--status", "bogus", "--addr", addr)
	if r.code == 0 || !strings.Contains(r.err, `status "bogus": use running, idle`) {
		t.Fatalf("bad status: %d %s", r.code, r.err)
	}
}
