//go:build wasip1

package routing

import (
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// The guest's buffers live for the module's life: the host writes the
// facts into input and reads the decision from output.
var (
	input  []byte
	output []byte
	facts  Facts
)

// The guest's garbage collector runs only when the host asks, between
// calls (sy_collect): a collection inside a decision would stall it for
// milliseconds.
func init() { debug.SetGCPercent(-1) }

// sy_collect runs a garbage collection. The host calls it off the request
// path when the guest's memory has grown.
//
//go:wasmexport sy_collect
func syCollect() { runtime.GC() }

//go:wasmexport sy_abi_version
func syABIVersion() int32 { return abi.Version }

// sy_input returns the address of a buffer of at least size bytes for the
// host to write the facts into.
//
//go:wasmexport sy_input
func syInput(size int32) int32 {
	if size < 0 {
		return 0
	}
	if cap(input) < int(size) {
		input = make([]byte, size, max(int(size), 2*cap(input)))
	}
	input = input[:size]
	if size == 0 {
		return 0
	}
	return int32(uintptr(unsafe.Pointer(&input[0])))
}

// sy_route decides on the size bytes of facts in the input buffer and
// returns the decision's address in the high 32 bits and its length in
// the low 32.
//
//go:wasmexport sy_route
func syRoute(size int32) int64 {
	if size < 0 || int(size) > len(input) {
		size = 0
	}
	output = Route(input[:size], &facts, output[:0])
	if len(output) == 0 {
		return 0
	}
	return int64(uintptr(unsafe.Pointer(&output[0])))<<32 | int64(len(output))
}
