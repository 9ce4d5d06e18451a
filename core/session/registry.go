package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// ErrNotFound is returned for a session that does not exist.
var ErrNotFound = errors.New("no such session")

// Registry is the set of sessions, a projection of the session events.
// Its methods are safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	sessions map[string]*Session
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{sessions: map[string]*Session{}} }

// Name implements projection.Projection.
func (r *Registry) Name() string { return "core.sessions" }

// Apply implements projection.Projection. Events the registry has
// already folded (not newer than the session's version) are skipped, so
// a writer may apply its own events at once and the runner bring them
// again.
func (r *Registry) Apply(e *event.Event) error {
	id, ok := strings.CutPrefix(e.Stream, "session-")
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, exists := r.sessions[id]
	if exists && e.StreamVersion <= old.Version {
		return nil
	}
	if !exists && e.Type != "session.created" {
		return nil // not a session stream this build knows (or a deleted one's tail)
	}
	s := old
	switch {
	case !exists:
		s = &Session{}
	case atomic.LoadUint32(&old.lent) == 1:
		// Get handed it out, and a session handed out does not change:
		// the registry goes on with a copy. The others change in place
		// (a copy an event was a third of the registry's rebuild).
		c := *old
		c.lent = 0
		s = &c
	}
	if err := s.apply(e); err != nil {
		return err
	}
	r.sessions[id] = s
	return nil
}

// Snapshot implements projection.Projection.
func (r *Registry) Snapshot() ([]byte, error) { return json.Marshal(r.List(Filter{})) }

// Restore implements projection.Projection.
func (r *Registry) Restore(state []byte) error {
	var ss []Session
	if state != nil {
		if err := json.Unmarshal(state, &ss); err != nil {
			return fmt.Errorf("restore sessions: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = make(map[string]*Session, len(ss))
	for i := range ss {
		r.sessions[ss[i].ID] = &ss[i]
	}
	return nil
}

// Get returns session id. The Session must not be modified.
func (r *Registry) Get(id string) (*Session, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.sessions[id]
	if ok {
		atomic.StoreUint32(&s.lent, 1)
	}
	return s, ok
}

// Filter selects sessions; zero fields select all.
type Filter struct {
	Agent  string
	Status Status
}

// List returns the sessions f selects, oldest first.
func (r *Registry) List(f Filter) []Session {
	r.mu.RLock()
	out := make([]Session, 0, len(r.sessions))
	for _, s := range r.sessions {
		if (f.Agent == "" || s.Agent == f.Agent) && (f.Status == "" || s.Status == f.Status) {
			c := *s
			c.lent = 0
			out = append(out, c)
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Append writes events to session id's stream at the version the
// registry knows (or as its first events) and folds them in. A writer
// that lost a race gets the store's *WrongExpectedVersionError and
// nothing is written.
func (r *Registry) Append(ctx context.Context, app eventstore.Appender, id string, now time.Time, evs ...event.Proposed) error {
	expected := eventstore.NoStream
	if s, ok := r.Get(id); ok {
		expected = eventstore.Exact(s.Version)
	}
	for i := range evs {
		if evs[i].Time.IsZero() {
			evs[i].Time = now.UTC()
		}
		if evs[i].ID == uuid.Nil {
			evs[i].ID = event.NewID()
		}
	}
	res, err := app.Append(ctx, Stream(id), expected, evs...)
	if err != nil {
		return fmt.Errorf("session %s: %w", id, err)
	}
	for i, p := range evs {
		e := event.Event{ID: p.ID, Type: p.Type, Stream: Stream(id), StreamVersion: res.FirstVersion + uint64(i),
			Position: res.Positions[i], Time: p.Time, Data: p.Data, Metadata: p.Metadata}
		if err := r.Apply(&e); err != nil {
			return err
		}
	}
	return nil
}

// InterruptRunning marks every session that the log says is running as
// interrupted: called when a server starts, before it runs any session,
// none of them can still have its harness. It returns the ids marked.
//
// This assumes one server per store. With several, each would have to
// interrupt only the sessions of its own node (TurnStarted.Node).
func (r *Registry) InterruptRunning(ctx context.Context, app eventstore.Appender, reason string, now time.Time) ([]string, error) {
	var ids []string
	var errs []error
	for _, s := range r.List(Filter{Status: StatusRunning}) {
		p, err := event.New("session.interrupted", Interrupted{Turn: s.Turns, Reason: reason},
			event.Metadata{Actor: "system", Agent: s.Agent, Session: s.ID})
		if err != nil {
			return nil, err
		}
		if err := r.Append(ctx, app, s.ID, now, p); err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, s.ID)
	}
	return ids, errors.Join(errs...)
}
