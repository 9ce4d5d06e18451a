package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
)

// SetStreamMetadata implements eventstore.StreamAdmin.
func (s *Store) SetStreamMetadata(ctx context.Context, stream string, md eventstore.StreamMetadata) error {
	if err := event.ValidateStream(stream); err != nil {
		return fmt.Errorf("set metadata of stream %q: %w: %v", stream, eventstore.ErrInvalid, err)
	}
	if md.MaxAge < 0 {
		return fmt.Errorf("set metadata of stream %q: %w: max age %s is negative", stream, eventstore.ErrInvalid, md.MaxAge)
	}
	return s.submit(&op{ctx: ctx, apply: func(t *txn) error {
		h, exists, err := loadHead(t.streams, stream)
		if err != nil {
			return fatal(err)
		}
		if !exists {
			h.num = t.nextStream
			t.nextStream++
		}
		h.md = md
		return fatal(t.streams.Put([]byte(stream), h.encode()))
	}})
}

// StreamMetadata implements eventstore.StreamAdmin.
func (s *Store) StreamMetadata(ctx context.Context, stream string) (eventstore.StreamMetadata, error) {
	var md eventstore.StreamMetadata
	err := s.view(func(tx *bolt.Tx) error {
		h, _, err := loadHead(tx.Bucket(bucketStreams), stream)
		md = h.md
		return err
	})
	return md, err
}

// DeleteStream implements eventstore.StreamAdmin. The events stay in the
// file (ReadAll still yields them) and the hash chain goes on if the stream
// is recreated.
func (s *Store) DeleteStream(ctx context.Context, stream string, expected eventstore.ExpectedVersion) error {
	if err := expected.Check(stream, 0); errors.Is(err, eventstore.ErrInvalid) {
		return fmt.Errorf("delete stream %q: %w", stream, err)
	}
	return s.submit(&op{ctx: ctx, apply: func(t *txn) error {
		h, _, err := loadHead(t.streams, stream)
		if err != nil {
			return fatal(err)
		}
		if h.version() == eventstore.NoStreamVersion {
			return fmt.Errorf("delete stream %q: %w", stream, eventstore.ErrStreamNotFound)
		}
		if err := expected.Check(stream, h.version()); err != nil {
			return err
		}
		h.deleted = true
		return fatal(t.streams.Put([]byte(stream), h.encode()))
	}})
}

// LoadCheckpoint implements projection.CheckpointStore.
//
// Each checkpoint is a bucket of its own in the checkpoints bucket, with
// its position and its state under two keys. A store of format 1 opened
// read-only holds a value (position then state) under the name instead.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (projection.Checkpoint, error) {
	var cp projection.Checkpoint
	err := s.view(func(tx *bolt.Tx) error {
		checks := tx.Bucket(bucketCheckpoints)
		if b := checks.Bucket([]byte(name)); b != nil {
			pos, state := b.Get(keyPosition), b.Get(keyState)
			if len(pos) != 8 || state == nil {
				return fmt.Errorf("checkpoint %q is damaged (a position of %d bytes, state present: %t): delete it to rebuild the projection", name, len(pos), state != nil)
			}
			cp.Position, cp.State = binary.BigEndian.Uint64(pos), bytes.Clone(state)
			return nil
		}
		v := checks.Get([]byte(name))
		if v == nil {
			return nil
		}
		if len(v) < 8 {
			return fmt.Errorf("checkpoint %q is damaged (%d bytes): delete it to rebuild the projection", name, len(v))
		}
		cp.Position = binary.BigEndian.Uint64(v)
		cp.State = bytes.Clone(v[8:])
		return nil
	})
	if err != nil {
		return projection.Checkpoint{}, fmt.Errorf("load checkpoint %q: %w", name, err)
	}
	return cp, nil
}

// SaveCheckpoint implements projection.CheckpointStore: it commits with the
// next group of appends, durably. It keeps cp.State, without a copy, until
// the save is committed: the caller must not change it.
//
// A checkpoint has a bucket of its own so that a save writes its own pages
// only. In one bucket, every commit rewrote the leaf that held the large
// states of several read models, whichever of them was saved: a rebuild
// spent a quarter of its CPU copying them.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, cp projection.Checkpoint) error {
	if name == "" {
		return fmt.Errorf("save checkpoint: %w: empty name", eventstore.ErrInvalid)
	}
	state := cp.State
	if state == nil {
		state = []byte{} // a nil value would not be stored
	}
	pos := binary.BigEndian.AppendUint64(nil, cp.Position)
	return s.submit(&op{ctx: ctx, events: 1, apply: func(t *txn) error {
		b, err := t.checks.CreateBucketIfNotExists([]byte(name))
		if err != nil {
			// Nothing is written yet: this save fails alone, not the
			// appends committed with it.
			return fmt.Errorf("save checkpoint %q: %w", name, err)
		}
		if err := b.Put(keyPosition, pos); err != nil {
			return fatal(err)
		}
		return fatal(b.Put(keyState, state))
	}})
}

// DeleteCheckpoint implements projection.CheckpointStore.
func (s *Store) DeleteCheckpoint(ctx context.Context, name string) error {
	return s.submit(&op{ctx: ctx, apply: func(t *txn) error {
		if t.checks.Bucket([]byte(name)) != nil {
			return fatal(t.checks.DeleteBucket([]byte(name)))
		}
		return nil
	}})
}
