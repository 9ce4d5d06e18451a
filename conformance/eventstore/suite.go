package eventstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/eventstore"
)

// Features declares what a backend implements beyond the core of
// eventstore.Store (append, read, subscribe, close). Tests of a missing
// feature skip with the reason.
type Features struct {
	// StreamMetadata: the backend implements SetStreamMetadata/StreamMetadata (max age, max count, truncate before).
	StreamMetadata bool
	// DeleteStream: the backend implements DeleteStream.
	DeleteStream bool
	// Reopen, if set, closes s and opens the same data again, enabling persistence tests.
	Reopen func(t *testing.T, s eventstore.Store) eventstore.Store
}

// waitTimeout bounds every wait of the suite. It only turns a hang into a
// failure: a correct store answers in milliseconds.
const waitTimeout = 30 * time.Second

// Run runs the conformance suite against the stores newStore returns. Each
// call of newStore must return a fresh, empty store; the caller registers
// its cleanup with t.Cleanup. Groups and cases run in parallel.
func Run(t *testing.T, f Features, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	su := &suite{f: f, newStore: newStore, nonce: hex.EncodeToString(nonce[:])}
	groups := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"Append", testAppend},
		{"Idempotency", testIdempotency},
		{"HashChain", testHashChain},
		{"Read", testRead},
		{"StreamMetadata", testStreamMetadata},
		{"DeleteStream", testDeleteStream},
		{"Subscribe", testSubscribe},
		{"Hammer", testHammer},
		{"Persistence", testPersistence},
		{"Close", testClose},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, su)
		})
	}
}

// suite is the state shared by the groups of one Run.
type suite struct {
	f        Features
	newStore func(t *testing.T) eventstore.Store
	// nonce makes stream names unique across runs, should a backend's
	// "fresh" store not be quite empty.
	nonce string
	seq   atomic.Uint64
}

// stream returns a stream name no other test of this run uses, derived from
// the test's name so a failure message says who wrote the stream.
func (su *suite) stream(t *testing.T) string {
	n := su.seq.Add(1)
	name := strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, t.Name())
	suffix := fmt.Sprintf("-%s-%d", su.nonce, n)
	// Keep the tail of long names: it is the most specific part.
	if limit := 200 - len(suffix); len(name) > limit {
		name = name[len(name)-limit:]
	}
	name = strings.TrimLeft(name, "$")
	return name + suffix
}

// reopen closes s and opens its data again; the suite closes the new store.
func (su *suite) reopen(t *testing.T, s eventstore.Store) eventstore.Store {
	t.Helper()
	s2 := su.f.Reopen(t, s)
	if s2 == nil {
		t.Fatal("Features.Reopen returned a nil store")
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

// needMetadata and needDelete skip t when the backend lacks the feature.
func (su *suite) needMetadata(t *testing.T) {
	t.Helper()
	if !su.f.StreamMetadata {
		t.Skip("the backend does not implement stream metadata (Features.StreamMetadata is false)")
	}
}

func (su *suite) needDelete(t *testing.T) {
	t.Helper()
	if !su.f.DeleteStream {
		t.Skip("the backend does not implement DeleteStream (Features.DeleteStream is false)")
	}
}

func (su *suite) needReopen(t *testing.T) {
	t.Helper()
	if su.f.Reopen == nil {
		t.Skip("the backend cannot reopen a store (Features.Reopen is nil): persistence is not tested")
	}
}

// testContext returns a context that ends when t ends or after waitTimeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// short picks the smaller of two sizes under -short.
func short(normal, small int) int {
	if testing.Short() {
		return small
	}
	return normal
}
