package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/core/projection"
)

func mustLoad(t *testing.T, s *Store, name string) projection.Checkpoint {
	t.Helper()
	cp, err := s.LoadCheckpoint(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// Checkpoints are saved, replaced, kept across a reopen and deleted, each
// apart from the others; an empty state is a state.
func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp := mustLoad(t, s, "a"); cp.Position != 0 || cp.State != nil {
		t.Fatalf("unknown checkpoint: %+v, want zero", cp)
	}
	big := bytes.Repeat([]byte("x"), 1<<20)
	for _, c := range []struct {
		name string
		cp   projection.Checkpoint
	}{{"a", projection.Checkpoint{Position: 7, State: []byte("seven")}}, {"b", projection.Checkpoint{Position: 9, State: big}},
		{"a", projection.Checkpoint{Position: 8, State: []byte("eight")}}, {"c", projection.Checkpoint{Position: 3, State: []byte{}}}} {
		if err := s.SaveCheckpoint(ctx, c.name, c.cp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(Config{Dir: dir}, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cp := mustLoad(t, s, "a"); cp.Position != 8 || string(cp.State) != "eight" {
		t.Fatalf("a = %d %q, want 8 eight", cp.Position, cp.State)
	}
	if cp := mustLoad(t, s, "b"); cp.Position != 9 || !bytes.Equal(cp.State, big) {
		t.Fatalf("b = %d and %d bytes, want 9 and %d", cp.Position, len(cp.State), len(big))
	}
	if cp := mustLoad(t, s, "c"); cp.Position != 3 || cp.State == nil || len(cp.State) != 0 {
		t.Fatalf("c = %d %v, want 3 and an empty state", cp.Position, cp.State)
	}
	if err := s.DeleteCheckpoint(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCheckpoint(ctx, "never"); err != nil {
		t.Fatalf("deleting an unknown checkpoint: %v", err)
	}
	if cp := mustLoad(t, s, "b"); cp.Position != 0 || cp.State != nil {
		t.Fatalf("deleted b: %+v, want zero", cp)
	}
	if cp := mustLoad(t, s, "a"); cp.Position != 8 {
		t.Fatalf("a after b's deletion: %d, want 8", cp.Position)
	}
}

// A store of format 1 (a checkpoint a value under its name: position,
// then state) is read as it is when opened read-only, and upgraded to
// format 2 when opened for writing, its checkpoints kept and a damaged one
// dropped (its projection rebuilds).
func TestCheckpointUpgradeFromFormat1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	format := func() (v uint64) {
		db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_ = db.View(func(tx *bolt.Tx) error {
			v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyFormat))
			return nil
		})
		return v
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints)
		return errors.Join(b.Put([]byte("old"), append(binary.BigEndian.AppendUint64(nil, 42), "state"...)),
			b.Put([]byte("damaged"), []byte{1, 2, 3}),
			tx.Bucket(bucketMeta).Put(keyFormat, u64(1)))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(Config{Dir: dir, ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp := mustLoad(t, ro, "old"); cp.Position != 42 || string(cp.State) != "state" {
		t.Fatalf("format 1, read-only: %d %q, want 42 state", cp.Position, cp.State)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if v := format(); v != 1 {
		t.Fatalf("a read-only open changed the format to %d", v)
	}

	if s, err = Open(Config{Dir: dir}, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cp := mustLoad(t, s, "old"); cp.Position != 42 || string(cp.State) != "state" {
		t.Fatalf("upgraded: %d %q, want 42 state", cp.Position, cp.State)
	}
	if cp := mustLoad(t, s, "damaged"); cp.Position != 0 || cp.State != nil {
		t.Fatalf("a damaged checkpoint after the upgrade: %+v, want none", cp)
	}
	for _, name := range []string{"old", "damaged"} {
		if err := s.SaveCheckpoint(ctx, name, projection.Checkpoint{Position: 43, State: []byte("new")}); err != nil {
			t.Fatal(err)
		}
		if cp := mustLoad(t, s, name); cp.Position != 43 || string(cp.State) != "new" {
			t.Fatalf("%s saved after the upgrade: %d %q, want 43 new", name, cp.Position, cp.State)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := format(); v != FormatVersion {
		t.Fatalf("format after a writable open: %d, want %d", v, FormatVersion)
	}
}

// BenchmarkSaveSmallBesideLarge saves a small checkpoint while a large
// one (a cost model's, say) is stored: what the save writes is its own.
func BenchmarkSaveSmallBesideLarge(b *testing.B) {
	ctx := context.Background()
	s, err := Open(Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.SaveCheckpoint(ctx, "large", projection.Checkpoint{Position: 1, State: make([]byte, 64<<20)}); err != nil {
		b.Fatal(err)
	}
	small := make([]byte, 4<<10)
	for i := 0; b.Loop(); i++ {
		if err := s.SaveCheckpoint(ctx, "small", projection.Checkpoint{Position: uint64(i + 1), State: small}); err != nil {
			b.Fatal(err)
		}
	}
}
