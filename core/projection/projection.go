package projection

import (
	"context"
	"iter"

	"github.com/switchyard/switchyard/core/event"
)

// Projection is a fold over the event log. A Runner calls its methods from
// one goroutine at a time; a projection that is also read from other
// goroutines (to serve queries) guards its state itself.
type Projection interface {
	// Name identifies the projection's checkpoint; changing it rebuilds.
	Name() string
	// Apply folds one event into the state. An error stops the runner: the
	// projection is stuck on a bad event and someone must look. Apply
	// must not keep e after it returns (its strings and data it may): the
	// runner reuses the memory.
	Apply(e *event.Event) error
	// Snapshot encodes the current state for a checkpoint.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot; nil means empty.
	Restore(state []byte) error
}

// Checkpoint is a projection's state as of a global position: every event
// up to and including Position is folded into State.
type Checkpoint struct {
	Position uint64
	State    []byte
}

// CheckpointStore keeps checkpoints durably. SaveCheckpoint replaces the
// named checkpoint atomically: after a crash, LoadCheckpoint returns either
// the old or the new one whole. LoadCheckpoint of an unknown name returns a
// zero Checkpoint. The embedded event store implements it.
type CheckpointStore interface {
	LoadCheckpoint(ctx context.Context, name string) (Checkpoint, error)
	SaveCheckpoint(ctx context.Context, name string, cp Checkpoint) error
	DeleteCheckpoint(ctx context.Context, name string) error
}

// Source is the subscription a runner folds. eventstore.Store satisfies it.
type Source interface {
	SubscribeAll(ctx context.Context, from uint64) iter.Seq2[event.Event, error]
}

// PageSource is a Source that can also hand its events over a page at a
// time, as the embedded store reads them: a group then cuts its batches
// from the pages, instead of passing each event through a channel (a
// twentieth of a rebuild's CPU). A page is valid until the next is asked
// for.
type PageSource interface {
	Source
	SubscribeAllPages(ctx context.Context, from uint64) iter.Seq2[[]event.Event, error]
}
