package abi

import (
	"reflect"
	"strings"
	"testing"
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

func TestFactsRoundTrip(t *testing.T) {
	f := sampleFacts()
	b := AppendFacts(nil, f)
	for _, alias := range []bool{false, true} {
		var got Facts
		if err := DecodeFacts(b, &got, alias); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, f) {
			t.Fatalf("alias=%v: round trip\n got %+v\nwant %+v", alias, got, *f)
		}
	}
}

func TestDecisionRoundTrip(t *testing.T) {
	for _, d := range []Decision{
		{Targets: []int{1, 0}, Reason: "gemini is rate limited"},
		{Targets: []int{}, Reason: ""},
		{Error: "no rule for task type"},
	} {
		var got Decision
		if err := DecodeDecision(AppendDecision(nil, &d), &got, 2); err != nil {
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

// Every strict prefix of a message is refused, never read past its end.
func TestTruncatedMessagesAreRefused(t *testing.T) {
	b := AppendFacts(nil, sampleFacts())
	for n := range len(b) {
		var f Facts
		if err := DecodeFacts(b[:n], &f, true); err == nil {
			t.Fatalf("facts cut to %d of %d bytes decoded without error", n, len(b))
		}
	}
	d := AppendDecision(nil, &Decision{Targets: []int{0, 1}, Reason: "x"})
	for n := range len(d) {
		var got Decision
		if err := DecodeDecision(d[:n], &got, 2); err == nil {
			t.Fatalf("decision cut to %d of %d bytes decoded without error", n, len(d))
		}
	}
}

func TestBadDecisions(t *testing.T) {
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"version":      {[]byte{2, 0, 0, 0}, "ABI version 2"},
		"status":       {[]byte{1, 7}, "status 7"},
		"out of range": {AppendDecision(nil, &Decision{Targets: []int{2}}), "out of range"},
		"duplicate":    {AppendDecision(nil, &Decision{Targets: []int{1, 1}}), "twice"},
		"trailing":     {append(AppendDecision(nil, &Decision{}), 0), "left over"},
		"huge count":   {[]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "over the limit"},
	}
	for name, c := range cases {
		var d Decision
		err := DecodeDecision(c.b, &d, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

func TestDecodeDecisionDoesNotAllocate(t *testing.T) {
	b := AppendDecision(nil, &Decision{Targets: []int{1, 0}, Reason: "cheapest capable"})
	var d Decision
	if err := DecodeDecision(b, &d, 2); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = DecodeDecision(b, &d, 2) }); n != 0 {
		t.Fatalf("%v allocations per decode of a repeated decision, want 0", n)
	}
	var f Facts
	fb := AppendFacts(nil, sampleFacts())
	_ = DecodeFacts(fb, &f, true)
	if n := testing.AllocsPerRun(100, func() { _ = DecodeFacts(fb, &f, true) }); n != 0 {
		t.Fatalf("%v allocations per aliasing facts decode, want 0", n)
	}
}

func FuzzDecodeFacts(f *testing.F) {
	f.Add(AppendFacts(nil, sampleFacts()))
	f.Fuzz(func(t *testing.T, b []byte) {
		var facts Facts
		if DecodeFacts(b, &facts, false) == nil {
			again := AppendFacts(nil, &facts)
			var f2 Facts
			if err := DecodeFacts(again, &f2, false); err != nil {
				t.Fatalf("re-encoded facts do not decode: %v", err)
			}
		}
	})
}

func FuzzDecodeDecision(f *testing.F) {
	f.Add(AppendDecision(nil, &Decision{Targets: []int{1, 0}, Reason: "r"}))
	f.Add(AppendDecision(nil, &Decision{Error: "e"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decision
		if DecodeDecision(b, &d, 8) == nil {
			for _, i := range d.Targets {
				if i < 0 || i >= 8 {
					t.Fatalf("index %d accepted", i)
				}
			}
		}
	})
}

func BenchmarkFactsEncodeDecode(b *testing.B) {
	f := sampleFacts()
	buf := AppendFacts(nil, f)
	var got Facts
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFacts(buf[:0], f)
		_ = DecodeFacts(buf, &got, true)
	}
}
