// Package wasmtest builds routing plugins for tests, the way a user builds
// one: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string][]byte{}
)

// Build compiles the main package at pkg (a package path, or a directory
// relative to the test's package) once per test binary and returns the
// module's bytes.
func Build(t testing.TB, pkg string) []byte {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[pkg]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the plugin %s: %v\n%s", pkg, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[pkg] = b
	return b
}

// Behaviours is the host's test plugin: the requested model picks what it
// does ("cheapest", "panic", "loop", "none", ...; see its source).
const Behaviours = "github.com/switchyard/switchyard/plugins/wasm/testdata/behaviours"
