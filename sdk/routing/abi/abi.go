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
	"errors"
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
	d := decoder{b: b, alias: alias}
	if v := d.byte(); v != Version && !d.failed() {
		return fmt.Errorf("facts: ABI version %d, this side speaks %d", v, Version)
	}
	f.Clock = int64(d.u64())
	f.Seed = d.u64()
	f.Model = d.string()
	f.API = d.string()
	f.EstimatedTokens = d.count(math.MaxInt32)
	flags := d.byte()
	f.Tools, f.Stream = flags&factTools != 0, flags&factStream != 0
	for _, s := range [...]*string{&f.CallID, &f.KeyID, &f.Agent, &f.Team, &f.User, &f.TaskType} {
		*s = d.string()
	}
	n := d.count(MaxTags)
	f.Tags = f.Tags[:0]
	for range n {
		if d.failed() {
			break
		}
		f.Tags = append(f.Tags, Tag{Key: d.string(), Value: d.string()})
	}
	f.BudgetLeftUSD = d.float()
	n = d.count(MaxTargets)
	f.Targets = f.Targets[:0]
	for range n {
		if d.failed() {
			break
		}
		var t Target
		t.Provider = d.string()
		t.Model = d.string()
		tf := d.byte()
		t.RateLimited, t.CoolingDown, t.Tools = tf&targetRateLimited != 0, tf&targetCoolingDown != 0, tf&targetTools != 0
		t.LatencyMS = d.float()
		t.ErrorRate = d.float()
		t.InputUSDPerMTok = d.float()
		t.OutputUSDPerMTok = d.float()
		t.ContextWindow = d.count(math.MaxInt32)
		f.Targets = append(f.Targets, t)
	}
	var err error
	f.Default, err = d.indexes(f.Default[:0], len(f.Targets))
	if err != nil {
		return fmt.Errorf("facts: default route: %w", err)
	}
	return d.finish("facts")
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
	dec := decoder{b: b, alias: true}
	if v := dec.byte(); v != Version && !dec.failed() {
		return fmt.Errorf("decision: ABI version %d, this side speaks %d", v, Version)
	}
	switch status := dec.byte(); {
	case dec.failed():
	case status == statusError:
		d.Targets, d.Reason = d.Targets[:0], ""
		d.Error = keep(d.Error, dec.string())
		if d.Error == "" && !dec.failed() {
			d.Error = "plugin reported an error without a message"
		}
		return dec.finish("decision")
	case status != statusOK:
		return fmt.Errorf("decision: status %d is neither 0 (ok) nor 1 (error)", status)
	}
	d.Error = ""
	var err error
	d.Targets, err = dec.indexes(d.Targets[:0], targets)
	if err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	d.Reason = keep(d.Reason, dec.string())
	return dec.finish("decision")
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

var errShort = errors.New("message ends early")

type decoder struct {
	b     []byte
	alias bool
	err   error
}

func (d *decoder) failed() bool { return d.err != nil }

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail(errShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail(errShort)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) float() float64 { return math.Float64frombits(d.u64()) }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length or number that must not exceed limit.
func (d *decoder) count(limit int) int {
	v := d.uvarint()
	if v > uint64(limit) {
		d.fail(fmt.Errorf("a count of %d is over the limit of %d", v, limit))
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count(MaxString)
	if d.failed() {
		return ""
	}
	if len(d.b) < n {
		d.fail(errShort)
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	if n == 0 {
		return ""
	}
	if d.alias {
		return unsafe.String(&s[0], n)
	}
	return string(s)
}

// indexes reads a list of distinct indexes below n into dst.
func (d *decoder) indexes(dst []int, n int) ([]int, error) {
	k := d.count(MaxTargets)
	for range k {
		i := d.uvarint()
		if d.failed() {
			return dst, nil // reported by finish
		}
		if i >= uint64(n) {
			return dst, fmt.Errorf("index %d is out of range: there are %d targets", i, n)
		}
		for _, j := range dst {
			if j == int(i) {
				return dst, fmt.Errorf("index %d appears twice", i)
			}
		}
		dst = append(dst, int(i))
	}
	return dst, nil
}

func (d *decoder) finish(what string) error {
	if d.err != nil {
		return fmt.Errorf("%s: %w", what, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%s: %d bytes left over after the message", what, len(d.b))
	}
	return nil
}
