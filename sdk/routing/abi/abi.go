// Package abi is the wire format between the gateway and a WASM routing
// plugin: the facts the host writes into the plugin's memory and the
// decision the plugin writes back. It is a compact binary encoding, not
// JSON, because a JSON codec inside a Go wasip1 guest costs ~20 µs a call
// and this one well under 1 µs. docs/routing-plugins.md specifies it byte
// by byte so plugins can be written in any language; this package is the
// Go implementation, shared by the host (plugins/wasm) and the Go guest
// SDK (sdk/routing).
//
// Neither side allocates in the steady state: encoders append to a
// caller's buffer, and decoders reuse the slices of the value they fill.
package abi

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// Version is the ABI version this package speaks. It is the first byte of
// every message and the answer of the plugin's sy_abi_version export.
const Version = 1

// Limits a decoder enforces, so a hostile or broken peer cannot make the
// other side allocate without bound.
const (
	MaxTargets = 4096
	MaxTags    = 4096
	MaxString  = 1 << 20
)

// Facts are what a routing plugin sees about one call.
type Facts struct {
	// Clock is the call's time in Unix nanoseconds and Seed its random
	// seed, both chosen and recorded by the host: a plugin that uses only
	// these (never the system clock or its own randomness) gives the same
	// answer when the decision is replayed.
	Clock int64
	Seed  uint64

	Model           string // the model the client asked for
	API             string // inbound API: openai.chat, openai.responses, anthropic.messages
	EstimatedTokens int    // input tokens, estimated from the request
	Tools           bool   // the request declares tools
	Stream          bool   // the client asked for a stream

	CallID, KeyID, Agent, Team, User string
	// TaskType is the request's task type tag ("task" tag), if any.
	TaskType string
	Tags     []Tag

	// BudgetLeftUSD is the smallest spend left among the caller's capped
	// scopes; negative when none is capped.
	BudgetLeftUSD float64

	// Targets are every deployment the gateway can send the call to.
	// A decision names them by index.
	Targets []Target
	// Default is the route the gateway's static table gives, as indexes
	// into Targets: a plugin can keep, reorder or replace it.
	Default []int
}

// Tag is one request tag.
type Tag struct{ Key, Value string }

// Target is one deployment and what the host knows of it now.
type Target struct {
	Provider, Model string
	RateLimited     bool // a 429 within the cool-down window
	CoolingDown     bool // resting after failures
	Tools           bool // the model takes tool definitions
	LatencyMS       float64
	ErrorRate       float64 // 0..1, smoothed
	// Prices in US dollars per million tokens; negative when unpriced.
	InputUSDPerMTok  float64
	OutputUSDPerMTok float64
	ContextWindow    int // tokens; 0 when unknown
}

// Decision is a plugin's answer.
type Decision struct {
	// Targets are indexes into Facts.Targets, in the order to try them.
	// Empty means the plugin has no route for the call.
	Targets []int
	Reason  string
	// Error, when not empty, says the plugin failed; the host then uses
	// the default route and records the error.
	Error string
}

const (
	factTools  = 1
	factStream = 2

	targetRateLimited = 1
	targetCoolingDown = 2
	targetTools       = 4

	statusOK    = 0
	statusError = 1
)

// AppendFacts appends the encoding of f to dst.
func AppendFacts(dst []byte, f *Facts) []byte {
	dst = append(dst, Version)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.Clock))
	dst = binary.LittleEndian.AppendUint64(dst, f.Seed)
	dst = appendString(dst, f.Model)
	dst = appendString(dst, f.API)
	dst = binary.AppendUvarint(dst, uint64(max(f.EstimatedTokens, 0)))
	var flags byte
	if f.Tools {
		flags |= factTools
	}
	if f.Stream {
		flags |= factStream
	}
	dst = append(dst, flags)
	for _, s := range [...]string{f.CallID, f.KeyID, f.Agent, f.Team, f.User, f.TaskType} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.Tags)))
	for _, t := range f.Tags {
		dst = appendString(dst, t.Key)
		dst = appendString(dst, t.Value)
	}
	dst = appendFloat(dst, f.BudgetLeftUSD)
	dst = binary.AppendUvarint(dst, uint64(len(f.Targets)))
	for i := range f.Targets {
		t := &f.Targets[i]
		dst = appendString(dst, t.Provider)
		dst = appendString(dst, t.Model)
		var tf byte
		if t.RateLimited {
			tf |= targetRateLimited
		}
		if t.CoolingDown {
			tf |= targetCoolingDown
		}
		if t.Tools {
			tf |= targetTools
		}
		dst = append(dst, tf)
		dst = appendFloat(dst, t.LatencyMS)
		dst = appendFloat(dst, t.ErrorRate)
		dst = appendFloat(dst, t.InputUSDPerMTok)
		dst = appendFloat(dst, t.OutputUSDPerMTok)
		dst = binary.AppendUvarint(dst, uint64(max(t.ContextWindow, 0)))
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.Default)))
	for _, i := range f.Default {
		dst = binary.AppendUvarint(dst, uint64(i))
	}
	return dst
}

// DecodeFacts decodes b into f, reusing f's slices. With alias set, the
// strings of f point into b (no copy, no allocation): they are valid only
// while b is unchanged. A guest decoding its input buffer does that;
// anyone keeping the facts passes alias false.
func DecodeFacts(b []byte, f *Facts, alias bool) error {
	if len(b) > 0 && b[0] != Version {
		return fmt.Errorf("facts: ABI version %d, this side speaks %d", b[0], Version)
	}
	i := 1
	var u uint64
	var c byte
	u, i = rdU64(b, i)
	f.Clock = int64(u)
	f.Seed, i = rdU64(b, i)
	f.Model, i = rdString(b, i, alias)
	f.API, i = rdString(b, i, alias)
	u, i = rdUvarint(b, i)
	f.EstimatedTokens = int(min(u, math.MaxInt32))
	c, i = rdByte(b, i)
	f.Tools, f.Stream = c&factTools != 0, c&factStream != 0
	f.CallID, i = rdString(b, i, alias)
	f.KeyID, i = rdString(b, i, alias)
	f.Agent, i = rdString(b, i, alias)
	f.Team, i = rdString(b, i, alias)
	f.User, i = rdString(b, i, alias)
	f.TaskType, i = rdString(b, i, alias)
	u, i = rdUvarint(b, i)
	if u > MaxTags {
		return fmt.Errorf("facts: %d tags, over the limit of %d", u, MaxTags)
	}
	f.Tags = f.Tags[:0]
	for range u {
		if i > len(b) {
			break
		}
		var t Tag
		t.Key, i = rdString(b, i, alias)
		t.Value, i = rdString(b, i, alias)
		f.Tags = append(f.Tags, t)
	}
	u, i = rdU64(b, i)
	f.BudgetLeftUSD = math.Float64frombits(u)
	u, i = rdUvarint(b, i)
	if u > MaxTargets {
		return fmt.Errorf("facts: %d targets, over the limit of %d", u, MaxTargets)
	}
	if cap(f.Targets) < int(u) && i+int(u)*38 <= len(b) { // 38: the smallest encoded target
		f.Targets = make([]Target, 0, u)
	}
	f.Targets = f.Targets[:0]
	for range u {
		if i > len(b) {
			break
		}
		f.Targets = append(f.Targets, Target{})
		t := &f.Targets[len(f.Targets)-1]
		t.Provider, i = rdString(b, i, alias)
		t.Model, i = rdString(b, i, alias)
		c, i = rdByte(b, i)
		t.RateLimited, t.CoolingDown, t.Tools = c&targetRateLimited != 0, c&targetCoolingDown != 0, c&targetTools != 0
		u, i = rdU64(b, i)
		t.LatencyMS = math.Float64frombits(u)
		u, i = rdU64(b, i)
		t.ErrorRate = math.Float64frombits(u)
		u, i = rdU64(b, i)
		t.InputUSDPerMTok = math.Float64frombits(u)
		u, i = rdU64(b, i)
		t.OutputUSDPerMTok = math.Float64frombits(u)
		u, i = rdUvarint(b, i)
		t.ContextWindow = int(min(u, math.MaxInt32))
	}
	var err error
	f.Default, i, err = rdIndexes(b, i, f.Default[:0], len(f.Targets))
	if err != nil {
		return fmt.Errorf("facts: default route: %w", err)
	}
	return finish(b, i, "facts")
}

// AppendDecision appends the encoding of d to dst.
func AppendDecision(dst []byte, d *Decision) []byte {
	dst = append(dst, Version)
	if d.Error != "" {
		dst = append(dst, statusError)
		return appendString(dst, d.Error)
	}
	dst = append(dst, statusOK)
	dst = binary.AppendUvarint(dst, uint64(len(d.Targets)))
	for _, i := range d.Targets {
		dst = binary.AppendUvarint(dst, uint64(max(i, 0)))
	}
	return appendString(dst, d.Reason)
}

// DecodeDecision decodes b into d, reusing d.Targets. Every index must be
// below targets, the number of targets in the facts, and appear once. The
// reason is copied unless it equals d's current one, so a plugin that
// returns a few fixed reasons costs the host no allocation.
func DecodeDecision(b []byte, d *Decision, targets int) error {
	if len(b) > 0 && b[0] != Version {
		return fmt.Errorf("decision: ABI version %d, this side speaks %d", b[0], Version)
	}
	status, i := rdByte(b, 1)
	var msg string
	switch {
	case i > len(b):
	case status == statusError:
		d.Targets, d.Reason = d.Targets[:0], ""
		msg, i = rdString(b, i, true)
		d.Error = keep(d.Error, msg)
		if d.Error == "" {
			d.Error = "plugin reported an error without a message"
		}
		return finish(b, i, "decision")
	case status != statusOK:
		return fmt.Errorf("decision: status %d is neither 0 (ok) nor 1 (error)", status)
	}
	d.Error = ""
	var err error
	d.Targets, i, err = rdIndexes(b, i, d.Targets[:0], targets)
	if err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	msg, i = rdString(b, i, true)
	d.Reason = keep(d.Reason, msg)
	return finish(b, i, "decision")
}

// keep returns old when it equals s (an alias into a buffer), else a copy.
func keep(old, s string) string {
	if old == s {
		return old
	}
	return string([]byte(s))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// The readers below take the message and a position and return the
// value and the next position; past the end they return len(b)+1, which
// every later read passes on, and finish reports. Each has a fast path the
// compiler inlines: Go's wasm code pays dearly for every call, and a
// plugin decodes its facts on every decision.

func rdByte(b []byte, i int) (byte, int) {
	if i < len(b) {
		return b[i], i + 1
	}
	return 0, len(b) + 1
}

func rdU64(b []byte, i int) (uint64, int) {
	if len(b)-i >= 8 {
		return binary.LittleEndian.Uint64(b[i:]), i + 8
	}
	return 0, len(b) + 1
}

func rdUvarint(b []byte, i int) (uint64, int) {
	var v uint64
	for s := uint(0); i < len(b) && s < 64; s += 7 {
		c := b[i]
		i++
		if c < 0x80 {
			return v | uint64(c)<<s, i
		}
		v |= uint64(c&0x7f) << s
	}
	return 0, len(b) + 1
}

func rdString(b []byte, i int, alias bool) (string, int) {
	n, i := rdUvarint(b, i)
	if i > len(b) || n > uint64(len(b)-i) {
		return "", len(b) + 1
	}
	if alias {
		return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i)), n), i + int(n)
	}
	return string(b[i : i+int(n)]), i + int(n)
}

// rdIndexes reads a list of distinct indexes below n into dst.
func rdIndexes(b []byte, i int, dst []int, n int) ([]int, int, error) {
	k, i := rdUvarint(b, i)
	if k > MaxTargets {
		return dst, i, fmt.Errorf("a count of %d is over the limit of %d", k, MaxTargets)
	}
	for range k {
		var v uint64
		v, i = rdUvarint(b, i)
		if i > len(b) {
			return dst, i, nil // reported by finish
		}
		if v >= uint64(n) {
			return dst, i, fmt.Errorf("index %d is out of range: there are %d targets", v, n)
		}
		for _, j := range dst {
			if j == int(v) {
				return dst, i, fmt.Errorf("index %d appears twice", v)
			}
		}
		dst = append(dst, int(v))
	}
	return dst, i, nil
}

func finish(b []byte, i int, what string) error {
	switch {
	case len(b) == 0 || i > len(b):
		return fmt.Errorf("%s: message ends early", what)
	case i < len(b):
		return fmt.Errorf("%s: %d bytes left over after the message", what, len(b)-i)
	}
	return nil
}
