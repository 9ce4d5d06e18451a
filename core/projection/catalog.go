package projection

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// StreamInfo is what the stream catalogue knows of one stream.
type StreamInfo struct {
	Stream       string            `json:"stream"`
	Events       uint64            `json:"events"`
	LastVersion  uint64            `json:"last_version"`
	LastPosition uint64            `json:"last_position"`
	LastTime     time.Time         `json:"last_time"`
	Types        map[string]uint64 `json:"types"`
}

// StreamCatalog is a projection listing every stream with its event counts
// per type. It is safe to query while a Runner feeds it.
//
// A log has a stream per session and per key, hundreds of thousands on a
// large one, so a stream is a row of plain numbers with its types as
// interned ids, not a StreamInfo with a map of its own: the garbage
// collector has little to walk and the checkpoint is binary.
type StreamCatalog struct {
	mu      sync.RWMutex
	index   map[string]int32 // stream → rows
	rows    []streamRow
	types   []string // interned type names
	typeIDs map[string]uint32
	total   uint64
	last    int32 // the row of the last event's stream, or -1
}

type streamRow struct {
	stream                            string
	events, lastVersion, lastPosition uint64
	lastTime                          int64 // Unix nanoseconds
	types                             []typeCount
}

type typeCount struct {
	typ uint32
	n   uint64
}

var _ Projection = (*StreamCatalog)(nil)

// NewStreamCatalog returns an empty catalogue.
func NewStreamCatalog() *StreamCatalog {
	c := &StreamCatalog{}
	c.reset()
	return c
}

func (c *StreamCatalog) reset() {
	c.index, c.rows, c.types, c.typeIDs, c.total, c.last = map[string]int32{}, nil, nil, map[string]uint32{}, 0, -1
}

// Name implements Projection.
func (c *StreamCatalog) Name() string { return "stream-catalog" }

// Apply implements Projection.
func (c *StreamCatalog) Apply(e *event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The event before was in the same stream more often than not.
	i := c.last
	if i < 0 || c.rows[i].stream != e.Stream { // reset and Restore set last to -1
		var ok bool
		if i, ok = c.index[e.Stream]; !ok {
			i = int32(len(c.rows))
			c.index[e.Stream] = i
			c.rows = append(c.rows, streamRow{stream: e.Stream})
		}
		c.last = i
	}
	r := &c.rows[i]
	r.events++
	r.lastVersion, r.lastPosition, r.lastTime = e.StreamVersion, e.Position, e.Time.UnixNano()
	r.count(c.typeID(e.Type), 1)
	c.total++
	return nil
}

func (c *StreamCatalog) typeID(t string) uint32 {
	id, ok := c.typeIDs[t]
	if !ok {
		id = uint32(len(c.types))
		c.types = append(c.types, t)
		c.typeIDs[t] = id
	}
	return id
}

// count adds n events of type typ; a stream has few types.
func (r *streamRow) count(typ uint32, n uint64) {
	for j := range r.types {
		if r.types[j].typ == typ {
			r.types[j].n += n
			return
		}
	}
	r.types = append(r.types, typeCount{typ, n})
}

// The snapshot:
//
//	"catalog1" uvarint(len(types)) { string }...
//	uvarint(len(rows)) { string(stream) uvarint(events last_version last_position) varint(last_time)
//	                     uvarint(len(types)) { uvarint(type) uvarint(count) }... }...
//
// where string is uvarint(len) and the bytes.
const catalogMagic = "catalog1"

// Snapshot implements Projection.
func (c *StreamCatalog) Snapshot() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := make([]byte, 0, 64+len(c.rows)*64)
	b = append(b, catalogMagic...)
	b = binary.AppendUvarint(b, uint64(len(c.types)))
	for _, t := range c.types {
		b = str(b, t)
	}
	b = binary.AppendUvarint(b, uint64(len(c.rows)))
	for i := range c.rows {
		r := &c.rows[i]
		b = str(b, r.stream)
		b = binary.AppendUvarint(b, r.events)
		b = binary.AppendUvarint(b, r.lastVersion)
		b = binary.AppendUvarint(b, r.lastPosition)
		b = binary.AppendVarint(b, r.lastTime)
		b = binary.AppendUvarint(b, uint64(len(r.types)))
		for _, tc := range r.types {
			b = binary.AppendUvarint(b, uint64(tc.typ))
			b = binary.AppendUvarint(b, tc.n)
		}
	}
	return b, nil
}

// Restore implements Projection.
func (c *StreamCatalog) Restore(state []byte) error {
	fresh := NewStreamCatalog()
	if state != nil {
		if err := fresh.restore(state); err != nil {
			return fmt.Errorf("restore the stream catalogue: %w", err)
		}
	}
	c.mu.Lock()
	c.index, c.rows, c.types, c.typeIDs, c.total, c.last = fresh.index, fresh.rows, fresh.types, fresh.typeIDs, fresh.total, -1
	c.mu.Unlock()
	return nil
}

func (c *StreamCatalog) restore(b []byte) error {
	r := NewSnapshotReader(b, catalogMagic)
	for range r.Uvarint() {
		t := r.String()
		if r.Err() != nil {
			break
		}
		if _, dup := c.typeIDs[t]; dup {
			return fmt.Errorf("type %q twice", t)
		}
		c.typeID(t)
	}
	n := r.Uvarint()
	c.rows = make([]streamRow, 0, min(n, 1<<20))
	for range n {
		row := streamRow{stream: r.String(), events: r.Uvarint(), lastVersion: r.Uvarint(), lastPosition: r.Uvarint(), lastTime: r.Varint()}
		var sum uint64
		for range r.Uvarint() {
			typ, n := r.Uvarint(), r.Uvarint()
			if typ >= uint64(len(c.types)) {
				r.Fail(fmt.Errorf("stream %q: type id %d out of range", row.stream, typ))
			}
			if r.Err() != nil {
				break
			}
			row.count(uint32(typ), n)
			sum += n
		}
		if r.Err() != nil {
			break
		}
		if _, dup := c.index[row.stream]; dup {
			return fmt.Errorf("stream %q twice", row.stream)
		}
		if sum != row.events {
			return fmt.Errorf("stream %q: its types count %d events, not %d", row.stream, sum, row.events)
		}
		c.index[row.stream] = int32(len(c.rows))
		c.rows = append(c.rows, row)
		c.total += row.events
	}
	return r.Done()
}

// Streams lists the streams by name, copied.
func (c *StreamCatalog) Streams() []StreamInfo {
	c.mu.RLock()
	out := make([]StreamInfo, 0, len(c.rows))
	for i := range c.rows {
		r := &c.rows[i]
		si := StreamInfo{Stream: r.stream, Events: r.events, LastVersion: r.lastVersion, LastPosition: r.lastPosition,
			LastTime: time.Unix(0, r.lastTime).UTC(), Types: make(map[string]uint64, len(r.types))}
		for _, tc := range r.types {
			si.Types[c.types[tc.typ]] = tc.n
		}
		out = append(out, si)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out
}

// Total returns the number of events folded.
func (c *StreamCatalog) Total() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.total
}
