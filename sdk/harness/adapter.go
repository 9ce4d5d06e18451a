package harness

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Adapter drives one harness CLI. Implementations must be safe for
// concurrent use: the host runs several sessions at once, each with its
// own Run call.
//
// The same interface is served out of process by Plugin and called
// through the Client it dispenses, so host code calls an adapter the same
// way either way. Hosts call it through Start and Resume, which validate
// the request and check the events.
type Adapter interface {
	// Describe says which harness and CLI the adapter drives.
	Describe(ctx context.Context) (Info, error)

	// Run runs the CLI for run to its end, calling emit once per event,
	// in order, from one goroutine at a time; it returns when the CLI and
	// everything it started are gone.
	//
	// Start is a Run with ModeStart, resume one with ModeResume. Stop is
	// cancelling ctx: the CLI's process group gets SIGTERM, then SIGKILL
	// after a grace period, and Run returns an error wrapping ctx.Err().
	//
	// Run returns nil if and only if it emitted a terminal event
	// (completed, or a fatal error) as its last. It returns an error,
	// after emitting no terminal event, when the request is invalid
	// (wrapping ErrInvalidRequest), the CLI cannot be started, ctx is
	// done, or emit failed: then it stops the CLI and returns emit's
	// error.
	Run(ctx context.Context, run *Run, emit Emit) error
}

// Emit takes one event of a run. An error stops the run: the adapter
// stops the CLI and returns the error.
type Emit func(Event) error

// Info describes an adapter.
type Info struct {
	// Harness names the harness, e.g. "claude-code", "codex", "opencode".
	Harness string `json:"harness"`
	// CLI names the binary it drives, e.g. "claude".
	CLI string `json:"cli"`
	// Version is the adapter's own version.
	Version string `json:"version,omitempty"`
}

// Start starts a session: it validates req and runs it on a, with emit
// wrapped by Checked. Cancel ctx to stop the run.
func Start(ctx context.Context, a Adapter, req StartRequest, emit Emit) error {
	return run(ctx, a, NewStart(req), emit)
}

// Resume continues a session: it validates req and runs it on a, with
// emit wrapped by Checked. Cancel ctx to stop the run.
func Resume(ctx context.Context, a Adapter, req ResumeRequest, emit Emit) error {
	return run(ctx, a, NewResume(req), emit)
}

func run(ctx context.Context, a Adapter, r *Run, emit Emit) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("%s session %q: %w", r.Mode, r.Request.SessionID, err)
	}
	check := &checker{emit: emit}
	err := a.Run(ctx, r, check.Emit)
	switch {
	case err != nil:
		return fmt.Errorf("%s session %q: %w", r.Mode, r.Request.SessionID, err)
	case !check.ended:
		return fmt.Errorf("%s session %q: %w", r.Mode, r.Request.SessionID, errNoTerminal)
	}
	return nil
}

// Checked wraps emit so that the events it takes keep the contract:
// each passes Validate; a started event comes first, and at most once;
// nothing follows a terminal event. It fills in a zero Time with now,
// and an empty HarnessSessionID with the started event's. An event that
// breaks the contract is not passed on: the error (wrapping
// ErrInvalidEvent) is returned. The returned Emit is for one run.
func Checked(emit Emit) Emit {
	c := &checker{emit: emit}
	return c.Emit
}

type checker struct {
	emit  Emit
	n     int
	id    string
	ended bool
	// others counts events other than non-fatal errors: started must
	// come before any of them (a CLI may print a warning, or garbage,
	// before it says its session id).
	others int
}

func (c *checker) Emit(e Event) error {
	if err := c.check(&e); err != nil {
		return fmt.Errorf("event %d (%s): %w", c.n+1, e.Kind, err)
	}
	c.n++
	if e.Kind == KindStarted {
		c.id = e.HarnessSessionID
	}
	if e.Kind != KindError || e.Error.Fatal {
		c.others++
	}
	if e.Terminal() {
		c.ended = true
	}
	return c.emit(e)
}

func (c *checker) check(e *Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	switch {
	case c.ended:
		return fmt.Errorf("%w: it follows the run's terminal event", ErrInvalidEvent)
	case e.Kind == KindStarted && (c.others > 0 || c.id != ""):
		return fmt.Errorf("%w: started must come first (after non-fatal errors at most), and once", ErrInvalidEvent)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.HarnessSessionID == "" {
		e.HarnessSessionID = c.id
	}
	return nil
}

// errNoTerminal is what a Run returned without a terminal event says.
var errNoTerminal = errors.New("the adapter returned without a terminal event (completed or fatal error)")
