package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"
)

// State is where a plugin is in its lifecycle.
type State int

const (
	// Running: the process is up and answers.
	Running State = iota + 1
	// Restarting: the process failed and another is on its way, after the
	// backoff.
	Restarting
	// Failed: the plugin failed MaxFailures times within FailureWindow and
	// is no longer restarted. Final.
	Failed
	// Stopped: closed. Final.
	Stopped
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Restarting:
		return "restarting"
	case Failed:
		return "failed"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of a plugin.
type Status struct {
	Name            string
	State           State
	Since           time.Time // when it entered State
	PID             int       // while Running
	ProtocolVersion int       // negotiated, while Running
	Restarts        int       // restart attempts since Start
	LastError       error     // the last failure, if any
}

// Errors Dispense returns once a plugin is done for.
var (
	ErrFailed = errors.New("plugin failed too often and is not restarted")
	ErrClosed = errors.New("plugin is closed")
)

// Plugin is a supervised plugin process: started by Start, restarted when
// it fails, stopped by Close. Its methods are safe for concurrent use.
type Plugin struct {
	name   string
	cfg    Config
	log    *slog.Logger
	cancel context.CancelFunc // stops the supervisor
	done   chan struct{}      // closed when the supervisor has returned

	mu       sync.Mutex
	state    State
	since    time.Time
	in       *instance // the running process, while Running
	desc     Description
	restarts int
	lastErr  error
	changed  chan struct{} // closed at the next change
}

// Start starts a plugin and returns once it runs, or with why it cannot:
// a missing binary, a wrong checksum, a binary that is not a Switchyard
// plugin, another kind, no common protocol version (*VersionError), a
// refused handshake. ctx bounds the start only; the plugin runs until
// Close. log nil discards.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Plugin, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Plugin{
		name:    cfg.Name,
		cfg:     cfg,
		log:     log.With("plugin", cfg.Name),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	in, err := p.launch(ctx)
	if err != nil {
		return nil, err
	}
	p.set(Running, in, nil)
	life, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.supervise(life, in)
	return p, nil
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Description returns the plugin's answer to `describe` at its last start.
func (p *Plugin) Description() Description {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.desc
}

// Status returns a snapshot of the plugin's state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Status{Name: p.name, State: p.state, Since: p.since, Restarts: p.restarts, LastError: p.lastErr}
	if p.in != nil {
		s.PID, s.ProtocolVersion = p.in.pid, p.in.version
	}
	return s
}

// Changed returns a channel closed at the plugin's next change of state.
func (p *Plugin) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Dispense returns a client for the plugin called name in the negotiated
// protocol version's plugin set, from the running process. While the
// plugin restarts it waits, as long as ctx allows. Once the plugin is
// Failed or Stopped it returns an error wrapping ErrFailed or ErrClosed.
//
// A client is bound to the process it came from: after a restart its calls
// fail, and callers need a new one. Dispensing is cheap, so dispense per
// operation.
func (p *Plugin) Dispense(ctx context.Context, name string) (any, error) {
	for {
		p.mu.Lock()
		state, in, lastErr, changed := p.state, p.in, p.lastErr, p.changed
		p.mu.Unlock()
		switch state {
		case Running:
			raw, err := in.rpc.Dispense(name)
			if err != nil {
				return nil, fmt.Errorf("plugin %q: dispense %q: %w", p.name, name, err)
			}
			return raw, nil
		case Failed:
			return nil, fmt.Errorf("plugin %q: %w: %w", p.name, ErrFailed, lastErr)
		case Stopped:
			return nil, fmt.Errorf("plugin %q: %w", p.name, ErrClosed)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("plugin %q is %s: %w (last error: %v)", p.name, state, ctx.Err(), lastErr)
		}
	}
}

// Dispense is Plugin.Dispense with the client's type: T is what the
// go-plugin plugin's GRPCClient returns.
func Dispense[T any](ctx context.Context, p *Plugin, name string) (T, error) {
	var zero T
	raw, err := p.Dispense(ctx, name)
	if err != nil {
		return zero, err
	}
	c, ok := raw.(T)
	if !ok {
		return zero, fmt.Errorf("plugin %q: %q is a %T, not a %v", p.name, name, raw, reflect.TypeFor[T]())
	}
	return c, nil
}

// Kill kills the running process and its children at once, say because it
// hangs. The plugin is restarted as after a crash.
func (p *Plugin) Kill() {
	p.mu.Lock()
	in := p.in
	p.mu.Unlock()
	if in != nil {
		in.kill()
	}
}

// Close stops the plugin: it asks the process to exit, kills it and its
// children after StopTimeout, and returns when they are gone. It is
// idempotent and always returns nil.
func (p *Plugin) Close() error {
	p.cancel()
	<-p.done
	return nil
}

func (p *Plugin) set(state State, in *instance, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.in, p.since = state, in, time.Now()
	if in != nil {
		p.desc = in.desc
	}
	if err != nil {
		p.lastErr = err
	}
	close(p.changed)
	p.changed = make(chan struct{})
}
