// Package abi is the contract between the gateway and a WASM routing
// plugin: the facts the host writes into the plugin's memory and the
// decision the plugin leaves there for the host to read.
//
// Both are laid out in memory the way Go lays out the structs below on a
// 64-bit target (wasm included): little-endian, naturally aligned, a
// string as {address u64, length u64}, a slice as {address, length,
// capacity}, a bool as one byte. A Go guest therefore reads its facts in
// place, without decoding them: Go's wasm code pays for every branch (it
// dispatches through a br_table loop), and decoding even a compact
// encoding cost a Go plugin 3-4 µs a call. Other languages read the same
// layout at fixed offsets; docs/routing-plugins.md specifies it.
//
// Neither side allocates in the steady state: the host lays out facts in
// a caller's buffer, and reads a decision's strings without copying them
// when they have not changed.
package abi

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// Version is the ABI version this package speaks: the answer of the
// plugin's sy_abi_version export. Version 1 was a varint encoding, dropped
// before release because a Go guest took 3-4 µs to decode it.
const Version = 2

// Limits the host enforces on what a guest returns, and the decoder on
// what it reads, so a broken peer cannot make the other side allocate
// without bound.
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

// The memory layout. Every offset and size below equals the Go struct's
// (unsafe.Offsetof, unsafe.Sizeof) on a 64-bit target, wasm included; a
// test checks that, so a Go guest reads the facts in place.
const (
	// A str is {addr u64, len u64}; a list is {addr u64, len u64, cap u64}.
	strSize  = 16
	listSize = 24

	FactsSize    = 240 // the fixed part of the facts
	TagSize      = 32
	TargetSize   = 80
	IndexSize    = 8
	DecisionSize = 56

	offClock, offSeed, offModel, offAPI          = 0, 8, 16, 32
	offEstimatedTokens, offTools, offStream      = 48, 56, 57
	offCallID, offKeyID, offAgent, offTeam       = 64, 80, 96, 112
	offUser, offTaskType, offTags, offBudgetLeft = 128, 144, 160, 184
	offTargets, offDefault                       = 192, 216

	offTargetProvider, offTargetModel                       = 0, 16
	offRateLimited, offCoolingDown, offTargetTools          = 32, 33, 34
	offLatency, offErrorRate, offInputPrice, offOutputPrice = 40, 48, 56, 64
	offContextWindow                                        = 72
	offDecisionTargets, offDecisionReason, offDecisionError = 0, 24, 40
)

// Size returns how many bytes AppendFacts writes for f.
func Size(f *Facts) int {
	n := FactsSize + len(f.Tags)*TagSize + len(f.Targets)*TargetSize + len(f.Default)*IndexSize
	n += len(f.Model) + len(f.API) + len(f.CallID) + len(f.KeyID) + len(f.Agent) + len(f.Team) + len(f.User) + len(f.TaskType)
	for _, t := range f.Tags {
		n += len(t.Key) + len(t.Value)
	}
	for i := range f.Targets {
		n += len(f.Targets[i].Provider) + len(f.Targets[i].Model)
	}
	return n
}

// AppendFacts appends f laid out for a guest buffer at address base: the
// fixed part, then the tags, targets and default route, then the bytes of
// every string. base must be a multiple of 8.
func AppendFacts(dst []byte, f *Facts, base uint32) []byte {
	start, n := len(dst), Size(f)
	dst = slices.Grow(dst, n)[:start+n]
	clear(dst[start:]) // the padding and false bools are zeros
	w := writer{b: dst[start:], base: base}
	tags := FactsSize
	targets := tags + len(f.Tags)*TagSize
	defaults := targets + len(f.Targets)*TargetSize
	w.str = defaults + len(f.Default)*IndexSize

	w.u64(offClock, uint64(f.Clock))
	w.u64(offSeed, f.Seed)
	w.string(offModel, f.Model)
	w.string(offAPI, f.API)
	w.u64(offEstimatedTokens, uint64(max(f.EstimatedTokens, 0)))
	w.bool(offTools, f.Tools)
	w.bool(offStream, f.Stream)
	w.string(offCallID, f.CallID)
	w.string(offKeyID, f.KeyID)
	w.string(offAgent, f.Agent)
	w.string(offTeam, f.Team)
	w.string(offUser, f.User)
	w.string(offTaskType, f.TaskType)
	w.list(offTags, tags, len(f.Tags))
	for i, t := range f.Tags {
		at := tags + i*TagSize
		w.string(at, t.Key)
		w.string(at+strSize, t.Value)
	}
	w.u64(offBudgetLeft, math.Float64bits(f.BudgetLeftUSD))
	w.list(offTargets, targets, len(f.Targets))
	for i := range f.Targets {
		t, at := &f.Targets[i], targets+i*TargetSize
		w.string(at+offTargetProvider, t.Provider)
		w.string(at+offTargetModel, t.Model)
		w.bool(at+offRateLimited, t.RateLimited)
		w.bool(at+offCoolingDown, t.CoolingDown)
		w.bool(at+offTargetTools, t.Tools)
		w.u64(at+offLatency, math.Float64bits(t.LatencyMS))
		w.u64(at+offErrorRate, math.Float64bits(t.ErrorRate))
		w.u64(at+offInputPrice, math.Float64bits(t.InputUSDPerMTok))
		w.u64(at+offOutputPrice, math.Float64bits(t.OutputUSDPerMTok))
		w.u64(at+offContextWindow, uint64(max(t.ContextWindow, 0)))
	}
	w.list(offDefault, defaults, len(f.Default))
	for i, d := range f.Default {
		w.u64(defaults+i*IndexSize, uint64(d))
	}
	return dst
}

// writer fills a laid-out message; str is where the next string's bytes go.
type writer struct {
	b    []byte
	base uint32
	str  int
}

func (w *writer) u64(at int, v uint64) { binary.LittleEndian.PutUint64(w.b[at:], v) }

func (w *writer) bool(at int, v bool) {
	if v {
		w.b[at] = 1
	}
}

func (w *writer) list(at, to, n int) {
	w.u64(at, uint64(w.base)+uint64(to))
	w.u64(at+8, uint64(n))
	w.u64(at+16, uint64(n))
}

func (w *writer) string(at int, s string) {
	w.u64(at, uint64(w.base)+uint64(w.str))
	w.u64(at+8, uint64(len(s)))
	w.str += copy(w.b[w.str:], s)
}

// DecodeFacts reads facts laid out at address base from b into f, copying
// every string and reusing f's slices. The host never needs it (a guest
// reads the facts in place); it is the layout's executable specification,
// and what a guest in another language must agree with.
func DecodeFacts(b []byte, base uint32, f *Facts) error {
	r := reader{b: b, base: base}
	if len(b) < FactsSize {
		return fmt.Errorf("facts: %d bytes, fewer than the fixed part's %d", len(b), FactsSize)
	}
	f.Clock = int64(r.u64(offClock))
	f.Seed = r.u64(offSeed)
	f.Model = r.string(offModel)
	f.API = r.string(offAPI)
	f.EstimatedTokens = int(min(r.u64(offEstimatedTokens), math.MaxInt32))
	f.Tools, f.Stream = r.bool(offTools), r.bool(offStream)
	f.CallID = r.string(offCallID)
	f.KeyID = r.string(offKeyID)
	f.Agent = r.string(offAgent)
	f.Team = r.string(offTeam)
	f.User = r.string(offUser)
	f.TaskType = r.string(offTaskType)
	at, n := r.list(offTags, TagSize, MaxTags)
	f.Tags = f.Tags[:0]
	for i := range n {
		f.Tags = append(f.Tags, Tag{Key: r.string(at + i*TagSize), Value: r.string(at + i*TagSize + strSize)})
	}
	f.BudgetLeftUSD = math.Float64frombits(r.u64(offBudgetLeft))
	at, n = r.list(offTargets, TargetSize, MaxTargets)
	f.Targets = f.Targets[:0]
	for i := range n {
		t := at + i*TargetSize
		f.Targets = append(f.Targets, Target{
			Provider: r.string(t + offTargetProvider), Model: r.string(t + offTargetModel),
			RateLimited: r.bool(t + offRateLimited), CoolingDown: r.bool(t + offCoolingDown), Tools: r.bool(t + offTargetTools),
			LatencyMS: math.Float64frombits(r.u64(t + offLatency)), ErrorRate: math.Float64frombits(r.u64(t + offErrorRate)),
			InputUSDPerMTok:  math.Float64frombits(r.u64(t + offInputPrice)),
			OutputUSDPerMTok: math.Float64frombits(r.u64(t + offOutputPrice)),
			ContextWindow:    int(min(r.u64(t+offContextWindow), math.MaxInt32)),
		})
	}
	at, n = r.list(offDefault, IndexSize, MaxTargets)
	f.Default = f.Default[:0]
	for i := range n {
		if v := r.u64(at + i*IndexSize); v < uint64(len(f.Targets)) {
			f.Default = append(f.Default, int(v))
		} else if r.err == nil {
			r.err = fmt.Errorf("default route: index %d is out of range: there are %d targets", v, len(f.Targets))
		}
	}
	if r.err != nil {
		return fmt.Errorf("facts: %w", r.err)
	}
	return nil
}

// Memory is a guest's linear memory, as wazero's api.Memory reads it:
// Read returns a view of n bytes at offset, or false when they are not all
// inside the memory.
type Memory interface {
	Read(offset, n uint32) ([]byte, bool)
}

// Bytes is a Memory over a byte slice, for tests and tools.
type Bytes []byte

func (m Bytes) Read(offset, n uint32) ([]byte, bool) {
	if uint64(offset)+uint64(n) > uint64(len(m)) {
		return nil, false
	}
	return m[offset : offset+n], true
}

// ReadDecision reads the decision a guest laid out at addr in mem into d,
// reusing d.Targets. Every index must be below targets, the number of
// targets in the facts, and appear once. The strings are copied unless
// they equal d's current ones, so a plugin that returns a few fixed
// reasons costs the host no allocation. A guest is not trusted: every
// address and length is checked against its memory and the limits.
func ReadDecision(mem Memory, addr uint32, d *Decision, targets int) error {
	fixed, ok := mem.Read(addr, DecisionSize)
	if !ok {
		return fmt.Errorf("decision: address %d is outside the plugin's memory", addr)
	}
	r := reader{b: fixed}
	at, n := r.ptrLen(offDecisionTargets)
	reason, errMsg := r.ptrLenAt(offDecisionReason), r.ptrLenAt(offDecisionError)
	if errMsg[1] > 0 {
		msg, err := readString(mem, errMsg, "error")
		if err != nil {
			return err
		}
		d.Targets, d.Reason, d.Error = d.Targets[:0], "", keep(d.Error, msg)
		return nil
	}
	if n > MaxTargets {
		return fmt.Errorf("decision: %d targets, over the limit of %d", n, MaxTargets)
	}
	idx, ok := mem.Read(at, n*IndexSize)
	if !ok {
		return fmt.Errorf("decision: its list of targets (address %d, %d entries) is outside the plugin's memory", at, n)
	}
	d.Targets = d.Targets[:0]
	for i := range int(n) {
		v := binary.LittleEndian.Uint64(idx[i*IndexSize:])
		if v >= uint64(targets) {
			return fmt.Errorf("decision: index %d is out of range: there are %d targets", int64(v), targets)
		}
		if slices.Contains(d.Targets, int(v)) {
			return fmt.Errorf("decision: index %d appears twice", v)
		}
		d.Targets = append(d.Targets, int(v))
	}
	msg, err := readString(mem, reason, "reason")
	if err != nil {
		return err
	}
	d.Reason, d.Error = keep(d.Reason, msg), ""
	return nil
}

// readString returns an alias of the string at {addr, len} in mem.
func readString(mem Memory, s [2]uint32, what string) (string, error) {
	if s[1] > MaxString {
		return "", fmt.Errorf("decision: a %s of %d bytes, over the limit of %d", what, s[1], MaxString)
	}
	b, ok := mem.Read(s[0], s[1])
	if !ok {
		return "", fmt.Errorf("decision: its %s (address %d, %d bytes) is outside the plugin's memory", what, s[0], s[1])
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// keep returns old when it equals s (an alias into guest memory), else a copy.
func keep(old, s string) string {
	if old == s {
		return old
	}
	return strings.Clone(s)
}

// reader reads a laid-out message; the first fault is kept in err and
// later reads return zero values.
type reader struct {
	b    []byte
	base uint32
	err  error
}

func (r *reader) u64(at int) uint64 {
	if at < 0 || at+8 > len(r.b) {
		r.fail("a field at offset %d is past the end (%d bytes)", at, len(r.b))
		return 0
	}
	return binary.LittleEndian.Uint64(r.b[at:])
}

func (r *reader) bool(at int) bool { return r.u64(at&^7)>>(8*(at&7))&0xff != 0 }

// ptrLen reads an {addr, len} pair as guest values (32-bit addresses).
func (r *reader) ptrLen(at int) (addr, n uint32) {
	a, l := r.u64(at), r.u64(at+8)
	return uint32(min(a, math.MaxUint32)), uint32(min(l, math.MaxUint32))
}

func (r *reader) ptrLenAt(at int) [2]uint32 {
	a, n := r.ptrLen(at)
	return [2]uint32{a, n}
}

// local turns a guest address into an offset in b and checks n bytes fit.
func (r *reader) local(addr uint64, n uint64, what string) int {
	if addr < uint64(r.base) || addr-uint64(r.base)+n > uint64(len(r.b)) {
		r.fail("%s at address %d (%d bytes) is outside the message (address %d, %d bytes)", what, addr, n, r.base, len(r.b))
		return -1
	}
	return int(addr - uint64(r.base))
}

func (r *reader) string(at int) string {
	addr, n := r.u64(at), r.u64(at+8)
	if n > MaxString {
		r.fail("a string of %d bytes is over the limit of %d", n, MaxString)
		return ""
	}
	off := r.local(addr, n, "a string")
	if off < 0 || r.err != nil {
		return ""
	}
	return string(r.b[off : off+int(n)])
}

// list returns the offset of a list of n elements of size bytes.
func (r *reader) list(at, size int, limit uint64) (int, int) {
	addr, n := r.u64(at), r.u64(at+8)
	if n > limit {
		r.fail("a list of %d entries is over the limit of %d", n, limit)
		return 0, 0
	}
	off := r.local(addr, n*uint64(size), "a list")
	if off < 0 || r.err != nil {
		return 0, 0
	}
	return off, int(n)
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}
