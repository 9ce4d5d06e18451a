package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/httpapi"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	out, err string
	code     int
}

// cli runs one command line in-process with an empty environment, stdin
// from in.
func cli(t *testing.T, ctx context.Context, in string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	code := Run(ctx, args, IO{In: strings.NewReader(in), Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	return result{out: out.String(), err: errb.String(), code: code}
}

func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
	}
	return r
}

func (r result) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(r.out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("stdout line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// serveInProcess runs `switchyard serve` on 127.0.0.1:0 over dir and
// returns its address and a function that stops it (as SIGINT would) and
// checks that it exited cleanly.
func serveInProcess(t *testing.T, dir string, extra ...string) (addr string, out *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	out, logs := &syncBuffer{}, &syncBuffer{}
	io := IO{In: strings.NewReader(""), Out: out, Err: logs, Getenv: func(string) string { return "" },
		onListen: func(a net.Addr) { addrs <- a.String() }}
	done := make(chan int, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "debug"}, extra...)
	go func() { done <- Run(ctx, args, io) }()
	select {
	case addr = <-addrs:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening:\n%s", code, logs.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited with %d:\n%s", code, logs.String())
				}
			case <-time.After(15 * time.Second):
				t.Errorf("serve did not shut down:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	return addr, out, stop
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	addr, _, stop := serveInProcess(t, dir)
	a := "--addr=" + addr

	// Append one event with flags.
	id := event.NewID().String()
	r := cli(t, ctx, "", "events", "append", "session-1", a, "--type", "session.started",
		"--data", `{"agent":"reviewer","harness":"claudecode"}`, "--id", id, "--metadata", `{"actor":"user:alice","session":"1"}`, "--expected", "no-stream").ok(t)
	var ar httpapi.AppendResponse
	if err := json.Unmarshal([]byte(r.out), &ar); err != nil || ar.Stream != "session-1" || ar.FirstVersion != 0 || len(ar.Positions) != 1 {
		t.Fatalf("append result %q: %v", r.out, err)
	}
	if !strings.Contains(r.err, "appended 1 event in session-1 at version 0, position 1") {
		t.Fatalf("append summary %q", r.err)
	}
	// The same id again is a duplicate, not a second event.
	r = cli(t, ctx, "", "events", "append", "session-1", a, "--type", "session.started",
		"--data", `{"agent":"reviewer","harness":"claudecode"}`, "--id", id, "--metadata", `{"actor":"user:alice","session":"1"}`).ok(t)
	if !strings.Contains(r.out, `"duplicate":true`) || !strings.Contains(r.err, "already had") {
		t.Fatalf("retry: %q %q", r.out, r.err)
	}
	// Append JSON lines from stdin, as one batch.
	lines := `{"type":"message.added","data":{"role":"user","text":"hi"}}

{"type":"message.added","data":{"role":"assistant","text":"hello"},"metadata":{"agent":"reviewer"}}
`
	r = cli(t, ctx, lines, "events", "append", "session-1", a, "-f", "-", "--expected", "0").ok(t)
	if !strings.Contains(r.out, `"first_version":1,"last_version":2,"positions":[2,3]`) {
		t.Fatalf("batch append: %q", r.out)
	}
	// And from a file.
	file := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(file, []byte(`{"type":"note.added","data":{"n":1}}`+"\n"), 0o600)
	cli(t, ctx, "", "events", "append", "notes", a, "-f", file).ok(t)

	// A conflict exits 3 and says what would match.
	r = cli(t, ctx, "", "events", "append", "session-1", a, "--type", "session.ended", "--data", `{"outcome":"completed"}`, "--expected", "1")
	if r.code != exitConflict || !strings.Contains(r.err, "expected version 1 but it is at version 2") || !strings.Contains(r.err, "--expected 2 would match it now") {
		t.Fatalf("conflict: %d %q", r.code, r.err)
	}

	// Read the stream back: envelopes, one per line, with an intact chain.
	r = cli(t, ctx, "", "events", "read", "session-1", a).ok(t)
	var evs []event.Event
	for l := range strings.Lines(r.out) {
		var e event.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	if len(evs) != 3 || evs[0].ID.String() != id || evs[0].Metadata.Actor != "user:alice" || evs[2].Metadata.Agent != "reviewer" {
		t.Fatalf("read: %s", r.out)
	}
	if err := event.VerifyChain(evs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.err, "3 events from stream session-1") {
		t.Fatalf("read summary %q", r.err)
	}
	r = cli(t, ctx, "", "events", "read", "session-1", a, "--backwards", "--limit", "1", "-q").ok(t)
	if l := r.lines(t); len(l) != 1 || l[0]["stream_version"] != 2.0 || r.err != "" {
		t.Fatalf("last event: %q %q", r.out, r.err)
	}
	r = cli(t, ctx, "", "events", "read", "--all", a, "--from", "3").ok(t)
	if l := r.lines(t); len(l) != 2 || l[0]["position"] != 3.0 || l[1]["stream"] != "notes" {
		t.Fatalf("read --all: %q", r.out)
	}

	// The catalogue.
	r = cli(t, ctx, "", "events", "streams", a).ok(t)
	var infos []projection.StreamInfo
	for l := range strings.Lines(r.out) {
		var si projection.StreamInfo
		json.Unmarshal([]byte(l), &si)
		infos = append(infos, si)
	}
	if len(infos) != 2 || infos[0].Stream != "notes" || infos[1].Events != 3 || infos[1].Types["message.added"] != 2 {
		t.Fatalf("streams: %q", r.out)
	}

	// Tail: the first N events, then exit.
	r = cli(t, ctx, "", "events", "tail", a, "--limit", "2").ok(t)
	if l := r.lines(t); len(l) != 2 || l[0]["position"] != 1.0 || l[1]["position"] != 2.0 {
		t.Fatalf("tail --limit: %q", r.out)
	}
	testTailLive(t, addr)

	// The live test appended some events: count the log as it is now.
	total := len(cli(t, ctx, "", "events", "read", "--all", a, "-q").ok(t).lines(t))

	// verify refuses while the server holds the data directory ...
	r = cli(t, ctx, "", "events", "verify", "--data", dir)
	if r.code != exitError || !strings.Contains(r.err, "in use by another process") || !strings.Contains(r.err, "switchyard serve") {
		t.Fatalf("verify while serving: %d %q", r.code, r.err)
	}
	// ... and checks every chain once it has stopped. A tail open at that
	// moment ends with an error that says where to resume.
	tl := startTail(addr)
	for range total {
		<-tl.lines
	}
	stop()
	if code := tl.exit(t); code != exitError || !strings.Contains(tl.stderr.String(),
		fmt.Sprintf("ended the feed (did the server stop?): resume with `switchyard events tail --from %d`", total+1)) {
		t.Fatalf("tail when the server stopped: %d %q", code, tl.stderr.String())
	}
	r = cli(t, ctx, "", "events", "verify", "--data", dir).ok(t)
	var rep eventstore.VerifyReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || rep.Events != uint64(total) || rep.Streams != 3 || rep.LastPosition != uint64(total) {
		t.Fatalf("verify: %q %v, want %d events", r.out, err, total)
	}
	if !strings.Contains(r.err, fmt.Sprintf("verified %d events in 3 streams", total)) {
		t.Fatalf("verify summary %q", r.err)
	}

	// With the server gone, client commands say how to start it.
	r = cli(t, ctx, "", "events", "read", "session-1", a)
	if r.code != exitError || !strings.Contains(r.err, "cannot reach switchyard at "+addr+": is `switchyard serve` running?") {
		t.Fatalf("server stopped: %d %q", r.code, r.err)
	}
}

// tailing is a `switchyard events tail` running in the background.
type tailing struct {
	lines  chan string // stdout, line by line
	done   chan int    // the exit code
	stderr *syncBuffer
	cancel context.CancelFunc // Ctrl-C
}

func startTail(addr string, args ...string) *tailing {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	tl := &tailing{lines: make(chan string, 1024), done: make(chan int, 1), stderr: &syncBuffer{}, cancel: cancel}
	go func() {
		tl.done <- Run(ctx, append([]string{"events", "tail", "--addr", addr}, args...),
			IO{In: strings.NewReader(""), Out: pw, Err: tl.stderr, Getenv: func(string) string { return "" }})
		pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			tl.lines <- sc.Text()
		}
		close(tl.lines)
	}()
	return tl
}

func (tl *tailing) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-tl.done:
		return code
	case <-time.After(5 * time.Second):
		t.Fatal("tail did not exit")
		return 0
	}
}

// testTailLive follows the feed from the end, appends an event, sees it,
// and stops the tail as Ctrl-C would: it exits 0.
func testTailLive(t *testing.T, addr string) {
	tl := startTail(addr, "--from", "end")
	defer tl.cancel()
	// The tail may connect after an append: append until it prints one.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var line string
wait:
	for {
		select {
		case line = <-tl.lines:
			break wait
		case <-tick.C:
			cli(t, context.Background(), "", "events", "append", "live", "--addr", addr, "--type", "t.live", "-q").ok(t)
		case <-deadline:
			t.Fatalf("tail printed nothing; stderr %q", tl.stderr.String())
		}
	}
	var e event.Event
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Stream != "live" || e.Type != "t.live" {
		t.Fatalf("tail printed %q", line)
	}
	tl.cancel()
	if code := tl.exit(t); code != 0 {
		t.Fatalf("tail exited %d after Ctrl-C: %q", code, tl.stderr.String())
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, _, _ := serveInProcess(t, dir)
	a := "--addr=" + addr
	down := closedAddr(t)
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"unknown command", "", []string{"evnets"}, exitUsage, []string{`unknown command "evnets"`, "Run 'switchyard --help' for usage."}},
		{"unknown flag", "", []string{"events", "read", "s", "--frm", "1", a}, exitUsage, []string{"unknown flag: --frm", "Run 'switchyard events read --help'"}},
		{"no stream", "", []string{"events", "append", a, "--type", "t.a"}, exitUsage, []string{"takes STREAM, got 0 arguments"}},
		{"no type", "", []string{"events", "append", "s", a}, exitUsage, []string{"give the event's --type"}},
		{"malformed data", "", []string{"events", "append", "s", a, "--type", "t.a", "--data", `{"text":hello}`}, exitUsage,
			[]string{"--data is not valid JSON: invalid character 'h' looking for beginning of value (at byte 9)", `e.g. --data '{"text":"hello"}'`}},
		{"empty data", "", []string{"events", "append", "s", a, "--type", "t.a", "--data", ""}, exitUsage, []string{"--data is not valid JSON: it is empty"}},
		{"bad type", "", []string{"events", "append", "s", a, "--type", "Note Added"}, exitUsage, []string{"--type: event type \"Note Added\" is not dotted lower-case words"}},
		{"unknown expected version", "", []string{"events", "append", "s", a, "--type", "t.a", "--expected", "latest"}, exitUsage,
			[]string{`--expected: expected version "latest": want any, no-stream, exists or a version number`}},
		{"bad id", "", []string{"events", "append", "s", a, "--type", "t.a", "--id", "42"}, exitUsage, []string{`--id "42" is not a UUID`}},
		{"metadata typo", "", []string{"events", "append", "s", a, "--type", "t.a", "--metadata", `{"actr":"me"}`}, exitUsage,
			[]string{`--metadata: unknown field "actr"`, "e.g. --metadata"}},
		{"bad stream name", "", []string{"events", "append", "has space", a, "--type", "t.a"}, exitUsage, []string{"space"}},
		{"file and flags", "", []string{"events", "append", "s", a, "-f", "-", "--type", "t.a"}, exitUsage, []string{"-f reads whole events from a file: drop --type"}},
		{"malformed line", "{\"type\":\"t.a\",\"data\":{}}\n{\"type\":\"t.a\",\"data\":{}\n", []string{"events", "append", "s", a, "-f", "-"}, exitUsage,
			[]string{"stdin line 2: malformed JSON"}},
		{"line not an object", "[1]\n", []string{"events", "append", "s", a, "-f", "-"}, exitUsage, []string{"stdin line 1: each line must be one event object"}},
		{"empty input", "\n\n", []string{"events", "append", "s", a, "-f", "-"}, exitUsage, []string{"stdin holds no events"}},
		{"missing file", "", []string{"events", "append", "s", a, "-f", filepath.Join(dir, "nope.jsonl")}, exitError, []string{"no such file"}},
		{"read without stream", "", []string{"events", "read", a}, exitUsage, []string{"give the STREAM to read, or --all"}},
		{"read stream and all", "", []string{"events", "read", "s", "--all", a}, exitUsage, []string{"not both"}},
		{"read bad from", "", []string{"events", "read", "s", "--from", "first", a}, exitUsage, []string{`--from "first"`}},
		{"read unknown stream", "", []string{"events", "read", "nope", a}, exitError, []string{`stream "nope" not found`, "events streams` lists the streams"}},
		{"tail bad from", "", []string{"events", "tail", "--from", "-3", a}, exitUsage, []string{`--from "-3": give a position`}},
		{"bad addr", "", []string{"events", "streams", "--addr", "ftp://x"}, exitUsage, []string{`--addr "ftp://x" is not HOST:PORT`}},
		{"server not running", "", []string{"events", "append", "s", "--addr", down, "--type", "t.a"}, exitError,
			[]string{"cannot reach switchyard at " + down + ": is `switchyard serve` running? start it with `go tool task demo`"}},
		{"tail server not running", "", []string{"events", "tail", "--addr", down}, exitError, []string{"cannot reach switchyard"}},
		{"verify missing dir", "", []string{"events", "verify", "--data", filepath.Join(dir, "nope")}, exitError, []string{"no store there"}},
		{"serve bad log format", "", []string{"serve", "--log-format", "xml", "--data", t.TempDir()}, exitUsage, []string{`--log-format "xml": want text or json`}},
		{"serve extra argument", "", []string{"serve", "now"}, exitUsage, []string{"takes no arguments"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, context.Background(), tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit code %d, want %d\nstderr: %s", r.code, tc.code, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr %q\nlacks %q", r.err, w)
				}
			}
			if r.out != "" {
				t.Errorf("stdout %q on error", r.out)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := cli(t, context.Background(), "", "serve", "--addr", ln.Addr().String(), "--data", t.TempDir())
	if r.code != exitError || !strings.Contains(r.err, "the address is in use") || !strings.Contains(r.err, "pass another --addr") {
		t.Fatalf("%d %q", r.code, r.err)
	}
}

func TestServeDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, out, stop := serveInProcess(t, dir, "--demo")
	if s := out.String(); !strings.Contains(s, "It holds 7 demo events") || !strings.Contains(s, "switchyard events read session-demo-1 --addr "+addr) {
		t.Fatalf("demo hints: %s", s)
	}
	r := cli(t, context.Background(), "", "events", "streams", "--addr", addr).ok(t)
	if !strings.Contains(r.out, `"stream":"session-demo-1","events":5`) || !strings.Contains(r.out, `"stream":"session-demo-2","events":2`) {
		t.Fatalf("demo streams: %s", r.out)
	}
	stop()
	// A second start does not seed again.
	addr, out, stop = serveInProcess(t, dir, "--demo")
	if strings.Contains(out.String(), "demo events") {
		t.Fatalf("seeded twice: %s", out.String())
	}
	// Nor make a second demo key or a second revision of the demo agent,
	// nor record its routes again; each start makes one demo call (three
	// events: started, routing decided, completed).
	r = cli(t, context.Background(), "", "events", "read", "--all", "--addr", addr, "-q").ok(t)
	if n := len(r.lines(t)); n != 7+1+3+1+3+3 {
		t.Fatalf("%d events after a restart, want 7 seeded + 1 key + 3 agents + 1 routes + 2×3 for the demo calls", n)
	}
	if !strings.Contains(out.String(), "A call through the gateway") || !strings.Contains(out.String(), "fast → sim/sim-small") {
		t.Fatalf("the demo does not show its call: %s", out.String())
	}
	stop()
	cli(t, context.Background(), "", "events", "verify", "--data", dir).ok(t)
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	r := cli(t, context.Background(), "", "version").ok(t)
	if !strings.HasPrefix(r.out, "switchyard ") {
		t.Fatalf("version: %q", r.out)
	}
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"events", "--help"}, {"events", "append", "--help"}, {"events", "read", "--help"},
		{"events", "tail", "--help"}, {"events", "verify", "--help"}, {"events", "streams", "--help"}, {"version", "--help"},
	} {
		r := cli(t, context.Background(), "", args...).ok(t)
		if !strings.Contains(r.out, "Usage:") {
			t.Errorf("%v: no usage in %q", args, r.out)
		}
	}
	r = cli(t, context.Background(), "", "serve", "--help").ok(t)
	if !strings.Contains(r.out, "SWITCHYARD_DATA") || !strings.Contains(r.out, "127.0.0.1:4400") {
		t.Errorf("serve --help does not name the defaults: %s", r.out)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	if d, _ := defaultDataDir(env("SWITCHYARD_DATA", "/srv/sy", "HOME", "/home/a")); d != "/srv/sy" {
		t.Errorf("SWITCHYARD_DATA: %s", d)
	}
	if d, _ := defaultDataDir(env("HOME", "/home/a")); !strings.HasPrefix(d, "/home/a/") || filepath.Base(d) != "switchyard" {
		t.Errorf("HOME: %s", d)
	}
	if _, err := defaultDataDir(env()); err == nil {
		t.Error("no HOME: no error")
	}
	// --addr follows SWITCHYARD_ADDR.
	down := closedAddr(t)
	var out, errb syncBuffer
	code := Run(context.Background(), []string{"events", "streams"}, IO{Out: &out, Err: &errb, Getenv: env("SWITCHYARD_ADDR", down)})
	if code != exitError || !strings.Contains(errb.String(), down) {
		t.Errorf("SWITCHYARD_ADDR not used: %d %q", code, errb.String())
	}
	for arg0, want := range map[string]string{".bin/switchyard": ".bin/switchyard", "/usr/bin/switchyard": "switchyard", "switchyard": "switchyard"} {
		if got := progName(arg0); got != want {
			t.Errorf("progName(%q) = %q, want %q", arg0, got, want)
		}
	}
}

// serve saves every read model's checkpoint at the head when it stops, so
// the next start folds nothing again.
func TestServeCheckpointsEveryReadModelOnStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	addr, _, stop := serveInProcess(t, dir)
	cli(t, ctx, "", "events", "append", "session-1", "--addr="+addr, "--type", "session.started", "--data", `{"agent":"a"}`).ok(t)
	stop()
	st, err := embedded.Open(embedded.Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	head, err := eventstore.Head(ctx, st)
	if err != nil || head == 0 {
		t.Fatalf("head %d, %v", head, err)
	}
	for _, name := range []string{"core.agents", "core.sessions", "core.costs", "core.audit", "stream-catalog", "gateway.keys", "gateway.budget"} {
		cp, err := st.LoadCheckpoint(ctx, name)
		if err != nil || cp.Position != head {
			t.Errorf("%s: checkpoint at %d (%v) after serve stopped, want the head %d", name, cp.Position, err, head)
		}
	}
}
