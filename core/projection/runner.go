package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// CheckpointEvery saves a checkpoint after this many events; default 10000.
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// CheckpointInterval also saves one when this much time has passed
	// since the last, at the next event; default 1s.
	CheckpointInterval time.Duration `json:"checkpoint_interval,omitempty"`
}

func (c *RunnerConfig) setDefaults() {
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 10_000
	}
	if c.CheckpointInterval <= 0 {
		c.CheckpointInterval = time.Second
	}
}

// Runner keeps one projection up to date with the log.
type Runner struct {
	p   Projection
	src Source
	cps CheckpointStore
	cfg RunnerConfig
	log *slog.Logger

	pos     atomic.Uint64 // last position applied
	started atomic.Bool   // Run has restored the checkpoint
	waiters atomic.Int32  // WaitFor calls in progress
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when pos moves and someone waits
}

// NewRunner returns a runner that folds src into p, keeping checkpoints in
// cps. A nil log discards.
func NewRunner(p Projection, src Source, cps CheckpointStore, cfg RunnerConfig, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	return &Runner{p: p, src: src, cps: cps, cfg: cfg, log: log.With("projection", p.Name()), wake: make(chan struct{})}
}

// Position returns the position of the last event applied.
func (r *Runner) Position() uint64 { return r.pos.Load() }

// WaitFor blocks until Run has restored the checkpoint and the projection
// has applied every event up to pos, or ctx is done. It lets a caller read
// its own writes; WaitFor(ctx, 0) waits just for the restore, after which
// the projection's state no longer jumps back to a checkpoint.
func (r *Runner) WaitFor(ctx context.Context, pos uint64) error {
	r.waiters.Add(1)
	defer r.waiters.Add(-1)
	for {
		r.mu.Lock()
		wake := r.wake
		r.mu.Unlock()
		if r.started.Load() && r.pos.Load() >= pos {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// moved publishes pos. Waking waiters costs a channel per call, so it is
// skipped when nobody waits: WaitFor counts itself in before it reads pos,
// so it either sees the new pos or is woken.
func (r *Runner) moved(pos uint64) {
	r.pos.Store(pos)
	if r.waiters.Load() == 0 {
		return
	}
	r.mu.Lock()
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

// Rebuild forgets the projection's checkpoint, so the next Run starts from
// an empty state at position 0. Call it while the runner is not running.
func (r *Runner) Rebuild(ctx context.Context) error {
	if err := r.cps.DeleteCheckpoint(ctx, r.p.Name()); err != nil {
		return fmt.Errorf("rebuild projection %s: %w", r.p.Name(), err)
	}
	return nil
}

// Run restores the projection from its checkpoint and folds every later
// event into it, until ctx is done or an error. When ctx is done it saves a
// final checkpoint and returns nil. When Apply fails it returns the error
// without saving: the state may hold part of the bad event, and the next
// run starts again from the last checkpoint.
func (r *Runner) Run(ctx context.Context) error {
	name := r.p.Name()
	cp, err := r.cps.LoadCheckpoint(ctx, name)
	if err != nil {
		return fmt.Errorf("projection %s: %w", name, err)
	}
	if err := r.p.Restore(cp.State); err != nil {
		return fmt.Errorf("projection %s: restore checkpoint at position %d: %w (rebuild it)", name, cp.Position, err)
	}
	r.started.Store(true)
	r.moved(cp.Position)
	r.log.Info("projection started", "position", cp.Position)

	saved, savedAt := cp.Position, time.Now()
	save := func(ctx context.Context, pos uint64) error {
		if pos == saved {
			return nil
		}
		state, err := r.p.Snapshot()
		if err != nil {
			return fmt.Errorf("projection %s: snapshot at position %d: %w", name, pos, err)
		}
		if err := r.cps.SaveCheckpoint(ctx, name, Checkpoint{Position: pos, State: state}); err != nil {
			return fmt.Errorf("projection %s: save checkpoint at position %d: %w", name, pos, err)
		}
		saved, savedAt = pos, time.Now()
		return nil
	}
	pos := cp.Position
	for e, err := range r.src.SubscribeAll(ctx, cp.Position+1) {
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("projection %s: subscription after position %d: %w", name, pos, err)
		}
		if err := r.p.Apply(&e); err != nil {
			return fmt.Errorf("projection %s: apply %s event %s at position %d: %w", name, e.Type, e.ID, e.Position, err)
		}
		pos = e.Position
		r.moved(pos)
		if pos-saved >= uint64(r.cfg.CheckpointEvery) || time.Since(savedAt) >= r.cfg.CheckpointInterval {
			if err := save(ctx, pos); err != nil {
				if ctx.Err() != nil {
					break // saved below
				}
				return err
			}
		}
	}
	// ctx is done: save what we have, with a context of our own so the
	// final checkpoint is not refused for the very reason we are saving it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := save(sctx, pos); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	r.log.Info("projection stopped", "position", pos)
	return nil
}
