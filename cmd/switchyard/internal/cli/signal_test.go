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
	"time"
)

// TestMain lets a test run this binary as the switchyard command: with
// SWITCHYARD_TEST_MAIN=1 it runs Main on its arguments, signals and all.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHYARD_TEST_MAIN") == "1" {
		os.Exit(Main())
	}
	os.Exit(m.Run())
}

// TestSignalShutsDownGracefully runs `switchyard serve` as a process, with
// a feed open, and stops it with SIGTERM: the feed ends, the process exits
// 0, and the store is closed (verify can open it).
func TestSignalShutsDownGracefully(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-format", "json")
	cmd.Env = append(os.Environ(), "SWITCHYARD_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	// The address is in the "switchyard serving" log line.
	logs := bufio.NewScanner(stderr)
	var addr string
	var seen []string
	for addr == "" && logs.Scan() {
		seen = append(seen, logs.Text())
		var l struct{ Msg, Addr string }
		if json.Unmarshal(logs.Bytes(), &l) == nil && l.Msg == "switchyard serving" {
			addr = l.Addr
		}
	}
	if addr == "" {
		t.Fatalf("serve did not start: %s", strings.Join(seen, "\n"))
	}
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for logs.Scan() {
			b.WriteString(logs.Text() + "\n")
		}
		rest <- b.String()
	}()

	cli(t, context.Background(), "", "events", "append", "s", "--addr", addr, "--type", "t.a").ok(t)
	tl := startTail(addr)
	<-tl.lines // the feed is open

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, <-rest)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit on SIGTERM")
	}
	if l := <-rest; !strings.Contains(l, `"msg":"shutting down"`) || !strings.Contains(l, `"msg":"switchyard stopped"`) {
		t.Fatalf("logs after SIGTERM:\n%s", l)
	}
	if code := tl.exit(t); code != exitError || !strings.Contains(tl.stderr.String(), "resume with `switchyard events tail --from 2`") {
		t.Fatalf("tail: %d %q", code, tl.stderr.String())
	}
	cli(t, context.Background(), "", "events", "verify", "--data", dir).ok(t)
}
