package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func appendN(t *testing.T, s *Store, stream string, n int) eventstore.AppendResult {
	t.Helper()
	evs := make([]event.Proposed, n)
	for i := range evs {
		evs[i] = event.Proposed{Type: "t.x", Data: json.RawMessage(`{"n":1}`)}
	}
	r, err := s.Append(context.Background(), stream, eventstore.Any, evs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func count(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	for _, err := range s.ReadAll(context.Background(), eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// A torn last write: the meta page of the last commit is half written.
// bbolt then falls back to the other meta page, which describes the commit
// before, and the store opens with the last whole batch.
func TestTornLastWriteRecoversToLastWholeBatch(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "a", 5)
	appendN(t, s, "a", 7)
	s.Close()

	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := os.Getpagesize()
	// Meta pages are pages 0 and 1; txid sits 64 bytes into each.
	txid := func(page int) uint64 {
		b := make([]byte, 8)
		if _, err := f.ReadAt(b, int64(page*pageSize+64)); err != nil {
			t.Fatal(err)
		}
		return binary.LittleEndian.Uint64(b)
	}
	newest := 0
	if txid(1) > txid(0) {
		newest = 1
	}
	// Tear it: zero the second half of the meta (txid and checksum).
	if _, err := f.WriteAt(make([]byte, 24), int64(newest*pageSize+56)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s, err = Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("open after torn write: %v", err)
	}
	defer s.Close()
	if n := count(t, s); n != 5 {
		t.Fatalf("after the torn write the store holds %d events, want the 5 of the last whole batch", n)
	}
	if _, err := eventstore.VerifyAll(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	// And it goes on: positions and versions continue from the whole batch.
	r := appendN(t, s, "a", 2)
	if r.FirstVersion != 5 || r.Positions[0] != 6 {
		t.Fatalf("append after recovery at version %d position %d, want 5 and 6", r.FirstVersion, r.Positions[0])
	}
}

func TestNewerFormatIsRefusedUntouched(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "a", 1)
	s.Close()
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, u64(FormatVersion+1)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)

	_, err = Open(Config{Dir: dir}, nil)
	newer, ours := fmt.Sprintf("format version %d", FormatVersion+1), fmt.Sprintf("format version %d", FormatVersion)
	if err == nil || !strings.Contains(err.Error(), newer) || !strings.Contains(err.Error(), ours) {
		t.Fatalf("open of a newer store = %v, want a refusal naming %q and %q", err, newer, ours)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the refused store was modified")
	}
}

func TestCorruptFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte("not a database "), 2000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{Dir: dir}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a readable switchyard store") {
		t.Fatalf("open of a corrupt file = %v", err)
	}
}

func TestForeignBoltFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketEvents); return err })
	db.Close()
	if _, err := Open(Config{Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), "not written by switchyard") {
		t.Fatalf("open of a foreign bolt file = %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(Config{Dir: dir, ReadOnly: true}, nil); err == nil || !strings.Contains(err.Error(), "no store there") {
		t.Fatalf("read-only open of an empty dir = %v", err)
	}
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "a", 3)
	s.Close()
	ro, err := Open(Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n := count(t, ro); n != 3 {
		t.Fatalf("read-only store shows %d events, want 3", n)
	}
	if _, err := ro.Append(context.Background(), "a", eventstore.Any, event.Proposed{Type: "t.x", Data: json.RawMessage(`{}`)}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append to read-only store = %v", err)
	}
}
