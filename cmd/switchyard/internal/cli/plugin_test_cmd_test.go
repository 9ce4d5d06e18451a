package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plugin test runs the conformance suite on a built module or a directory
// it builds, and fails when a check does: the test plugin panics on
// --model panic and keeps state on --model state, and any other model
// makes it keep the default route.
//
// The suite runs in the switchyard binary, built without the race
// detector: under it, wazero compiles a Go plugin ten times slower (some
// 25 s here). The cases share a compilation cache, so the module is
// compiled once.
func TestPluginTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchyard")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/switchyard/switchyard/cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("build switchyard: %v\n%s", err, b)
	}
	cache := filepath.Join(dir, "cache")
	run := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, append([]string{"plugin", "test", "--cache-dir", cache}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return result{out: out.String(), err: errb.String(), code: cmd.ProcessState.ExitCode()}
	}

	src := "../../../../plugins/wasm/testdata/behaviours"
	r := run(src).ok(t)
	for _, c := range []string{"WellFormed", "Deterministic", "TimeBudget", "NoStateBetweenCalls"} {
		if !strings.Contains(r.out, "PASS "+c+" (") {
			t.Errorf("%s did not pass:\n%s", c, r.out)
		}
	}
	if !strings.Contains(r.err, "plugin behaviours (sha256:") || !strings.Contains(r.err, "passed the conformance suite") {
		t.Errorf("summary %q", r.err)
	}
	file := filepath.Join(dir, "behaviours.wasm")
	cli(t, ctx, "", "plugin", "build", src, "-o", file).ok(t) // the same module

	t.Run("fails", func(t *testing.T) {
		for _, c := range []struct{ model, fails, says string }{
			{"panic", "WellFormed", "plugin panicked: boom"},
			{"state", "NoStateBetweenCalls", "state carried over"},
		} {
			t.Run(c.model, func(t *testing.T) {
				t.Parallel()
				r := run(file, "--model", c.model)
				if r.code != exitError || !strings.Contains(r.out, "FAIL "+c.fails+" (") || !strings.Contains(r.out, "\n    ") ||
					!strings.Contains(r.out, c.says) || !strings.Contains(r.err, "plugin behaviours failed ") {
					t.Fatalf("exit %d\nstdout:\n%s\nstderr: %s", r.code, r.out, r.err)
				}
			})
		}
	})

	// --config takes YAML, converted to JSON; this plugin takes none, so
	// it does not load.
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("review: anthropic\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(file, "--config", cfg)
	if r.code != exitError || !strings.HasPrefix(r.out, "FAIL Load (") || !strings.Contains(r.out, "takes no configuration") {
		t.Fatalf("a config the plugin does not take: exit %d\nstdout:\n%s\nstderr: %s", r.code, r.out, r.err)
	}
	r = cli(t, ctx, "", "plugin", "test", filepath.Join(dir, "missing.wasm"))
	if r.code != exitError || !strings.Contains(r.err, "no such file") {
		t.Fatalf("a missing file: exit %d, stderr %q", r.code, r.err)
	}
}
