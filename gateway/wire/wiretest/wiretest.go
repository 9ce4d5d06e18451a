// Package wiretest holds what the codecs' golden-file tests share: the
// -update flag, the loop over testdata inputs, and the JSON layout of
// golden files.
package wiretest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update rewrites golden files instead of comparing with them
// (go test -update); review the diff before committing it.
var Update = flag.Bool("update", false, "rewrite golden files")

// Cases runs fn on every testdata/dir/*inExt that is not itself a golden
// file, each as a subtest named after the file, and compares the output
// with testdata/dir/<name>.golden<goldenExt>. A directory without inputs
// fails: a golden test that tests nothing must not pass.
func Cases(t *testing.T, dir, inExt, goldenExt string, fn func(t *testing.T, in []byte) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join("testdata", dir, "*"+inExt))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.Contains(filepath.Base(in), ".golden") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(in), inExt)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			Compare(t, filepath.Join("testdata", dir, name+".golden"+goldenExt), fn(t, data))
		})
	}
	if n == 0 {
		t.Fatalf("no inputs in testdata/%s", dir)
	}
}

// Compare checks got against the golden file at path, or rewrites it with
// -update.
func Compare(t *testing.T, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it; review the diff)\n got: %s\nwant: %s", path, got, want)
	}
}

// IndentJSON lays b out for a golden file, keeping member order and string
// escapes as written, with a final newline.
func IndentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, b)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}
