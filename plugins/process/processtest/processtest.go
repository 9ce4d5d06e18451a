// Package processtest builds plugin binaries for tests, the way a user
// builds one: go build of a main package that calls process.Serve.
package processtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	dir   string
	built = map[string]string{}
)

// Build compiles the main package pkg (a package path, or a directory
// relative to the test's package) once per test binary and returns the
// binary's path. Call Cleanup from TestMain to remove the builds.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if path, ok := built[pkg]; ok {
		return path
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "processtest-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	sub := filepath.Join(dir, strconv.Itoa(len(built)))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sub, "switchyard-plugin-"+filepath.Base(pkg))
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", path, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the plugin %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = path
	return path
}

// Cleanup removes what Build built.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
	dir, built = "", map[string]string{}
}
