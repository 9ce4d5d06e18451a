package eventstoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// testType is the event type of the events the suite writes.
const testType = "conformance.test"

// proposals returns n events with new ids, data naming tag and index, and
// every metadata field set, so that round trips are checked everywhere.
func proposals(n int, tag string) []event.Proposed {
	out := make([]event.Proposed, n)
	for i := range out {
		out[i] = event.Proposed{
			ID:   event.NewID(),
			Type: testType,
			Data: fmt.Appendf(nil, `{"tag":%q,"i":%d}`, tag, i),
			Metadata: event.Metadata{
				CorrelationID: "corr-" + tag,
				CausationID:   fmt.Sprintf("cause-%s-%d", tag, i),
				Actor:         "system",
				Agent:         "agent-conformance",
				Session:       "session-" + tag,
				Team:          "team-a",
				User:          "user-b",
				Traceparent:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				Schema:        1 + i%3,
			},
		}
	}
	return out
}

// holding returns the exact expected version of a stream holding n events.
func holding(n int) eventstore.ExpectedVersion {
	if n == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(uint64(n) - 1)
}

// mustAppend appends events and fails t unless it succeeds as a new write.
func mustAppend(t *testing.T, ctx context.Context, s eventstore.Store, stream string, expected eventstore.ExpectedVersion, events ...event.Proposed) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, stream, expected, events...)
	if err != nil {
		t.Fatalf("Append(%q, expected %s, %d events): %v", stream, expected, len(events), err)
	}
	if res.Duplicate {
		t.Fatalf("Append(%q, expected %s, %d new events): Duplicate is set on a first write: %+v", stream, expected, len(events), res)
	}
	return res
}

// checkResult checks that res describes a new append of n events at
// versions first..first+n-1 with positions that are non-zero and strictly
// increasing.
func checkResult(t *testing.T, what string, res eventstore.AppendResult, first uint64, n int) bool {
	t.Helper()
	ok := true
	if res.Duplicate {
		t.Errorf("%s: Duplicate is set on a new write", what)
		ok = false
	}
	if res.FirstVersion != first || res.LastVersion != first+uint64(n)-1 {
		t.Errorf("%s: versions %d..%d, want %d..%d", what, res.FirstVersion, res.LastVersion, first, first+uint64(n)-1)
		ok = false
	}
	if len(res.Positions) != n {
		t.Errorf("%s: %d positions %v for %d events", what, len(res.Positions), res.Positions, n)
		return false
	}
	for i, p := range res.Positions {
		if p == 0 {
			t.Errorf("%s: position %d is 0, which is never used", what, i)
			ok = false
		}
		if i > 0 && p <= res.Positions[i-1] {
			t.Errorf("%s: positions %v do not strictly increase", what, res.Positions)
			ok = false
		}
	}
	return ok
}

// expect returns the events a read should return for proposed events that
// an append with result res wrote to stream. Fields the suite cannot know
// (hashes; ids and times the store assigns) are left zero, and eventDiff
// checks only that the store set them.
func expect(stream string, res eventstore.AppendResult, proposed ...event.Proposed) []event.Event {
	out := make([]event.Event, len(proposed))
	for i, p := range proposed {
		out[i] = event.Event{
			ID:            p.ID,
			Type:          p.Type,
			Stream:        stream,
			StreamVersion: res.FirstVersion + uint64(i),
			Time:          p.Time,
			Data:          p.Data,
			Metadata:      p.Metadata,
		}
		if i < len(res.Positions) {
			out[i].Position = res.Positions[i]
		}
	}
	return out
}

// eventDiff describes how got differs from want, or returns "". Zero fields
// of want (id, position, time, hashes) are only required to be set in got.
func eventDiff(got, want *event.Event) string {
	if want.ID != uuid.Nil && got.ID != want.ID {
		// Another event altogether: say which, not how every field differs.
		return fmt.Sprintf("got event %s (%s@%d at position %d), want %s (%s@%d at position %d)",
			got.ID, got.Stream, got.StreamVersion, got.Position, want.ID, want.Stream, want.StreamVersion, want.Position)
	}
	var d []string
	if want.ID == uuid.Nil && (got.ID == uuid.Nil || got.ID.Version() != 7) {
		d = append(d, fmt.Sprintf("id %s is not a UUIDv7", got.ID))
	}
	if got.Type != want.Type {
		d = append(d, fmt.Sprintf("type %q, want %q", got.Type, want.Type))
	}
	if got.Stream != want.Stream {
		d = append(d, fmt.Sprintf("stream %q, want %q", got.Stream, want.Stream))
	}
	if got.StreamVersion != want.StreamVersion {
		d = append(d, fmt.Sprintf("version %d, want %d", got.StreamVersion, want.StreamVersion))
	}
	switch {
	case want.Position != 0 && got.Position != want.Position:
		d = append(d, fmt.Sprintf("position %d, want %d", got.Position, want.Position))
	case got.Position == 0:
		d = append(d, "position is 0, which is never used")
	}
	switch {
	case !want.Time.IsZero() && !got.Time.Equal(want.Time):
		d = append(d, fmt.Sprintf("time %s, want %s", got.Time.Format(time.RFC3339Nano), want.Time.Format(time.RFC3339Nano)))
	case got.Time.IsZero():
		d = append(d, "time is zero: the store must set it")
	}
	if !bytes.Equal(got.Data, want.Data) {
		d = append(d, fmt.Sprintf("data %q, want %q (byte for byte)", got.Data, want.Data))
	}
	if got.Metadata != want.Metadata {
		d = append(d, fmt.Sprintf("metadata %+v, want %+v", got.Metadata, want.Metadata))
	}
	if !want.Hash.IsZero() {
		if got.Hash != want.Hash {
			d = append(d, fmt.Sprintf("hash %s, want %s", got.Hash, want.Hash))
		}
		if got.PrevHash != want.PrevHash {
			d = append(d, fmt.Sprintf("prev_hash %s, want %s", got.PrevHash, want.PrevHash))
		}
	}
	return strings.Join(d, "; ")
}

// sameEvents checks got against want, event by event.
func sameEvents(t *testing.T, what string, got, want []event.Event) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d events %s, want %d %s", what, len(got), summary(got), len(want), summary(want))
		return false
	}
	ok := true
	for i := range want {
		if d := eventDiff(&got[i], &want[i]); d != "" {
			t.Errorf("%s: event %d (%s@%d): %s", what, i, want[i].Stream, want[i].StreamVersion, d)
			ok = false
		}
	}
	return ok
}

// summary lists events briefly for failure messages.
func summary(evs []event.Event) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range evs {
		if i == 12 {
			fmt.Fprintf(&b, " ... %d more", len(evs)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s@%d#%d", e.Stream, e.StreamVersion, e.Position)
	}
	b.WriteByte(']')
	return b.String()
}

func versionsOf(evs []event.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i := range evs {
		out[i] = evs[i].StreamVersion
	}
	return out
}

func positionsOf(evs []event.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i := range evs {
		out[i] = evs[i].Position
	}
	return out
}

// span returns the versions from..to, counting down if from > to.
func span(from, to uint64) []uint64 {
	var out []uint64
	for v := from; ; {
		out = append(out, v)
		if v == to {
			return out
		}
		if from <= to {
			v++
		} else {
			v--
		}
	}
}

// ofStream keeps the events of the given streams.
func ofStream(evs []event.Event, streams ...string) []event.Event {
	var out []event.Event
	for _, e := range evs {
		if slices.Contains(streams, e.Stream) {
			out = append(out, e)
		}
	}
	return out
}

// yielded is what an iterator yielded, in order.
type yielded struct {
	events []event.Event
	// errs are the errors yielded; afterErr counts yields of any kind that
	// followed the first error.
	errs     []error
	afterErr int
}

// err returns the first error yielded.
func (y *yielded) err() error {
	if len(y.errs) == 0 {
		return nil
	}
	return y.errs[0]
}

// maxYields stops an iterator that never ends.
const maxYields = 1 << 20

// drain runs seq to its end in another goroutine, calling body (if not nil)
// for each event; body returning false breaks out of the loop. It fails t if
// the iteration does not end within waitTimeout. body runs on the iterating
// goroutine and must not call t.Fatal.
func drain(t *testing.T, seq iter.Seq2[event.Event, error], body func(e event.Event) bool) yielded {
	t.Helper()
	done := make(chan yielded, 1)
	go func() {
		var y yielded
		n := 0
		for e, err := range seq {
			if n++; n > maxYields {
				break
			}
			if len(y.errs) > 0 {
				y.afterErr++
			}
			if err != nil {
				y.errs = append(y.errs, err)
				continue
			}
			if len(y.errs) > 0 {
				continue
			}
			y.events = append(y.events, e)
			if body != nil && !body(e) {
				break
			}
		}
		done <- y
	}()
	select {
	case y := <-done:
		return y
	case <-time.After(waitTimeout):
		t.Fatalf("an iterator did not end within %v", waitTimeout)
		return yielded{}
	}
}

// collect reads seq to its end. An error must be the last thing yielded.
func collect(t *testing.T, what string, seq iter.Seq2[event.Event, error]) ([]event.Event, error) {
	t.Helper()
	y := drain(t, seq, nil)
	if y.afterErr > 0 {
		t.Errorf("%s: %d more yields after the error %v: an error must be the last yield", what, y.afterErr, y.err())
	}
	return y.events, y.err()
}

func readStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string, opts eventstore.ReadOptions) ([]event.Event, error) {
	t.Helper()
	return collect(t, fmt.Sprintf("ReadStream(%q, %+v)", stream, opts), s.ReadStream(ctx, stream, opts))
}

func mustReadStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string, opts eventstore.ReadOptions) []event.Event {
	t.Helper()
	evs, err := readStream(t, ctx, s, stream, opts)
	if err != nil {
		t.Fatalf("ReadStream(%q, %+v): %v", stream, opts, err)
	}
	return evs
}

func mustReadAll(t *testing.T, ctx context.Context, s eventstore.Store, opts eventstore.ReadOptions) []event.Event {
	t.Helper()
	evs, err := collect(t, fmt.Sprintf("ReadAll(%+v)", opts), s.ReadAll(ctx, opts))
	if err != nil {
		t.Fatalf("ReadAll(%+v): %v", opts, err)
	}
	return evs
}

// checkNotFound checks that reads of stream in both directions yield one
// ErrStreamNotFound and nothing else, and that StreamVersion says there is
// no stream.
func checkNotFound(t *testing.T, ctx context.Context, s eventstore.Store, stream string) {
	t.Helper()
	for _, opts := range []eventstore.ReadOptions{{}, {From: eventstore.End, Direction: eventstore.Backwards}} {
		y := drain(t, s.ReadStream(ctx, stream, opts), nil)
		if len(y.events) != 0 || len(y.errs) != 1 || y.afterErr != 0 || !errors.Is(y.err(), eventstore.ErrStreamNotFound) {
			t.Errorf("ReadStream(%q, %s) of a missing stream: got events %s, errors %v (%d yields after the first); want one ErrStreamNotFound",
				stream, opts.Direction, summary(y.events), y.errs, y.afterErr)
		}
	}
	checkVersion(t, ctx, s, stream, eventstore.NoStreamVersion)
}

// checkVersion checks StreamVersion(stream).
func checkVersion(t *testing.T, ctx context.Context, s eventstore.Store, stream string, want int64) {
	t.Helper()
	v, err := s.StreamVersion(ctx, stream)
	if err != nil || v != want {
		t.Errorf("StreamVersion(%q) = %d, %v; want %d, nil", stream, v, err, want)
	}
}

// checkStream reads stream forwards and checks it is exactly want.
func checkStream(t *testing.T, ctx context.Context, s eventstore.Store, stream string, want []event.Event) bool {
	t.Helper()
	return sameEvents(t, fmt.Sprintf("ReadStream(%q)", stream), mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{}), want)
}

// wrongVersion checks that err is a *WrongExpectedVersionError with the
// given fields.
func wrongVersion(t *testing.T, what string, err error, stream string, expected eventstore.ExpectedVersion, actual int64) bool {
	t.Helper()
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		t.Errorf("%s: got error %v (%T), want a *eventstore.WrongExpectedVersionError", what, err, err)
		return false
	}
	if wev.Stream != stream || wev.Expected != expected || wev.Actual != actual {
		t.Errorf("%s: got WrongExpectedVersionError{Stream: %q, Expected: %s, Actual: %d}, want {%q, %s, %d}",
			what, wev.Stream, wev.Expected, wev.Actual, stream, expected, actual)
		return false
	}
	return true
}

// idConflict checks that err is an *IDConflictError for stream naming one
// of ids.
func idConflict(t *testing.T, what string, err error, stream string, ids ...uuid.UUID) bool {
	t.Helper()
	var ice *eventstore.IDConflictError
	if !errors.As(err, &ice) {
		t.Errorf("%s: got error %v (%T), want an *eventstore.IDConflictError", what, err, err)
		return false
	}
	if ice.Stream != stream || !slices.ContainsFunc(ids, func(id uuid.UUID) bool { return ice.ID == id.String() }) {
		t.Errorf("%s: got IDConflictError{Stream: %q, ID: %q}, want stream %q and one of the ids %v", what, ice.Stream, ice.ID, stream, ids)
		return false
	}
	return true
}

// subscription consumes SubscribeAll on its own goroutine and hands events
// to the test one at a time, so the test can wait with a timeout, append
// while the subscription waits, cancel it or break out of its loop.
type subscription struct {
	events chan event.Event
	done   chan struct{}
	stop   chan struct{}
	halt   func()
	// Set by the goroutine before done closes.
	err      error
	afterErr int
	// last is the position of the last event received, for order checks.
	last uint64
	n    int
}

// subscribe starts SubscribeAll(ctx, from).
func subscribe(t *testing.T, ctx context.Context, s eventstore.Store, from uint64) *subscription {
	sub := &subscription{events: make(chan event.Event), done: make(chan struct{}), stop: make(chan struct{})}
	var once sync.Once
	sub.halt = func() { once.Do(func() { close(sub.stop) }) }
	t.Cleanup(sub.halt)
	go func() {
		defer close(sub.done)
		n := 0
		for e, err := range s.SubscribeAll(ctx, from) {
			if n++; n > maxYields {
				return
			}
			if sub.err != nil {
				sub.afterErr++
				continue
			}
			if err != nil {
				sub.err = err
				continue
			}
			// Once halted, break at the next event, even if end is
			// taking events.
			select {
			case <-sub.stop:
				return // breaks out of the loop
			default:
			}
			select {
			case sub.events <- e:
			case <-sub.stop:
				return
			}
		}
	}()
	return sub
}

// next returns the next event, failing t if the subscription ends or
// nothing comes within waitTimeout. It checks that positions strictly
// increase.
func (sub *subscription) next(t *testing.T) event.Event {
	t.Helper()
	select {
	case e := <-sub.events:
		sub.took(t, e)
		return e
	case <-sub.done:
		t.Fatalf("subscription ended early after %d events: %v", sub.n, sub.err)
	case <-time.After(waitTimeout):
		t.Fatalf("subscription: no event within %v after %d events", waitTimeout, sub.n)
	}
	panic("unreachable")
}

// took checks and counts an event received from sub.events.
func (sub *subscription) took(t *testing.T, e event.Event) {
	t.Helper()
	if sub.n > 0 && e.Position <= sub.last {
		t.Fatalf("subscription: position %d (%s@%d) after position %d: positions must strictly increase", e.Position, e.Stream, e.StreamVersion, sub.last)
	}
	if e.Position == 0 {
		t.Fatalf("subscription: event %s@%d has position 0", e.Stream, e.StreamVersion)
	}
	sub.last = e.Position
	sub.n++
}

// expectStream consumes events until it has seen want, the next events of
// their stream, in order; it fails at once on a missing, repeated or
// unexpected event of that stream. Events of other streams pass by.
func (sub *subscription) expectStream(t *testing.T, want []event.Event) {
	t.Helper()
	for i := 0; i < len(want); {
		e := sub.next(t)
		if e.Stream != want[i].Stream {
			continue
		}
		if d := eventDiff(&e, &want[i]); d != "" {
			t.Fatalf("subscription: event %d of %q: %s", i, want[i].Stream, d)
		}
		i++
	}
}

// end waits for the subscription to end, throwing away events still
// coming, and returns how many events it threw away and its last error.
func (sub *subscription) end(t *testing.T) (int, error) {
	t.Helper()
	timeout := time.After(waitTimeout)
	dropped := 0
	for {
		select {
		case <-sub.events:
			dropped++
		case <-sub.done:
			if sub.afterErr > 0 {
				t.Errorf("subscription: %d more yields after the error %v: an error must be the last yield", sub.afterErr, sub.err)
			}
			return dropped, sub.err
		case <-timeout:
			t.Fatalf("subscription did not end within %v", waitTimeout)
		}
	}
}

// guard runs fn on another goroutine and fails t if it does not return
// within waitTimeout, or returns an error: for calls that must not block.
func guard(t *testing.T, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not return within %v", what, waitTimeout)
	}
}
