package routing_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/conformance/routing"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// cacheEnv passes the compilation cache to the child processes, so the
// module is compiled once (the compiler under -race is slow).
const cacheEnv = "ROUTINGTEST_CACHE"

func cacheDir(t *testing.T) string {
	if d := os.Getenv(cacheEnv); d != "" {
		return d
	}
	return sharedCache
}

var sharedCache string

func TestMain(m *testing.M) { os.Exit(wasmtest.RunWithCache(m, &sharedCache)) }

func TestGoPlugin(t *testing.T) {
	routing.Run(t, wasmtest.Build(t, wasmtest.Behaviours), routing.Options{CacheDir: cacheDir(t)})
}

func TestWATPlugin(t *testing.T) {
	routing.Run(t, wasmtest.BuildWAT(t, "../../plugins/wasm/testdata/wat/firsthealthy.wat"), routing.Options{})
}

// The suite must be able to fail: each case runs it, in a child process
// (this test binary again), against the test plugin behaving badly, and
// requires the named checks to fail.
const badEnv = "ROUTINGTEST_BAD"

func TestSuiteCatchesBadPlugins(t *testing.T) {
	for _, c := range []struct {
		model string // what the behaviours plugin does (its requested model)
		fails []string
	}{
		{"state", []string{"Deterministic", "NoStateBetweenCalls"}},
		{"garbage", []string{"WellFormed", "Deterministic", "TimeBudget"}},
		{"loop", []string{"TimeBudget"}},
		{"panic", []string{"WellFormed"}},
	} {
		t.Run(c.model, func(t *testing.T) {
			t.Parallel()
			run := "-test.run=^TestBadPlugin$/^(" + strings.Join(c.fails, "|") + ")$"
			cmd := exec.CommandContext(t.Context(), os.Args[0], run, "-test.count=1", "-test.v", "-test.timeout=300s")
			cmd.Env = append(os.Environ(), badEnv+"="+c.model, cacheEnv+"="+cacheDir(t), "GORACE=atexit_sleep_ms=0")
			b, err := cmd.CombinedOutput()
			out := string(b)
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite did not fail against a plugin doing %q (%v):\n%s", c.model, err, out)
			}
			for _, f := range c.fails {
				if !strings.Contains(out, "--- FAIL: TestBadPlugin/"+f+" ") {
					t.Errorf("%s did not fail against a plugin doing %q:\n%s", f, c.model, out)
				}
			}
		})
	}
}

// TestBadPlugin is the child of TestSuiteCatchesBadPlugins.
func TestBadPlugin(t *testing.T) {
	model := os.Getenv(badEnv)
	if model == "" {
		t.Skip("run by TestSuiteCatchesBadPlugins")
	}
	routing.Run(t, wasmtest.Build(t, wasmtest.Behaviours), routing.Options{Model: model, CacheDir: cacheDir(t)})
}

// Check runs the checks outside go test, one result each, in order. (How
// a check ends is TestRunCheck's; failing plugins are switchyard plugin
// test's, in cmd/switchyard/internal/cli, which runs Check.)
func TestCheck(t *testing.T) {
	rs := routing.Check(t.Context(), []byte("not wasm"), routing.Options{})
	if len(rs) != 1 || rs[0].Name != "Load" || rs[0].Status != routing.Fail || !strings.Contains(rs[0].Messages[0], "does not load") {
		t.Fatalf("a module that does not load: %+v", rs)
	}
	// The WAT plugin compiles in no time, even under -race.
	rs = routing.Check(t.Context(), wasmtest.BuildWAT(t, "../../plugins/wasm/testdata/wat/firsthealthy.wat"), routing.Options{})
	var got []string
	for _, r := range rs {
		got = append(got, r.Status.String()+" "+r.Name)
		if len(r.Messages) > 0 {
			t.Errorf("%s: %q", r.Name, r.Messages)
		}
	}
	if s := strings.Join(got, ", "); s != "PASS WellFormed, PASS Deterministic, PASS TimeBudget, PASS NoStateBetweenCalls" {
		t.Errorf("results: %s", s)
	}
}
