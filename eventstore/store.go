package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// Store is an append-only event log of named streams.
//
// # Ordering
//
// Every event has a version in its stream (0, 1, 2, ... dense) and a global
// position (strictly increasing across the store, never 0, not necessarily
// dense). A stream read returns events in version order; a read of all
// returns them in position order. Events appended in one call are contiguous
// in their stream, share one transaction and become visible to readers and
// subscribers together, never partly.
//
// # Concurrency
//
// All methods are safe for concurrent use. Appends to one stream are
// serialised: with an exact expected version, at most one of two racing
// appends succeeds and the other gets a *WrongExpectedVersionError.
// Appends to different streams do not conflict.
//
// # Durability
//
// When Append returns nil error the events are durable: they survive a crash
// of the process (kill -9). What a power loss can lose is the backend's to
// document.
//
// # Context
//
// Cancelling ctx makes a waiting call return ctx.Err() promptly. An Append
// cancelled after the store has taken its events may still commit them:
// the caller then does not know, and retries with the same event ids, which
// is safe because appends are idempotent by id. Iterators stop at the next
// event once ctx is done and yield ctx.Err() as their last error.
//
// # Close
//
// Close is idempotent. Calls after Close return ErrClosed; open
// subscriptions end with ErrClosed.
type Store interface {
	Appender
	Reader
	Subscriber
	StreamAdmin
	Close() error
}

// Appender appends events.
type Appender interface {
	// Append writes events, in order, to the end of stream if the stream's
	// current version matches expected. Events with a zero ID get a new
	// UUIDv7. Time, when zero, is set to the time of the append.
	//
	// Idempotency: if every event id is already in stream, at the same
	// consecutive versions and in the same order, Append writes nothing and
	// returns the original result with Duplicate set — whatever expected
	// says, so a retry of a successful append always succeeds. If only some
	// ids are present, or present in another stream, it returns an
	// *IDConflictError. An id may appear once in a batch.
	//
	// A version mismatch returns *WrongExpectedVersionError. Invalid input
	// (empty batch, bad stream name, bad type, data that is not JSON) returns
	// an error wrapping ErrInvalid. Appending to a deleted stream recreates
	// it: versions go on from where the deleted stream ended.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events ...event.Proposed) (AppendResult, error)
}

// Reader reads events back.
type Reader interface {
	// ReadStream yields the events of stream from opts.From (a version) in
	// opts.Direction, up to opts.Limit events (0: no limit). Events hidden by
	// the stream's metadata (max age, max count, truncate before) are
	// skipped. A stream that does not exist or is deleted yields one
	// ErrStreamNotFound error. Backends read in pages, so a long read does not
	// hold the store.
	ReadStream(ctx context.Context, stream string, opts ReadOptions) iter.Seq2[event.Event, error]
	// ReadAll yields every event from position opts.From (inclusive; 0 is
	// the start) in opts.Direction, up to opts.Limit events. It includes
	// events that stream metadata or deletion hide from ReadStream until the
	// backend removes them for good.
	ReadAll(ctx context.Context, opts ReadOptions) iter.Seq2[event.Event, error]
	// StreamVersion returns the current version of stream (the version of
	// its last event), or NoStreamVersion if it has no events or is deleted.
	StreamVersion(ctx context.Context, stream string) (int64, error)
}

// Subscriber follows the log as it grows.
type Subscriber interface {
	// SubscribeAll yields every event from position from (inclusive; 0 is
	// the start): first those already stored (catch-up), then new ones as
	// they commit (live), with no gap and no duplicate at the switch. It ends
	// only when ctx is done (yielding ctx.Err()), the store closes (yielding
	// ErrClosed), the consumer breaks out of the loop, or on a read error. A
	// slow consumer slows only itself.
	SubscribeAll(ctx context.Context, from uint64) iter.Seq2[event.Event, error]
}

// StreamAdmin manages streams' lifetimes.
type StreamAdmin interface {
	// SetStreamMetadata replaces the metadata of stream, which need not
	// exist yet. It takes effect on reads at once.
	SetStreamMetadata(ctx context.Context, stream string, md StreamMetadata) error
	// StreamMetadata returns the metadata of stream (zero if never set).
	StreamMetadata(ctx context.Context, stream string) (StreamMetadata, error)
	// DeleteStream deletes stream if its version matches expected: reads of
	// it return ErrStreamNotFound from then on. Appending again recreates
	// it, with versions continuing after the deleted ones. Deleting a stream
	// that does not exist returns ErrStreamNotFound.
	DeleteStream(ctx context.Context, stream string, expected ExpectedVersion) error
}

// ReadOptions selects a range of a stream or of all events.
type ReadOptions struct {
	// From is the first version (stream reads) or position (reads of all) to
	// return. Reading backwards, use End to start at the last event.
	From uint64
	// Direction is Forwards (default) or Backwards.
	Direction Direction
	// Limit caps the number of events; 0 means no limit.
	Limit int
}

// End, as ReadOptions.From, starts a backwards read at the last event.
const End = ^uint64(0)

// Direction of a read.
type Direction int8

// Directions.
const (
	Forwards Direction = iota
	Backwards
)

func (d Direction) String() string {
	if d == Backwards {
		return "backwards"
	}
	return "forwards"
}

// AppendResult says where appended events landed.
type AppendResult struct {
	// FirstVersion and LastVersion are the versions of the first and last
	// event of the batch in its stream.
	FirstVersion, LastVersion uint64
	// Positions holds the global position of each event, in batch order.
	Positions []uint64
	// Duplicate is set when every event was already stored: nothing was
	// written and the fields above describe the original append.
	Duplicate bool
}

// StreamMetadata limits what reads of a stream return. Hidden events stay
// in the log (ReadAll still sees them) until the backend removes them.
type StreamMetadata struct {
	// MaxAge hides events older than this; 0 means no limit.
	MaxAge time.Duration `json:"max_age,omitempty"`
	// MaxCount keeps only the newest MaxCount events visible; 0 means no limit.
	MaxCount uint64 `json:"max_count,omitempty"`
	// TruncateBefore hides events with a lower version; 0 hides nothing.
	TruncateBefore uint64 `json:"truncate_before,omitempty"`
}

// ExpectedVersion is the optimistic-concurrency condition of an append or
// delete: Any, NoStream, StreamExists, or an exact version (Exact(n)).
type ExpectedVersion int64

// Expected versions that are not exact.
const (
	// Any appends whatever the stream's state.
	Any ExpectedVersion = -2
	// NoStream requires that the stream has no events (or was deleted).
	NoStream ExpectedVersion = -1
	// StreamExists requires that the stream has at least one event.
	StreamExists ExpectedVersion = -4
)

// NoStreamVersion is the actual version of a stream with no events.
const NoStreamVersion int64 = -1

// Exact requires the stream's last event to have version v.
func Exact(v uint64) ExpectedVersion { return ExpectedVersion(v) }

func (x ExpectedVersion) String() string {
	switch {
	case x == Any:
		return "any"
	case x == NoStream:
		return "no-stream"
	case x == StreamExists:
		return "exists"
	case x >= 0:
		return strconv.FormatInt(int64(x), 10)
	}
	return fmt.Sprintf("invalid(%d)", int64(x))
}

// ParseExpectedVersion reads "any", "no-stream", "exists" or a version number.
func ParseExpectedVersion(s string) (ExpectedVersion, error) {
	switch s {
	case "any", "":
		return Any, nil
	case "no-stream":
		return NoStream, nil
	case "exists":
		return StreamExists, nil
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("expected version %q: want any, no-stream, exists or a version number (0 is the first event)", s)
	}
	return Exact(v), nil
}

// Check returns nil if a stream at version actual (NoStreamVersion if it
// has no events) satisfies x, else a *WrongExpectedVersionError.
func (x ExpectedVersion) Check(stream string, actual int64) error {
	ok := false
	switch {
	case x == Any:
		ok = true
	case x == NoStream:
		ok = actual == NoStreamVersion
	case x == StreamExists:
		ok = actual != NoStreamVersion
	case x >= 0:
		ok = int64(x) == actual
	default:
		return fmt.Errorf("%w: expected version %d is not any, no-stream, exists or a version number", ErrInvalid, int64(x))
	}
	if ok {
		return nil
	}
	return &WrongExpectedVersionError{Stream: stream, Expected: x, Actual: actual}
}

// Errors to branch on with errors.Is.
var (
	ErrStreamNotFound = errors.New("stream not found")
	ErrClosed         = errors.New("event store is closed")
	ErrInvalid        = errors.New("invalid request")
)

// WrongExpectedVersionError is returned when an append or delete finds the
// stream at another version than expected.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedVersion
	// Actual is the stream's current version, NoStreamVersion if none.
	Actual int64
}

func (e *WrongExpectedVersionError) Error() string {
	actual := "no stream"
	if e.Actual != NoStreamVersion {
		actual = "version " + strconv.FormatInt(e.Actual, 10)
	}
	return fmt.Sprintf("stream %q: expected version %s but it is at %s: read the stream again and retry with the version you saw", e.Stream, e.Expected, actual)
}

// IDConflictError is returned when an append reuses an event id in a way
// that is not an exact retry of an earlier append.
type IDConflictError struct {
	Stream string
	ID     string
	Reason string
}

func (e *IDConflictError) Error() string {
	return fmt.Sprintf("append to stream %q: event id %s %s: ids are idempotency keys, give new events new ids", e.Stream, e.ID, e.Reason)
}

// Head returns the position of the last event in the log, 0 when it is
// empty: where a reader that must see everything stored now waits to.
func Head(ctx context.Context, r Reader) (uint64, error) {
	for e, err := range r.ReadAll(ctx, ReadOptions{From: End, Direction: Backwards, Limit: 1}) {
		if err != nil {
			return 0, err
		}
		return e.Position, nil
	}
	return 0, nil
}

// PositionAt returns the position of the first event of the log at or
// after t, or Head+1 when there is none, by binary search over positions:
// events are appended in time order, so their times rise with their
// positions (but for events appended together, which share a commit).
func PositionAt(ctx context.Context, r Reader, t time.Time) (uint64, error) {
	head, err := Head(ctx, r)
	if err != nil {
		return 0, err
	}
	lo, hi := uint64(1), head+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		at := time.Time{}
		for e, err := range r.ReadAll(ctx, ReadOptions{From: mid, Limit: 1}) {
			if err != nil {
				return 0, err
			}
			mid, at = e.Position, e.Time // positions may have gaps
		}
		if at.IsZero() || !at.Before(t) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}
