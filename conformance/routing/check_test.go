package routing

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

// runCheck behaves as go test does: Fatalf and Skip end the check at once,
// a panic fails it, and cleanups run last first.
func TestRunCheck(t *testing.T) {
	for _, c := range []struct {
		name   string
		f      func(t tester)
		status Status
		msgs   []string
	}{
		{"pass", func(t tester) {}, Pass, nil},
		{"errorf goes on", func(t tester) { t.Errorf("one"); t.Errorf("two") }, Fail, []string{"one", "two"}},
		{"fatalf stops", func(t tester) { t.Fatalf("stop %d", 1); t.Errorf("not reached") }, Fail, []string{"stop 1"}},
		{"skip stops", func(t tester) { t.Skip("not today"); t.Errorf("not reached") }, Skip, []string{"not today"}},
		{"panic fails", func(t tester) { panic("boom") }, Fail, []string{"panic: boom"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCheck(context.Background(), c.name, c.f)
			if r.Name != c.name || r.Status != c.status || len(r.Messages) != len(c.msgs) {
				t.Fatalf("%+v, want %s with %q", r, c.status, c.msgs)
			}
			for i, m := range c.msgs {
				if !strings.HasPrefix(r.Messages[i], m) {
					t.Errorf("message %d is %q, want %q", i, r.Messages[i], m)
				}
			}
		})
	}
	var order []int
	var dir string
	r := runCheck(context.Background(), "cleanups", func(t tester) {
		dir = t.TempDir()
		t.Cleanup(func() { order = append(order, 1) })
		t.Cleanup(func() { order = append(order, 2) })
		t.Fatalf("stop")
	})
	if r.Status != Fail || !slices.Equal(order, []int{2, 1}) {
		t.Fatalf("%+v, cleanups ran in the order %v, want [2 1]", r, order)
	}
	if _, err := os.Stat(dir); dir == "" || !os.IsNotExist(err) {
		t.Fatalf("the temporary directory %q is still there after the check (%v)", dir, err)
	}
}
