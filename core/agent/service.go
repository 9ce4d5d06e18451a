package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/eventstore"
)

// Store is what the agent service needs of the event log.
type Store interface {
	eventstore.Appender
	eventstore.Reader
}

// Service is the agents' API over a registry and the log it projects.
type Service struct {
	Registry *Registry
	Store    Store
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// List returns every agent, by name.
func (s *Service) List() []Agent { return s.Registry.List() }

// Get returns the agent called name.
func (s *Service) Get(name string) (*Agent, bool) { return s.Registry.Get(name) }

// Put stores a definition (see Registry.Put).
func (s *Service) Put(ctx context.Context, d Definition, actor string, dryRun bool) (PutResult, error) {
	return s.Registry.Put(ctx, s.Store, d, actor, s.now(), dryRun)
}

// Delete deletes an agent (see Registry.Delete).
func (s *Service) Delete(ctx context.Context, name, reason, actor string) error {
	return s.Registry.Delete(ctx, s.Store, name, reason, actor, s.now())
}

// Revision is one entry of an agent's history.
type Revision struct {
	Version uint64    `json:"version"`
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Diff is how this definition differs from the one before it.
	Diff []Change `json:"diff,omitempty"`
}

// History reads the agent's stream: every definition it had and its
// deletions, oldest first, each with what changed.
func (s *Service) History(ctx context.Context, name string) ([]Revision, error) {
	var out []Revision
	var prev *Definition
	for e, err := range s.Store.ReadStream(ctx, Stream(name), eventstore.ReadOptions{}) {
		if err != nil {
			return nil, err
		}
		r := Revision{Version: e.StreamVersion, Type: e.Type, Time: e.Time, Actor: e.Metadata.Actor}
		switch e.Type {
		case "agent.applied":
			var a Applied
			if err := json.Unmarshal(e.Data, &a); err != nil {
				return nil, fmt.Errorf("%s version %d: %w", e.Stream, e.StreamVersion, err)
			}
			r.Digest, r.Diff = a.Digest, Diff(prev, &a.Definition)
			prev = &a.Definition
		case "agent.deleted":
			var d Deleted
			_ = json.Unmarshal(e.Data, &d)
			r.Reason = d.Reason
			prev = nil
		}
		out = append(out, r)
	}
	return out, nil
}
