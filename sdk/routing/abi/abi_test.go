package abi

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

func sampleFacts() *Facts {
	return &Facts{
		Clock: 1764720000123456789, Seed: 0xdeadbeefcafe,
		Model: "fast", API: "anthropic.messages", EstimatedTokens: 12000, Tools: true,
		CallID: "c1", KeyID: "k1", Agent: "reviewer", Team: "finance", User: "ana", TaskType: "review",
		Tags:          []Tag{{"task", "review"}, {"env", "prod"}},
		BudgetLeftUSD: 12.5,
		Targets: []Target{
			{Provider: "anthropic", Model: "claude-sonnet-4-5", Tools: true, LatencyMS: 850, ErrorRate: 0.01, InputUSDPerMTok: 3, OutputUSDPerMTok: 15, ContextWindow: 200000},
			{Provider: "gemini", Model: "gemini-2.5-flash", RateLimited: true, CoolingDown: true, LatencyMS: 420, InputUSDPerMTok: -1, OutputUSDPerMTok: -1},
		},
		Default: []int{1, 0},
	}
}

// The layout constants are the Go structs' own: that is what lets a Go
// guest read the facts in place.
func TestLayoutIsGos(t *testing.T) {
	var f Facts
	var tg Target
	var d Decision
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"Facts", unsafe.Sizeof(f), FactsSize}, {"Tag", unsafe.Sizeof(Tag{}), TagSize},
		{"Target", unsafe.Sizeof(tg), TargetSize}, {"Decision", unsafe.Sizeof(d), DecisionSize},
		{"Clock", unsafe.Offsetof(f.Clock), offClock}, {"Seed", unsafe.Offsetof(f.Seed), offSeed},
		{"Model", unsafe.Offsetof(f.Model), offModel}, {"API", unsafe.Offsetof(f.API), offAPI},
		{"EstimatedTokens", unsafe.Offsetof(f.EstimatedTokens), offEstimatedTokens},
		{"Tools", unsafe.Offsetof(f.Tools), offTools}, {"Stream", unsafe.Offsetof(f.Stream), offStream},
		{"CallID", unsafe.Offsetof(f.CallID), offCallID}, {"KeyID", unsafe.Offsetof(f.KeyID), offKeyID},
		{"Agent", unsafe.Offsetof(f.Agent), offAgent}, {"Team", unsafe.Offsetof(f.Team), offTeam},
		{"User", unsafe.Offsetof(f.User), offUser}, {"TaskType", unsafe.Offsetof(f.TaskType), offTaskType},
		{"Tags", unsafe.Offsetof(f.Tags), offTags}, {"BudgetLeftUSD", unsafe.Offsetof(f.BudgetLeftUSD), offBudgetLeft},
		{"Targets", unsafe.Offsetof(f.Targets), offTargets}, {"Default", unsafe.Offsetof(f.Default), offDefault},
		{"Target.Provider", unsafe.Offsetof(tg.Provider), offTargetProvider}, {"Target.Model", unsafe.Offsetof(tg.Model), offTargetModel},
		{"Target.RateLimited", unsafe.Offsetof(tg.RateLimited), offRateLimited}, {"Target.CoolingDown", unsafe.Offsetof(tg.CoolingDown), offCoolingDown},
		{"Target.Tools", unsafe.Offsetof(tg.Tools), offTargetTools}, {"Target.LatencyMS", unsafe.Offsetof(tg.LatencyMS), offLatency},
		{"Target.ErrorRate", unsafe.Offsetof(tg.ErrorRate), offErrorRate}, {"Target.InputUSDPerMTok", unsafe.Offsetof(tg.InputUSDPerMTok), offInputPrice},
		{"Target.OutputUSDPerMTok", unsafe.Offsetof(tg.OutputUSDPerMTok), offOutputPrice}, {"Target.ContextWindow", unsafe.Offsetof(tg.ContextWindow), offContextWindow},
		{"Decision.Targets", unsafe.Offsetof(d.Targets), offDecisionTargets}, {"Decision.Reason", unsafe.Offsetof(d.Reason), offDecisionReason},
		{"Decision.Error", unsafe.Offsetof(d.Error), offDecisionError},
	} {
		if c.got != c.want {
			t.Errorf("%s: Go puts it at %d, the ABI at %d", c.name, c.got, c.want)
		}
	}
}

// base is where the tests pretend the guest's buffer is.
const base = 4096

func TestFactsRoundTrip(t *testing.T) {
	f := sampleFacts()
	b := AppendFacts(nil, f, base)
	if len(b) != Size(f) {
		t.Fatalf("AppendFacts wrote %d bytes, Size says %d", len(b), Size(f))
	}
	var got Facts
	if err := DecodeFacts(b, base, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, f) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, *f)
	}
}

// A Go guest reads the facts in place: the bytes at base are the struct,
// with its pointers pointing into the same buffer.
func TestFactsReadInPlace(t *testing.T) {
	f := sampleFacts()
	buf := make([]uint64, (Size(f)+7)/8) // 8-aligned, like a Go allocation
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
	addr := uint32(uintptr(unsafe.Pointer(&buf[0])))
	if uint64(uintptr(unsafe.Pointer(&buf[0]))) != uint64(addr) {
		t.Skip("the buffer's address does not fit 32 bits, as it would in a guest")
	}
	AppendFacts(raw[:0], f, addr)
	got := (*Facts)(unsafe.Pointer(&buf[0]))
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("in place\n got %+v\nwant %+v", *got, *f)
	}
}

func TestDecisionRoundTrip(t *testing.T) {
	for _, d := range []Decision{
		{Targets: []int{1, 0}, Reason: "gemini is rate limited"},
		{Targets: []int{}, Reason: ""},
		{Error: "no rule for task type"},
	} {
		mem, addr := layDecision(&d)
		var got Decision
		if err := ReadDecision(mem, addr, &got, 2); err != nil {
			t.Fatal(err)
		}
		if len(got.Targets) == 0 && len(d.Targets) == 0 {
			got.Targets, d.Targets = nil, nil
		}
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("got %+v, want %+v", got, d)
		}
	}
}

// layDecision lays d out the way a guest does, in a memory of its own: the
// struct at 64, the indexes at 128, the strings after them.
func layDecision(d *Decision) (Bytes, uint32) {
	mem := make(Bytes, 1024)
	put := func(at int, v uint64) { binary.LittleEndian.PutUint64(mem[at:], v) }
	put(64+offDecisionTargets, 128)
	put(64+offDecisionTargets+8, uint64(len(d.Targets)))
	put(64+offDecisionTargets+16, uint64(len(d.Targets)))
	for i, v := range d.Targets {
		put(128+8*i, uint64(v))
	}
	at := 128 + 8*len(d.Targets)
	for _, s := range []struct {
		off int
		s   string
	}{{offDecisionReason, d.Reason}, {offDecisionError, d.Error}} {
		put(64+s.off, uint64(at))
		put(64+s.off+8, uint64(len(s.s)))
		at += copy(mem[at:], s.s)
	}
	return mem, 64
}

// Every strict prefix of a message is refused, never read past its end.
func TestTruncatedFactsAreRefused(t *testing.T) {
	b := AppendFacts(nil, sampleFacts(), base)
	for n := range len(b) {
		var f Facts
		if err := DecodeFacts(b[:n], base, &f); err == nil {
			t.Fatalf("facts cut to %d of %d bytes decoded without error", n, len(b))
		}
	}
}

func TestBadDecisions(t *testing.T) {
	good := func() Bytes { m, _ := layDecision(&Decision{Targets: []int{1, 0}, Reason: "r"}); return m }
	put := func(m Bytes, at int, v uint64) Bytes { binary.LittleEndian.PutUint64(m[at:], v); return m }
	cases := map[string]struct {
		mem  Bytes
		addr uint32
		want string
	}{
		"outside":      {good(), 1000, "outside the plugin's memory"},
		"out of range": {put(good(), 128, 2), 64, "out of range"},
		"negative":     {put(good(), 128, math.MaxUint64), 64, "out of range"},
		"duplicate":    {put(good(), 136, 1), 64, "twice"},
		"huge count":   {put(good(), 64+8, MaxTargets+1), 64, "over the limit"},
		"list outside": {put(good(), 64, 1020), 64, "list of targets"},
		"reason":       {put(good(), 64+offDecisionReason, 5000), 64, "reason"},
		"long reason":  {put(good(), 64+offDecisionReason+8, MaxString+1), 64, "over the limit"},
	}
	for name, c := range cases {
		var d Decision
		err := ReadDecision(c.mem, c.addr, &d, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

func TestReadDecisionDoesNotAllocate(t *testing.T) {
	laid, addr := layDecision(&Decision{Targets: []int{1, 0}, Reason: "cheapest capable"})
	var mem Memory = laid // as the host holds it: boxing a slice allocates
	var d Decision
	if err := ReadDecision(mem, addr, &d, 2); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = ReadDecision(mem, addr, &d, 2) }); n != 0 {
		t.Fatalf("%v allocations per read of a repeated decision, want 0", n)
	}
	f := sampleFacts()
	buf := AppendFacts(nil, f, base)
	if n := testing.AllocsPerRun(100, func() { buf = AppendFacts(buf[:0], f, base) }); n != 0 {
		t.Fatalf("%v allocations per facts layout into a buffer with room, want 0", n)
	}
}

func FuzzDecodeFacts(f *testing.F) {
	f.Add(AppendFacts(nil, sampleFacts(), base))
	f.Fuzz(func(t *testing.T, b []byte) {
		var facts Facts
		if DecodeFacts(b, base, &facts) == nil {
			again := AppendFacts(nil, &facts, base)
			var f2 Facts
			if err := DecodeFacts(again, base, &f2); err != nil {
				t.Fatalf("re-encoded facts do not decode: %v", err)
			}
		}
	})
}

func FuzzReadDecision(f *testing.F) {
	m, _ := layDecision(&Decision{Targets: []int{1, 0}, Reason: "r"})
	f.Add([]byte(m), uint32(64))
	m, _ = layDecision(&Decision{Error: "e"})
	f.Add([]byte(m), uint32(64))
	f.Fuzz(func(t *testing.T, b []byte, addr uint32) {
		var d Decision
		if ReadDecision(Bytes(b), addr, &d, 8) == nil {
			for _, i := range d.Targets {
				if i < 0 || i >= 8 {
					t.Fatalf("index %d accepted", i)
				}
			}
		}
	})
}

func BenchmarkAppendFacts(b *testing.B) {
	f := sampleFacts()
	buf := AppendFacts(nil, f, base)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFacts(buf[:0], f, base)
	}
}
