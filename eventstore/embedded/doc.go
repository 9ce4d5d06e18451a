// Package embedded is the default event store: one data directory holding
// one bbolt file (events.db), pure Go, no server.
//
// # Layout
//
// Buckets: "events" maps a global position (8-byte big-endian, dense from 1)
// to an event record (record.go); "ids" maps an event id to its position
// (idempotency); "streams" maps a stream name to its head (head.go); "index"
// maps (stream number, first version of an append) to (first position,
// count), one entry per append rather than per event, since an append's
// events are contiguous in both; "checkpoints" holds projection checkpoints;
// "meta" holds the format version and counters.
//
// # Group commit
//
// Every write goes through one committer goroutine. It takes whatever
// requests are queued, applies them in order in one bbolt transaction, and
// commits it with one fsync pair, so concurrent appenders share fsyncs. A
// request that fails its own checks (a version conflict, say) fails alone;
// a storage error fails the whole group, and nothing of it is written.
//
// # Durability
//
// An Append returns only after its transaction's fdatasync: it survives
// kill -9 of the process and a power loss, as far as the disk honours
// fsync. bbolt writes pages copy-on-write and switches to them by writing one
// of two checksummed meta pages, so a torn last write leaves the previous
// transaction, that is the last whole group of appends, in force.
//
// # Locking
//
// The file is locked (flock) while open: a second process opening the same
// directory is refused after a short wait, and never writes to it.
package embedded
