package routing

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Status is how a check ended.
type Status int

// The statuses, as go test names them.
const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Skip:
		return "SKIP"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of one check.
type Result struct {
	// Name is the check's, as Run names its subtest: WellFormed,
	// Deterministic, TimeBudget, NoStateBetweenCalls; or Load when the
	// module could not be loaded to start with.
	Name   string
	Status Status
	// Messages are the check's failures, or why it skipped, in order.
	Messages []string
	Elapsed  time.Duration
}

// Check runs the suite against module outside go test (switchyard plugin
// test does) and returns one result per check, in the order Run runs
// them. When the module does not load at all, the only result is a
// failed Load. When ctx is done, the checks not yet started are left out.
func Check(ctx context.Context, module []byte, o Options) []Result {
	o.setDefaults()
	if o.CacheDir == "" {
		dir, err := os.MkdirTemp("", "routing-conformance-")
		if err != nil {
			return []Result{{Name: "Load", Status: Fail, Messages: []string{fmt.Sprintf("compilation cache: %v", err)}}}
		}
		defer os.RemoveAll(dir)
		o.CacheDir = dir // compile once for the whole run
	}
	var stateful bool
	r := runCheck(ctx, "Load", func(t tester) { stateful = load(t, module, o, 1).Manifest.Stateful })
	if r.Status != Pass {
		return []Result{r}
	}
	var results []Result
	for _, c := range checks {
		if ctx.Err() != nil {
			break
		}
		results = append(results, runCheck(ctx, c.name, func(t tester) { c.run(t, module, o, stateful) }))
	}
	return results
}

// runCheck runs f in a goroutine of its own, as go test runs a test, so
// that Fatalf and Skip can end it with runtime.Goexit; then it runs the
// cleanups f registered, last first.
func runCheck(ctx context.Context, name string, f func(tester)) Result {
	c := &checker{ctx: ctx}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				c.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		f(c)
	}()
	<-done
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	r := Result{Name: name, Status: Pass, Messages: c.msgs, Elapsed: time.Since(start)}
	switch {
	case c.failed:
		r.Status = Fail
	case c.skipped:
		r.Status = Skip
	}
	return r
}

// checker is a check's tester outside go test.
type checker struct {
	ctx context.Context

	mu       sync.Mutex
	failed   bool
	skipped  bool
	msgs     []string
	cleanups []func()
}

var _ tester = (*checker)(nil)

func (c *checker) Helper()                  {}
func (c *checker) Context() context.Context { return c.ctx }

func (c *checker) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = true
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

func (c *checker) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	runtime.Goexit()
}

func (c *checker) Skip(args ...any) {
	c.mu.Lock()
	c.skipped = true
	c.msgs = append(c.msgs, fmt.Sprint(args...))
	c.mu.Unlock()
	runtime.Goexit()
}

func (c *checker) Cleanup(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cleanups = append(c.cleanups, f)
}

func (c *checker) TempDir() string {
	dir, err := os.MkdirTemp("", "routing-conformance-")
	if err != nil {
		c.Fatalf("TempDir: %v", err)
	}
	c.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
