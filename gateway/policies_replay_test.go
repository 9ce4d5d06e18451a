package gateway_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/gateway/sim"
	"github.com/switchyard/switchyard/plugins/js"
)

// replayPolicy decides on its input, and reads the clock and randomness
// both in its file's top level and in the call: all of it must replay.
const replayPolicy = `
const loadedAt = Date.now(), salt = Math.random()
function before_model_call(call) {
  if (call.model === "sim-large" && call.tags.team === "interns") return deny("interns use sim-small, turn " + call.tags.turn)
  if (call.tags.boom === "1") throw new Error("boom at " + new Date().toISOString())
  return annotate({at: new Date().toISOString(), lucky: Math.floor(Math.random() * 1e9), salt: salt, loaded: loadedAt, session: call.session, budget: call.budget_left_usd})
}
`

// policyStack is a gateway with the policy src, whose test key stands
// for session s1.
func policyStack(t *testing.T, src string, pc gateway.PolicyConfig) (*gatewaytest.Stack, gateway.Config) {
	t.Helper()
	pc.Path = filepath.Join(t.TempDir(), "guard.js")
	if err := os.WriteFile(pc.Path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if pc.Timeout == 0 {
		pc.Timeout = config.Duration(2e9) // generous under -race on a busy machine
	}
	cfg := gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("a")},
		Policies:  []gateway.PolicyConfig{pc},
	}
	s := gatewaytest.New(t, gatewaytest.Config{Sims: map[string]sim.Config{"a": {}}, Gateway: cfg})
	created := event.Proposed{Type: "session.created", Data: json.RawMessage(`{"id":"s1","key_id":"` + s.KeyID + `"}`)}
	if _, err := s.Store.Append(context.Background(), "session-s1", eventstore.NoStream, created); err != nil {
		t.Fatal(err)
	}
	cfg.Providers[0].BaseURL = s.Sims["a"].URL
	return s, cfg
}

// policyEvents reads the policy.loaded events.
func policyEvents(t *testing.T, s *gatewaytest.Stack) []event.PolicyLoaded {
	t.Helper()
	var out []event.PolicyLoaded
	for e, err := range s.Store.ReadStream(context.Background(), event.PoliciesStream, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		var l event.PolicyLoaded
		if err := json.Unmarshal(e.Data, &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func replaySession(t *testing.T, s *gatewaytest.Stack, turn int) *replay.Report {
	t.Helper()
	ctx := context.Background()
	if err := s.GW.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := s.GW.ReplaySession(ctx, "s1", turn)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// A session's policy verdicts, an allow, an annotate, a deny and a
// failure among them, re-run from the log alone (source, input, clock and
// seed) to the same verdicts. A verdict the log says otherwise about is
// a nondeterminism error naming the event and both values; one recorded
// without its input is listed as not replayable.
func TestReplayPolicyVerdicts(t *testing.T) {
	s, cfg := policyStack(t, replayPolicy, gateway.PolicyConfig{Name: "guard"})
	ctx := context.Background()
	calls := []struct {
		model, tags string
		status      int
	}{
		{"sim-small", "turn=1", 200},
		{"sim-large", "turn=1,team=interns", 403},
		{"sim-small", "turn=2,boom=1", 200},
		{"sim-large", "turn=2", 200},
	}
	var ids []string
	for _, c := range calls {
		r := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody(c.model, "hi", false), "x-switchyard-tags", c.tags)
		if r.Status != c.status {
			t.Fatalf("%s %s: %d %s", c.model, c.tags, r.Status, r.Body)
		}
		ids = append(ids, r.ID())
	}

	rep := replaySession(t, s, 0)
	if !rep.OK() || len(rep.Verdicts) != 4 || rep.Replayed != 7 || rep.NotReplayable != 0 { // and the static router's 3 decisions
		t.Fatalf("replay %+v", rep)
	}
	for i, v := range rep.Verdicts {
		want := []string{"annotate", "deny", "allow", "annotate"}[i]
		if !v.Replayed || v.CallID != ids[i] || v.Policy != "guard" || v.Decision != want || v.Turn != []string{"1", "1", "2", "2"}[i] {
			t.Fatalf("verdict %d: %+v", i, v)
		}
	}
	if v := rep.Verdicts[2]; !strings.Contains(v.Error, "boom at ") {
		t.Fatalf("the failed verdict: %+v", v)
	}
	if rep := replaySession(t, s, 2); !rep.OK() || len(rep.Verdicts) != 2 || rep.Verdicts[0].CallID != ids[2] {
		t.Fatalf("replay of turn 2: %+v", rep)
	}

	// The source is recorded once, with how it runs; loading the same
	// policy again records nothing, another configuration is recorded.
	loaded := policyEvents(t, s)
	src, _ := os.ReadFile(cfg.Policies[0].Path)
	if len(loaded) != 1 || loaded[0].Name != "guard" || loaded[0].Source != string(src) || loaded[0].Digest != js.Digest(src) ||
		loaded[0].File != cfg.Policies[0].Path || loaded[0].Config.OnError != "allow" || loaded[0].Config.TimeoutMS != 2000 ||
		strings.Join(loaded[0].Hooks, ",") != "before_model_call" {
		t.Fatalf("policy.loaded %+v", loaded)
	}
	again, err := gateway.New(cfg, gateway.Options{Store: s.Store}) // a restart
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Start(ctx); err != nil {
		t.Fatal(err)
	}
	again.Close(ctx)
	if err := s.GW.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if n := len(policyEvents(t, s)); n != 1 {
		t.Fatalf("loading the same policy again recorded it again: %d events", n)
	}
	cfg.Policies[0].OnError = "deny"
	if err := s.GW.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if l := policyEvents(t, s); len(l) != 2 || l[1].Config.OnError != "deny" || l[1].Digest != l[0].Digest {
		t.Fatalf("after a reload that fails closed: %+v", l)
	}

	// Forgeries: the first verdict with another decision and reason and
	// no annotations; the second said to have failed. And verdicts there
	// is nothing to compare with: one from before inputs were recorded,
	// one of a quarantined policy, one that overran its budget live.
	var recorded []event.PolicyVerdict
	for e, err := range s.Store.ReadStream(ctx, "calls-"+s.KeyID, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "policy.verdict" {
			var v event.PolicyVerdict
			json.Unmarshal(e.Data, &v)
			recorded = append(recorded, v)
		}
	}
	forged := recorded[0]
	forged.Decision, forged.Reason, forged.Annotations = "deny", "forged", nil
	failed := recorded[1]
	failed.Error = "the policy threw Error: no"
	old := recorded[3]
	old.Input = nil // as a gateway that predates inputs wrote it
	quarantined, overran := recorded[3], recorded[3]
	quarantined.Decision, quarantined.Annotations, quarantined.Error = "allow", nil, js.ErrQuarantined.Error()
	overran.Decision, overran.Annotations, overran.Error = "allow", nil, "the policy overran its time budget (5ms) and was interrupted at guard.js:3:1"
	var evs []event.Proposed
	for _, v := range []event.PolicyVerdict{forged, failed, old, quarantined, overran} {
		p, err := event.New("policy.verdict", v, event.Metadata{CorrelationID: v.CallID})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, p)
	}
	evs[2].Metadata.Schema = 1
	res, err := s.Store.Append(ctx, "calls-"+s.KeyID, eventstore.Any, evs...)
	if err != nil {
		t.Fatal(err)
	}
	rep = replaySession(t, s, 0)
	if rep.OK() || len(rep.Verdicts) != 9 || rep.Replayed != 9 || rep.NotReplayable != 3 || rep.Mismatches != 4 { // 3 static decisions replayed
		t.Fatalf("forged verdicts went unnoticed: %+v", rep)
	}
	bad := rep.Verdicts[4].Mismatches
	if len(bad) != 3 || bad[0].Position != res.Positions[0] || bad[0].EventID != evs[0].ID.String() || bad[0].Type != "policy.verdict" ||
		bad[0].Field != "decision" || bad[0].Recorded != "deny" || bad[0].Replayed != "annotate" ||
		bad[1].Field != "reason" || bad[1].Recorded != "forged" || bad[1].Replayed != "" ||
		bad[2].Field != "annotations" || bad[2].Recorded != "{}" || !strings.Contains(bad[2].Replayed, `"lucky":`) {
		t.Fatalf("mismatches of the forged verdict: %+v", bad)
	}
	want := `nondeterminism at position ` + itoa(res.Positions[0]) + ` (policy.verdict ` + evs[0].ID.String() + `, call ` + ids[0] + `, policy guard): decision was "deny", the replay gives "annotate"`
	if first, ok := rep.First(); !ok || first.Error() != want {
		t.Fatalf("first difference:\n%v\nwant\n%s", first.Error(), want)
	}
	if bad := rep.Verdicts[5].Mismatches; len(bad) != 1 || bad[0].Field != "error" || bad[0].Recorded != failed.Error || bad[0].Replayed != "" {
		t.Fatalf("mismatches of the verdict said to have failed: %+v", bad)
	}
	for i, why := range []string{"records no input", "the policy did not run (the policy is quarantined", "overran its time budget live and decides in"} {
		if v := rep.Verdicts[6+i]; v.Replayed || !strings.Contains(v.Why, why) {
			t.Fatalf("verdict %d: %+v, want it not replayed as it %s", 6+i, v, why)
		}
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// The point of replay: a pooled policy that counts calls in a global
// decides each call on more than its input, and the replay, which gives
// every verdict a runtime that ran the file and nothing else, says which
// verdicts came out otherwise. The same policy with fresh runtimes
// replays exactly.
func TestReplayFindsAStatefulPolicy(t *testing.T) {
	const counter = `
let n = 0
function before_model_call(call) { n++; return annotate({n: n}) }
`
	for _, tc := range []struct {
		name  string
		fresh bool
		want  int
	}{
		{"pooled", false, 2},
		{"fresh", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := policyStack(t, counter, gateway.PolicyConfig{Name: "counter", Runtimes: 1, Fresh: tc.fresh})
			for i := range 3 {
				if r := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi", false), "x-switchyard-tags", "turn="+itoa(uint64(i+1))); r.Status != 200 {
					t.Fatalf("call %d: %d %s", i, r.Status, r.Body)
				}
			}
			rep := replaySession(t, s, 0)
			if rep.Mismatches != tc.want || rep.Replayed != 6 || len(rep.Verdicts) != 3 { // and 3 static decisions
				t.Fatalf("replay %+v", rep)
			}
			if tc.want == 0 {
				return
			}
			first, _ := rep.First()
			if len(rep.Verdicts[0].Mismatches) != 0 || first.Position != rep.Verdicts[1].Position || first.Field != "annotations" ||
				first.Recorded != `{"n":"2"}` || first.Replayed != `{"n":"1"}` || first.Policy != "counter" {
				t.Fatalf("first difference %+v in %+v", first, rep.Verdicts)
			}
			if rep := replaySession(t, s, 3); rep.Mismatches != 1 || rep.Verdicts[0].Mismatches[0].Recorded != `{"n":"3"}` {
				t.Fatalf("replay of turn 3: %+v", rep)
			}
		})
	}
}
