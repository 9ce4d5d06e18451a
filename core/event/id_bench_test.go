package event

import "testing"

// BenchmarkNewID is the cost of an event id: the gateway takes three or
// more a call.
func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewID()
	}
}
