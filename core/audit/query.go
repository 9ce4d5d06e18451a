package audit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/projection"
)

// Filter selects entries. Empty fields select all.
type Filter struct {
	// Actor matches the actor exactly ("user:alice").
	Actor string
	// Target matches the target exactly ("agent:reviewer"), or every
	// target of a kind when it ends in ':' ("agent:").
	Target string
	// Action matches the event type exactly, or a family when it ends in
	// '.' ("routing.plugin.").
	Action string
	// Since and Until bound the time: [Since, Until).
	Since, Until time.Time
	// Limit keeps the last Limit entries; 0 keeps all.
	Limit int
}

// Report is the answer to a query: the entries, oldest first, and the
// state of the hash chains.
type Report struct {
	Entries []Entry `json:"entries"`
	Chains  Chains  `json:"chains"`
}

// Query returns the entries f selects.
func (m *Model) Query(f Filter) Report {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := Report{Entries: []Entry{}, Chains: Chains{Events: m.events, Streams: len(m.heads), Breaks: append([]Break{}, m.breaks...)}}
	for _, e := range m.entries {
		if f.matches(&e) {
			out.Entries = append(out.Entries, e)
		}
	}
	if f.Limit > 0 && len(out.Entries) > f.Limit {
		out.Entries = out.Entries[len(out.Entries)-f.Limit:]
	}
	return out
}

func (f *Filter) matches(e *Entry) bool {
	prefixOr := func(pattern, v string, sep string) bool {
		if pattern == "" {
			return true
		}
		if strings.HasSuffix(pattern, sep) {
			return strings.HasPrefix(v, pattern)
		}
		return v == pattern
	}
	return (f.Actor == "" || e.Actor == f.Actor) && prefixOr(f.Target, e.Target, ":") && prefixOr(f.Action, e.Action, ".") &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
}

// The snapshot: "audit1", uvarint(len) and the entries, breaks and count
// as JSON (few), then each stream's head in binary (many: one per stream
// of the log): uvarint(len) name, uvarint(version), 32 bytes of hash.
const snapshotMagic = "audit1"

type snapshotJSON struct {
	Entries []Entry `json:"entries"`
	Breaks  []Break `json:"breaks"`
	Events  uint64  `json:"events"`
}

// Snapshot implements projection.Projection.
func (m *Model) Snapshot() ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	j, err := json.Marshal(snapshotJSON{Entries: m.entries, Breaks: m.breaks, Events: m.events})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(j)+len(m.heads)*64)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, uint64(len(j)))
	b = append(b, j...)
	b = binary.AppendUvarint(b, uint64(len(m.heads)))
	for s, h := range m.heads {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
		b = binary.AppendUvarint(b, h.version)
		b = append(b, h.hash[:]...)
	}
	return b, nil
}

// Restore implements projection.Projection.
func (m *Model) Restore(state []byte) error {
	fresh := New()
	if state != nil {
		if err := fresh.restore(state); err != nil {
			return fmt.Errorf("restore the audit model: %w (rebuild it)", err)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries, m.heads, m.events, m.breaks = fresh.entries, fresh.heads, fresh.events, fresh.breaks
	return nil
}

func (m *Model) restore(b []byte) error {
	r := projection.NewSnapshotReader(b, snapshotMagic)
	j := r.Bytes(r.Uvarint())
	if err := r.Err(); err != nil {
		return err
	}
	var sj snapshotJSON
	if err := json.Unmarshal(j, &sj); err != nil {
		return err
	}
	m.entries, m.breaks, m.events = sj.Entries, sj.Breaks, sj.Events
	n := r.Uvarint()
	m.heads = make(map[string]head, min(n, 1<<20))
	for range n {
		s := r.String()
		h := head{version: r.Uvarint()}
		copy(h.hash[:], r.Bytes(32))
		if r.Err() != nil {
			break
		}
		m.heads[s] = h
	}
	return r.Done()
}
