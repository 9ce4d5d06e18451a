package audit

import (
	"cmp"
	"encoding/binary"
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
	out := Report{Entries: []Entry{}, Chains: Chains{Events: m.events, Streams: m.heads.Len(), Breaks: append([]Break{}, m.breaks...)}}
	for i := range m.entries.Len() {
		if e := m.entries.At(i); f.matches(e) {
			out.Entries = append(out.Entries, e.public())
		}
	}
	if f.Limit > 0 && len(out.Entries) > f.Limit {
		out.Entries = out.Entries[len(out.Entries)-f.Limit:]
	}
	return out
}

func (f *Filter) matches(e *entry) bool {
	prefixOr := func(pattern, v string, sep string) bool {
		if pattern == "" {
			return true
		}
		if strings.HasSuffix(pattern, sep) {
			return strings.HasPrefix(v, pattern)
		}
		return v == pattern
	}
	return (f.Actor == "" || e.actor == f.Actor) && prefixOr(f.Target, e.target, ":") && prefixOr(f.Action, e.action, ".") &&
		(f.Since.IsZero() || e.time >= f.Since.UnixNano()) && (f.Until.IsZero() || e.time < f.Until.UnixNano())
}

// The snapshot, in binary (a large log has hundreds of thousands of
// entries, which took seconds to write as JSON):
//
//	"audit2" uvarint(events)
//	uvarint(len(breaks)) { uvarint(position) string(stream) uvarint(version) string(event id) string(reason) }...
//	uvarint(len(entries)) { uvarint(position) uvarint(version) varint(time) string(actor action target detail stream)
//	                        16 bytes of id, 32 of hash }...
//	uvarint(len(heads)) { string(stream) uvarint(version) 32 bytes of hash }...
//
// where string is uvarint(len) and the bytes.
const snapshotMagic = "audit2"

// Snapshot implements projection.Projection.
func (m *Model) Snapshot() ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := make([]byte, 0, 64+(m.entries.Len()+m.heads.Len())*int(cmp.Or(m.snapPerEntry.Load(), 160*16))*9/8/16)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, m.events)
	b = binary.AppendUvarint(b, uint64(len(m.breaks)))
	for _, k := range m.breaks {
		b = binary.AppendUvarint(b, k.Position)
		b = str(b, k.Stream)
		b = binary.AppendUvarint(b, k.Version)
		b = str(b, k.EventID)
		b = str(b, k.Reason)
	}
	b = binary.AppendUvarint(b, uint64(m.entries.Len()))
	for i := range m.entries.Len() {
		e := m.entries.At(i)
		b = binary.AppendUvarint(b, e.position)
		b = binary.AppendUvarint(b, e.version)
		b = binary.AppendVarint(b, e.time)
		for _, s := range [...]string{e.actor, e.action, e.target, e.detail, e.stream} {
			b = str(b, s)
		}
		b = append(b, e.id[:]...)
		b = append(b, e.hash[:]...)
	}
	b = binary.AppendUvarint(b, uint64(m.heads.Len()))
	for i := range m.heads.Len() {
		h := m.heads.At(i)
		b = str(b, h.stream)
		b = binary.AppendUvarint(b, h.version)
		b = append(b, h.hash[:]...)
	}
	m.snapPerEntry.Store(int64(len(b) * 16 / max(m.entries.Len()+m.heads.Len(), 1)))
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
	m.entries, m.heads, m.headOf, m.last, m.events, m.breaks = fresh.entries, fresh.heads, fresh.headOf, fresh.last, fresh.events, fresh.breaks
	return nil
}

func (m *Model) restore(b []byte) error {
	r := projection.NewSnapshotReader(b, snapshotMagic)
	m.events = r.Uvarint()
	n := r.Uvarint()
	for range n {
		k := Break{Position: r.Uvarint(), Stream: r.String(), Version: r.Uvarint(), EventID: r.String(), Reason: r.String()}
		if r.Err() != nil {
			break
		}
		m.breaks = append(m.breaks, k)
	}
	n = r.Uvarint()
	// Entries share their actors and actions, as they did with the
	// events they came from: the same few, over and over.
	seen := map[string]string{}
	intern := func(s []byte) string {
		if v, ok := seen[string(s)]; ok {
			return v
		}
		v := string(s)
		seen[v] = v
		return v
	}
	for range n {
		e := entry{position: r.Uvarint(), version: r.Uvarint(), time: r.Varint()}
		e.actor, e.action = intern(r.Bytes(r.Uvarint())), intern(r.Bytes(r.Uvarint()))
		e.target, e.detail, e.stream = r.String(), r.String(), r.String()
		copy(e.id[:], r.Bytes(16))
		copy(e.hash[:], r.Bytes(32))
		if r.Err() != nil {
			break
		}
		m.entries.Append(e)
	}
	n = r.Uvarint()
	m.headOf = make(map[string]int32, min(n, 1<<20))
	for range n {
		h := head{stream: r.String(), version: r.Uvarint()}
		copy(h.hash[:], r.Bytes(32))
		if r.Err() != nil {
			break
		}
		if _, dup := m.headOf[h.stream]; dup {
			r.Fail(fmt.Errorf("stream %q has two heads", h.stream))
			break
		}
		m.addHead(h)
	}
	return r.Done()
}
