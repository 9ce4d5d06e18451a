package projection

import (
	"encoding/json"
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
type StreamCatalog struct {
	mu      sync.RWMutex
	streams map[string]*StreamInfo
	total   uint64
}

var _ Projection = (*StreamCatalog)(nil)

// NewStreamCatalog returns an empty catalogue.
func NewStreamCatalog() *StreamCatalog { return &StreamCatalog{streams: map[string]*StreamInfo{}} }

// Name implements Projection.
func (c *StreamCatalog) Name() string { return "stream-catalog" }

// Apply implements Projection.
func (c *StreamCatalog) Apply(e *event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	si := c.streams[e.Stream]
	if si == nil {
		si = &StreamInfo{Stream: e.Stream, Types: map[string]uint64{}}
		c.streams[e.Stream] = si
	}
	si.Events++
	si.LastVersion, si.LastPosition, si.LastTime = e.StreamVersion, e.Position, e.Time
	si.Types[e.Type]++
	c.total++
	return nil
}

// Snapshot implements Projection.
func (c *StreamCatalog) Snapshot() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return json.Marshal(c.streams)
}

// Restore implements Projection.
func (c *StreamCatalog) Restore(state []byte) error {
	streams := map[string]*StreamInfo{}
	if state != nil {
		if err := json.Unmarshal(state, &streams); err != nil {
			return err
		}
	}
	var total uint64
	for _, si := range streams {
		total += si.Events
	}
	c.mu.Lock()
	c.streams, c.total = streams, total
	c.mu.Unlock()
	return nil
}

// Streams lists the streams by name, copied.
func (c *StreamCatalog) Streams() []StreamInfo {
	c.mu.RLock()
	out := make([]StreamInfo, 0, len(c.streams))
	for _, si := range c.streams {
		cp := *si
		cp.Types = make(map[string]uint64, len(si.Types))
		for k, v := range si.Types {
			cp.Types[k] = v
		}
		out = append(out, cp)
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
