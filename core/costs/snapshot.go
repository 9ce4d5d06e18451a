package costs

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/core/projection"
)

// The snapshot is binary: a cost model of ten million events has some
// hundreds of thousands of rows, which JSON would make slow to save and
// restore. It holds the strings and the fine table; the coarse and summary
// tables and the session index are rebuilt from them.
//
//	"costs1" uvarint(len(strs)-1) { uvarint(len) bytes }...
//	uvarint(rows) { varint(hour) uvarint(agent team user model provider api tags key session decision)
//	                varint(totals)... }...
const snapshotMagic = "costs1"

// Snapshot implements projection.Projection.
func (m *Model) Snapshot() ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b := make([]byte, 0, 64+m.strBytes+m.fine.len()*int(cmp.Or(m.snapPerRow.Load(), 48*16))*9/8/16)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, uint64(len(m.strs)-1))
	for _, s := range m.strs[1:] {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	rowsAt := len(b)
	b = binary.AppendUvarint(b, uint64(m.fine.len()))
	for i := range int32(m.fine.len()) {
		row := m.fine.row(i)
		k := &row.key
		b = binary.AppendVarint(b, int64(k.hour))
		for _, id := range [...]uint32{k.agent, k.team, k.user, k.model, k.provider, k.api, k.tags, k.key, k.session, k.decision} {
			b = binary.AppendUvarint(b, uint64(id))
		}
		for _, v := range row.val {
			b = binary.AppendVarint(b, v)
		}
	}
	m.snapPerRow.Store(int64((len(b) - rowsAt) * 16 / max(m.fine.len(), 1)))
	return b, nil
}

// Restore implements projection.Projection.
func (m *Model) Restore(state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reset()
	if state == nil {
		return nil
	}
	if err := m.restore(state); err != nil {
		m.reset()
		return fmt.Errorf("restore the cost model: %w (rebuild it)", err)
	}
	return nil
}

func (m *Model) restore(b []byte) error {
	r := projection.NewSnapshotReader(b, snapshotMagic)
	n := r.Uvarint()
	for range n {
		s := r.String()
		if r.Err() != nil {
			break
		}
		if _, dup := m.ids[s]; dup {
			return fmt.Errorf("string %q twice", s)
		}
		m.ids[s] = uint32(len(m.strs))
		m.strs = append(m.strs, s)
		m.strBytes += len(s) + 2
	}
	rows := r.Uvarint()
	tagSets := map[uint32]bool{}
	for range rows {
		if r.Err() != nil {
			break
		}
		var k fineKey
		k.hour = int32(r.Varint())
		for _, dst := range [...]*uint32{&k.agent, &k.team, &k.user, &k.model, &k.provider, &k.api, &k.tags, &k.key, &k.session, &k.decision} {
			id := r.Uvarint()
			if id >= uint64(len(m.strs)) {
				r.Fail(fmt.Errorf("string id %d out of range", id))
			}
			*dst = uint32(id)
		}
		var v totals
		for i := range v {
			v[i] = r.Varint()
		}
		if r.Err() != nil {
			break
		}
		if m.fine.has(k, k.hour) {
			return errors.New("a row twice")
		}
		row := m.fine.add(k, k.hour, &v)
		m.coarse.add(k.coarseKey, k.hour, &v)
		m.summary.add(k.summaryKey, k.hour, &v)
		if k.session != 0 {
			m.sessionRows[k.session] = append(m.sessionRows[k.session], row)
		}
		if k.tags != 0 && !tagSets[k.tags] {
			tagSets[k.tags] = true
			m.tagSets = append(m.tagSets, k.tags)
		}
	}
	return r.Done()
}
