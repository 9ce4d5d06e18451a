package event

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// ComputeHash returns the hash of e chained onto e.PrevHash:
// SHA-256(PrevHash || canonical(e)). The canonical form covers id, type,
// stream, stream version, time (Unix nanoseconds), data bytes as stored, and
// every metadata field, each length-prefixed so no two events share a form.
func (e *Event) ComputeHash() Hash {
	var scratch [2048]byte // most events: no allocation
	b := e.AppendCanonical(append(scratch[:0], e.PrevHash[:]...))
	return sha256.Sum256(b)
}

// AppendCanonical appends the canonical encoding of e (without PrevHash and
// Hash) to b. It is stable: changing it changes every hash ever written, so it
// is versioned by the leading format byte.
func (e *Event) AppendCanonical(b []byte) []byte {
	b = append(b, 1) // canonical form version
	b = append(b, e.ID[:]...)
	b = appendString(b, e.Type)
	b = appendString(b, e.Stream)
	b = binary.BigEndian.AppendUint64(b, e.StreamVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(e.Data)))
	b = append(b, e.Data...)
	m := &e.Metadata
	for _, s := range [...]string{m.CorrelationID, m.CausationID, m.Actor, m.Agent, m.Session, m.Team, m.User, m.Traceparent} {
		b = appendString(b, s)
	}
	return binary.AppendUvarint(b, uint64(m.Schema))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ChainError names the first broken link of a stream's hash chain.
type ChainError struct {
	Stream  string
	Version uint64
	ID      string
	// Reason says which check failed: "prev_hash does not match the hash of
	// version N", "hash does not match the event's contents", or
	// "version N follows N-2".
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("hash chain of stream %q broken at version %d (event %s): %s", e.Stream, e.Version, e.ID, e.Reason)
}

// ChainVerifier checks a stream's events one at a time, in version order.
// Feed it with Next; the first error it returns is the first broken link.
type ChainVerifier struct {
	stream  string
	started bool
	version uint64
	hash    Hash
}

// NewChainVerifier returns a verifier for one stream.
func NewChainVerifier(stream string) *ChainVerifier { return &ChainVerifier{stream: stream} }

// Next checks e against the events given before. The first event given may
// be any version: events truncated away before it are not checked, but its
// own hash still is.
func (v *ChainVerifier) Next(e *Event) error {
	fail := func(reason string, args ...any) error {
		return &ChainError{Stream: v.stream, Version: e.StreamVersion, ID: e.ID.String(), Reason: fmt.Sprintf(reason, args...)}
	}
	if e.Stream != v.stream {
		return fail("event belongs to stream %q", e.Stream)
	}
	if v.started {
		if e.StreamVersion != v.version+1 {
			return fail("version %d follows version %d: versions must be dense", e.StreamVersion, v.version)
		}
		if e.PrevHash != v.hash {
			return fail("prev_hash %s does not match the hash %s of version %d", e.PrevHash, v.hash, v.version)
		}
	} else if e.StreamVersion == 0 && !e.PrevHash.IsZero() {
		return fail("the first event of a stream must have a zero prev_hash")
	}
	if h := e.ComputeHash(); h != e.Hash {
		return fail("hash %s does not match the event's contents (computed %s)", e.Hash, h)
	}
	v.started, v.version, v.hash = true, e.StreamVersion, e.Hash
	return nil
}

// VerifyChain checks the events of one stream, given in version order, and
// returns a *ChainError naming the first broken link, or nil.
func VerifyChain(events []Event) error {
	if len(events) == 0 {
		return nil
	}
	v := NewChainVerifier(events[0].Stream)
	for i := range events {
		if err := v.Next(&events[i]); err != nil {
			return err
		}
	}
	return nil
}
