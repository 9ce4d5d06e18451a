package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/gateway/realclients"
)

// serveProcess runs `switchyard serve` as a child process over dir and
// returns it with its address.
func serveProcess(t *testing.T, dir string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json"}, extra...)...)
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

// The whole life of a Claude Code session, with the real CLI through the
// gateway to the simulator: start, a shell tool call, send (a second
// turn through the CLI's resume), then kill -9 of switchyard mid-turn,
// restart, resume with the same harness session, and one timeline.
func TestSessionLifecycleClaudeCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: coder\n    harness: claude-code\n    model: fast\n    tools: {allow: [\"Bash(echo *)\", \"Bash(sleep *)\"]}\n")
	addr := srv.addr

	r := cli(t, ctx, "", "session", "start", "--agent", "coder", "-f", `Run it. [[sim tool=shell cmd="echo hi-there"]]`, "--addr", addr).ok(t)
	id := strings.SplitN(r.out, "\n", 2)[0]
	for _, want := range []string{"session.harness.started", "session.harness.tool_call    Bash", "session.harness.tool_result  hi-there", "model.call.completed", "turn 1 completed: Tool result: hi-there"} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("start -f lacks %q:\n%s", want, r.out)
		}
	}
	r = cli(t, ctx, "", "session", "send", id, "-f", "Now say something.", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "turn 2 (send,") || !strings.Contains(r.out, "turn 2 completed: Simulated answer") {
		t.Fatalf("send -f:\n%s", r.out)
	}
	first := sessionJSON(t, ctx, addr, id)

	// A turn that takes a while, and switchyard killed in the middle.
	cli(t, ctx, "", "session", "send", id, `Wait. [[sim tool=shell cmd="sleep 5"]]`, "--addr", addr).ok(t)
	waitFor(t, ctx, addr, id, func(s map[string]any) bool { return s["tool_calls"].(float64) == 2 })
	srv.killAndRestart()
	addr = srv.addr
	s := sessionJSON(t, ctx, addr, id)
	if s["status"] != "interrupted" {
		t.Fatalf("after kill -9 and restart: %v", s)
	}
	r = cli(t, ctx, "", "session", "resume", id, "-f", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "turn 3 (resume,") || !strings.Contains(r.out, "turn 3 completed") {
		t.Fatalf("resume -f:\n%s", r.out)
	}
	s = sessionJSON(t, ctx, addr, id)
	if s["status"] != "idle" || s["harness_session_id"] != first["harness_session_id"] || s["turns"].(float64) != 3 {
		t.Fatalf("after resume: %v (first: %v)", s, first)
	}
	// One timeline: each turn started once per run, the interruption in
	// between, and no event twice.
	var d struct {
		Events []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				Turn int    `json:"turn"`
				Mode string `json:"mode"`
			} `json:"data"`
		} `json:"events"`
	}
	json.Unmarshal([]byte(cli(t, ctx, "", "session", "show", id, "--json", "--addr", addr).ok(t).out), &d)
	var story []string
	seen := map[string]bool{}
	for _, e := range d.Events {
		if seen[e.ID] {
			t.Fatalf("event %s twice", e.ID)
		}
		seen[e.ID] = true
		switch e.Type {
		case "session.turn.started":
			story = append(story, fmt.Sprintf("start %d %s", e.Data.Turn, e.Data.Mode))
		case "session.turn.ended", "session.interrupted":
			story = append(story, fmt.Sprintf("%s %d", strings.TrimPrefix(e.Type, "session."), e.Data.Turn))
		}
	}
	want := "start 1 start,turn.ended 1,start 2 send,turn.ended 2,start 3 send,interrupted 3,start 3 resume,turn.ended 3"
	if got := strings.Join(story, ","); got != want {
		t.Fatalf("timeline %s\nwant     %s", got, want)
	}
	// Each model call names its session and turn (the decision it
	// belongs to): the feed of the session has them.
	r = cli(t, ctx, "", "session", "logs", id, "--json", "--addr", addr).ok(t)
	turns := map[string]int{}
	for _, l := range r.lines(t) {
		if l["type"] != "model.call.completed" {
			continue
		}
		tags, _ := l["data"].(map[string]any)["tags"].(map[string]any)
		if tags["session"] != id {
			t.Fatalf("a model call of the session without its session tag: %v", l)
		}
		turns[fmt.Sprint(tags["turn"])]++
	}
	if turns["1"] < 2 || turns["2"] < 1 || turns["3"] < 2 {
		t.Fatalf("model calls by turn: %v", turns)
	}
	// The cost read model has the same calls, by decision.
	var u struct {
		Usage httpapi.SessionUsage `json:"usage"`
	}
	json.Unmarshal([]byte(cli(t, ctx, "", "session", "show", id, "--json", "--addr", addr).ok(t).out), &u)
	byDecision := map[string]int{}
	for _, d := range u.Usage.Decisions {
		byDecision[d.Group["decision"]] = int(d.Calls)
	}
	if want := map[string]int{id + "/1": turns["1"], id + "/2": turns["2"], id + "/3": turns["3"]}; !maps.Equal(byDecision, want) ||
		u.Usage.Total.Calls != int64(turns["1"]+turns["2"]+turns["3"]) || u.Usage.Total.CostUSD <= 0 {
		t.Fatalf("usage %+v\nwant calls by decision %v", u.Usage, want)
	}
	if r := cli(t, ctx, "", "session", "show", id, "--addr", addr).ok(t); !strings.Contains(r.out, "decision "+id+"/3:") || !strings.Contains(r.out, "cost $") {
		t.Fatalf("session show:\n%s", r.out)
	}

	// A fork goes on from there in a copy: the same conversation (the
	// CLI resumes the same harness session in its copied state), a new
	// session and key, the original untouched.
	r = cli(t, ctx, "", "session", "fork", id, "-f", `Again. [[sim tool=shell cmd="echo from-the-fork"]]`, "--addr", addr).ok(t)
	fork := strings.SplitN(r.out, "\n", 2)[0]
	if !strings.Contains(r.out, "turn 1 (send,") || !strings.Contains(r.out, "from-the-fork") || !strings.Contains(r.out, "turn 1 completed") {
		t.Fatalf("fork -f:\n%s", r.out)
	}
	f := sessionJSON(t, ctx, addr, fork)
	if f["fork_of"] != id || f["harness_session_id"] != first["harness_session_id"] || f["key_id"] == s["key_id"] || f["workspace"] == s["workspace"] {
		t.Fatalf("fork %v\nof %v", f, s)
	}
	if after := sessionJSON(t, ctx, addr, id); after["version"] != s["version"] {
		t.Fatalf("forking changed the original: %v", after)
	}

	// Stopped for good: its key is revoked, the fork's is not.
	cli(t, ctx, "", "session", "stop", id, "--reason", "done", "--addr", addr).ok(t)
	r = cli(t, ctx, "", "keys", "list", "--json", "--addr", addr).ok(t)
	revoked := map[string]bool{}
	for _, k := range r.lines(t) {
		revoked[k["id"].(string)] = k["revoked_at"] != nil
	}
	if !revoked[s["key_id"].(string)] || revoked[f["key_id"].(string)] {
		t.Fatalf("after stop: revoked %v (session key %v, fork key %v)", revoked, s["key_id"], f["key_id"])
	}
}

// sessionServer is `switchyard serve --demo` as a process, with the
// pinned CLIs, over a data dir that outlives it, and agents applied.
type sessionServer struct {
	t         *testing.T
	data, bin string
	cmd       *exec.Cmd
	addr      string
}

// startSessionServer starts the server and applies agents (YAML).
func startSessionServer(t *testing.T, agents string) *sessionServer {
	t.Helper()
	dir := t.TempDir()
	s := &sessionServer{t: t, data: filepath.Join(dir, "data"), bin: filepath.Join(realclients.DirOrSkip(t), "node_modules", ".bin")}
	file := filepath.Join(dir, "agents.yaml")
	if err := os.WriteFile(file, []byte(agents), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start()
	cli(t, context.Background(), "", "apply", "-f", file, "--addr", s.addr).ok(t)
	return s
}

func (s *sessionServer) start() {
	s.t.Helper()
	s.cmd, s.addr = serveProcess(s.t, s.data, "--demo", "--harness-bin", s.bin)
}

// killAndRestart kills the server with SIGKILL and starts it again on
// the same data dir.
func (s *sessionServer) killAndRestart() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Wait()
	s.start()
}

func sessionJSON(t *testing.T, ctx context.Context, addr, id string) map[string]any {
	t.Helper()
	var d struct {
		Session map[string]any `json:"session"`
	}
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "session", "show", id, "--json", "--addr", addr).ok(t).out), &d); err != nil {
		t.Fatal(err)
	}
	return d.Session
}

func waitFor(t *testing.T, ctx context.Context, addr, id string, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := sessionJSON(t, ctx, addr, id)
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session never got there: %v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With bubblewrap, a session's CLI sees the system read-only, its own
// workspace and state, not the data dir (other sessions, their keys, the
// log) nor the home directory, and reaches only the gateway.
func TestSessionSandboxed(t *testing.T) {
	t.Parallel()
	bw := session.Bubblewrap{}
	if p, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt install bubblewrap): the sandbox is not tested")
	} else if bw.Path = p; bw.Probe(context.Background()) != nil {
		t.Skipf("bubblewrap cannot run here: %v", bw.Probe(context.Background()))
	}
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: boxed\n    harness: claude-code\n    model: fast\n    sandbox: bwrap\n    tools: {allow: [Bash]}\n")
	addr, data, bin := srv.addr, srv.data, srv.bin
	home, _ := os.UserHomeDir()
	script := fmt.Sprintf("ls %s/sessions | wc -l; ls -A %s | tr '\\n' ' '; echo; cat %s/demo-key 2>&1 | tail -c 30; (echo > /dev/tcp/1.1.1.1/80) 2>&1 | head -1; echo marker > inside.txt", data, home, data)
	r := cli(t, ctx, "", "session", "start", "--agent", "boxed", "-f", `Look. [[sim tool=shell cmd="`+script+`"]]`, "--addr", addr).ok(t)
	id := strings.SplitN(r.out, "\n", 2)[0]
	var d struct {
		Events []struct {
			Type string `json:"type"`
			Data struct {
				Sandbox    string `json:"sandbox"`
				ToolResult struct {
					Output string `json:"output"`
				} `json:"tool_result"`
			} `json:"data"`
		} `json:"events"`
	}
	json.Unmarshal([]byte(cli(t, ctx, "", "session", "show", id, "--json", "--addr", addr).ok(t).out), &d)
	var sandbox, out string
	for _, e := range d.Events {
		switch e.Type {
		case "session.turn.started":
			sandbox = e.Data.Sandbox
		case "session.harness.tool_result":
			out = e.Data.ToolResult.Output
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if sandbox != "bwrap" || len(lines) < 4 {
		t.Fatalf("sandbox %q, tool output %q; the session:\n%s", sandbox, out, r.out)
	}
	// Of the home directory, only the way to the CLI's installation (bound
	// back in, read-only) is there.
	allowed := ""
	if rel, err := filepath.Rel(home, bin); err == nil && !strings.HasPrefix(rel, "..") {
		allowed = strings.SplitN(rel, string(filepath.Separator), 2)[0]
	}
	if lines[0] != "1" || strings.TrimSpace(lines[1]) != allowed || !strings.Contains(lines[2], "No such file") || !strings.Contains(lines[3], "unreachable") {
		t.Fatalf("inside the sandbox: sessions seen %s (want 1: its own), home holds %q (want %q), demo key %q (want unreadable), internet %q (want unreachable)",
			lines[0], lines[1], allowed, lines[2], lines[3])
	}
	ws := sessionJSON(t, ctx, addr, id)["workspace"].(string)
	if b, err := os.ReadFile(filepath.Join(ws, "inside.txt")); err != nil || string(b) != "marker\n" {
		t.Fatalf("the CLI could not write its workspace: %q %v", b, err)
	}
}

// An agent with resume: auto gets its interrupted sessions resumed when
// switchyard starts again, without anyone asking.
func TestSessionAutoResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: auto\n    harness: claude-code\n    model: fast\n    resume: auto\n    tools: {allow: [\"Bash(sleep *)\"]}\n")
	addr := srv.addr
	r := cli(t, ctx, "", "session", "start", "--agent", "auto", `Wait. [[sim tool=shell cmd="sleep 5"]]`, "--addr", addr).ok(t)
	id := strings.TrimSpace(r.out)
	waitFor(t, ctx, addr, id, func(s map[string]any) bool { return s["tool_calls"].(float64) == 1 })
	srv.killAndRestart()
	addr = srv.addr
	waitFor(t, ctx, addr, id, func(s map[string]any) bool { return s["status"] == "idle" })
	r = cli(t, ctx, "", "session", "logs", id, "--addr", addr).ok(t)
	if !strings.Contains(r.out, "session.interrupted") || !strings.Contains(r.out, "turn 1 (resume,") || !strings.Contains(r.out, "turn 1 completed") {
		t.Fatalf("auto resume:\n%s", r.out)
	}
}

// Each turn has an adapter process of its own: one that crashes mid-turn
// interrupts its session, not another session nor the server, and
// resume goes on.
func TestAdapterCrashInterruptsItsSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startSessionServer(t, "agents:\n  - name: crashy\n    harness: claude-code\n    model: fast\n    tools: {allow: [\"Bash(sleep *)\"]}\n")
	addr := srv.addr
	var ids []string
	for range 2 {
		ids = append(ids, strings.TrimSpace(cli(t, ctx, "", "session", "start", "--agent", "crashy", `Wait. [[sim tool=shell cmd="sleep 5"]]`, "--addr", addr).ok(t).out))
	}
	for _, id := range ids {
		waitFor(t, ctx, addr, id, func(s map[string]any) bool { return s["tool_calls"].(float64) == 1 })
	}
	// The adapter process of the first session: the one whose CLI works
	// in its workspace.
	ws := sessionJSON(t, ctx, addr, ids[0])["workspace"].(string)
	plugin := 0
	for _, p := range childrenWithEnv(srv.cmd.Process.Pid, envHarnessPlugin+"=claude-code") {
		for _, c := range children(p) {
			if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", c)); cwd == ws {
				plugin = p
			}
		}
	}
	if plugin == 0 {
		t.Fatal("no adapter process runs the first session's CLI")
	}
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, addr, ids[0], func(s map[string]any) bool { return s["status"] == "interrupted" })
	waitFor(t, ctx, addr, ids[1], func(s map[string]any) bool { return s["status"] == "idle" })
	r := cli(t, ctx, "", "session", "resume", ids[0], "-f", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "turn 1 completed") {
		t.Fatalf("resume after the adapter's crash:\n%s", r.out)
	}
}

// childrenWithEnv lists the child processes of pid whose environment
// holds kv.
func childrenWithEnv(pid int, kv string) []int {
	var out []int
	for _, c := range children(pid) {
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", c))
		if slices.Contains(strings.Split(string(env), "\x00"), kv) {
			out = append(out, c)
		}
	}
	return out
}

// children lists the child processes of pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) >= 2 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
