package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
)

// FormatVersion is the on-disk format this build writes. A store written by
// a newer build is refused rather than misread; an older one is upgraded
// when it is opened for writing.
//
//	1: a checkpoint is a value (position, then state) under its name
//	2: a checkpoint is a bucket under its name, with keys position and state
const FormatVersion = 2

// FileName is the database file inside the data directory.
const FileName = "events.db"

var (
	bucketEvents      = []byte("events")
	bucketIDs         = []byte("ids")
	bucketStreams     = []byte("streams")
	bucketIndex       = []byte("index")
	bucketCheckpoints = []byte("checkpoints")
	bucketMeta        = []byte("meta")

	keyPosition = []byte("position") // of a checkpoint, in its bucket
	keyState    = []byte("state")

	keyFormat     = []byte("format")
	keyNextStream = []byte("next_stream")
)

// Limits on one append, so that one request cannot stall every other
// appender's group commit.
const (
	MaxAppendEvents = 10_000
	MaxAppendBytes  = 32 << 20
	maxGroupEvents  = 16_384
	pageSize        = 1024
)

// Config configures a Store.
type Config struct {
	// Dir is the data directory; it is created if missing (unless ReadOnly).
	Dir string `json:"dir"`
	// ReadOnly opens an existing store for reading only (offline tools).
	// It shares the lock with other readers but not with a writer.
	ReadOnly bool `json:"read_only,omitempty"`
	// LockTimeout is how long Open waits for another process to release
	// the store; default 500ms.
	LockTimeout time.Duration `json:"lock_timeout,omitempty"`
}

// Store is the embedded event store. Create it with Open.
type Store struct {
	db       *bolt.DB
	dir      string
	readOnly bool
	log      *slog.Logger

	ops     chan *op
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the committer has exited

	closeOnce sync.Once
	closeErr  error

	// Owned by the committer goroutine.
	nextPos    uint64
	nextStream uint64

	mu     sync.Mutex
	notify chan struct{} // closed and replaced after every commit that adds events

	lastPos atomic.Uint64
}

var (
	_ eventstore.Store           = (*Store)(nil)
	_ projection.CheckpointStore = (*Store)(nil)
)

// Errors to branch on with errors.Is.
var (
	// ErrReadOnly is returned by writes to a store opened with ReadOnly.
	ErrReadOnly = errors.New("event store is open read-only")
	// ErrLocked is returned by Open when another process has the store open.
	ErrLocked = errors.New("in use by another process")
)

// Open opens or creates the store in cfg.Dir.
func Open(cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("open event store: no data directory given: pass --data DIR")
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = 500 * time.Millisecond
	}
	path := filepath.Join(cfg.Dir, FileName)
	if cfg.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open event store %s: no store there (%w): check --data", cfg.Dir, err)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("open event store: create data directory: %w", err)
	}
	start := time.Now()
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      cfg.LockTimeout,
		ReadOnly:     cfg.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		return nil, openError(cfg.Dir, err)
	}
	s := &Store{
		db: db, dir: cfg.Dir, readOnly: cfg.ReadOnly, log: log,
		ops: make(chan *op, 1024), closing: make(chan struct{}), done: make(chan struct{}),
		notify: make(chan struct{}),
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	s.lastPos.Store(s.nextPos - 1)
	if s.readOnly {
		close(s.done)
	} else {
		go s.run()
	}
	log.Info("event store opened", "dir", cfg.Dir, "last_position", s.nextPos-1,
		"read_only", cfg.ReadOnly, "took", time.Since(start).Round(time.Microsecond))
	return s, nil
}

func openError(dir string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open event store %s: it is %w (is `switchyard serve` running on it?): stop that process or pass another --data directory", dir, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("open event store %s: %s is not a readable switchyard store (%w): if it was copied in part, restore it from a backup; nothing was changed", dir, FileName, err)
	}
	return fmt.Errorf("open event store %s: %w", dir, err)
}

// upgrade brings a store of an older format to FormatVersion, in one
// transaction.
func upgrade(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	// 1 to 2: each checkpoint into a bucket of its own.
	checks := tx.Bucket(bucketCheckpoints)
	var names, values [][]byte
	err := checks.ForEach(func(k, v []byte) error {
		if v != nil { // nil: already a bucket
			names, values = append(names, bytes.Clone(k)), append(values, bytes.Clone(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, name := range names {
		v := values[i]
		if err := checks.Delete(name); err != nil {
			return err
		}
		if len(v) < 8 {
			continue // damaged: the projection rebuilds without it
		}
		b, err := checks.CreateBucket(name)
		if err != nil {
			return err
		}
		if err := b.Put(keyPosition, v[:8]); err != nil {
			return err
		}
		if err := b.Put(keyState, v[8:]); err != nil {
			return err
		}
	}
	return meta.Put(keyFormat, u64(FormatVersion))
}

// init checks the format version, creates the buckets of a new store and
// loads the counters. A newer format is refused before anything is written.
func (s *Store) init() error {
	fresh := false
	var format uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if tx.Bucket(bucketEvents) != nil {
				return fmt.Errorf("open event store %s: %s has events but no format version: it was not written by switchyard", s.dir, FileName)
			}
			fresh = true
			return nil
		}
		f := meta.Get(keyFormat)
		if len(f) != 8 {
			return fmt.Errorf("open event store %s: format version record is damaged", s.dir)
		}
		format = binary.BigEndian.Uint64(f)
		if v := format; v > FormatVersion {
			return fmt.Errorf("open event store %s: the store has format version %d but this switchyard reads format version %d or older: upgrade switchyard to open it", s.dir, v, FormatVersion)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !fresh && format < FormatVersion && !s.readOnly {
		if err := s.db.Update(upgrade); err != nil {
			return fmt.Errorf("open event store %s: upgrade its format to version %d: %w (nothing was changed)", s.dir, FormatVersion, err)
		}
	}
	if fresh {
		if s.readOnly {
			return fmt.Errorf("open event store %s: the store is empty and was never initialised: start `switchyard serve --data %s` once", s.dir, s.dir)
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketEvents, bucketIDs, bucketStreams, bucketIndex, bucketCheckpoints, bucketMeta} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			meta := tx.Bucket(bucketMeta)
			if err := meta.Put(keyFormat, u64(FormatVersion)); err != nil {
				return err
			}
			return meta.Put(keyNextStream, u64(1))
		})
		if err != nil {
			return fmt.Errorf("open event store %s: initialise: %w", s.dir, err)
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		s.nextPos = 1
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			s.nextPos = binary.BigEndian.Uint64(k) + 1
		}
		s.nextStream = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyNextStream))
		return nil
	})
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Close stops the committer, fails queued writes with ErrClosed, ends
// subscriptions and closes the file. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.done
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// readErr maps bbolt's errors after Close to ErrClosed.
func (s *Store) readErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) || s.isClosed() {
		return eventstore.ErrClosed
	}
	return err
}

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	err := s.db.View(fn)
	if err != nil && errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return err
}

// An op is one write request for the committer. apply runs inside the
// group's transaction; it must return a request error (a conflict, say)
// before writing anything, and wraps storage errors with fatal.
type op struct {
	ctx    context.Context
	events int
	apply  func(t *txn) error
	err    error
	done   chan struct{}
}

// txn is the state of one group commit.
type txn struct {
	tx                                  *bolt.Tx
	events, ids, streams, index, checks *bolt.Bucket
	nextPos, nextStream                 uint64
	added                               bool
}

type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

func fatal(err error) error {
	if err == nil {
		return nil
	}
	return fatalError{err}
}

// submit queues o for the committer and waits for its outcome.
func (s *Store) submit(o *op) error {
	if s.readOnly {
		return ErrReadOnly
	}
	o.done = make(chan struct{})
	select {
	case s.ops <- o:
	case <-s.closing:
		return eventstore.ErrClosed
	case <-o.ctx.Done():
		return o.ctx.Err()
	}
	select {
	case <-o.done:
		return o.err
	case <-s.done:
		select {
		case <-o.done:
			return o.err
		default:
			return eventstore.ErrClosed
		}
	case <-o.ctx.Done():
		return o.ctx.Err()
	}
}

// run is the committer: it gathers queued ops into groups and commits each
// group in one transaction.
func (s *Store) run() {
	defer close(s.done)
	group := make([]*op, 0, 256)
	for {
		var first *op
		select {
		case first = <-s.ops:
		case <-s.closing:
			s.failQueued()
			return
		}
		group = append(group[:0], first)
		n := first.events
	gather:
		for n < maxGroupEvents {
			select {
			case o := <-s.ops:
				group = append(group, o)
				n += o.events
			default:
				break gather
			}
		}
		s.commit(group)
	}
}

func (s *Store) failQueued() {
	for {
		select {
		case o := <-s.ops:
			o.err = eventstore.ErrClosed
			close(o.done)
		default:
			return
		}
	}
}

func (s *Store) commit(group []*op) {
	var t txn
	err := s.db.Update(func(tx *bolt.Tx) error {
		t = txn{
			tx: tx, events: tx.Bucket(bucketEvents), ids: tx.Bucket(bucketIDs), streams: tx.Bucket(bucketStreams),
			index: tx.Bucket(bucketIndex), checks: tx.Bucket(bucketCheckpoints),
			nextPos: s.nextPos, nextStream: s.nextStream,
		}
		// Positions only grow, so pages of the events bucket fill up whole.
		t.events.FillPercent = 1.0
		for _, o := range group {
			if err := o.ctx.Err(); err != nil {
				o.err = err
				continue
			}
			o.err = o.apply(&t)
			var f fatalError
			if errors.As(o.err, &f) {
				return f.err
			}
		}
		if t.nextStream != s.nextStream {
			if err := tx.Bucket(bucketMeta).Put(keyNextStream, u64(t.nextStream)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("event store commit failed", "ops", len(group), "err", err)
		for _, o := range group {
			o.err = fmt.Errorf("commit to event store %s: %w", s.dir, err)
		}
	} else {
		s.nextPos, s.nextStream = t.nextPos, t.nextStream
		if t.added {
			s.lastPos.Store(s.nextPos - 1)
			s.mu.Lock()
			close(s.notify)
			s.notify = make(chan struct{})
			s.mu.Unlock()
		}
	}
	for _, o := range group {
		close(o.done)
	}
}

// loadHead returns the head of stream, and whether it exists.
func loadHead(b *bolt.Bucket, stream string) (head, bool, error) {
	v := b.Get([]byte(stream))
	if v == nil {
		return head{last: -1}, false, nil
	}
	h, err := decodeHead(stream, v)
	return h, err == nil, err
}

// errNotDuplicate says an append's ids are all new.
var errNotDuplicate = errors.New("not a duplicate")

// Append implements eventstore.Appender.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, proposed ...event.Proposed) (eventstore.AppendResult, error) {
	evs, size, err := prepare(stream, expected, proposed)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to stream %q: %w", stream, err)
	}
	var res eventstore.AppendResult
	o := &op{ctx: ctx, events: len(evs), apply: func(t *txn) error {
		r, err := t.append(stream, expected, evs, size)
		res = r
		return err
	}}
	if err := s.submit(o); err != nil {
		return eventstore.AppendResult{}, err
	}
	return res, nil
}

// prepare validates an append and builds its events, outside the
// committer, so that validation runs in parallel across callers.
func prepare(stream string, expected eventstore.ExpectedVersion, proposed []event.Proposed) ([]event.Event, int, error) {
	if err := event.ValidateStream(stream); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", eventstore.ErrInvalid, err)
	}
	if err := expected.Check(stream, 0); errors.Is(err, eventstore.ErrInvalid) {
		return nil, 0, err
	}
	if len(proposed) == 0 {
		return nil, 0, fmt.Errorf("%w: no events to append: send at least one", eventstore.ErrInvalid)
	}
	if len(proposed) > MaxAppendEvents {
		return nil, 0, fmt.Errorf("%w: %d events in one append: the limit is %d, split the batch", eventstore.ErrInvalid, len(proposed), MaxAppendEvents)
	}
	now := time.Now().UTC()
	evs := make([]event.Event, len(proposed))
	size := 0
	seen := make(map[[16]byte]struct{}, len(proposed))
	for i := range proposed {
		p := &proposed[i]
		if err := p.Validate(); err != nil {
			return nil, 0, fmt.Errorf("%w: event %d: %v", eventstore.ErrInvalid, i, err)
		}
		e := &evs[i]
		e.ID, e.Type, e.Stream, e.Metadata, e.Time = p.ID, p.Type, stream, p.Metadata, p.Time.UTC()
		e.Data = bytes.Clone(p.Data)
		if e.ID == [16]byte{} {
			e.ID = event.NewID()
		}
		if _, dup := seen[e.ID]; dup {
			return nil, 0, fmt.Errorf("%w: event %d: id %s appears twice in the batch", eventstore.ErrInvalid, i, e.ID)
		}
		seen[e.ID] = struct{}{}
		if p.Time.IsZero() {
			e.Time = now
		}
		size += 200 + len(e.Data) + len(e.Type) + len(stream)
	}
	if size > MaxAppendBytes {
		return nil, 0, fmt.Errorf("%w: append of about %d bytes: the limit is %d, split the batch", eventstore.ErrInvalid, size, MaxAppendBytes)
	}
	return evs, size, nil
}

func (t *txn) append(stream string, expected eventstore.ExpectedVersion, evs []event.Event, size int) (eventstore.AppendResult, error) {
	h, exists, err := loadHead(t.streams, stream)
	if err != nil {
		return eventstore.AppendResult{}, fatal(err)
	}
	if res, err := t.duplicate(stream, evs); err != errNotDuplicate {
		return res, err
	}
	if err := expected.Check(stream, h.version()); err != nil {
		return eventstore.AppendResult{}, err
	}
	if !exists {
		h.num = t.nextStream
		t.nextStream++
	}
	if h.deleted {
		h.deleted = false
		h.md.TruncateBefore = max(h.md.TruncateBefore, uint64(h.last+1))
	}
	// One arena per append: bbolt needs keys and values to stay put until
	// the transaction commits.
	arena := make([]byte, 0, size+len(evs)*(8+8))
	res := eventstore.AppendResult{FirstVersion: uint64(h.last + 1), Positions: make([]uint64, len(evs))}
	firstPos := t.nextPos
	for i := range evs {
		e := &evs[i]
		e.StreamVersion = uint64(h.last + 1)
		e.Position = t.nextPos
		e.PrevHash = h.lastHash
		e.Hash = e.ComputeHash()
		start := len(arena)
		arena = binary.BigEndian.AppendUint64(arena, e.Position)
		key := arena[start:len(arena):len(arena)]
		arena = appendRecord(arena, e)
		if err := t.events.Put(key, arena[start+8:len(arena):len(arena)]); err != nil {
			return eventstore.AppendResult{}, fatal(err)
		}
		if err := t.ids.Put(e.ID[:], key); err != nil {
			return eventstore.AppendResult{}, fatal(err)
		}
		res.Positions[i] = e.Position
		h.last++
		h.lastHash = e.Hash
		t.nextPos++
	}
	res.LastVersion = uint64(h.last)
	iv := binary.BigEndian.AppendUint64(make([]byte, 0, 12), firstPos)
	iv = binary.BigEndian.AppendUint32(iv, uint32(len(evs)))
	if err := t.index.Put(indexKey(h.num, res.FirstVersion), iv); err != nil {
		return eventstore.AppendResult{}, fatal(err)
	}
	if err := t.streams.Put([]byte(stream), h.encode()); err != nil {
		return eventstore.AppendResult{}, fatal(err)
	}
	t.added = true
	return res, nil
}

// duplicate returns errNotDuplicate when none of evs' ids is stored (a new
// append), the original result when all are stored as one earlier append to
// stream, or an *IDConflictError otherwise.
func (t *txn) duplicate(stream string, evs []event.Event) (eventstore.AppendResult, error) {
	var positions []uint64 // allocated only when an id is found
	for i := range evs {
		if p := t.ids.Get(evs[i].ID[:]); p != nil {
			if positions == nil {
				positions = make([]uint64, len(evs))
			}
			positions[i] = binary.BigEndian.Uint64(p)
		}
	}
	if positions == nil {
		return eventstore.AppendResult{}, errNotDuplicate
	}
	conflict := func(i int, reason string) error {
		return &eventstore.IDConflictError{Stream: stream, ID: evs[i].ID.String(), Reason: reason}
	}
	res := eventstore.AppendResult{Positions: positions, Duplicate: true}
	known, unknown := -1, -1
	for i, pos := range positions {
		if pos == 0 {
			unknown = i
			continue
		}
		if known < 0 {
			known = i
		}
		s, v, ok := recordStream(t.events.Get(u64(pos)))
		switch {
		case !ok:
			return eventstore.AppendResult{}, fatal(fmt.Errorf("%w at position %d", errCorruptRecord, pos))
		case s != stream:
			return eventstore.AppendResult{}, conflict(i, fmt.Sprintf("is already stored in stream %q", s))
		case i == 0:
			res.FirstVersion = v
		case v != res.FirstVersion+uint64(i) || pos != positions[0]+uint64(i):
			return eventstore.AppendResult{}, conflict(i, "is already stored, but not as part of the same batch")
		}
		res.LastVersion = v
	}
	if unknown >= 0 {
		return eventstore.AppendResult{}, conflict(known, fmt.Sprintf("is already stored but id %s of the same batch is not", evs[unknown].ID))
	}
	return res, nil
}
