//go:build wasip1

package routing

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// The host lays the facts out in input (8-aligned, as a Facts value needs:
// hence []uint64) and reads the decision from decision.
var (
	input    []uint64
	decision Decision
	str      [2]uint64 // a str {addr, len} for sy_configure and sy_manifest
	keep     string    // what str points at
)

// setStr points str at s and returns str's address.
func setStr(s string) int32 {
	keep = s
	str = [2]uint64{uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))), uint64(len(s))}
	return int32(uintptr(unsafe.Pointer(&str)))
}

// sy_configure takes the size bytes of configuration in the input buffer
// and returns the address of a str: empty if accepted, else why not.
//
//go:wasmexport sy_configure
func syConfigure(size int32) int32 {
	if size < 0 || int(size) > 8*len(input) {
		return setStr("sy_configure: the configuration does not fit the input buffer")
	}
	var config []byte
	if size > 0 {
		config = bytes.Clone(unsafe.Slice((*byte)(unsafe.Pointer(&input[0])), size))
	}
	return setStr(configureWith(config))
}

// sy_manifest returns the address of a str holding the manifest as JSON.
//
//go:wasmexport sy_manifest
func syManifest() int32 { return setStr(manifestJSON()) }

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
// host to lay the facts out in.
//
//go:wasmexport sy_input
func syInput(size int32) int32 {
	if size < 0 {
		return 0
	}
	size = max(size, 8)
	if words := (int(size) + 7) / 8; cap(input) < words {
		input = make([]uint64, words, max(words, 2*cap(input)))
	}
	input = input[:cap(input)]
	return int32(uintptr(unsafe.Pointer(&input[0])))
}

// sy_route decides on the size bytes of facts in the input buffer and
// returns the address of the decision.
//
//go:wasmexport sy_route
func syRoute(size int32) int32 {
	if size < abi.FactsSize || int(size) > 8*len(input) {
		decision = Decision{Error: "sy_route: the facts do not fit the input buffer (the host broke the ABI)"}
	} else {
		Route((*Facts)(unsafe.Pointer(&input[0])), &decision)
	}
	return int32(uintptr(unsafe.Pointer(&decision)))
}
