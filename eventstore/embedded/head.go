package embedded

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// head is what the store keeps per stream, under its name in the streams
// bucket: its number (the prefix of its index keys), its last version and
// hash (where the next append chains on), whether it is deleted, and its
// metadata.
type head struct {
	num      uint64
	last     int64 // version of the last event ever appended; -1 if none
	lastHash event.Hash
	deleted  bool
	md       eventstore.StreamMetadata
}

const headFormat = 1
const headLen = 1 + 8 + 8 + 32 + 1 + 8 + 8 + 8

func (h *head) encode() []byte {
	b := make([]byte, 0, headLen)
	b = append(b, headFormat)
	b = binary.BigEndian.AppendUint64(b, h.num)
	b = binary.BigEndian.AppendUint64(b, uint64(h.last))
	b = append(b, h.lastHash[:]...)
	var del byte
	if h.deleted {
		del = 1
	}
	b = append(b, del)
	b = binary.BigEndian.AppendUint64(b, uint64(h.md.MaxAge))
	b = binary.BigEndian.AppendUint64(b, h.md.MaxCount)
	return binary.BigEndian.AppendUint64(b, h.md.TruncateBefore)
}

func decodeHead(stream string, b []byte) (head, error) {
	if len(b) != headLen || b[0] != headFormat {
		return head{}, fmt.Errorf("corrupt head record of stream %q (%d bytes, format %d)", stream, len(b), b[0])
	}
	var h head
	h.num = binary.BigEndian.Uint64(b[1:])
	h.last = int64(binary.BigEndian.Uint64(b[9:]))
	copy(h.lastHash[:], b[17:49])
	h.deleted = b[49] == 1
	h.md.MaxAge = time.Duration(binary.BigEndian.Uint64(b[50:]))
	h.md.MaxCount = binary.BigEndian.Uint64(b[58:])
	h.md.TruncateBefore = binary.BigEndian.Uint64(b[66:])
	return h, nil
}

// version is the stream's version as the contract shows it: NoStreamVersion
// when it has no events or is deleted.
func (h *head) version() int64 {
	if h.deleted {
		return eventstore.NoStreamVersion
	}
	return h.last
}

// firstVisible is the lowest version a stream read may return.
func (h *head) firstVisible() uint64 {
	first := h.md.TruncateBefore
	if h.md.MaxCount > 0 && h.last >= 0 && uint64(h.last+1) > h.md.MaxCount {
		first = max(first, uint64(h.last+1)-h.md.MaxCount)
	}
	return first
}

// visible reports whether an event of this stream at version v and time t
// is shown by stream reads at time now.
func (h *head) visible(v uint64, t time.Time, now time.Time) bool {
	if v < h.firstVisible() {
		return false
	}
	return h.md.MaxAge <= 0 || now.Sub(t) <= h.md.MaxAge
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// indexKey is stream number then first version of a batch.
func indexKey(num, version uint64) []byte {
	b := make([]byte, 0, 16)
	b = binary.BigEndian.AppendUint64(b, num)
	return binary.BigEndian.AppendUint64(b, version)
}
