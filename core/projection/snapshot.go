package projection

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SnapshotReader reads the binary snapshots of large read models (the
// cost and audit models'), where JSON would be too slow to save and
// restore: unsigned and signed varints and length-prefixed strings after
// a magic prefix that names the format and its version. The first
// problem sticks: read everything, then check Done.
type SnapshotReader struct {
	b   []byte
	err error
}

// ErrSnapshotShort is the error of a snapshot that ends early.
var ErrSnapshotShort = errors.New("snapshot ends early")

// NewSnapshotReader returns a reader of snapshot b, which must begin with
// magic.
func NewSnapshotReader(b []byte, magic string) *SnapshotReader {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return &SnapshotReader{err: fmt.Errorf("not a %q snapshot: written by another version", magic)}
	}
	return &SnapshotReader{b: b[len(magic):]}
}

// Uvarint reads an unsigned varint.
func (r *SnapshotReader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrSnapshotShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *SnapshotReader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrSnapshotShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bytes reads n bytes, without copying.
func (r *SnapshotReader) Bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < n {
		r.err = ErrSnapshotShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// String reads a uvarint length and that many bytes.
func (r *SnapshotReader) String() string { return string(r.Bytes(r.Uvarint())) }

// Fail records a problem the caller found, if none came first.
func (r *SnapshotReader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err is the first problem met.
func (r *SnapshotReader) Err() error { return r.err }

// Done returns the first problem met, or an error if bytes are left over.
func (r *SnapshotReader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the snapshot's end", len(r.b))
	}
	return r.err
}
