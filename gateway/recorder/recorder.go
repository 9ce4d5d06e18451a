// Package recorder writes the gateway's events to the log off the request
// path: Record puts an event in a queue and returns; one goroutine drains
// the queue in batches and appends them, all streams of a batch at once so
// the store's group commit makes one sync of them.
//
// # What can be lost
//
// An event is durable once its batch is appended, normally within a few
// milliseconds of Record. A crash or power loss before that loses the
// queued events (at most QueueSize, in practice the last batch or two);
// the call they describe has already been answered. Close drains the
// queue, so a graceful shutdown loses nothing. If the store refuses an
// append, the batch is retried with backoff for RetryFor and then dropped
// and counted; the request path is never blocked by a failing disk,
// only by a full queue (backpressure, counted as stalls).
package recorder

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// Config configures a Recorder.
type Config struct {
	// QueueSize bounds the events waiting to be written. Default 65536.
	QueueSize int `json:"queue_size,omitempty"`
	// MaxBatch bounds the events appended in one round. Default 1024.
	MaxBatch int `json:"max_batch,omitempty"`
	// RetryFor is how long a failing append is retried before its events
	// are dropped. Default 30s.
	RetryFor config.Duration `json:"retry_for,omitempty"`
	// Linger is how long a batch waits for more events before it is
	// written, so that a busy gateway makes few large commits rather than
	// many small ones (each commit syncs the disk and wakes every
	// subscriber). Default 25ms; it adds at most that to how long an event
	// stays only in memory. Flush and Close cut it short.
	Linger config.Duration `json:"linger,omitempty"`
}

func (c *Config) setDefaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = 65536
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1024
	}
	if c.RetryFor <= 0 {
		c.RetryFor = config.Duration(30 * time.Second)
	}
	if c.Linger <= 0 {
		c.Linger = config.Duration(25 * time.Millisecond)
	}
}

type item struct {
	stream string
	ev     event.Proposed
}

// Stats counts what the recorder has done.
type Stats struct {
	Recorded, Written, Dropped, Stalls uint64
	Queued                             int
}

// Recorder is a batching event writer. Create it with New, start Run,
// and Close it when done.
type Recorder struct {
	app eventstore.Appender
	cfg Config
	log *slog.Logger
	q   chan item
	// kick ends a batch's linger at once: Flush wants it written now.
	kick chan struct{}

	recorded, written, dropped, stalls atomic.Uint64

	sendMu sync.RWMutex
	closed atomic.Bool
	mu     sync.Mutex
	cond   *sync.Cond
	done   chan struct{}
}

// New returns a recorder appending to app. A nil log discards.
func New(app eventstore.Appender, cfg Config, log *slog.Logger) *Recorder {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{app: app, cfg: cfg, log: log, q: make(chan item, cfg.QueueSize), kick: make(chan struct{}, 1), done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("recorder closed")

// Record queues ev for stream. It returns at once unless the queue is
// full, in which case it waits for room (the only way the request path
// can wait on the recorder).
func (r *Recorder) Record(stream string, ev event.Proposed) error {
	// sendMu keeps Close from closing the queue under a sender.
	r.sendMu.RLock()
	defer r.sendMu.RUnlock()
	if r.closed.Load() {
		return ErrClosed
	}
	r.recorded.Add(1)
	select {
	case r.q <- item{stream, ev}:
	default:
		r.stalls.Add(1)
		r.q <- item{stream, ev}
	}
	return nil
}

// Stats returns counters.
func (r *Recorder) Stats() Stats {
	return Stats{
		Recorded: r.recorded.Load(), Written: r.written.Load(), Dropped: r.dropped.Load(),
		Stalls: r.stalls.Load(), Queued: len(r.q),
	}
}

// Run writes queued events until Close; it returns after the queue is
// drained.
func (r *Recorder) Run() {
	defer close(r.done)
	batch := make([]item, 0, r.cfg.MaxBatch)
	for {
		it, ok := <-r.q
		if !ok {
			return
		}
		batch = append(batch[:0], it)
		linger := time.NewTimer(r.cfg.Linger.D())
	fill:
		for len(batch) < r.cfg.MaxBatch {
			select {
			case it, ok := <-r.q:
				if !ok {
					break fill
				}
				batch = append(batch, it)
			case <-linger.C:
				break fill
			case <-r.kick:
				break fill
			}
		}
		linger.Stop()
		r.write(batch)
	}
}

// write appends one batch, grouped by stream in order, the streams in
// parallel.
func (r *Recorder) write(batch []item) {
	groups := map[string][]event.Proposed{}
	var order []string
	for _, it := range batch {
		if _, ok := groups[it.stream]; !ok {
			order = append(order, it.stream)
		}
		groups[it.stream] = append(groups[it.stream], it.ev)
	}
	var wg sync.WaitGroup
	for _, s := range order {
		wg.Add(1)
		go func(stream string, evs []event.Proposed) {
			defer wg.Done()
			r.appendWithRetry(stream, evs)
		}(s, groups[s])
	}
	wg.Wait()
	r.mu.Lock()
	r.cond.Broadcast()
	r.mu.Unlock()
}

func (r *Recorder) appendWithRetry(stream string, evs []event.Proposed) {
	deadline := time.Now().Add(r.cfg.RetryFor.D())
	backoff := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := r.app.Append(ctx, stream, eventstore.Any, evs...)
		cancel()
		var conflict *eventstore.IDConflictError
		if err == nil || errors.As(err, &conflict) {
			r.written.Add(uint64(len(evs)))
			return
		}
		if errors.Is(err, eventstore.ErrClosed) || errors.Is(err, eventstore.ErrInvalid) || time.Now().After(deadline) {
			r.dropped.Add(uint64(len(evs)))
			r.log.Error("events dropped: the store refused them", "stream", stream, "events", len(evs), "err", err)
			return
		}
		r.log.Warn("append failed; retrying", "stream", stream, "events", len(evs), "err", err, "backoff", backoff)
		time.Sleep(backoff)
		backoff = min(backoff*2, time.Second)
	}
}

// Flush waits until every event recorded before the call is written or
// dropped, or ctx ends.
func (r *Recorder) Flush(ctx context.Context) error {
	target := r.recorded.Load()
	select {
	case r.kick <- struct{}{}:
	default: // a kick is pending already
	}
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.written.Load()+r.dropped.Load() < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.cond.Wait()
	}
	return nil
}

// Close stops accepting events, writes what is queued and waits for Run
// to finish, or for ctx. Run must have been started.
func (r *Recorder) Close(ctx context.Context) error {
	r.sendMu.Lock()
	if r.closed.Load() {
		r.sendMu.Unlock()
		return nil
	}
	r.closed.Store(true)
	close(r.q)
	r.sendMu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
