package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

// TestVerifyNamesTamperedEvent edits one stored event behind the store's
// back, as an attacker with file access would, and expects verify to name it.
func TestVerifyNamesTamperedEvent(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{`{"n":"first"}`, `{"n":"second"}`, `{"n":"third"}`} {
		if _, err := s.Append(context.Background(), "audit-1", eventstore.Any, event.Proposed{Type: "tool.called", Data: json.RawMessage(d)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	cli(t, context.Background(), "", "events", "verify", "--data", dir).ok(t)

	db, err := bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		k, v := b.Cursor().Seek([]byte{0, 0, 0, 0, 0, 0, 0, 2})
		forged := bytes.Replace(v, []byte(`"second"`), []byte(`"forged"`), 1)
		if bytes.Equal(forged, v) {
			t.Fatalf("event at position 2 does not hold the expected data: %q", v)
		}
		return b.Put(bytes.Clone(k), forged)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	r := cli(t, context.Background(), "", "events", "verify", "--data", dir)
	if r.code != 1 || !strings.Contains(r.err, `stream "audit-1" broken at version 1`) || !strings.Contains(r.err, "does not match the event's contents") {
		t.Fatalf("verify of a tampered log: exit %d, stderr %q; want exit 1 naming audit-1 version 1", r.code, r.err)
	}
}

func TestVerifyRefusesCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, embedded.FileName), bytes.Repeat([]byte("garbage!"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, context.Background(), "", "events", "verify", "--data", dir)
	if r.code != 1 || !strings.Contains(r.err, "not a readable switchyard store") {
		t.Fatalf("verify of a corrupt file: exit %d, stderr %q", r.code, r.err)
	}
}
