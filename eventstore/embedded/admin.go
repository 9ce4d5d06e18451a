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
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (projection.Checkpoint, error) {
	var cp projection.Checkpoint
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCheckpoints).Get([]byte(name))
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
// next group of appends, durably.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, cp projection.Checkpoint) error {
	if name == "" {
		return fmt.Errorf("save checkpoint: %w: empty name", eventstore.ErrInvalid)
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(cp.State)), cp.Position)
	v = append(v, cp.State...)
	return s.submit(&op{ctx: ctx, events: 1, apply: func(t *txn) error {
		return fatal(t.checks.Put([]byte(name), v))
	}})
}

// DeleteCheckpoint implements projection.CheckpointStore.
func (s *Store) DeleteCheckpoint(ctx context.Context, name string) error {
	return s.submit(&op{ctx: ctx, apply: func(t *txn) error {
		return fatal(t.checks.Delete([]byte(name)))
	}})
}
