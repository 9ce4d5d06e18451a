package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func init() {
	event.Register[Applied]("agent.applied", 1, "an agent was created or its definition changed (the whole new definition)")
	event.Register[Deleted]("agent.deleted", 1, "an agent was deleted")
}

// Applied is the agent.applied event: the whole definition, normalized,
// and its digest.
type Applied struct {
	Definition Definition `json:"definition"`
	Digest     string     `json:"digest"`
}

// Deleted is the agent.deleted event.
type Deleted struct {
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

// Stream is the event stream of the agent called name.
func Stream(name string) string { return "agent-" + name }

// Agent is an agent as the registry knows it.
type Agent struct {
	Definition Definition `json:"definition"`
	Digest     string     `json:"digest"`
	// Revision counts the definitions the agent has had, 1 for its first.
	Revision int `json:"revision"`
	// Version is the version of its stream's last event.
	Version   uint64    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// ErrNotFound is returned for an agent that does not exist.
var ErrNotFound = errors.New("no such agent")

// Registry is the set of agents, a projection of the agent events. Reads
// are safe for concurrent use with Apply; Put and Delete are serialized
// so that their check-then-append is not raced within the process, and
// expected versions guard against other writers.
type Registry struct {
	write sync.Mutex // held across Put's and Delete's check and append

	mu     sync.RWMutex
	agents map[string]*Agent
	// ended keeps the stream version of deleted agents: a new definition
	// of the same name continues the stream.
	ended map[string]uint64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{agents: map[string]*Agent{}, ended: map[string]uint64{}}
}

// Name implements projection.Projection.
func (r *Registry) Name() string { return "core.agents" }

// Apply implements projection.Projection. An event the registry has
// already seen (its stream version is not newer) is skipped, so Put's own
// events, applied at once, are harmless when the runner brings them again.
func (r *Registry) Apply(e *event.Event) error {
	name, ok := strings.CutPrefix(e.Stream, "agent-")
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, known := r.version(name); known && e.StreamVersion <= v {
		return nil
	}
	switch e.Type {
	case "agent.applied":
		var a Applied
		if err := json.Unmarshal(e.Data, &a); err != nil {
			return fmt.Errorf("agent.applied at %d: %w", e.Position, err)
		}
		next := &Agent{Definition: a.Definition, Digest: a.Digest, Revision: 1, Version: e.StreamVersion,
			CreatedAt: e.Time, UpdatedAt: e.Time, UpdatedBy: e.Metadata.Actor}
		if old, ok := r.agents[name]; ok {
			next.Revision, next.CreatedAt = old.Revision+1, old.CreatedAt
		}
		r.agents[name] = next
		delete(r.ended, name)
	case "agent.deleted":
		delete(r.agents, name)
		r.ended[name] = e.StreamVersion
	default:
		// Another event on an agent's stream (a later schema, say) moves
		// its version on, so expected versions stay right.
		if a, ok := r.agents[name]; ok {
			c := *a
			c.Version = e.StreamVersion
			r.agents[name] = &c
		}
	}
	return nil
}

// version is the last stream version the registry has of name; r.mu held.
func (r *Registry) version(name string) (uint64, bool) {
	if a, ok := r.agents[name]; ok {
		return a.Version, true
	}
	v, ok := r.ended[name]
	return v, ok
}

type snapshot struct {
	Agents []Agent           `json:"agents"`
	Ended  map[string]uint64 `json:"ended,omitempty"`
}

// Snapshot implements projection.Projection.
func (r *Registry) Snapshot() ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := snapshot{Ended: r.ended}
	for _, a := range r.agents {
		s.Agents = append(s.Agents, *a)
	}
	return json.Marshal(s)
}

// Restore implements projection.Projection.
func (r *Registry) Restore(state []byte) error {
	var s snapshot
	if state != nil {
		if err := json.Unmarshal(state, &s); err != nil {
			return fmt.Errorf("restore agents: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.agents = make(map[string]*Agent, len(s.Agents))
	for i := range s.Agents {
		r.agents[s.Agents[i].Definition.Name] = &s.Agents[i]
	}
	r.ended = s.Ended
	if r.ended == nil {
		r.ended = map[string]uint64{}
	}
	return nil
}

// Get returns the agent called name. The Agent must not be modified.
func (r *Registry) Get(name string) (*Agent, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.agents[name]
	return a, ok
}

// List returns every agent, by name.
func (r *Registry) List() []Agent {
	r.mu.RLock()
	out := make([]Agent, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, *a)
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b Agent) int { return strings.Compare(a.Definition.Name, b.Definition.Name) })
	return out
}

// PutResult is what Put did.
type PutResult struct {
	Agent Agent `json:"agent"`
	// Created: the agent did not exist; Changed: a new definition was
	// stored (also when Created). Neither: it was already so.
	Created bool `json:"created"`
	Changed bool `json:"changed"`
	// Diff is how the new definition differs from the old one.
	Diff []Change `json:"diff"`
}

// Put stores d as the definition of its agent, if it differs from the
// current one: applying the same definition twice writes one event. With
// dryRun it only says what it would do.
func (r *Registry) Put(ctx context.Context, app eventstore.Appender, d Definition, actor string, now time.Time, dryRun bool) (PutResult, error) {
	if err := d.Validate(); err != nil {
		return PutResult{}, err
	}
	d = d.Normalized()
	r.write.Lock()
	defer r.write.Unlock()
	r.mu.RLock()
	old, exists := r.agents[d.Name]
	ver, known := r.version(d.Name)
	r.mu.RUnlock()
	res := PutResult{Created: !exists}
	var before *Definition
	if exists {
		before = &old.Definition
	}
	res.Diff = Diff(before, &d)
	digest := d.Digest()
	if exists && old.Digest == digest {
		res.Agent = *old
		return res, nil
	}
	res.Changed = true
	if dryRun {
		res.Agent = Agent{Definition: d, Digest: digest}
		if exists {
			res.Agent.Revision, res.Agent.CreatedAt = old.Revision, old.CreatedAt
		}
		return res, nil
	}
	p, err := event.New("agent.applied", Applied{Definition: d, Digest: digest}, event.Metadata{Actor: actor, Agent: d.Name})
	if err != nil {
		return PutResult{}, err
	}
	p.Time = now.UTC() // the time the registry applies below: a rebuild reads the same
	expected := eventstore.NoStream
	if known {
		expected = eventstore.Exact(ver)
	}
	ar, err := app.Append(ctx, Stream(d.Name), expected, p)
	if err != nil {
		return PutResult{}, fmt.Errorf("store agent %s: %w", d.Name, err)
	}
	ev := event.Event{ID: p.ID, Type: p.Type, Stream: Stream(d.Name), StreamVersion: ar.FirstVersion, Data: p.Data, Metadata: p.Metadata, Time: now.UTC()}
	if err := r.Apply(&ev); err != nil {
		return PutResult{}, err
	}
	a, _ := r.Get(d.Name)
	res.Agent = *a
	return res, nil
}

// Delete appends agent.deleted for the agent called name. Its stream
// and history stay.
func (r *Registry) Delete(ctx context.Context, app eventstore.Appender, name, reason, actor string, now time.Time) error {
	r.write.Lock()
	defer r.write.Unlock()
	a, ok := r.Get(name)
	if !ok {
		return fmt.Errorf("agent %q: %w; list agents with `switchyard agent list`", name, ErrNotFound)
	}
	p, err := event.New("agent.deleted", Deleted{Name: name, Reason: reason}, event.Metadata{Actor: actor, Agent: name})
	if err != nil {
		return err
	}
	p.Time = now.UTC()
	ar, err := app.Append(ctx, Stream(name), eventstore.Exact(a.Version), p)
	if err != nil {
		return fmt.Errorf("store deletion of agent %s: %w", name, err)
	}
	return r.Apply(&event.Event{ID: p.ID, Type: p.Type, Stream: Stream(name), StreamVersion: ar.FirstVersion, Data: p.Data, Metadata: p.Metadata, Time: now.UTC()})
}
