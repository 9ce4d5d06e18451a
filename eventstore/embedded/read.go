package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// Reads work in pages of pageSize events, each in its own short read
// transaction, so that a slow consumer never pins old pages of the file.

// stopped returns why an iterator must stop before its next event: ctx is
// done or the store is closed. Both are channel polls, cheap per event.
func (s *Store) stopped(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return eventstore.ErrClosed
	default:
		return nil
	}
}

// yieldEach hands page's events to yield one at a time, checking ctx and
// the store between them. It reports whether to go on.
func (s *Store) yieldEach(ctx context.Context, page []event.Event, yield func(event.Event, error) bool) bool {
	for _, e := range page {
		if err := s.stopped(ctx); err != nil {
			yield(event.Event{}, err)
			return false
		}
		if !yield(e, nil) {
			return false
		}
	}
	return true
}

// ReadStream implements eventstore.Reader.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	return s.paged(ctx, opts, func(from uint64, n int) ([]event.Event, uint64, bool, error) {
		page, next, more, err := s.readStreamPage(stream, from, opts.Direction, n)
		if err != nil {
			err = fmt.Errorf("read stream %q: %w", stream, err)
		}
		return page, next, more, err
	})
}

// paged turns a page reader into an iterator: it checks the limit, fetches
// pages of up to pageSize events (fewer when the limit is near), and stops
// at the next event once ctx is done or the store closes. fetch returns a
// page, where the next one starts and whether there may be one.
func (s *Store) paged(ctx context.Context, opts eventstore.ReadOptions, fetch func(from uint64, n int) ([]event.Event, uint64, bool, error)) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		if opts.Limit < 0 {
			yield(event.Event{}, fmt.Errorf("%w: read limit %d is negative: pass 0 for no limit", eventstore.ErrInvalid, opts.Limit))
			return
		}
		from, left := opts.From, opts.Limit
		for {
			if err := s.stopped(ctx); err != nil {
				yield(event.Event{}, err)
				return
			}
			n := pageSize
			if opts.Limit > 0 {
				n = min(n, left)
			}
			page, next, more, err := fetch(from, n)
			if err != nil {
				yield(event.Event{}, err)
				return
			}
			if !s.yieldEach(ctx, page, yield) {
				return
			}
			left -= len(page)
			if !more || opts.Limit > 0 && left <= 0 {
				return
			}
			from = next
		}
	}
}

// readStreamPage returns up to n visible events of stream from version
// from, the version to continue at, and whether there may be more.
func (s *Store) readStreamPage(stream string, from uint64, dir eventstore.Direction, n int) (page []event.Event, next uint64, more bool, err error) {
	now := time.Now()
	err = s.view(func(tx *bolt.Tx) error {
		h, ok, err := loadHead(tx.Bucket(bucketStreams), stream)
		if err != nil {
			return err
		}
		if !ok || h.version() == eventstore.NoStreamVersion {
			return eventstore.ErrStreamNotFound
		}
		first, last := h.firstVisible(), uint64(h.last)
		if dir == eventstore.Forwards {
			from = max(from, first)
			if from > last {
				return nil
			}
		} else {
			from = min(from, last)
			if from < first {
				return nil
			}
		}
		var pd pageDecoder
		idx := tx.Bucket(bucketIndex).Cursor()
		evc := tx.Bucket(bucketEvents).Cursor()
		// Find the append (index entry) holding version from.
		k, v := idx.Seek(indexKey(h.num, from))
		if k == nil || binary.BigEndian.Uint64(k) != h.num || binary.BigEndian.Uint64(k[8:]) > from {
			k, v = idx.Prev()
		}
		for k != nil && binary.BigEndian.Uint64(k) == h.num {
			fv := binary.BigEndian.Uint64(k[8:])
			fp := binary.BigEndian.Uint64(v)
			count := uint64(binary.BigEndian.Uint32(v[8:]))
			if from < fv || from >= fv+count {
				return fmt.Errorf("%w: stream index of %q has no entry for version %d", errCorruptRecord, stream, from)
			}
			// Walk the append's events from version from.
			pos := fp + (from - fv)
			pk, rec := evc.Seek(u64(pos))
			for {
				if pk == nil || binary.BigEndian.Uint64(pk) != pos {
					return fmt.Errorf("%w: event at position %d of stream %q version %d is missing", errCorruptRecord, pos, stream, from)
				}
				var e event.Event
				if err := decodeRecord(pos, rec, &e, &pd); err != nil {
					return err
				}
				if e.Stream != stream || e.StreamVersion != from {
					return fmt.Errorf("%w: position %d holds %q version %d, index says %q version %d", errCorruptRecord, pos, e.Stream, e.StreamVersion, stream, from)
				}
				if h.visible(from, e.Time, now) {
					if len(page) == n {
						next, more = from, true
						return nil
					}
					page = append(page, e)
				}
				if dir == eventstore.Forwards {
					if from == last {
						return nil
					}
					from++
					if from == fv+count {
						break
					}
					pos++
					pk, rec = evc.Next()
				} else {
					if from == 0 || from == first {
						return nil
					}
					from--
					if from < fv {
						break
					}
					pos--
					pk, rec = evc.Prev()
				}
			}
			if dir == eventstore.Forwards {
				k, v = idx.Next()
			} else {
				k, v = idx.Prev()
			}
		}
		return fmt.Errorf("%w: stream index of %q ends before version %d", errCorruptRecord, stream, from)
	})
	return page, next, more, s.readErr(err)
}

// ReadAll implements eventstore.Reader.
func (s *Store) ReadAll(ctx context.Context, opts eventstore.ReadOptions) iter.Seq2[event.Event, error] {
	return s.paged(ctx, opts, func(from uint64, n int) ([]event.Event, uint64, bool, error) {
		page, err := s.readAllPage(nil, from, opts.Direction, n)
		if err != nil {
			return nil, 0, false, fmt.Errorf("read all from position %d: %w", from, err)
		}
		if len(page) < n {
			return page, 0, false, nil
		}
		last := page[len(page)-1].Position
		if opts.Direction == eventstore.Backwards {
			return page, last - 1, last > 1, nil
		}
		return page, last + 1, true, nil
	})
}

// readAllPage returns up to n events from position from in direction dir,
// appended to buf[:0] (nil allocates a page).
func (s *Store) readAllPage(buf []event.Event, from uint64, dir eventstore.Direction, n int) ([]event.Event, error) {
	page := buf[:0]
	if page == nil {
		page = make([]event.Event, 0, min(n, pageSize))
	}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		k, v := c.Seek(u64(from))
		if dir == eventstore.Backwards {
			if k == nil {
				k, v = c.Last()
			} else if binary.BigEndian.Uint64(k) > from {
				k, v = c.Prev()
			}
		}
		var pd pageDecoder
		for k != nil && len(page) < n {
			var e event.Event
			if err := decodeRecord(binary.BigEndian.Uint64(k), v, &e, &pd); err != nil {
				return err
			}
			page = append(page, e)
			if dir == eventstore.Forwards {
				k, v = c.Next()
			} else {
				k, v = c.Prev()
			}
		}
		return nil
	})
	return page, s.readErr(err)
}

// StreamVersion implements eventstore.Reader.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	v := eventstore.NoStreamVersion
	err := s.view(func(tx *bolt.Tx) error {
		h, _, err := loadHead(tx.Bucket(bucketStreams), stream)
		v = h.version()
		return err
	})
	return v, err
}

// SubscribeAll implements eventstore.Subscriber. It reads from the file,
// page by page, and waits for the committer's signal when caught up: since
// it only ever reads what is committed, in position order, the switch from
// catch-up to live can neither skip nor repeat an event.
func (s *Store) SubscribeAll(ctx context.Context, from uint64) iter.Seq2[event.Event, error] {
	return func(yield func(event.Event, error) bool) {
		for page, err := range s.SubscribeAllPages(ctx, from) {
			if err != nil {
				yield(event.Event{}, err)
				return
			}
			if !s.yieldEach(ctx, page, yield) {
				return
			}
		}
	}
}

// SubscribeAllPages is SubscribeAll a page of events at a time, as they
// are read: a reader that takes many events at once (a projection group)
// is spared a step per event. A page is valid until the next is asked
// for: its events must be copied out (their strings and data may be
// kept). After an error the sequence ends.
func (s *Store) SubscribeAllPages(ctx context.Context, from uint64) iter.Seq2[[]event.Event, error] {
	return func(yield func([]event.Event, error) bool) {
		next := max(from, 1)
		// One page buffer for the subscription's life: a live subscriber
		// wakes for every commit, usually to read a few events, and a
		// fresh page of pageSize events each time was most of a busy
		// gateway's garbage.
		buf := make([]event.Event, 0, 64)
		for {
			if err := s.stopped(ctx); err != nil {
				yield(nil, err)
				return
			}
			// Take the signal before reading, so a commit that lands after
			// the read wakes us.
			s.mu.Lock()
			signal := s.notify
			s.mu.Unlock()
			page, err := s.readAllPage(buf, next, eventstore.Forwards, pageSize)
			buf = page
			if err != nil {
				yield(nil, err)
				return
			}
			if len(page) > 0 {
				next = page[len(page)-1].Position + 1 // before the caller has the page
				if !yield(page, nil) {
					return
				}
			}
			if len(page) == pageSize {
				continue
			}
			select {
			case <-signal:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-s.closing:
				yield(nil, eventstore.ErrClosed)
				return
			}
		}
	}
}
