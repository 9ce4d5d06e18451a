// Package harnesstest has what adapter tests share: a recorder of a
// run's events, and a parser run over recorded CLI output.
package harnesstest

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/sdk/harness"
)

// Recorder keeps the events of a run: pass its Emit.
type Recorder struct {
	mu     sync.Mutex
	Events []harness.Event
}

// Emit records e.
func (r *Recorder) Emit(e harness.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, e)
	return nil
}

// Kinds lists the events' kinds, space-separated.
func (r *Recorder) Kinds() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Kinds(r.Events)
}

// Find returns the first event of kind k, or nil.
func (r *Recorder) Find(k harness.Kind) *harness.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.Events {
		if r.Events[i].Kind == k {
			return &r.Events[i]
		}
	}
	return nil
}

// Kinds lists the kinds of evs, space-separated.
func Kinds(evs []harness.Event) string {
	k := make([]string, len(evs))
	for i, e := range evs {
		k[i] = string(e.Kind)
	}
	return strings.Join(k, " ")
}

// ParseFile runs parse over the lines of a file of a CLI's recorded
// output, as Drive would, and returns the events, each validated.
func ParseFile(t testing.TB, path string, parse harness.ParseFunc) []harness.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []harness.Event
	for l, err := range harness.Lines(f, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out, err := parse(l)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, l.N, err)
		}
		for _, e := range out {
			if err := e.Validate(); err != nil {
				t.Fatalf("%s line %d: %v", path, l.N, err)
			}
			evs = append(evs, e)
		}
	}
	return evs
}

// HostBwrap puts req's CLI in a plain bubblewrap of the host's: the
// system read-only, the workdir, the state dir and /tmp writable, the
// network shared (so the gateway stays reachable). For tests of CLIs
// whose own sandbox cannot run here; Switchyard's sessions use a
// stricter one (core/session).
func HostBwrap(req *harness.StartRequest) {
	if req.Sandbox == nil {
		req.Sandbox = &harness.Sandbox{}
	}
	req.Sandbox.Wrapper = []string{"bwrap", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--bind", "/tmp", "/tmp", "--bind", req.Workdir, req.Workdir, "--bind", req.StateDir, req.StateDir}
}
