//go:build unix

package process_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/plugins/process"
	"github.com/switchyard/switchyard/plugins/process/internal/testsvc"
	"github.com/switchyard/switchyard/plugins/process/processtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	processtest.Cleanup()
	os.Exit(code)
}

// testConfig is the test plugin with env set, accepting protocol version 1.
func testConfig(t testing.TB, env ...string) process.Config {
	return process.Config{
		Name:     "test",
		Path:     processtest.Build(t, "./testdata/testplugin"),
		Env:      env,
		Versions: map[int]plugin.PluginSet{1: {testsvc.Name: &testsvc.Plugin{}}},
	}
}

func start(t testing.TB, cfg process.Config, log *slog.Logger) *process.Plugin {
	t.Helper()
	p, err := process.Start(ctxFor(t, 20*time.Second), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// call dispenses a client (waiting for a restart to finish) and calls method.
func call(ctx context.Context, p *process.Plugin, method, arg string) (string, error) {
	c, err := process.Dispense[testsvc.Client](ctx, p, testsvc.Name)
	if err != nil {
		return "", err
	}
	return c.Call(ctx, method, arg)
}

func mustCall(t testing.TB, p *process.Plugin, method, arg string) string {
	t.Helper()
	out, err := call(ctxFor(t, 10*time.Second), p, method, arg)
	if err != nil {
		t.Fatalf("%s(%q): %v", method, arg, err)
	}
	return out
}

// alive says whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil { // no /proc
		return syscall.Kill(pid, 0) == nil
	}
	state := b[bytes.LastIndexByte(b, ')')+2] // after "pid (comm) "
	return state != 'Z' && state != 'X'
}

// waitGone waits for the pids to die: a SIGKILL is delivered
// asynchronously, so a grandchild the host killed may take a moment.
func waitGone(t testing.TB, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d is still alive", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// waitFor waits for the plugin's status to satisfy cond.
func waitFor(t testing.TB, p *process.Plugin, cond func(process.Status) bool) process.Status {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	for {
		changed := p.Changed()
		if s := p.Status(); cond(s) {
			return s
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("waited in vain; status %+v", p.Status())
		}
	}
}

// waitRestarted waits for a process other than pid to run.
func waitRestarted(t testing.TB, p *process.Plugin, pid int) process.Status {
	t.Helper()
	return waitFor(t, p, func(s process.Status) bool { return s.State == process.Running && s.PID != pid })
}

func failed(s process.Status) bool { return s.State == process.Failed }

func TestDiscover(t *testing.T) {
	t.Parallel()
	dir, other := t.TempDir(), t.TempDir()
	file := func(dir, name string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := file(dir, "switchyard-plugin-good", 0o755)
	file(dir, "switchyard-plugin-notexec", 0o644)
	file(dir, "other-tool", 0o755)
	file(dir, "switchyard-plugin-", 0o755)
	shadowed := file(other, "switchyard-plugin-good", 0o755)
	late := file(other, "switchyard-plugin-late", 0o755)
	if err := os.Mkdir(filepath.Join(dir, "switchyard-plugin-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "switchyard-plugin-broken")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(good, filepath.Join(dir, "switchyard-plugin-linked")); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	found, skipped := process.Discover(dir, other, missing)

	want := []process.Binary{
		{Name: "good", Path: good},
		{Name: "linked", Path: filepath.Join(dir, "switchyard-plugin-linked")},
		{Name: "late", Path: late},
	}
	if !slices.Equal(found, want) {
		t.Errorf("found %v, want %v", found, want)
	}
	reasons := map[string]string{}
	for _, s := range skipped {
		reasons[s.Path] = s.Reason
	}
	for path, reason := range map[string]string{
		filepath.Join(dir, "switchyard-plugin-notexec"): "not executable",
		filepath.Join(dir, "other-tool"):                "does not have the form",
		filepath.Join(dir, "switchyard-plugin-"):        "does not have the form",
		filepath.Join(dir, "switchyard-plugin-dir"):     "a directory",
		filepath.Join(dir, "switchyard-plugin-broken"):  "broken symlink",
		shadowed: "shadowed by " + good,
		missing:  "cannot read the directory",
	} {
		if !strings.Contains(reasons[path], reason) {
			t.Errorf("%s: skipped because %q, want %q", path, reasons[path], reason)
		}
	}
	if len(skipped) != 7 {
		t.Errorf("skipped %d, want 7: %v", len(skipped), skipped)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	d, err := process.Describe(ctxFor(t, 10*time.Second), cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "test" || d.Kind != "test" || d.Version != "0.1.0" || !slices.Equal(d.ProtocolVersions, []int{1}) ||
		!slices.Equal(d.Capabilities, []string{"echo", "sleep"}) || d.Metadata["language"] != "go" {
		t.Errorf("description %+v", d)
	}
}

func TestStartAndCall(t *testing.T) {
	t.Parallel()
	p := start(t, testConfig(t, "HOME=/plugin/home"), nil)

	s := p.Status()
	if s.State != process.Running || s.ProtocolVersion != 1 || s.Restarts != 0 || s.LastError != nil || !alive(s.PID) {
		t.Errorf("status %+v", s)
	}
	if d := p.Description(); d.Name != "test" || d.Version != "0.1.0" {
		t.Errorf("description %+v", d)
	}
	if out := mustCall(t, p, "Echo", "hello"); out != "hello" {
		t.Errorf("Echo returned %q", out)
	}
	// Config.Env wins over the host's environment, which the plugin inherits.
	if home, path := mustCall(t, p, "Env", "HOME"), mustCall(t, p, "Env", "PATH"); home != "/plugin/home" || path != os.Getenv("PATH") {
		t.Errorf("HOME=%q PATH=%q", home, path)
	}

	_, err := call(ctxFor(t, 10*time.Second), p, "Fail", "")
	if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), `plugin "test": /switchyard.process.test.Test/Fail: `) ||
		!strings.Contains(err.Error(), "failed on purpose") {
		t.Errorf("Fail: %v (code %v)", err, status.Code(err))
	}
	if _, err := p.Dispense(ctxFor(t, time.Second), "nonesuch"); err == nil {
		t.Error("dispensed an unknown plugin")
	}
}

func TestProtocolVersions(t *testing.T) {
	t.Parallel()
	set := plugin.PluginSet{testsvc.Name: &testsvc.Plugin{}}
	for _, tc := range []struct {
		name     string
		offered  string
		accepted []int
		want     string // in the error; "" for a start
		version  int    // negotiated
	}{
		{name: "plugin newer", offered: "2,3", accepted: []int{1}, want: "the plugin is newer than this Switchyard: upgrade Switchyard"},
		{name: "plugin older", offered: "1", accepted: []int{2, 3}, want: "the plugin is older than this Switchyard: install a release of the plugin built for one of [2 3]"},
		{name: "highest common", offered: "1,2,3", accepted: []int{1, 2}, version: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, "TESTPLUGIN_VERSIONS="+tc.offered)
			cfg.Versions = map[int]plugin.PluginSet{}
			for _, v := range tc.accepted {
				cfg.Versions[v] = set
			}
			p, err := process.Start(ctxFor(t, 20*time.Second), cfg, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				if v := p.Status().ProtocolVersion; v != tc.version {
					t.Errorf("negotiated version %d, want %d", v, tc.version)
				}
				return
			}
			var verr *process.VersionError
			if !errors.As(err, &verr) {
				t.Fatalf("got %v, want a *VersionError", err)
			}
			if verr.Path != cfg.Path || verr.Plugin != "test" || fmt.Sprint(verr.Offered) != "["+strings.ReplaceAll(tc.offered, ",", " ")+"]" ||
				!slices.Equal(verr.Accepted, tc.accepted) {
				t.Errorf("%+v", verr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, cfg.Path) {
				t.Errorf("the error says %q; want it to name %s and say %q", msg, cfg.Path, tc.want)
			}
		})
	}
}

func TestStartRejects(t *testing.T) {
	t.Parallel()
	good := testConfig(t)
	sum, err := process.Checksum(good.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*process.Config)
		want   []string
		is     error
	}{
		{
			name:   "another program's go-plugin plugin",
			change: func(c *process.Config) { c.Env = []string{"TESTPLUGIN_MODE=foreign"} },
			want:   []string{"describe " + good.Path, "This binary is a plugin", "is this one built with process.Serve?"},
		},
		{
			name:   "wrong handshake cookie",
			change: func(c *process.Config) { c.Env = []string{"TESTPLUGIN_MODE=wrong-cookie"} },
			want:   []string{"start plugin \"test\" (" + good.Path + ")", "This binary is a plugin", "refused the handshake cookie"},
		},
		{
			name:   "not a plugin",
			change: func(c *process.Config) { c.Env = []string{"TESTPLUGIN_MODE=not-a-plugin"} },
			want:   []string{"not a Switchyard plugin description", "hello, I am just a program"},
		},
		{
			name:   "another kind",
			change: func(c *process.Config) { c.Kind = "harness" },
			want:   []string{`is a "test" plugin, not a "harness" one`},
		},
		{
			name:   "missing binary",
			change: func(c *process.Config) { c.Path = filepath.Join(t.TempDir(), "switchyard-plugin-none") },
			want:   []string{"no such file"},
		},
		{
			name:   "wrong checksum",
			change: func(c *process.Config) { c.SHA256 = strings.Repeat("ab", 32) },
			want:   []string{"not the configured " + strings.Repeat("ab", 32)},
			is:     plugin.ErrChecksumsDoNotMatch,
		},
		{
			name:   "fails at start",
			change: func(c *process.Config) { c.Env = []string{"TESTPLUGIN_FAIL_IF=" + good.Path} },
			want:   []string{"failing on purpose"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tc.change(&cfg)
			p, err := process.Start(ctxFor(t, 20*time.Second), cfg, nil)
			if err == nil {
				p.Close()
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not say %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("the error %q is not %v", err, tc.is)
			}
		})
	}
	t.Run("right checksum", func(t *testing.T) {
		t.Parallel()
		cfg := good
		cfg.SHA256 = strings.ToUpper(sum)
		mustCall(t, start(t, cfg, nil), "Echo", "x")
	})
}

func TestCallsEndWithTheirContext(t *testing.T) {
	t.Parallel()
	p := start(t, testConfig(t), nil)
	c, err := process.Dispense[testsvc.Client](ctxFor(t, 10*time.Second), p, testsvc.Name)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unary", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := c.Call(ctx, "Sleep", "1m")
		if took := time.Since(begin); took > 2*time.Second {
			t.Errorf("the call took %v", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || status.Code(err) != codes.DeadlineExceeded ||
			!strings.Contains(err.Error(), `plugin "test": /switchyard.process.test.Test/Sleep: context deadline exceeded`) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		next, err := c.Tick(ctx, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if m, err := next(); m != "tick" || err != nil {
				t.Fatalf("got %q, %v", m, err)
			}
		}
		cancel()
		for err == nil {
			_, err = next()
		}
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "/Tick: context canceled") {
			t.Errorf("got %v", err)
		}
	})
	// The plugin lived through it.
	mustCall(t, p, "Echo", "still here")
}

func TestCrashAndRestart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MinBackoff = 300 * time.Millisecond
	p := start(t, cfg, nil)
	first := p.Status().PID
	child, err := strconv.Atoi(mustCall(t, p, "Spawn", ""))
	if err != nil {
		t.Fatal(err)
	}

	_, err = call(ctxFor(t, 10*time.Second), p, "Crash", "panic")
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Crash: %v", err)
	}
	crashed := time.Now()
	s := waitRestarted(t, p, first)
	if took := time.Since(crashed); took < cfg.MinBackoff {
		t.Errorf("restarted after %v, before the backoff of %v", took, cfg.MinBackoff)
	}
	if out := mustCall(t, p, "Echo", "back"); out != "back" {
		t.Errorf("Echo returned %q", out)
	}
	if s.State != process.Running || s.Restarts != 1 || s.PID == first || !alive(s.PID) {
		t.Errorf("status %+v", s)
	}
	if msg := fmt.Sprint(s.LastError); !strings.Contains(msg, fmt.Sprintf("process %d exited (exit status 2)", first)) ||
		!strings.Contains(msg, `"panic: boom"`) {
		t.Errorf("last error %q; want the exit status and the panic", msg)
	}
	t.Log(s.LastError)
	waitGone(t, first, child) // the plugin's child went with it
}

func TestRepeatedFailures(t *testing.T) {
	t.Parallel()
	t.Run("crashes", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		cfg.MinBackoff, cfg.MaxFailures = 10*time.Millisecond, 3
		var buf syncBuf
		p := start(t, cfg, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		defer func() {
			if t.Failed() {
				t.Log(buf.String())
			}
		}()
		var pids []int
		for range 3 {
			pid := p.Status().PID
			pids = append(pids, pid)
			if _, err := call(ctxFor(t, 10*time.Second), p, "Crash", "3"); status.Code(err) != codes.Unavailable {
				t.Fatalf("Crash: %v", err)
			}
			waitFor(t, p, func(s process.Status) bool { return s.PID != pid && s.State != process.Restarting })
		}
		if _, err := call(ctxFor(t, 10*time.Second), p, "Echo", ""); !errors.Is(err, process.ErrFailed) {
			t.Errorf("Echo: %v", err)
		}
		s := p.Status()
		if s.State != process.Failed || s.Restarts != 2 || s.PID != 0 || !strings.Contains(fmt.Sprint(s.LastError), "(exit status 3); its last output: \"testplugin: exiting with 3\"") {
			t.Errorf("status %+v", s)
		}
		waitGone(t, pids...)
	})
	t.Run("restarts fail", func(t *testing.T) {
		t.Parallel()
		flag := filepath.Join(t.TempDir(), "fail")
		cfg := testConfig(t, "TESTPLUGIN_FAIL_IF="+flag)
		cfg.MinBackoff, cfg.MaxFailures = 10*time.Millisecond, 3
		p := start(t, cfg, nil)
		pid := p.Status().PID
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		p.Kill()
		s := waitFor(t, p, failed)
		if s.Restarts != 2 || !strings.Contains(fmt.Sprint(s.LastError), "testplugin: failing on purpose") {
			t.Errorf("status %+v", s)
		}
		_, err := call(ctxFor(t, time.Second), p, "Echo", "")
		if !errors.Is(err, process.ErrFailed) {
			t.Errorf("Echo: %v", err)
		}
		waitGone(t, pid)
	})
}

func TestHungPluginIsKilled(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.HealthInterval, cfg.HealthTimeout, cfg.MinBackoff = 100*time.Millisecond, 500*time.Millisecond, 10*time.Millisecond
	p := start(t, cfg, nil)
	hung := p.Status().PID

	begin := time.Now()
	_, err := call(ctxFor(t, 300*time.Millisecond), p, "Freeze", "")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > 2*time.Second {
		t.Errorf("Freeze: %v after %v", err, time.Since(begin))
	}
	s := waitRestarted(t, p, hung)
	mustCall(t, p, "Echo", "thawed")
	if s.Restarts != 1 || !strings.Contains(fmt.Sprint(s.LastError), fmt.Sprintf("health check failed, so the host killed process %d", hung)) {
		t.Errorf("status %+v", s)
	}
	waitGone(t, hung)
}

func TestOutputIsLogged(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	p := start(t, testConfig(t), slog.New(rec))
	mustCall(t, p, "Log", "hello")

	for _, want := range []logLine{
		{level: slog.LevelInfo, msg: "stdout: hello", attrs: map[string]any{"plugin": "test", "stream": "stdout"}},
		{level: slog.LevelInfo, msg: "raw via os.Stderr: hello", attrs: map[string]any{"plugin": "test", "stream": "stderr"}},
		{level: slog.LevelInfo, msg: "raw via fd 2: hello", attrs: map[string]any{"plugin": "test", "stream": "stderr"}},
		{level: slog.LevelWarn, msg: "structured", attrs: map[string]any{"plugin": "test", "stream": "stderr", "text": "hello", "n": 7.0}},
		{level: slog.LevelInfo, msg: "plugin started", attrs: map[string]any{"plugin": "test", "protocol_version": 1, "version": "0.1.0"}},
	} {
		rec.wait(t, want)
	}
}

func TestHostClose(t *testing.T) {
	t.Parallel()
	h := process.NewHost(nil)
	t.Cleanup(func() { h.Close() })
	var pids []int
	for _, name := range []string{"a", "b"} {
		cfg := testConfig(t)
		cfg.Name, cfg.StopTimeout = name, 200*time.Millisecond
		p, err := h.Start(ctxFor(t, 20*time.Second), cfg)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, p.Status().PID)
	}
	if _, err := h.Start(t.Context(), process.Config{Name: "a", Path: "x"}); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Errorf("a second a: %v", err)
	}
	if names := h.Plugins()[0].Name() + h.Plugins()[1].Name(); names != "ab" {
		t.Errorf("plugins %s", names)
	}
	// a has a child; b hangs, so it will not exit when asked.
	child, err := call(ctxFor(t, 10*time.Second), h.Plugin("a"), "Spawn", "")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(child)
	if !alive(pid) {
		t.Fatalf("the child %d is not alive", pid)
	}
	pids = append(pids, pid)
	if _, err := call(ctxFor(t, 100*time.Millisecond), h.Plugin("b"), "Freeze", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Freeze: %v", err)
	}

	begin := time.Now()
	h.Close()
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Close took %v", took)
	}
	for _, pid := range pids[:2] {
		if alive(pid) { // Close waited for them
			t.Errorf("plugin process %d is alive after Close", pid)
		}
	}
	waitGone(t, pids...)
	for _, p := range h.Plugins() {
		if s := p.Status(); s.State != process.Stopped {
			t.Errorf("%s is %v", p.Name(), s.State)
		}
	}
	if _, err := call(t.Context(), h.Plugin("a"), "Echo", ""); !errors.Is(err, process.ErrClosed) {
		t.Errorf("Echo after Close: %v", err)
	}
	if _, err := h.Start(t.Context(), testConfig(t)); !errors.Is(err, process.ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
	h.Close()
}

// TestPluginsDieWithTheirHost kills a host (this test binary, run again
// as TestHelperHost) with SIGKILL: its plugin and the plugin's child must
// not outlive it.
func TestPluginsDieWithTheirHost(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperHost$")
	cmd.Env = append(os.Environ(), "PROCESS_TEST_HELPER_HOST="+testConfig(t).Path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid, child int
	if _, err := fmt.Fscanf(out, "pids %d %d\n", &pid, &child); err != nil {
		cmd.Process.Kill()
		t.Fatalf("read the pids from the helper host: %v", err)
	}
	if !alive(pid) || !alive(child) {
		t.Fatalf("the plugin %d or its child %d is not alive", pid, child)
	}
	cmd.Process.Kill()
	cmd.Wait()
	waitGone(t, pid, child)
}

// TestHelperHost is a host for TestPluginsDieWithTheirHost: it starts the
// plugin, prints its pid and its child's, and waits to be killed.
func TestHelperHost(t *testing.T) {
	path := os.Getenv("PROCESS_TEST_HELPER_HOST")
	if path == "" {
		t.Skip("a helper process for TestPluginsDieWithTheirHost")
	}
	p := start(t, process.Config{Path: path, Versions: map[int]plugin.PluginSet{1: {testsvc.Name: &testsvc.Plugin{}}}}, nil)
	child := mustCall(t, p, "Spawn", "")
	fmt.Printf("pids %d %s\n", p.Status().PID, child)
	time.Sleep(time.Minute)
}

// TestConcurrentCalls hammers a plugin from many goroutines, first while
// it runs, then while it is killed and restarted. A call that fails is
// retried (with a new client) until it succeeds.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MinBackoff = 10 * time.Millisecond
	p := start(t, cfg, nil)

	hammer := func(kills int) (retries int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ctx := ctxFor(t, 20*time.Second)
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					arg := fmt.Sprint(g, "/", i)
					out, err := call(ctx, p, "Echo", arg)
					for ; err != nil && ctx.Err() == nil; out, err = call(ctx, p, "Echo", arg) {
						if c := status.Code(err); c != codes.Unavailable {
							t.Errorf("Echo failed with %v, not Unavailable: %v", c, err)
						}
						mu.Lock()
						retries++
						mu.Unlock()
					}
					if out != arg {
						t.Errorf("Echo(%q) returned %q, %v", arg, out, err)
						return
					}
				}
			})
		}
		for range kills {
			wg.Go(func() {
				waitFor(t, p, func(s process.Status) bool { return s.State == process.Running })
				p.Kill()
			})
		}
		wg.Wait()
		return retries
	}
	if retries := hammer(0); retries > 0 {
		t.Errorf("%d calls failed", retries)
	}
	hammer(1)
	waitFor(t, p, func(s process.Status) bool { return s.Restarts == 1 && s.State == process.Running })
	mustCall(t, p, "Echo", "after")
}

func BenchmarkCall(b *testing.B) {
	p := start(b, testConfig(b), nil)
	c, err := process.Dispense[testsvc.Client](b.Context(), p, testsvc.Name)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Call(ctx, "Echo", "hello"); err != nil {
			b.Fatal(err)
		}
	}
}

// recorder is a slog.Handler that keeps what it is given.
type recorder struct {
	attrs []slog.Attr
	*records
}

type records struct {
	mu     sync.Mutex
	lines  []logLine
	notify chan struct{}
}

type logLine struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func newRecorder() *recorder {
	return &recorder{records: &records{notify: make(chan struct{}, 1)}}
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	l := logLine{level: rec.Level, msg: rec.Message, attrs: map[string]any{}}
	for _, a := range r.attrs {
		l.attrs[a.Key] = a.Value.Any()
	}
	rec.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.Any()
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recorder{attrs: append(slices.Clip(r.attrs), attrs...), records: r.records}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

// wait waits for a line with want's level and message, and its
// attributes among others.
func (r *recorder) wait(t *testing.T, want logLine) {
	t.Helper()
	ctx := ctxFor(t, 5*time.Second)
	for {
		r.mu.Lock()
		lines := slices.Clone(r.lines)
		r.mu.Unlock()
		for _, l := range lines {
			if l.level == want.level && l.msg == want.msg && hasAttrs(l.attrs, want.attrs) {
				return
			}
		}
		select {
		case <-r.notify:
		case <-ctx.Done():
			t.Fatalf("no log line %+v; got:\n%v", want, lines)
		}
	}
}

func hasAttrs(got, want map[string]any) bool {
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
