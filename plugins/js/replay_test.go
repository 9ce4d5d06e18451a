package js_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/plugins/js"
)

// recorded is v as a replay reads it back from the log: its event data,
// encoded and decoded.
func recorded(t *testing.T, v js.Verdict) *event.PolicyVerdict {
	t.Helper()
	p, err := event.New("policy.verdict", v.Event(), event.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := event.Decode(&event.Event{Type: p.Type, Data: p.Data, Metadata: p.Metadata})
	if err != nil {
		t.Fatal(err)
	}
	return d.(*event.PolicyVerdict)
}

// Every hook's input is recorded in its verdict under the names the
// policy read, and rebuilt from the record exactly: the policy, called
// again on it, sees the same object, clock and random numbers.
func TestRecordedInputs(t *testing.T) {
	t.Parallel()
	src := `
function seen(c) { return {json: JSON.stringify(c), now: Date.now(), iso: new Date().toISOString(), r: Math.random()} }
function before_model_call(c) { return annotate(seen(c)) }
function before_tool_call(c) { const s = seen(c); s.input = String(JSON.stringify(c.input)); s.type = typeof c.input; return annotate(s) }
function session_start(c) { return annotate(seen(c)) }
function session_end(c) { return annotate(seen(c)) }`
	p := load(t, src, roomy)
	tags := map[string]string{"z": "1", "a": "<&>", "turn": "2"}
	now := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC) // more precise than the record: the policy sees ms
	for _, in := range []js.Input{
		&js.ModelCall{CallID: "c1", Model: "gpt-4o", API: "openai.chat", Agent: "rev", Session: "s1", Team: "t", User: "u", KeyID: "k",
			Tags: tags, TaskType: "review", EstimatedTokens: 1200, HasTools: true, Stream: true, BudgetLeftUSD: 0.1 + 0.2, Now: now, Seed: 9},
		&js.ModelCall{Model: "m", BudgetLeftUSD: -1, Now: now}, // no budget, no tags, seed 0
		&js.ToolCall{CallID: "t1", Tool: "read_file", Server: "fs", Input: json.RawMessage(`{"path": "/etc/passwd", "n": [1, 2.5]}`),
			Agent: "rev", Session: "s1", Team: "t", User: "u", Tags: tags, Now: now, Seed: 1 << 63},
		&js.ToolCall{Tool: "sh", Input: json.RawMessage(`not json`), Now: now},
		&js.ToolCall{Tool: "sh", Now: now},
		&js.SessionStarting{Session: "s1", Agent: "rev", Harness: "codex", Team: "t", User: "u", Tags: tags, Prompt: "fix \"it\"\n", Now: now, Seed: 3},
		&js.SessionEnded{Session: "s1", Agent: "rev", Harness: "claude-code", Status: "failed", Error: "boom", Turns: 4,
			CostUSD: 0.123456789, Duration: 1234567891 * time.Nanosecond, Now: now, Seed: 4},
	} {
		live := p.Evaluate(context.Background(), in)
		if live.Err != nil {
			t.Fatalf("%T: %v", in, live.Err)
		}
		rec := recorded(t, live)
		again, err := js.InputOf(rec)
		if err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		// The record keeps what the policy sees: the clock to the ms.
		want := reflect.ValueOf(in).Elem()
		want.FieldByName("Now").Set(reflect.ValueOf(time.UnixMilli(now.UnixMilli())))
		if !reflect.DeepEqual(again, in) {
			t.Fatalf("%T: rebuilt as\n%+v\nnot\n%+v", in, again, in)
		}
		// The names recorded are names the policy reads.
		var seen, rin map[string]any
		json.Unmarshal([]byte(live.Annotations["json"]), &seen)
		b, _ := json.Marshal(rec.Input)
		json.Unmarshal(b, &rin)
		for k := range rin {
			if _, ok := seen[k]; !ok {
				t.Errorf("%T: the record has %q, which the policy does not see (it sees %v)", in, k, seen)
			}
		}
		v := load(t, src, roomy).Replay(context.Background(), again)
		if v.Err != nil || !maps.Equal(v.Annotations, live.Annotations) {
			t.Fatalf("%T: replayed as %v (%v), live %v", in, v.Annotations, v.Err, live.Annotations)
		}
	}

	if _, err := js.InputOf(&event.PolicyVerdict{Hook: "before_model_call"}); err != js.ErrNoInput {
		t.Fatalf("a verdict without input: %v", err)
	}
	if _, err := js.InputOf(&event.PolicyVerdict{Hook: "after_lunch", Input: &event.PolicyInput{}}); err == nil {
		t.Fatal("an unknown hook was rebuilt")
	}
}

// Replay calls a policy on a runtime that ran its file and nothing else:
// one whose verdicts depend on their input, clock and seed alone replays
// to the same verdict, pooled or fresh, whatever its file's top level
// reads; one that counts calls in a global does not, pooled.
func TestReplay(t *testing.T) {
	t.Parallel()
	src := `
const loadedAt = Date.now(), r0 = Math.random()
let n = 0
function before_model_call(c) {
  n++
  return annotate({loaded: loadedAt, r0: r0, now: Date.now(), r: Math.random(), model: c.model, n: n})
}`
	for _, tc := range []struct {
		name   string
		cfg    js.Config
		sameAs []bool // per call: replays to the recorded verdict
	}{
		{"pooled", js.Config{Runtimes: 1}, []bool{true, false, false}},
		{"fresh", js.Config{Runtimes: 1, Fresh: true}, []bool{true, true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.cfg.Timeout = roomy.Timeout
			live := load(t, src, tc.cfg)
			other := load(t, src, tc.cfg)
			for i, same := range tc.sameAs {
				in := call("m")
				in.Now, in.Seed = clock.Add(time.Duration(i)*time.Hour), uint64(i)
				v := live.Evaluate(context.Background(), in)
				if v.Err != nil || v.Fresh != tc.cfg.Fresh {
					t.Fatalf("call %d: %+v", i, v)
				}
				rec := recorded(t, v)
				if rec.Fresh != tc.cfg.Fresh {
					t.Fatalf("call %d: fresh recorded as %v", i, rec.Fresh)
				}
				again, err := js.InputOf(rec)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []*js.Policy{other, live} { // another policy, or the same after its calls
					r := p.Replay(context.Background(), again)
					if r.Err != nil {
						t.Fatal(r.Err)
					}
					if got := maps.Equal(r.Annotations, v.Annotations); got != same {
						t.Fatalf("call %d: replayed %v, recorded %v: same = %v, want %v", i, r.Annotations, v.Annotations, got, same)
					}
					if r.Annotations["n"] != "1" {
						t.Fatalf("call %d: the replay ran after other calls: %v", i, r.Annotations)
					}
				}
				wantLoaded := "0" // a pooled runtime ran the file at load, at clock 0
				if tc.cfg.Fresh {
					wantLoaded = v.Annotations["now"]
				}
				if v.Annotations["loaded"] != wantLoaded {
					t.Fatalf("call %d: the file ran at %s, want %s", i, v.Annotations["loaded"], wantLoaded)
				}
			}
		})
	}
}

// A recorded failure says whether the policy ran: one that was closed
// (or quarantined, or found no runtime) has nothing to re-run; one that
// overran its budget depends on the machine.
func TestRecordedFailures(t *testing.T) {
	t.Parallel()
	spin := load(t, `function before_model_call(c) { for (;;) {} }`, js.Config{Timeout: short})
	threw := load(t, `function before_model_call(c) { throw new Error("no") }`, roomy)
	closed := load(t, `function before_model_call(c) { return allow() }`, roomy)
	closed.Close()
	for _, tc := range []struct {
		p                  *js.Policy
		didNotRun, overran bool
	}{
		{spin, false, true},
		{threw, false, false},
		{closed, true, false},
	} {
		v := evaluate(tc.p, "m").Event()
		if v.Error == "" || js.DidNotRun(v.Error) != tc.didNotRun || js.Overran(v.Error) != tc.overran {
			t.Errorf("%q: did not run %v, overran %v; want %v, %v", v.Error, js.DidNotRun(v.Error), js.Overran(v.Error), tc.didNotRun, tc.overran)
		}
	}
	for _, err := range []error{js.ErrBusy, js.ErrQuarantined, fmt.Errorf("waiting for a free runtime: %w", context.Canceled)} {
		if !js.DidNotRun(err.Error()) {
			t.Errorf("%q: the policy ran?", err)
		}
	}
}
