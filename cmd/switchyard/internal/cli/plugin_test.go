package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A plugin builds and checks from the CLI; a broken one is refused with
// what is wrong. The checks run with a wide time budget: the test is of
// what the plugin answers, on a machine busy with the other tests.
func TestPluginBuildAndCheck(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "b.wasm")
	r := cli(t, ctx, "", "plugin", "build", "../../../../plugins/wasm/testdata/behaviours", "-o", out).ok(t)
	if !strings.Contains(r.out, "sha256:") {
		t.Fatalf("build printed %q, want the digest", r.out)
	}
	r = cli(t, ctx, "", "plugin", "check", out, "--model", "cheapest", "--timeout", "5s").ok(t)
	if !strings.Contains(r.out, "target 1 openai/gpt-5-mini") || !strings.Contains(r.out, "reason   cheapest healthy") {
		t.Fatalf("check printed\n%s", r.out)
	}
	r = cli(t, ctx, "", "plugin", "check", out, "--model", "panic", "--timeout", "5s")
	if r.code == 0 || !strings.Contains(r.err, "plugin panicked: boom") {
		t.Fatalf("a panicking plugin: exit %d, stderr %q", r.code, r.err)
	}
	r = cli(t, ctx, "", "plugin", "check", out, "--model", "loop", "--timeout", "50ms")
	if r.code == 0 || !strings.Contains(r.err, "overran its time budget (--timeout 50ms)") {
		t.Fatalf("a plugin that loops: exit %d, stderr %q", r.code, r.err)
	}
	r = cli(t, ctx, "", "plugin", "check", "plugin_test.go")
	if r.code == 0 || !strings.Contains(r.err, "not a valid WASM module") {
		t.Fatalf("a text file: exit %d, stderr %q", r.code, r.err)
	}
}
