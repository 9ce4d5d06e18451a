package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/core/event"
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

// saveShare bounds the time a runner spends saving checkpoints: after a
// save that took d, the next waits at least d/saveShare (2%). A large model's
// snapshot can take a good part of a second, and saving it every 10,000
// events of a rebuild would make the rebuild quadratic.
//
// While the runner is catching up (the batch's last event is older than
// catchUpAge, or the batch is full: the log is ahead of it) the share is
// catchUpSaveShare: a crash then costs at most 200 times the last save's
// time of folding again, and a rebuild spends its cores on folding. Seven
// read models each saving its 2% were 6% of a 10M-event rebuild's CPU.
const (
	saveShare        = 0.02
	catchUpSaveShare = 0.005
	catchUpAge       = time.Minute
)

// Group runs several projections over one subscription to the log: the
// events are read and decoded once, and each projection folds them on a
// goroutine of its own, so that they use the cores there are. Each keeps
// its own checkpoints: a projection behind the others (new, or rebuilt)
// starts the subscription from its position, and the others skip what
// they have.
//
// A projection whose Apply fails stops alone: the others go on, and Run
// returns its error when ctx is done.
type Group struct {
	src     Source
	cps     CheckpointStore
	log     *slog.Logger
	members []*Runner
	ran     atomic.Bool
}

// NewGroup returns an empty group over src, keeping checkpoints in cps.
// A nil log discards.
func NewGroup(src Source, cps CheckpointStore, log *slog.Logger) *Group {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Group{src: src, cps: cps, log: log}
}

// Add adds p to the group, before Run. The Runner it returns follows p's
// progress (Position, WaitFor) and can forget its checkpoint (Rebuild);
// the group runs it.
func (g *Group) Add(p Projection, cfg RunnerConfig) *Runner {
	if g.ran.Load() {
		panic("projection.Group.Add after Run")
	}
	cfg.setDefaults()
	r := &Runner{g: g, p: p, cfg: cfg, log: g.log.With("projection", p.Name()), wake: make(chan struct{})}
	g.members = append(g.members, r)
	return r
}

// Runner keeps one projection up to date with the log, alone (NewRunner,
// Run) or in a Group.
type Runner struct {
	g   *Group
	p   Projection
	cfg RunnerConfig
	log *slog.Logger

	pos     atomic.Uint64 // last position applied
	started atomic.Bool   // Run has restored the checkpoint
	waiters atomic.Int32  // WaitFor calls in progress
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when pos moves and someone waits

	// checkpointing, on the runner's goroutine
	saved    uint64
	savedAt  time.Time
	saveCost time.Duration
	failed   error // Apply failed: the runner takes no more events
}

// NewRunner returns a runner that folds src into p, keeping checkpoints in
// cps. A nil log discards.
func NewRunner(p Projection, src Source, cps CheckpointStore, cfg RunnerConfig, log *slog.Logger) *Runner {
	return NewGroup(src, cps, log).Add(p, cfg)
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

// catchUpReport is how often CatchUp says how far it is.
var catchUpReport = 5 * time.Second

// CatchUp waits, as WaitFor, until every runner has folded the log up to
// pos or ctx is done, and logs how far they are every few seconds: a
// start that waits for a rebuild of a large log says so instead of
// looking hung, and is not cut short by a timeout a smaller log needed.
func CatchUp(ctx context.Context, pos uint64, log *slog.Logger, runners ...*Runner) error {
	began := time.Now()
	for _, r := range runners {
		for {
			wctx, cancel := context.WithTimeout(ctx, catchUpReport)
			err := r.WaitFor(wctx, pos)
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("projection %s at position %d of %d: %w", r.p.Name(), r.Position(), pos, ctx.Err())
			}
			log.Info("catching up with the event log", "projection", r.p.Name(), "position", r.Position(), "of", pos,
				"after", time.Since(began).Round(time.Second))
		}
	}
	return nil
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
	if err := r.g.cps.DeleteCheckpoint(ctx, r.p.Name()); err != nil {
		return fmt.Errorf("rebuild projection %s: %w", r.p.Name(), err)
	}
	return nil
}

// Run runs the runner's group: see Group.Run.
func (r *Runner) Run(ctx context.Context) error { return r.g.Run(ctx) }

// restore loads the checkpoint into the projection.
func (r *Runner) restore(ctx context.Context) error {
	name := r.p.Name()
	cp, err := r.g.cps.LoadCheckpoint(ctx, name)
	if err != nil {
		return fmt.Errorf("projection %s: %w", name, err)
	}
	if err := r.p.Restore(cp.State); err != nil {
		// A read model is the log folded: one whose checkpoint it cannot
		// read (written by another version, or damaged) is rebuilt from
		// the start, as a renamed one is.
		r.log.Warn("projection checkpoint unreadable: rebuilding from position 0", "position", cp.Position, "err", err)
		if err := r.p.Restore(nil); err != nil {
			return fmt.Errorf("projection %s: reset after an unreadable checkpoint: %w", name, err)
		}
		cp.Position = 0
	}
	r.saved, r.savedAt = cp.Position, time.Now()
	r.started.Store(true)
	r.moved(cp.Position)
	r.log.Info("projection started", "position", cp.Position)
	return nil
}

// apply folds the events of a batch it has not folded yet, saving a
// checkpoint when one is due. After an Apply error it takes no more.
func (r *Runner) apply(ctx context.Context, batch []event.Event) error {
	if r.failed != nil {
		return nil
	}
	pos := r.pos.Load()
	for i := range batch {
		e := &batch[i]
		if e.Position <= pos {
			continue
		}
		if err := r.p.Apply(e); err != nil {
			r.failed = fmt.Errorf("projection %s: apply %s event %s at position %d: %w", r.p.Name(), e.Type, e.ID, e.Position, err)
			return r.failed
		}
		pos = e.Position
	}
	r.moved(pos)
	if pos-r.saved >= uint64(r.cfg.CheckpointEvery) || time.Since(r.savedAt) >= r.cfg.CheckpointInterval {
		if time.Since(r.savedAt) >= time.Duration(float64(r.saveCost)/shareOfSaves(batch, time.Now())) {
			if err := r.save(ctx, pos); err != nil && ctx.Err() == nil {
				r.failed = err
				return err
			}
		}
	}
	return nil
}

// shareOfSaves is the share of its time a runner that folded batch may
// spend saving checkpoints.
func shareOfSaves(batch []event.Event, now time.Time) float64 {
	if len(batch) >= batchSize || len(batch) > 0 && now.Sub(batch[len(batch)-1].Time) > catchUpAge {
		return catchUpSaveShare
	}
	return saveShare
}

func (r *Runner) save(ctx context.Context, pos uint64) error {
	if pos == r.saved {
		return nil
	}
	began := time.Now()
	name := r.p.Name()
	state, err := r.p.Snapshot()
	if err != nil {
		return fmt.Errorf("projection %s: snapshot at position %d: %w", name, pos, err)
	}
	if err := r.g.cps.SaveCheckpoint(ctx, name, Checkpoint{Position: pos, State: state}); err != nil {
		return fmt.Errorf("projection %s: save checkpoint at position %d: %w", name, pos, err)
	}
	r.saved, r.savedAt, r.saveCost = pos, time.Now(), time.Since(began)
	return nil
}

// finish saves a last checkpoint, with a context of its own so that it
// is not refused for the very reason it is saved (ctx done).
func (r *Runner) finish(ctx context.Context) error {
	if r.failed != nil {
		return r.failed
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.save(sctx, r.pos.Load()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	r.log.Info("projection stopped", "position", r.pos.Load())
	return nil
}

// batchSize bounds the events handed to the projections at once.
const batchSize = 512

// batch is events read once and folded by every member of a group.
type batch struct {
	events  []event.Event
	pending atomic.Int32 // members yet to fold it
}

// Run restores each projection from its checkpoint and folds every later
// event into it, until ctx is done or the subscription fails. When ctx is
// done it saves a last checkpoint of each and returns the errors of those
// whose Apply failed (joined), or nil. A projection whose Apply fails is
// not saved after the failure: its state may hold part of the bad event,
// and the next run starts again from its last checkpoint.
func (g *Group) Run(ctx context.Context) error {
	if !g.ran.CompareAndSwap(false, true) {
		return errors.New("projection group: Run called twice")
	}
	if len(g.members) == 0 {
		<-ctx.Done()
		return nil
	}
	from := ^uint64(0)
	for _, r := range g.members {
		if err := r.restore(ctx); err != nil {
			return err
		}
		from = min(from, r.pos.Load())
	}
	if len(g.members) == 1 {
		return g.runOne(ctx, from)
	}
	return g.runMany(ctx, from)
}

// runOne folds the subscription into the one member, on this goroutine.
func (g *Group) runOne(ctx context.Context, from uint64) error {
	r := g.members[0]
	batch := make([]event.Event, 1)
	for e, err := range g.src.SubscribeAll(ctx, from+1) {
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("projection %s: subscription after position %d: %w", r.p.Name(), r.pos.Load(), err)
		}
		batch[0] = e
		if err := r.apply(ctx, batch); err != nil {
			return err
		}
	}
	return r.finish(ctx)
}

// runMany hands batches of the subscription's events to every member's
// goroutine: as many events as are there, up to batchSize (large while
// catching up, small when following live). Bounded channels hold the
// reading back to the slowest member.
//
// From a PageSource the batches are cut from its pages on the goroutine
// that reads them. From another Source, one goroutine reads the events
// into a channel and this one gathers what is in it into batches.
func (g *Group) runMany(ctx context.Context, from uint64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A batch goes to every member, and back to the pool when the last
	// is done with it: 512 events of 312 bytes a batch were most of a
	// rebuild's garbage.
	var pool sync.Pool
	newBatch := func() *batch {
		b, _ := pool.Get().(*batch)
		if b == nil {
			b = &batch{events: make([]event.Event, 0, batchSize)}
		}
		return b
	}
	outs := make([]chan *batch, len(g.members))
	errs := make([]error, len(g.members))
	var wg sync.WaitGroup
	for i, r := range g.members {
		outs[i] = make(chan *batch, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range outs[i] {
				if err := r.apply(ctx, b.events); err != nil {
					// The others go on; this one takes no more events.
					r.log.Error("projection stopped: its read model is stale until the event is fixed and switchyard restarted", "err", err)
				}
				if b.pending.Add(-1) == 0 {
					clear(b.events) // drop the strings and data for the collector
					b.events = b.events[:0]
					pool.Put(b)
				}
			}
			errs[i] = r.finish(ctx)
		}()
	}
	send := func(b *batch) {
		b.pending.Store(int32(len(outs)))
		for _, out := range outs {
			select {
			case out <- b:
			case <-ctx.Done():
			}
		}
	}
	var subErr error
	if ps, ok := g.src.(PageSource); ok {
		subErr = g.readPages(ctx, ps, from, newBatch, send)
	} else {
		subErr = g.readEvents(ctx, from, newBatch, send)
	}
	if subErr != nil {
		cancel()
	}
	for _, out := range outs {
		close(out)
	}
	wg.Wait()
	return errors.Join(append(errs, subErr)...)
}

// readPages cuts batches from the pages of ps until ctx is done. It
// returns the subscription's error, if ctx is not done.
func (g *Group) readPages(ctx context.Context, ps PageSource, from uint64, newBatch func() *batch, send func(*batch)) error {
	for page, err := range ps.SubscribeAllPages(ctx, from+1) {
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("projections: subscription after position %d: %w", from, err)
		}
		for len(page) > 0 {
			b := newBatch()
			n := min(len(page), batchSize)
			b.events = append(b.events, page[:n]...)
			page = page[n:]
			send(b)
		}
	}
	return nil
}

// readEvents reads the subscription's events on a goroutine of its own
// and gathers what it has read into batches until ctx is done. It
// returns the subscription's error, if ctx is not done.
func (g *Group) readEvents(ctx context.Context, from uint64, newBatch func() *batch, send func(*batch)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan event.Event, 2*batchSize)
	var subErr error
	go func() {
		defer close(in)
		for e, err := range g.src.SubscribeAll(ctx, from+1) {
			if err != nil {
				if ctx.Err() == nil {
					subErr = fmt.Errorf("projections: subscription after position %d: %w", from, err)
					cancel()
				}
				return
			}
			select {
			case in <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	for e := range in {
		b := newBatch()
		b.events = append(b.events, e)
	gather:
		for len(b.events) < batchSize {
			select {
			case e, ok := <-in:
				if !ok {
					break gather
				}
				b.events = append(b.events, e)
			default:
				break gather
			}
		}
		send(b)
	}
	return subErr // the channel is closed: the goroutine has set it, or never will
}
