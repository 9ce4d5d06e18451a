// Package audit is the audit read model: who did what to which agent,
// key, routing plugin, policy or session, from the event log, with every
// stream's hash chain checked as the log is folded.
//
// An entry is an event that records a decision by someone (a person, a
// schedule, the system): agent.applied, key.revoked, routing.plugin.enabled,
// session.stopped, and so on. What agents and models did is not audit: it
// is in the sessions' timelines and the cost model.
//
// Every event of every stream, audit entry or not, goes through a chain
// check: its prev_hash must be the hash of its stream's previous event,
// its version the next one, and its hash must match its contents. A
// broken link does not stop the fold: it is a finding, kept and reported
// by every query until the log is repaired, because an audit trail that
// stops at the first tampered event would hide everything after it.
package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/internal/chunked"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// ProjectionName is the model's projection (and checkpoint) name.
const ProjectionName = "core.audit"

// Entry is one audited action.
type Entry struct {
	Position uint64    `json:"position"`
	Time     time.Time `json:"time"`
	// Actor is who acted: "user:alice", "system", "gateway", "key:ID".
	Actor string `json:"actor"`
	// Action is the event type.
	Action string `json:"action"`
	// Target is what was acted on: "agent:NAME", "key:ID",
	// "plugin:NAME", "policy:NAME" or "session:ID".
	Target string `json:"target"`
	// Detail is a short account: a reason, a digest, a mode.
	Detail  string `json:"detail,omitempty"`
	Stream  string `json:"stream"`
	Version uint64 `json:"version"`
	EventID string `json:"event_id"`
	Hash    string `json:"hash"`
}

// Break is a broken link of a stream's hash chain.
type Break struct {
	Position uint64 `json:"position"`
	Stream   string `json:"stream"`
	Version  uint64 `json:"version"`
	EventID  string `json:"event_id"`
	Reason   string `json:"reason"`
}

// Chains is what the model knows of the log's hash chains.
type Chains struct {
	// Events and Streams count what was checked.
	Events  uint64 `json:"events"`
	Streams int    `json:"streams"`
	// Breaks lists the broken links found, the first first.
	Breaks []Break `json:"breaks"`
}

// Model is the audit read model. It is a projection.Projection; its
// queries are safe to run while a Runner feeds it.
type Model struct {
	mu      sync.RWMutex
	entries chunked.Slice[entry]
	// heads is the last event seen of each stream, in the order the
	// streams first came; headOf finds a stream's. last is the stream of
	// the event before, whose head the next event, in the same stream
	// more often than not, finds without a lookup.
	heads  chunked.Slice[head]
	headOf map[string]int32
	last   int32
	// snapPerEntry is the last snapshot's length per entry, in 1/16
	// bytes: the next one's buffer.
	snapPerEntry atomic.Int64
	events       uint64
	breaks       []Break
}

// entry is an Entry as the model keeps it: the id and hash as bytes, not
// strings, and the strings shared with the event where they can be, so
// that a large log's hundreds of thousands of entries hold few pointers.
type entry struct {
	position, version             uint64
	time                          int64 // Unix nanoseconds
	actor, action, target, detail string
	stream                        string
	id                            uuid.UUID
	hash                          event.Hash
}

// public returns e as an Entry.
func (e *entry) public() Entry {
	return Entry{Position: e.position, Time: time.Unix(0, e.time).UTC(), Actor: e.actor, Action: e.action, Target: e.target,
		Detail: e.detail, Stream: e.stream, Version: e.version, EventID: e.id.String(), Hash: e.hash.String()}
}

type head struct {
	stream  string
	version uint64
	hash    event.Hash
}

var _ projection.Projection = (*Model)(nil)

// New returns an empty model.
func New() *Model { return &Model{headOf: map[string]int32{}, last: -1} }

// head returns stream's head, or nil if the model has not seen it.
func (m *Model) head(stream string) *head {
	if m.last >= 0 {
		if h := m.heads.At(int(m.last)); h.stream == stream {
			return h
		}
	}
	i, ok := m.headOf[stream]
	if !ok {
		return nil
	}
	m.last = i
	return m.heads.At(int(i))
}

// addHead adds the head of a stream the model has not seen.
func (m *Model) addHead(h head) {
	m.last = int32(m.heads.Len())
	m.headOf[h.stream] = m.last
	m.heads.Append(h)
}

// Name implements projection.Projection.
func (m *Model) Name() string { return ProjectionName }

// maxBreaks bounds the breaks kept: a log damaged at every event
// must not fill the memory with findings; the count goes on.
const maxBreaks = 1000

// Apply implements projection.Projection.
func (m *Model) Apply(e *event.Event) error {
	reason := ""
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.head(e.Stream)
	switch {
	case h == nil && e.StreamVersion != 0:
		reason = fmt.Sprintf("the stream's first event in the log is version %d, not 0", e.StreamVersion)
	case h == nil && !e.PrevHash.IsZero():
		reason = "the first event of a stream has a non-zero prev_hash"
	case h != nil && e.StreamVersion != h.version+1:
		reason = fmt.Sprintf("version %d follows version %d: versions must be dense", e.StreamVersion, h.version)
	case h != nil && e.PrevHash != h.hash:
		reason = fmt.Sprintf("prev_hash %s is not the hash %s of version %d", e.PrevHash, h.hash, h.version)
	}
	if reason == "" {
		if got := e.ComputeHash(); got != e.Hash {
			reason = fmt.Sprintf("hash %s does not match the event's contents (computed %s)", e.Hash, got)
		}
	}
	if reason != "" && len(m.breaks) < maxBreaks {
		m.breaks = append(m.breaks, Break{Position: e.Position, Stream: e.Stream, Version: e.StreamVersion, EventID: e.ID.String(), Reason: reason})
	}
	if h == nil {
		m.addHead(head{stream: e.Stream, version: e.StreamVersion, hash: e.Hash})
	} else {
		h.version, h.hash = e.StreamVersion, e.Hash
	}
	m.events++

	target, detail, ok := describe(e)
	if !ok {
		return nil
	}
	m.entries.Append(entry{position: e.Position, time: e.Time.UnixNano(), actor: e.Metadata.Actor, action: e.Type,
		target: target, detail: detail, stream: e.Stream, version: e.StreamVersion, id: e.ID, hash: e.Hash})
	return nil
}

// describe says whether e is audited, and on what. Data that does not
// decode still makes an entry, with what could be read: the audit trail
// must not lose an action to a schema mistake.
func describe(e *event.Event) (target, detail string, ok bool) {
	kind, _, _ := strings.Cut(e.Type, ".")
	switch {
	case kind == "agent" || kind == "key" || strings.HasPrefix(e.Type, "routing.plugin."):
	case kind == "policy" && e.Type != "policy.verdict":
	case kind == "session" && slices.Contains([]string{"session.created", "session.turn.started", "session.paused", "session.stopped", "session.interrupted"}, e.Type):
	default:
		return "", "", false
	}
	var d struct {
		Name, ID, Reason, Digest, Source, Mode, Agent, Prompt, ForkOf string

		Turn int

		Definition struct {
			Name string `json:"name"`
		}
		Key struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
	}
	// The members an account uses, each read alone (a session's turns
	// are most entries, and decoding their events whole was a sixth of
	// the model's fold); one that does not decode is left out.
	_ = jsonscan.Members(e.Data, func(key []byte, start, end int) bool {
		v := e.Data[start:end]
		switch string(key) {
		case "name":
			_ = jsonscan.String(v, &d.Name)
		case "id":
			_ = jsonscan.String(v, &d.ID)
		case "reason":
			_ = jsonscan.String(v, &d.Reason)
		case "digest":
			_ = jsonscan.String(v, &d.Digest)
		case "source":
			_ = jsonscan.String(v, &d.Source)
		case "mode":
			_ = jsonscan.String(v, &d.Mode)
		case "agent":
			_ = jsonscan.String(v, &d.Agent)
		case "prompt":
			_ = jsonscan.String(v, &d.Prompt)
		case "fork_of":
			_ = jsonscan.String(v, &d.ForkOf)
		case "turn":
			_ = jsonscan.Int(v, &d.Turn)
		case "definition":
			_ = json.Unmarshal(v, &d.Definition)
		case "key":
			_ = json.Unmarshal(v, &d.Key)
		}
		return true
	})
	short := func(s string) string {
		if len(s) > 80 {
			return s[:77] + "..."
		}
		return s
	}
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	switch kind {
	case "agent":
		target = "agent:" + cmp.Or(d.Definition.Name, d.Name, e.Metadata.Agent)
		add("digest", short(d.Digest))
	case "key":
		target = "key:" + cmp.Or(d.Key.ID, d.ID)
		add("name", d.Key.Name)
	case "routing":
		target = "plugin:" + d.Name
		add("digest", short(d.Digest))
		add("from", d.Source)
	case "policy":
		target = "policy:" + d.Name
	case "session":
		target = "session:" + cmp.Or(e.Metadata.Session, d.ID, strings.TrimPrefix(e.Stream, "session-"))
		add("agent", d.Agent)
		add("fork of", d.ForkOf)
		if d.Mode != "" {
			add("turn", strconv.Itoa(d.Turn)+" ("+d.Mode+")")
		}
		if d.Prompt != "" {
			add("prompt", strconv.Quote(short(d.Prompt)))
		}
	}
	add("reason", short(d.Reason))
	return target, strings.Join(parts, ", "), true
}
