//go:build linux

package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/internal/fakeharness"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles the main package ./testdata/<name> once per test binary.
func build(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[name]; ok {
		return path
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "harness-test-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	path := filepath.Join(buildDir, name)
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", path, "./testdata/"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	built[name] = path
	return path
}

// request is a start request running script on fakecli.
func request(t testing.TB, script string) harness.StartRequest {
	return harness.StartRequest{
		SessionID: "s1",
		Prompt:    script,
		Workdir:   t.TempDir(),
		StateDir:  t.TempDir(),
		CLIPath:   build(t, "fakecli"),
		Gateway:   harness.Gateway{BaseURL: "http://127.0.0.1:9", Key: "key-s1"},
	}
}

func script(lines ...string) string { return strings.Join(lines, "\n") }

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// recorder keeps the events of a run.
type recorder struct {
	mu     sync.Mutex
	events []harness.Event
	// on, if set, sees each event first; an error fails the emit.
	on func(harness.Event) error
}

func (r *recorder) emit(e harness.Event) error {
	if r.on != nil {
		if err := r.on(e); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) all() []harness.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]harness.Event(nil), r.events...)
}

func kinds(events []harness.Event) []harness.Kind {
	var ks []harness.Kind
	for _, e := range events {
		ks = append(ks, e.Kind)
	}
	return ks
}

// adapter is the fake adapter, in process.
func adapter() *fakeharness.Adapter { return &fakeharness.Adapter{Grace: 300 * time.Millisecond} }

// last returns the last event, failing if there is none.
func last(t testing.TB, events []harness.Event) harness.Event {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("no events")
	}
	return events[len(events)-1]
}

// systemPID reads the pid in a fakecli system message "<prefix> PID".
func systemPID(e harness.Event, prefix string) (int, bool) {
	if e.Kind != harness.KindMessage || e.Message.Role != harness.RoleSystem {
		return 0, false
	}
	s, ok := strings.CutPrefix(e.Message.Text, prefix+" ")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	return pid, err == nil
}

// alive says whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	state := b[bytes.LastIndexByte(b, ')')+2]
	return state != 'Z' && state != 'X'
}

// waitGone waits for the pids to die: SIGKILL is delivered asynchronously,
// and a killed grandchild is reaped by init, not by us.
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

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
