package realclients

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is where scripts/install-clients.sh installs the pinned clients:
// $SWITCHYARD_CLIENTS_DIR, or the user cache directory's
// switchyard/clients/<first 12 hex of the lock file's SHA-256>. It returns
// an error saying what to run when the install is missing.
func Dir() (string, error) {
	dir := os.Getenv("SWITCHYARD_CLIENTS_DIR")
	if dir == "" {
		_, self, _, _ := runtime.Caller(0)
		lock, err := os.ReadFile(filepath.Join(filepath.Dir(self), "testdata", "clients", "package-lock.json"))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(lock)
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "switchyard", "clients", hex.EncodeToString(sum[:])[:12])
	}
	if _, err := os.Stat(filepath.Join(dir, ".installed")); err != nil {
		return dir, fmt.Errorf("the real clients are not installed in %s: run `go tool task deps:clients`", dir)
	}
	return dir, nil
}

// Required reports whether a missing install must fail the tests rather
// than skip them (SWITCHYARD_REQUIRE_CLIENTS=1, set by go tool task test).
func Required() bool { return os.Getenv("SWITCHYARD_REQUIRE_CLIENTS") == "1" }

// DirOrSkip is Dir for tests: without the install it skips the test, or
// fails it when the install is required.
func DirOrSkip(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return dir
}
