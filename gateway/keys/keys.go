// Package keys holds the gateway's virtual keys: secrets handed to clients
// (Claude Code, Codex, scripts) that say who is calling, what they may call
// and what they may spend.
//
// A key's secret is shown once, at creation; the gateway keeps only its
// SHA-256. Keys live in the event log (stream "key-<id>", events
// key.created and key.revoked), so the registry is a projection rebuilt on
// start-up and every change to a key is in the audit trail.
package keys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func init() {
	event.Register[Created]("key.created", 1, "a virtual key was created (its hash, never its secret)")
	event.Register[Revoked]("key.revoked", 1, "a virtual key was revoked")
}

// SecretPrefix starts every key secret, so a leaked one is recognisable.
const SecretPrefix = "sy-"

// Spec is what a key is created with.
type Spec struct {
	// Name is a label for people ("ci", "alice laptop").
	Name  string `json:"name"`
	Team  string `json:"team,omitempty"`
	User  string `json:"user,omitempty"`
	Agent string `json:"agent,omitempty"`
	// Tags are attached to every call made with the key.
	Tags map[string]string `json:"tags,omitempty"`
	// Models lists the model names the key may ask for; a name may end
	// in "*". Empty allows every model.
	Models []string `json:"models,omitempty"`
	// MaxBudgetUSD caps the key's spend per BudgetPeriod ("total", "day",
	// "month"; default total). 0 means no cap.
	MaxBudgetUSD float64 `json:"max_budget_usd,omitempty"`
	BudgetPeriod string  `json:"budget_period,omitempty"`
	// RPM and TPM limit requests and tokens per minute; 0 means none.
	RPM int `json:"rpm,omitempty"`
	TPM int `json:"tpm,omitempty"`
	// ExpiresAt, if set, ends the key's validity.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Validate reports a spec that cannot work.
func (s *Spec) Validate() error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return errors.New("name is required: a label that says who or what uses the key")
	case s.MaxBudgetUSD < 0:
		return fmt.Errorf("max_budget_usd %v is negative", s.MaxBudgetUSD)
	case s.RPM < 0 || s.TPM < 0:
		return errors.New("rpm and tpm must not be negative")
	}
	switch s.BudgetPeriod {
	case "", "total", "day", "month":
	default:
		return fmt.Errorf("budget_period %q: use total, day or month", s.BudgetPeriod)
	}
	for _, m := range s.Models {
		if m == "" || strings.Contains(strings.TrimSuffix(m, "*"), "*") {
			return fmt.Errorf("models: %q is not a model name or a name ending in *", m)
		}
	}
	return nil
}

// Key is a virtual key as the gateway knows it.
type Key struct {
	ID string `json:"id"`
	Spec
	// Hash is the hex SHA-256 of the secret; Prefix its first characters,
	// for people to tell keys apart.
	Hash      string    `json:"hash"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Active reports whether the key may be used at t.
func (k *Key) Active(t time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || t.Before(k.ExpiresAt))
}

// Allows reports whether the key may ask for model.
func (k *Key) Allows(model string) bool {
	if len(k.Models) == 0 {
		return true
	}
	for _, m := range k.Models {
		if m == model {
			return true
		}
		if p, ok := strings.CutSuffix(m, "*"); ok && strings.HasPrefix(model, p) {
			return true
		}
		if ok, _ := path.Match(m, model); ok {
			return true
		}
	}
	return false
}

// Created is the key.created event. It carries the hash, never the secret.
type Created struct {
	Key
}

// Revoked is the key.revoked event.
type Revoked struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// Stream is the event stream of key id.
func Stream(id string) string { return "key-" + id }

// HashSecret is the stored form of a secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret makes a key id and secret: 24 random bytes, URL-safe.
func NewSecret() (id, secret string) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	secret = SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	id = "key_" + strings.ReplaceAll(event.NewID().String(), "-", "")[20:]
	return id, secret
}

// Registry is the set of keys, a projection of the key events. Lookups
// are safe for concurrent use with Apply.
type Registry struct {
	mu     sync.RWMutex
	byHash map[string]*Key
	byID   map[string]*Key
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byHash: map[string]*Key{}, byID: map[string]*Key{}}
}

// Name implements projection.Projection.
func (r *Registry) Name() string { return "gateway.keys" }

// Apply implements projection.Projection. Applying the same event twice is
// harmless.
func (r *Registry) Apply(e *event.Event) error {
	switch e.Type {
	case "key.created":
		var c Created
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return fmt.Errorf("key.created at %d: %w", e.Position, err)
		}
		k := c.Key
		r.mu.Lock()
		if old, ok := r.byID[k.ID]; ok {
			k.RevokedAt = old.RevokedAt
		}
		r.byID[k.ID] = &k
		r.byHash[k.Hash] = &k
		r.mu.Unlock()
	case "key.revoked":
		var v Revoked
		if err := json.Unmarshal(e.Data, &v); err != nil {
			return fmt.Errorf("key.revoked at %d: %w", e.Position, err)
		}
		r.mu.Lock()
		if k, ok := r.byID[v.ID]; ok && k.RevokedAt.IsZero() {
			c := *k
			c.RevokedAt = e.Time
			r.byID[v.ID] = &c
			r.byHash[c.Hash] = &c
		}
		r.mu.Unlock()
	}
	return nil
}

// Snapshot implements projection.Projection.
func (r *Registry) Snapshot() ([]byte, error) { return json.Marshal(r.List()) }

// Restore implements projection.Projection.
func (r *Registry) Restore(state []byte) error {
	var ks []Key
	if state != nil {
		if err := json.Unmarshal(state, &ks); err != nil {
			return fmt.Errorf("restore keys: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byHash = make(map[string]*Key, len(ks))
	r.byID = make(map[string]*Key, len(ks))
	for i := range ks {
		r.byHash[ks[i].Hash] = &ks[i]
		r.byID[ks[i].ID] = &ks[i]
	}
	return nil
}

// Lookup finds the key whose secret is secret. The returned Key must not
// be modified.
func (r *Registry) Lookup(secret string) (*Key, bool) {
	h := HashSecret(secret)
	r.mu.RLock()
	k, ok := r.byHash[h]
	r.mu.RUnlock()
	// The map lookup already matched the hash; the constant-time compare
	// documents that timing does not leak how much of a hash matched.
	if !ok || subtle.ConstantTimeCompare([]byte(k.Hash), []byte(h)) != 1 {
		return nil, false
	}
	return k, true
}

// Get returns the key with id.
func (r *Registry) Get(id string) (*Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.byID[id]
	return k, ok
}

// List returns every key, oldest first.
func (r *Registry) List() []Key {
	r.mu.RLock()
	out := make([]Key, 0, len(r.byID))
	for _, k := range r.byID {
		out = append(out, *k)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Create makes a key from spec, appends its key.created event and applies
// it to r. It returns the key and its secret, which is not kept anywhere.
func (r *Registry) Create(ctx context.Context, app eventstore.Appender, spec Spec, actor string, now time.Time) (Key, string, error) {
	if err := spec.Validate(); err != nil {
		return Key{}, "", err
	}
	if spec.BudgetPeriod == "" && spec.MaxBudgetUSD > 0 {
		spec.BudgetPeriod = "total"
	}
	id, secret := NewSecret()
	k := Key{ID: id, Spec: spec, Hash: HashSecret(secret), Prefix: secret[:len(SecretPrefix)+6], CreatedAt: now.UTC()}
	p, err := event.New("key.created", Created{Key: k}, event.Metadata{Actor: actor, Team: spec.Team, User: spec.User, Agent: spec.Agent})
	if err != nil {
		return Key{}, "", err
	}
	res, err := app.Append(ctx, Stream(id), eventstore.NoStream, p)
	if err != nil {
		return Key{}, "", fmt.Errorf("store key %s: %w", id, err)
	}
	ev := event.Event{ID: p.ID, Type: p.Type, Stream: Stream(id), Data: p.Data, Metadata: p.Metadata, Time: now}
	if len(res.Positions) > 0 {
		ev.Position = res.Positions[0]
	}
	if err := r.Apply(&ev); err != nil {
		return Key{}, "", err
	}
	return k, secret, nil
}

// ErrNotFound is returned for an unknown key id.
var ErrNotFound = errors.New("no such key")

// Revoke appends key.revoked for id and applies it.
func (r *Registry) Revoke(ctx context.Context, app eventstore.Appender, id, reason, actor string, now time.Time) error {
	k, ok := r.Get(id)
	if !ok {
		return fmt.Errorf("revoke %q: %w; list keys with `switchyard keys list`", id, ErrNotFound)
	}
	if !k.RevokedAt.IsZero() {
		return nil
	}
	p, err := event.New("key.revoked", Revoked{ID: id, Reason: reason}, event.Metadata{Actor: actor})
	if err != nil {
		return err
	}
	if _, err := app.Append(ctx, Stream(id), eventstore.StreamExists, p); err != nil {
		return fmt.Errorf("store revocation of %s: %w", id, err)
	}
	return r.Apply(&event.Event{ID: p.ID, Type: p.Type, Stream: Stream(id), Data: p.Data, Time: now})
}
