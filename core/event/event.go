package event

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event is one recorded event: the envelope of DESIGN.md.
type Event struct {
	ID            uuid.UUID       `json:"id"`
	Type          string          `json:"type"`
	Stream        string          `json:"stream"`
	StreamVersion uint64          `json:"stream_version"`
	Position      uint64          `json:"position"`
	Time          time.Time       `json:"time"`
	Data          json.RawMessage `json:"data"`
	Metadata      Metadata        `json:"metadata,omitzero"`
	PrevHash      Hash            `json:"prev_hash"`
	Hash          Hash            `json:"hash"`
}

// Metadata says why an event happened and on whose behalf.
type Metadata struct {
	// CorrelationID groups the events of one decision (e.g. one model call).
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID is the id of the event or command that caused this one.
	CausationID string `json:"causation_id,omitempty"`
	// Actor is who or what acted: "user:alice", "agent:reviewer", "system".
	Actor   string `json:"actor,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Session string `json:"session,omitempty"`
	Team    string `json:"team,omitempty"`
	User    string `json:"user,omitempty"`
	// Traceparent is the W3C trace context of the request that caused the event.
	Traceparent string `json:"traceparent,omitempty"`
	// Schema is the version of the data's schema for this type; 0 means 1.
	Schema int `json:"schema,omitempty"`
}

// Proposed is an event as a caller hands it to a store.
type Proposed struct {
	// ID is the idempotency key. Zero means the store assigns a new UUIDv7.
	ID       uuid.UUID
	Type     string
	Data     json.RawMessage
	Metadata Metadata
	// Time is when the event happened; zero means the time of the append.
	Time time.Time
	// encoded is Data as New encoded it, valid JSON by construction:
	// Validate does not scan it again (json.Valid was 3% of a busy
	// gateway's CPU). Data set or replaced by anyone else is scanned.
	encoded []byte
}

// fromNew reports whether Data is still the slice New encoded.
func (p *Proposed) fromNew() bool {
	return len(p.Data) > 0 && len(p.encoded) == len(p.Data) && &p.encoded[0] == &p.Data[0]
}

// NewID returns a new UUIDv7: time-ordered, so ids of events appended
// together sort together.
func NewID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// The random bits of ids come from a pool filled from crypto/rand in
// batches, not from one crypto/rand read an id: the gateway takes three
// or more ids a call. Ids are not secrets; the uuid package must not be
// used for any (its pool lives on the heap).
func init() { uuid.EnableRandPool() }

// MaxStreamLen and MaxTypeLen bound names, so that a typo or an attack cannot
// bloat every index entry.
const (
	MaxStreamLen = 256
	MaxTypeLen   = 128
)

// ValidateStream reports whether s can name a stream. Names are 1 to
// MaxStreamLen bytes of printable ASCII without spaces; "$" starts names
// reserved for the store itself.
func ValidateStream(s string) error {
	switch {
	case s == "":
		return errors.New("stream name is empty: name a stream such as \"session-42\"")
	case len(s) > MaxStreamLen:
		return fmt.Errorf("stream name is %d bytes long: the limit is %d", len(s), MaxStreamLen)
	case s[0] == '$':
		return fmt.Errorf("stream name %q starts with \"$\", which is reserved for the store", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }); i >= 0 {
		return fmt.Errorf("stream name %q has a space, control or non-ASCII character at byte %d: use letters, digits and -_.:/", s, i)
	}
	return nil
}

// ValidateType reports whether t can name an event type: dotted lower-case
// words such as "model.call.completed".
func ValidateType(t string) error {
	if t == "" {
		return errors.New("event type is empty: give a dotted type such as \"session.started\"")
	}
	if len(t) > MaxTypeLen {
		return fmt.Errorf("event type is %d bytes long: the limit is %d", len(t), MaxTypeLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' ||
			c == '.' && i > 0 && i < len(t)-1 && t[i-1] != '.'
		if !ok {
			return fmt.Errorf("event type %q is not dotted lower-case words (bad byte %q at %d): use a type such as \"session.started\"", t, c, i)
		}
	}
	return nil
}

// Validate checks a proposed event before it is appended: a valid type and
// data that is one JSON value.
func (p *Proposed) Validate() error {
	if err := ValidateType(p.Type); err != nil {
		return err
	}
	if len(p.Data) == 0 {
		return fmt.Errorf("event %s (%s) has no data: send a JSON value, {} if there is nothing to say", p.ID, p.Type)
	}
	if !p.fromNew() && !json.Valid(p.Data) {
		return fmt.Errorf("event %s (%s): data is not valid JSON", p.ID, p.Type)
	}
	return nil
}

// Hash is a SHA-256 digest in the hash chain. Its JSON form is lower-case hex.
type Hash [32]byte

// IsZero reports whether h is the zero hash (the PrevHash of a first event).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText encodes h as hex.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText decodes hex; an empty text is the zero hash.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = Hash{}
		return nil
	}
	if len(b) != hex.EncodedLen(len(h)) {
		return fmt.Errorf("hash %q: want %d hex digits, got %d", b, hex.EncodedLen(len(h)), len(b))
	}
	if _, err := hex.Decode(h[:], b); err != nil {
		return fmt.Errorf("hash %q: %w", b, err)
	}
	return nil
}
