// Package wasmtest builds routing plugins for tests, the way a user builds
// one: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared for Go, the
// pinned wabt for WebAssembly text, the pinned AssemblyScript compiler
// for AssemblyScript.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/gateway/realclients"
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
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-trimpath", "-o", out, pkg)
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

// wat2wasm converts WebAssembly text with the wabt npm package, which
// scripts/install-clients.sh installs with the pinned clients.
const wat2wasm = `const fs = require('fs');
require('wabt')().then(w => {
  const m = w.parseWat(process.argv[2], fs.readFileSync(process.argv[2], 'utf8'), {bulk_memory: true});
  m.resolveNames(); m.validate();
  fs.writeFileSync(process.argv[3], Buffer.from(m.toBinary({}).buffer));
}).catch(e => { console.error(String(e)); process.exit(1); });
`

// BuildWAT assembles a .wat file. Without the npm install it skips the
// test, or fails it under SWITCHYARD_REQUIRE_CLIENTS=1 (go tool task test).
func BuildWAT(t testing.TB, path string) []byte {
	t.Helper()
	dir := realclients.DirOrSkip(t)
	tmp := t.TempDir()
	script := filepath.Join(tmp, "wat2wasm.cjs")
	if err := os.WriteFile(script, []byte(wat2wasm), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "plugin.wasm")
	cmd := exec.Command("node", script, path, out)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("assemble %s: %v\n%s", path, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BuildAS compiles the AssemblyScript plugin whose asconfig.json is at
// config, once per test binary, with the pinned asc (the assemblyscript
// npm package, which scripts/install-clients.sh installs with the pinned
// clients), as `go tool task gen:builtin` compiles the built-in
// strategies. Without the npm install it skips the test, or fails it
// under SWITCHYARD_REQUIRE_CLIENTS=1 (go tool task test).
func BuildAS(t testing.TB, config string) []byte {
	t.Helper()
	dir := realclients.DirOrSkip(t)
	mu.Lock()
	defer mu.Unlock()
	if b, ok := built[config]; ok {
		return b
	}
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "asc"), "--config", config, "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compile %s: %v\n%s", config, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[config] = b
	return b
}

// RunWithCache runs a package's tests (from its TestMain) with a
// compilation cache directory made for the run and set in *dir, which
// every host of the run shares: a module then compiles once, where
// wazero's compiler under -race takes seconds a module. It returns m.Run's
// exit code.
func RunWithCache(m *testing.M, dir *string) int {
	d, err := os.MkdirTemp("", "wasm-cache-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(d)
	*dir = d
	return m.Run()
}
