// Package eventstoretest is the conformance suite of eventstore.Store. Every
// backend runs it from a test file of about ten lines:
//
//	func TestConformance(t *testing.T) {
//		eventstoretest.Run(t, eventstoretest.Features{
//			StreamMetadata: true,
//			DeleteStream:   true,
//			Reopen:         reopen,
//		}, func(t *testing.T) eventstore.Store {
//			s, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # What it checks
//
// The suite checks what the doc comments of eventstore.Store promise, with
// exact values: versions, positions and their order, data bytes, metadata,
// hash chains (with event.VerifyChain), error types (with errors.As and
// errors.Is). It is grouped by part of the contract: Append, Idempotency,
// HashChain, Read, StreamMetadata, DeleteStream, Subscribe, Hammer,
// Persistence and Close. Run one group with, for example,
// go test -run 'TestConformance/Subscribe'.
//
// # Features
//
// [Features] declares what the backend implements beyond the core. A group
// or case that needs a missing feature calls t.Skip and says why; it never
// passes silently.
//
// # Stores
//
// newStore must return a fresh, empty store on every call and register its
// own cleanup; it is called from parallel tests. Most groups share one store
// between their cases, which run in parallel on streams of their own; cases
// that need the whole store (Close, live subscriptions compared with ReadAll,
// persistence) get a store of their own. A store that Features.Reopen
// returns is closed by the suite.
//
// # Timing
//
// The suite never sleeps to synchronise. Every wait (a subscription, a read,
// an append that should not block) is guarded by a generous timeout, so a
// broken backend fails instead of hanging. testing.Short shrinks the hammer
// tests.
package eventstoretest
