package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// An event record is the value stored under its position in the events
// bucket. It is a compact binary form, not JSON, because read-all speed is
// bounded by decoding:
//
//	byte     record format (1)
//	[16]byte id
//	uvarint  stream version
//	int64    time, Unix nanoseconds
//	string   stream, type, then the 8 metadata strings (uvarint length + bytes)
//	uvarint  schema
//	[32]byte prev hash, [32]byte hash
//	bytes    data (the rest)
const recordFormat = 1

func appendRecord(b []byte, e *event.Event) []byte {
	b = append(b, recordFormat)
	b = append(b, e.ID[:]...)
	b = binary.AppendUvarint(b, e.StreamVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	m := &e.Metadata
	for _, s := range [...]string{e.Stream, e.Type, m.CorrelationID, m.CausationID, m.Actor, m.Agent, m.Session, m.Team, m.User, m.Traceparent} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(m.Schema))
	b = append(b, e.PrevHash[:]...)
	b = append(b, e.Hash[:]...)
	return append(b, e.Data...)
}

var errCorruptRecord = errors.New("corrupt event record")

// decodeRecord decodes a record stored at pos. It copies everything out of
// b, which belongs to the database. With a non-nil pageDecoder it shares
// allocations across the events of a page.
func decodeRecord(pos uint64, b []byte, e *event.Event, pd *pageDecoder) error {
	d := decoder{b: b}
	if f := d.byte(); f != recordFormat {
		return fmt.Errorf("%w at position %d: format %d, this build reads %d", errCorruptRecord, pos, f, recordFormat)
	}
	copy(e.ID[:], d.bytes(16))
	e.StreamVersion = d.uvarint()
	e.Time = time.Unix(0, int64(d.uint64())).UTC()
	m := &e.Metadata
	fields := [...]*string{&e.Stream, &e.Type, &m.CorrelationID, &m.CausationID, &m.Actor, &m.Agent, &m.Session, &m.Team, &m.User, &m.Traceparent}
	for i, s := range fields {
		*s = d.string(pd.prev(i), pd.cache(i))
	}
	m.Schema = int(d.uvarint())
	copy(e.PrevHash[:], d.bytes(32))
	copy(e.Hash[:], d.bytes(32))
	if d.err {
		return fmt.Errorf("%w at position %d: truncated", errCorruptRecord, pos)
	}
	e.Data = pd.clone(d.b)
	e.Position = pos
	pd.remember(fields[:])
	return nil
}

// pageDecoder cuts the allocations of decoding a page of events: each
// string equal to the same field of the event before (the stream of a run
// of appends, its type, its session...) is shared, so are the recent
// values of the fields that take few values (type, actor, agent, team,
// user), and data is copied into one buffer per page.
type pageDecoder struct {
	last   [10]string
	recent [6][16]string // rows 1-5, as recentRow numbers them
	arena  []byte
}

// recentRow numbers the fields of a record (in decodeRecord's order)
// whose recent values are kept: type, actor, agent, team and user, each
// with its row of pageDecoder.recent. 0 keeps none.
var recentRow = [10]uint8{1: 1, 4: 2, 5: 3, 7: 4, 8: 5}

func (pd *pageDecoder) prev(i int) string {
	if pd == nil {
		return ""
	}
	return pd.last[i]
}

// cache returns the recent values of field i, or nil when it keeps none.
func (pd *pageDecoder) cache(i int) *[16]string {
	if pd == nil || recentRow[i] == 0 {
		return nil
	}
	return &pd.recent[recentRow[i]]
}

func (pd *pageDecoder) remember(fields []*string) {
	if pd == nil {
		return
	}
	for i, s := range fields {
		pd.last[i] = *s
	}
}

func (pd *pageDecoder) clone(b []byte) []byte {
	if pd == nil || len(b) > 4096 {
		return append([]byte(nil), b...)
	}
	if len(pd.arena)+len(b) > cap(pd.arena) {
		// Chunks double from 1 KB up to 64 KB: a live subscriber wakes
		// for every commit to read a few events, and a 64 KB chunk each
		// time was half of a busy gateway's garbage.
		size := min(max(2*cap(pd.arena), 1<<10), 64<<10)
		pd.arena = make([]byte, 0, max(size, len(b)))
	}
	start := len(pd.arena)
	pd.arena = append(pd.arena, b...)
	return pd.arena[start:len(pd.arena):len(pd.arena)]
}

// recordStream returns the stream name and version of a record without
// decoding the rest.
func recordStream(b []byte) (string, uint64, bool) {
	d := decoder{b: b}
	d.byte()
	d.bytes(16)
	v := d.uvarint()
	d.uint64()
	s := d.string("", nil)
	return s, v, !d.err
}

// decoder reads a record; a short read sets err and yields zero values.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.err, d.b = true, nil
		return make([]byte, n)
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte { return d.bytes(1)[0] }

func (d *decoder) uint64() uint64 { return binary.BigEndian.Uint64(d.bytes(8)) }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// string reads a string, returning same instead of a new copy when the
// bytes are equal to it, or a string of recent when one is.
func (d *decoder) string(same string, recent *[16]string) string {
	n := d.uvarint()
	if n == 0 {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return ""
	}
	b := d.bytes(int(n))
	if string(b) == same {
		return same
	}
	if recent == nil {
		return string(b)
	}
	slot := &recent[(len(b)*31+int(b[0])*7+int(b[len(b)-1]))&15]
	if string(b) != *slot {
		*slot = string(b)
	}
	return *slot
}
