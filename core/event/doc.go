// Package event defines the envelope every Switchyard event travels in, the
// per-stream hash chain that makes a stream tamper-evident, and the typed
// catalogue of event types.
//
// # Envelope
//
// An [Event] carries an id (UUIDv7, also the idempotency key), a dotted type
// such as "model.call.completed", the stream it belongs to, its version in
// that stream (0 for the first event), its global position (assigned by the
// store, strictly increasing, 0 is never used), the time it was recorded, its
// JSON data, its [Metadata] and the hash chain fields PrevHash and Hash.
//
// Callers build a [Proposed] event; the store fills in version, position, time
// (when zero) and the hashes.
//
// # Hash chain
//
// Hash = SHA-256(PrevHash || canonical encoding of the event). The first event
// of a stream has a zero PrevHash. [VerifyChain] walks a stream and names the
// first broken link. Position is not hashed: backends assign it after the
// hash is fixed, and it is not part of the stream's history.
//
// # Catalogue
//
// Known types are registered with a Go struct (see [Register] and [Decode]).
// An event of a type the catalogue does not know decodes to [Raw]: it is kept
// and shown as it is, never dropped.
package event
