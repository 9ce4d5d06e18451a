package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plugin new writes a plugin module that builds and passes its own tests
// (run without the race detector, which would make them slow: see
// TestPluginTest); it refuses to overwrite files, and outside a
// switchyard checkout it needs --sdk.
func TestPluginNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "myrouter")

	r := cli(t, ctx, "", "plugin", "new", dir)
	if r.code != exitUsage || !strings.Contains(r.err, "outside a switchyard checkout") || !strings.Contains(r.err, "pass --sdk PATH") {
		t.Fatalf("without --sdk: exit %d, stderr %q", r.code, r.err)
	}
	r = cli(t, ctx, "", "plugin", "new", dir, "--sdk", t.TempDir())
	if r.code != exitError || !strings.Contains(r.err, "give the root of a switchyard checkout") {
		t.Fatalf("--sdk without a checkout: exit %d, stderr %q", r.code, r.err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a failed plugin new left %s (%v)", dir, err)
	}

	r = cli(t, ctx, "", "plugin", "new", dir, "--sdk", repo, "--name", "example.com/myrouter").ok(t)
	for _, want := range []string{"created " + filepath.Join(dir, "main.go") + "\n", "created " + filepath.Join(dir, "go.sum") + "\n"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plugin new printed no %q:\n%s", want, r.out)
		}
	}
	for _, want := range []string{"switchyard plugin build " + dir + " ", "switchyard plugin test " + dir + " ", "go test)"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("plugin new suggested no %q:\n%s", want, r.err)
		}
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"module example.com/myrouter\n", "\tgithub.com/tetratelabs/wazero v", "replace github.com/switchyard/switchyard => " + repo + "\n"} {
		if !strings.Contains(string(goMod), want) {
			t.Errorf("go.mod has no %q:\n%s", want, goMod)
		}
	}
	main, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if !strings.Contains(string(main), `Name:        "myrouter",`) {
		t.Errorf("main.go does not name the plugin myrouter:\n%s", main)
	}

	// Nothing is overwritten, and nothing written when something would be.
	r = cli(t, ctx, "", "plugin", "new", dir, "--sdk", repo)
	if r.code != exitError || !strings.Contains(r.err, "already has main.go, plugin_test.go, go.mod, go.sum: plugin new writes only new files") {
		t.Fatalf("over a plugin: exit %d, stderr %q", r.code, r.err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, ctx, "", "plugin", "new", other, "--sdk", repo)
	if r.code != exitError || !strings.Contains(r.err, "already has main.go:") {
		t.Fatalf("over main.go: exit %d, stderr %q", r.code, r.err)
	}
	if b, _ := os.ReadFile(filepath.Join(other, "main.go")); string(b) != "package main\n" {
		t.Fatalf("main.go was overwritten")
	}
	if entries, _ := os.ReadDir(other); len(entries) != 1 {
		t.Fatalf("plugin new refused, yet wrote %v", entries)
	}

	// Inside the switchyard module (here a stand-in for one), no go.mod.
	mod := t.TempDir()
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module github.com/switchyard/switchyard\n\ngo 1.26.8\n"), 0o644)
	r = cli(t, ctx, "", "plugin", "new", filepath.Join(mod, "plugins", "mine")).ok(t)
	if !strings.Contains(r.err, "no go.mod: ") {
		t.Errorf("inside the module:\n%s", r.err)
	}
	if _, err := os.Stat(filepath.Join(mod, "plugins", "mine", "go.mod")); !os.IsNotExist(err) {
		t.Errorf("a go.mod inside the switchyard module (%v)", err)
	}

	// It builds as plugin build builds it, and passes its tests.
	build := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-o", filepath.Join(t.TempDir(), "p.wasm"), ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the new plugin: %v\n%s", err, b)
	}
	test := exec.CommandContext(ctx, "go", "test", "-count=1", ".")
	test.Dir = dir
	if b, err := test.CombinedOutput(); err != nil {
		t.Fatalf("test the new plugin: %v\n%s", err, b)
	}
}
