package eventstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// memStore is an in-memory reference implementation of eventstore.Store:
// the suite is developed and proved against it. A memStore is a handle on
// memData; reopening closes the handle and opens a new one on the same data.
type memStore struct {
	d         *memData
	closed    chan struct{}
	closeOnce sync.Once
}

var _ eventstore.Store = (*memStore)(nil)

// memPageSize is small so that the suite's reads cross pages.
const memPageSize = 64

type memData struct {
	mu sync.RWMutex
	// log holds every event in position order.
	log     []event.Event
	streams map[string]*memStream
	ids     map[uuid.UUID]memLoc
	md      map[string]eventstore.StreamMetadata
	nextPos uint64
	// changed is closed and replaced on every commit: live subscribers
	// wait on it.
	changed chan struct{}
	// racy, for the suite's own tests only, checks the expected version
	// and writes in two critical sections: a lost-update bug.
	racy bool
	// forgetDeleted, for the suite's own tests only, deletes a stream's
	// history, so that versions and the chain start again.
	forgetDeleted bool
}

type memStream struct {
	// log index of each version.
	idx []int
	// deletedBefore: versions below it are deleted.
	deletedBefore uint64
	lastHash      event.Hash
}

// actual is the stream's version, NoStreamVersion if it has no live events.
func (st *memStream) actual() int64 {
	if st == nil || uint64(len(st.idx)) == st.deletedBefore {
		return eventstore.NoStreamVersion
	}
	return int64(len(st.idx)) - 1
}

type memLoc struct {
	stream  string
	version uint64
	pos     uint64
}

func newMemStore() *memStore {
	return &memStore{
		d: &memData{
			streams: map[string]*memStream{},
			ids:     map[uuid.UUID]memLoc{},
			md:      map[string]eventstore.StreamMetadata{},
			nextPos: 1,
			changed: make(chan struct{}),
		},
		closed: make(chan struct{}),
	}
}

// reopen closes m and returns a new handle on the same data.
func (m *memStore) reopen() *memStore {
	_ = m.Close()
	return &memStore{d: m.d, closed: make(chan struct{})}
}

func (m *memStore) Close() error {
	m.closeOnce.Do(func() { close(m.closed) })
	return nil
}

func (m *memStore) check(ctx context.Context) error {
	select {
	case <-m.closed:
		return eventstore.ErrClosed
	default:
	}
	return ctx.Err()
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", eventstore.ErrInvalid, fmt.Sprintf(format, args...))
}

func validate(stream string, expected eventstore.ExpectedVersion, events []event.Proposed) error {
	if err := event.ValidateStream(stream); err != nil {
		return invalid("%v", err)
	}
	if expected < 0 && expected != eventstore.Any && expected != eventstore.NoStream && expected != eventstore.StreamExists {
		return invalid("expected version %d", int64(expected))
	}
	if len(events) == 0 {
		return invalid("no events to append")
	}
	seen := map[uuid.UUID]bool{}
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return invalid("%v", err)
		}
		if id := events[i].ID; id != uuid.Nil {
			if seen[id] {
				return invalid("event id %s appears twice in the batch", id)
			}
			seen[id] = true
		}
	}
	return nil
}

func (m *memStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...event.Proposed) (eventstore.AppendResult, error) {
	if err := m.check(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := validate(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to stream %q: %w", stream, err)
	}
	d := m.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if res, dup, err := d.duplicate(stream, events); dup || err != nil {
		return res, err
	}
	if err := expected.Check(stream, d.streams[stream].actual()); err != nil {
		return eventstore.AppendResult{}, err
	}
	if d.racy {
		d.mu.Unlock()
		for range 20 {
			runtime.Gosched()
		}
		d.mu.Lock()
	}
	st := d.streams[stream]
	if st == nil {
		st = &memStream{}
		d.streams[stream] = st
	}
	now := time.Now()
	res := eventstore.AppendResult{FirstVersion: uint64(len(st.idx))}
	for _, p := range events {
		e := event.Event{
			ID:            p.ID,
			Type:          p.Type,
			Stream:        stream,
			StreamVersion: uint64(len(st.idx)),
			Position:      d.nextPos,
			Time:          p.Time,
			Data:          bytes.Clone(p.Data),
			Metadata:      p.Metadata,
			PrevHash:      st.lastHash,
		}
		if e.ID == uuid.Nil {
			e.ID = event.NewID()
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Hash = e.ComputeHash()
		st.lastHash = e.Hash
		st.idx = append(st.idx, len(d.log))
		d.log = append(d.log, e)
		d.ids[e.ID] = memLoc{stream, e.StreamVersion, e.Position}
		res.Positions = append(res.Positions, e.Position)
		d.nextPos++
	}
	// Leave a gap after each append: positions need not be dense.
	d.nextPos++
	res.LastVersion = uint64(len(st.idx)) - 1
	close(d.changed)
	d.changed = make(chan struct{})
	return res, nil
}

// duplicate reports whether events are an exact retry of an earlier
// append to stream, with its result, or an *IDConflictError.
func (d *memData) duplicate(stream string, events []event.Proposed) (eventstore.AppendResult, bool, error) {
	var known []memLoc
	firstKnown := -1
	for i, p := range events {
		if loc, ok := d.ids[p.ID]; ok && p.ID != uuid.Nil {
			known = append(known, loc)
			if firstKnown < 0 {
				firstKnown = i
			}
		}
	}
	if len(known) == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	conflict := func(reason string) error {
		return &eventstore.IDConflictError{Stream: stream, ID: events[firstKnown].ID.String(), Reason: reason}
	}
	if len(known) < len(events) {
		return eventstore.AppendResult{}, false, conflict("is already stored, but the batch also holds new events")
	}
	res := eventstore.AppendResult{FirstVersion: known[0].version, LastVersion: known[len(known)-1].version, Duplicate: true}
	for i, loc := range known {
		if loc.stream != stream {
			return eventstore.AppendResult{}, false, conflict(fmt.Sprintf("is already in stream %q", loc.stream))
		}
		if loc.version != known[0].version+uint64(i) {
			return eventstore.AppendResult{}, false, conflict("is already stored, but not in this order")
		}
		res.Positions = append(res.Positions, loc.pos)
	}
	return res, true, nil
}

func (m *memStore) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := m.check(ctx); err != nil {
		return 0, err
	}
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	return m.d.streams[stream].actual(), nil
}

// visible reports whether version v of stream shows in stream reads.
func (d *memData) visible(st *memStream, md eventstore.StreamMetadata, v uint64, now time.Time) bool {
	last := uint64(len(st.idx)) - 1
	switch {
	case v < st.deletedBefore, v < md.TruncateBefore:
		return false
	case md.MaxCount > 0 && v+md.MaxCount <= last:
		return false
	case md.MaxAge > 0 && now.Sub(d.log[st.idx[v]].Time) > md.MaxAge:
		return false
	}
	return true
}

func (m *memStore) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		d := m.d
		next := int64(min(opts.From, 1<<62))
		n := 0
		for first := true; ; first = false {
			if err := m.check(ctx); err != nil {
				yield(event.Event{}, err)
				return
			}
			// Read one page under the lock, yield it without.
			var page []event.Event
			d.mu.RLock()
			st := d.streams[stream]
			if st.actual() == eventstore.NoStreamVersion {
				d.mu.RUnlock()
				if first {
					yield(event.Event{}, fmt.Errorf("read stream %q: %w", stream, eventstore.ErrStreamNotFound))
				}
				return
			}
			md, now := d.md[stream], time.Now()
			if opts.Direction == eventstore.Backwards {
				next = min(next, int64(len(st.idx))-1)
				for ; next >= 0 && len(page) < memPageSize; next-- {
					if d.visible(st, md, uint64(next), now) {
						page = append(page, d.log[st.idx[next]])
					}
				}
			} else {
				for ; next < int64(len(st.idx)) && len(page) < memPageSize; next++ {
					if d.visible(st, md, uint64(next), now) {
						page = append(page, d.log[st.idx[next]])
					}
				}
			}
			done := next < 0 || next >= int64(len(st.idx))
			d.mu.RUnlock()
			for _, e := range page {
				if opts.Limit > 0 && n >= opts.Limit {
					return
				}
				if err := m.check(ctx); err != nil {
					yield(event.Event{}, err)
					return
				}
				e.Data = bytes.Clone(e.Data)
				if !yield(e, nil) {
					return
				}
				n++
			}
			if done {
				return
			}
		}
	}
}

// search returns the index in log of the first event at or after pos.
func (d *memData) search(pos uint64) int {
	return sort.Search(len(d.log), func(i int) bool { return d.log[i].Position >= pos })
}

func (m *memStore) ReadAll(ctx context.Context, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		d := m.d
		n := 0
		// next is the log index to read next.
		d.mu.RLock()
		next := d.search(opts.From)
		if opts.Direction == eventstore.Backwards && (next == len(d.log) || d.log[next].Position > opts.From) {
			next--
		}
		d.mu.RUnlock()
		for {
			if err := m.check(ctx); err != nil {
				yield(event.Event{}, err)
				return
			}
			d.mu.RLock()
			var page []event.Event
			if opts.Direction == eventstore.Backwards {
				for ; next >= 0 && len(page) < memPageSize; next-- {
					page = append(page, d.log[next])
				}
			} else {
				for ; next < len(d.log) && len(page) < memPageSize; next++ {
					page = append(page, d.log[next])
				}
			}
			d.mu.RUnlock()
			if len(page) == 0 {
				return
			}
			for _, e := range page {
				if opts.Limit > 0 && n >= opts.Limit {
					return
				}
				if err := m.check(ctx); err != nil {
					yield(event.Event{}, err)
					return
				}
				e.Data = bytes.Clone(e.Data)
				if !yield(e, nil) {
					return
				}
				n++
			}
		}
	}
}

func (m *memStore) SubscribeAll(ctx context.Context, from uint64) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		d := m.d
		for {
			if err := m.check(ctx); err != nil {
				yield(event.Event{}, err)
				return
			}
			d.mu.RLock()
			i := d.search(from)
			page := append([]event.Event(nil), d.log[i:min(i+memPageSize, len(d.log))]...)
			changed := d.changed
			d.mu.RUnlock()
			if len(page) == 0 {
				// Caught up: wait for a commit. changed was taken with
				// the page, so no commit slips between.
				select {
				case <-changed:
				case <-ctx.Done():
				case <-m.closed:
				}
				continue
			}
			for _, e := range page {
				if err := m.check(ctx); err != nil {
					yield(event.Event{}, err)
					return
				}
				e.Data = bytes.Clone(e.Data)
				if !yield(e, nil) {
					return
				}
				from = e.Position + 1
			}
		}
	}
}

func (m *memStore) SetStreamMetadata(ctx context.Context, stream string, md eventstore.StreamMetadata) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	if err := event.ValidateStream(stream); err != nil {
		return fmt.Errorf("set metadata of stream %q: %w", stream, invalid("%v", err))
	}
	m.d.mu.Lock()
	defer m.d.mu.Unlock()
	m.d.md[stream] = md
	return nil
}

func (m *memStore) StreamMetadata(ctx context.Context, stream string) (eventstore.StreamMetadata, error) {
	if err := m.check(ctx); err != nil {
		return eventstore.StreamMetadata{}, err
	}
	m.d.mu.RLock()
	defer m.d.mu.RUnlock()
	return m.d.md[stream], nil
}

func (m *memStore) DeleteStream(ctx context.Context, stream string, expected eventstore.ExpectedVersion) error {
	if err := m.check(ctx); err != nil {
		return err
	}
	d := m.d
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.streams[stream]
	actual := st.actual()
	if actual == eventstore.NoStreamVersion {
		return fmt.Errorf("delete stream %q: %w", stream, eventstore.ErrStreamNotFound)
	}
	if err := expected.Check(stream, actual); err != nil {
		if errors.Is(err, eventstore.ErrInvalid) {
			return fmt.Errorf("delete stream %q: %w", stream, err)
		}
		return err
	}
	st.deletedBefore = uint64(len(st.idx))
	if d.forgetDeleted {
		delete(d.streams, stream)
	}
	return nil
}
