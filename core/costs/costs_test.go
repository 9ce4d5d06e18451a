package costs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
)

var t0 = time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC)

// callEvent builds a recorded model.call.completed (or .failed) event as
// the gateway writes it.
func callEvent(t testing.TB, pos uint64, at time.Time, md event.Metadata, c event.ModelCallCompleted, failed bool) event.Event {
	t.Helper()
	typ, data := "model.call.completed", any(c)
	if failed {
		typ = "model.call.failed"
		data = event.ModelCallFailed{CallID: c.CallID, CallAttribution: c.CallAttribution, API: c.API, Provider: c.Provider,
			RequestModel: c.RequestModel, ErrorKind: "server", Message: "cut", CallRoute: c.CallRoute, CallUsage: c.CallUsage,
			LatencyMS: c.LatencyMS, Attempts: c.Attempts}
	}
	p, err := event.New(typ, data, md)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{ID: p.ID, Type: p.Type, Stream: "calls-" + c.KeyID, Position: pos, Time: at, Data: p.Data, Metadata: p.Metadata}
}

func usage(in, out int, cost float64) event.CallUsage {
	return event.CallUsage{InputTokens: in, OutputTokens: out, CostUSD: cost, InputCostUSD: cost / 4, OutputCostUSD: cost - cost/4}
}

func apply(t testing.TB, m *costs.Model, evs ...event.Event) {
	t.Helper()
	for i := range evs {
		if err := m.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func query(t *testing.T, m *costs.Model, by string, where ...string) *costs.Report {
	t.Helper()
	q := costs.Query{}
	var err error
	if q.By, err = costs.ParseBy(by); err != nil {
		t.Fatal(err)
	}
	for _, w := range where {
		f, err := costs.ParseFilter(w)
		if err != nil {
			t.Fatal(err)
		}
		q.Where = append(q.Where, f)
	}
	r, err := m.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rows renders a report as "group: calls cost" lines, for comparison.
func rows(r *costs.Report) string {
	var b strings.Builder
	for _, row := range r.Rows {
		s := row.Summary()
		fmt.Fprintf(&b, "%s: %d calls $%.6f\n", strings.Join(row.Group, "|"), s.Calls, s.CostUSD)
	}
	return b.String()
}

// history is a small day of calls: two agents, three models, a retry, a
// fallback and a failure.
func history(t testing.TB) []event.Event {
	rev := event.Metadata{Agent: "reviewer", Team: "platform", User: "alice", Session: "s1"}
	fin := event.Metadata{Agent: "finance", Team: "money", User: "bob"}
	attr := func(key string, tags map[string]string) event.CallAttribution {
		return event.CallAttribution{KeyID: key, Tags: tags}
	}
	return []event.Event{
		callEvent(t, 1, t0, rev, event.ModelCallCompleted{CallID: "c1", CallAttribution: attr("k1", map[string]string{"session": "s1", "turn": "1", "env": "prod"}),
			API: "anthropic.messages", Provider: "anthropic", RequestModel: "claude", CallRoute: event.CallRoute{TargetModel: "claude-sonnet-4-5"},
			CallUsage: usage(1000, 200, 0.006), LatencyMS: 100, Attempts: 1}, false),
		callEvent(t, 2, t0.Add(time.Minute), rev, event.ModelCallCompleted{CallID: "c2", CallAttribution: attr("k1", map[string]string{"session": "s1", "turn": "1", "env": "prod"}),
			API: "anthropic.messages", Provider: "anthropic", RequestModel: "claude", CallRoute: event.CallRoute{TargetModel: "claude-sonnet-4-5", Retries: 1, Via: "retry"},
			CallUsage: usage(2000, 100, 0.0075), LatencyMS: 300, Attempts: 2}, false),
		callEvent(t, 3, t0.Add(2*time.Hour), rev, event.ModelCallCompleted{CallID: "c3", CallAttribution: attr("k1", map[string]string{"session": "s1", "turn": "2", "env": "prod"}),
			API: "anthropic.messages", Provider: "gemini", RequestModel: "claude", CallRoute: event.CallRoute{TargetModel: "gemini-2.5-flash", Fallbacks: 1, Via: "fallback"},
			CallUsage: usage(3000, 300, 0.0012), LatencyMS: 500, Attempts: 2}, false),
		callEvent(t, 4, t0.Add(25*time.Hour), fin, event.ModelCallCompleted{CallID: "c4", CallAttribution: attr("k2", map[string]string{"env": "dev"}),
			API: "openai.chat", Provider: "openai", RequestModel: "gpt", CallRoute: event.CallRoute{TargetModel: "gpt-5-mini"},
			CallUsage: usage(500, 50, 0.0002), LatencyMS: 50, Attempts: 1}, false),
		callEvent(t, 5, t0.Add(26*time.Hour), fin, event.ModelCallCompleted{CallID: "c5", CallAttribution: attr("k2", nil),
			API: "openai.chat", Provider: "openai", RequestModel: "gpt", CallRoute: event.CallRoute{TargetModel: "gpt-5-mini", Retries: 2, Fallbacks: 1, Via: "retry"},
			CallUsage: usage(100, 10, 0.00004), LatencyMS: 70, Attempts: 4}, true),
	}
}

func TestQueryGroupsAndPricesApart(t *testing.T) {
	m := costs.New()
	apply(t, m, history(t)...)

	r := query(t, m, "agent,model")
	want := "reviewer|claude-sonnet-4-5: 2 calls $0.013500\n" +
		"reviewer|gemini-2.5-flash: 1 calls $0.001200\n" +
		"finance|gpt-5-mini: 2 calls $0.000240\n"
	if got := rows(r); got != want {
		t.Fatalf("by agent,model:\n%s\nwant:\n%s", got, want)
	}
	for by, want := range map[string]string{"agent,model": "summary", "agent,tag:env": "coarse", "user": "coarse", "decision": "fine"} {
		if got := query(t, m, by).Table; got != want {
			t.Errorf("by %s read the %s table, want %s", by, got, want)
		}
	}
	total := r.Total.Summary()
	if total.Calls != 5 || total.FailedCalls != 1 || total.Retries != 3 || total.Fallbacks != 2 ||
		total.RetriedCalls != 1 || total.FellBackCalls != 1 || total.InputTokens != 6600 || total.OutputTokens != 660 {
		t.Fatalf("total %+v", total)
	}
	// Exact sums: the nano-dollar totals do not drift.
	if r.Total.CostNanoUSD() != 14_940_000 {
		t.Fatalf("total cost %d nano-dollars, want 14940000", r.Total.CostNanoUSD())
	}
	if total.RetryCostUSD != 0.0075 || total.FallbackCostUSD != 0.0012 || total.FailedCostUSD != 0.00004 {
		t.Fatalf("retry %v, fallback %v, failed %v", total.RetryCostUSD, total.FallbackCostUSD, total.FailedCostUSD)
	}
	if math.Abs(total.MeanLatencyMS-204) > 1e-9 {
		t.Fatalf("mean latency %v, want 204", total.MeanLatencyMS)
	}

	for _, c := range []struct{ by, where, want string }{
		{"decision", "", "s1/1: 2 calls $0.013500\ns1/2: 1 calls $0.001200\n|: 2 calls $0.000240\n"},
		{"day", "", "2026-12-01: 3 calls $0.014700\n2026-12-02: 2 calls $0.000240\n"},
		{"hour", "agent=reviewer", "2026-12-01T10:00Z: 2 calls $0.013500\n2026-12-01T12:00Z: 1 calls $0.001200\n"},
		{"tag:env", "", "prod: 3 calls $0.014700\ndev: 1 calls $0.000200\n: 1 calls $0.000040\n"},
		{"provider", "tag:env=prod", "anthropic: 2 calls $0.013500\ngemini: 1 calls $0.001200\n"},
		{"session,key", "", "s1|k1: 3 calls $0.014700\n|k2: 2 calls $0.000240\n"},
		{"model", "session=s1", "claude-sonnet-4-5: 2 calls $0.013500\ngemini-2.5-flash: 1 calls $0.001200\n"},
		{"model", "decision=s1/2", "gemini-2.5-flash: 1 calls $0.001200\n"},
		{"team,user,api", "", "platform|alice|anthropic.messages: 3 calls $0.014700\nmoney|bob|openai.chat: 2 calls $0.000240\n"},
		{"agent", "agent=nobody", ""},
	} {
		var where []string
		if c.where != "" {
			where = []string{c.where}
		}
		// The decision row of calls outside a session prints as "|"
		// only when grouped with another dimension; alone it is "".
		want := strings.ReplaceAll(c.want, "|:", ":")
		if strings.Contains(c.by, ",") {
			want = c.want
		}
		if got := rows(query(t, m, c.by, where...)); got != want {
			t.Errorf("by %s where %q:\n%s\nwant:\n%s", c.by, c.where, got, want)
		}
	}
}

func TestSinceUntil(t *testing.T) {
	m := costs.New()
	apply(t, m, history(t)...)
	by, _ := costs.ParseBy("agent")
	for _, c := range []struct {
		since, until time.Time
		want         string
	}{
		{t0.Add(24 * time.Hour), time.Time{}, "finance: 2 calls $0.000240\n"},
		{time.Time{}, t0.Add(time.Hour), "reviewer: 2 calls $0.013500\n"},
		// Rounded to the hour: 10:59 still takes the 10:00 hour.
		{t0.Add(44 * time.Minute), t0.Add(105 * time.Minute), "reviewer: 2 calls $0.013500\n"},
		{t0.Add(44 * time.Minute), t0.Add(106 * time.Minute), "reviewer: 3 calls $0.014700\n"},
	} {
		r, err := m.Query(costs.Query{By: by, Since: c.since, Until: c.until})
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(r); got != c.want {
			t.Errorf("since %v until %v:\n%s\nwant:\n%s", c.since, c.until, got, c.want)
		}
	}
	if _, err := m.Query(costs.Query{Since: t0, Until: t0}); err == nil {
		t.Fatal("an empty range was accepted")
	}
}

func TestParseErrorsSayWhatToDo(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"agent,colour", "use one of agent, team"},
		{"agent,agent", "twice"},
		{"tag:", "tag:NAME"},
		{"tag:turn", "use decision"},
	} {
		if _, err := costs.ParseBy(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBy(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"agent", "DIM=VALUE"},
		{"day=2026-12-01", "since and until"},
	} {
		if _, err := costs.ParseFilter(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFilter(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

func TestBadEventsStopTheFold(t *testing.T) {
	m := costs.New()
	e := callEvent(t, 1, t0, event.Metadata{}, event.ModelCallCompleted{CallID: "c", CallUsage: usage(1, 1, 0.1)}, false)
	e.Data = bytes.Replace(e.Data, []byte(`"cost_usd":0.1`), []byte(`"cost_usd":-1`), 1)
	if err := m.Apply(&e); err == nil || !strings.Contains(err.Error(), "cost_usd") {
		t.Fatalf("a negative cost gave %v, want an error naming cost_usd", err)
	}
	e.Data = []byte(`{"call_id":"c","cost_usd":"cheap"}`)
	if err := m.Apply(&e); err == nil || !strings.Contains(err.Error(), "cost_usd") {
		t.Fatalf("a string cost gave %v, want an error naming cost_usd", err)
	}
	other := event.Event{Type: "session.created", Data: []byte(`not json`)}
	if err := m.Apply(&other); err != nil {
		t.Fatalf("an event the model does not read failed: %v", err)
	}
}

// randomHistory is n call events with random attribution, usage and
// routes, over a week.
func randomHistory(t testing.TB, n int, seed uint64) []event.Event {
	rng := rand.New(rand.NewPCG(seed, 1))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	evs := make([]event.Event, n)
	for i := range evs {
		session := pick("", "s1", "s2", "s3")
		md := event.Metadata{Agent: pick("a", "b", "c", ""), Team: pick("t1", "t2"), User: pick("u1", "u2", "u3"), Session: session}
		tags := map[string]string{"env": pick("prod", "dev"), "tier": pick("gold", "free", "x=y")}
		if session != "" {
			tags["session"], tags["turn"] = session, fmt.Sprint(rng.IntN(5)+1)
		}
		if rng.IntN(5) == 0 {
			tags = nil
		}
		via := pick("", "", "", "retry", "fallback")
		c := event.ModelCallCompleted{CallID: fmt.Sprint("c", i), CallAttribution: event.CallAttribution{KeyID: pick("k1", "k2", "k3"), Tags: tags},
			API: pick("openai.chat", "anthropic.messages"), Provider: pick("openai", "anthropic", "gemini"), RequestModel: "m",
			CallRoute: event.CallRoute{TargetModel: pick("m1", "m2", "m3"), Via: via},
			CallUsage: event.CallUsage{InputTokens: rng.IntN(10000), OutputTokens: rng.IntN(1000), CacheReadTokens: rng.IntN(500),
				ReasoningTokens: rng.IntN(100), CostUSD: float64(rng.IntN(1e6)) / 1e8, Unpriced: rng.IntN(20) == 0},
			LatencyMS: float64(rng.IntN(100000)) / 100, Attempts: 1}
		if via != "" {
			c.Attempts, c.Retries = 2, 1
		}
		at := t0.Add(time.Duration(rng.Int64N(int64(7 * 24 * time.Hour))))
		evs[i] = callEvent(t, uint64(i+1), at, md, c, rng.IntN(10) == 0)
	}
	return evs
}

// TestMatchesAFullDecode holds the model's fast decoder and sums to a
// plain reference: every event decoded with encoding/json, summed per
// agent and model in float.
func TestMatchesAFullDecode(t *testing.T) {
	evs := randomHistory(t, 2000, 1)
	m := costs.New()
	apply(t, m, evs...)
	type ref struct {
		calls, in, out, cacheRead, reasoning int
		cost                                 float64
	}
	want, wantDecision := map[string]*ref{}, map[string]*ref{}
	for i := range evs {
		v, err := event.Decode(&evs[i])
		if err != nil {
			t.Fatal(err)
		}
		var u event.CallUsage
		var model string
		switch c := v.(type) {
		case *event.ModelCallCompleted:
			u, model = c.CallUsage, c.TargetModel
		case *event.ModelCallFailed:
			u, model = c.CallUsage, c.TargetModel
		}
		var attr event.CallAttribution
		if c, ok := v.(*event.ModelCallCompleted); ok {
			attr = c.CallAttribution
		} else {
			attr = v.(*event.ModelCallFailed).CallAttribution
		}
		if s, turn := evs[i].Metadata.Session, attr.Tags["turn"]; s != "" && turn != "" {
			d := s + "/" + turn
			if wantDecision[d] == nil {
				wantDecision[d] = &ref{}
			}
			wantDecision[d].calls++
			wantDecision[d].cost += u.CostUSD
		}
		k := evs[i].Metadata.Agent + "|" + model
		if want[k] == nil {
			want[k] = &ref{}
		}
		r := want[k]
		r.calls++
		r.in += u.InputTokens
		r.out += u.OutputTokens
		r.cacheRead += u.CacheReadTokens
		r.reasoning += u.ReasoningTokens
		r.cost += u.CostUSD
	}
	rep := query(t, m, "agent,model")
	if len(rep.Rows) != len(want) {
		t.Fatalf("%d groups, want %d", len(rep.Rows), len(want))
	}
	for _, row := range rep.Rows {
		s := row.Summary()
		r := want[strings.Join(row.Group, "|")]
		if r == nil || s.Calls != int64(r.calls) || s.InputTokens != int64(r.in) || s.OutputTokens != int64(r.out) ||
			s.CacheReadTokens != int64(r.cacheRead) || s.ReasoningTokens != int64(r.reasoning) || math.Abs(s.CostUSD-r.cost) > 1e-9 {
			t.Fatalf("group %v: %+v, want %+v", row.Group, s, r)
		}
	}
	// Each session's calls in their decisions (the turns of three
	// sessions, interleaved at random).
	rep = query(t, m, "decision")
	got := 0
	for _, row := range rep.Rows {
		d := strings.Join(row.Group, "|")
		if d == "|" || d == "" {
			continue
		}
		s, r := row.Summary(), wantDecision[d]
		if r == nil || s.Calls != int64(r.calls) || math.Abs(s.CostUSD-r.cost) > 1e-9 {
			t.Fatalf("decision %s: %d calls $%f, want %+v", d, s.Calls, s.CostUSD, r)
		}
		got++
	}
	if got != len(wantDecision) || got < 10 {
		t.Fatalf("%d decisions, want %d (and the history should have at least 10)", got, len(wantDecision))
	}
}

// TestRebuildIsIdentical folds the same history straight through, and
// in parts with a checkpoint (snapshot, restore into a fresh model)
// between them, as a restarted runner does; every query and the
// snapshots must be equal.
func TestRebuildIsIdentical(t *testing.T) {
	evs := randomHistory(t, 3000, 2)
	straight := costs.New()
	apply(t, straight, evs...)

	parts := costs.New()
	for i, cut := range []int{0, 700, 701, 2200, 3000} {
		if i == 0 {
			continue
		}
		apply(t, parts, evs[[]int{0, 700, 701, 2200}[i-1]:cut]...)
		snap, err := parts.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		parts = costs.New()
		if err := parts.Restore(snap); err != nil {
			t.Fatal(err)
		}
	}
	for _, by := range []string{"", "agent,model", "decision", "tag:tier,day", "session,key,hour", "team,user,provider,api"} {
		a, b := query(t, straight, by), query(t, parts, by)
		a.Scanned, b.Scanned = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("by %q differs after checkpoints:\n%s\nagainst\n%s", by, rows(a), rows(b))
		}
	}
	s1, _ := straight.Snapshot()
	s2, _ := parts.Snapshot()
	if !bytes.Equal(s1, s2) {
		t.Fatal("the snapshots differ")
	}
	if err := costs.New().Restore(s1[:len(s1)-3]); err == nil {
		t.Fatal("a truncated snapshot was restored")
	}
}

func TestOutputs(t *testing.T) {
	m := costs.New()
	apply(t, m, history(t)...)
	r := query(t, m, "agent")
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "agent,calls,failed_calls,") ||
		!strings.HasPrefix(lines[1], "reviewer,3,0,1,1,1,1,6000,600,0,0,0,0.014700000,") ||
		!strings.HasPrefix(lines[3], "TOTAL,5,1,3,2,1,1,") {
		t.Fatalf("csv:\n%s", b.String())
	}
	j, err := json.Marshal(r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	var back costs.JSONReport
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if back.Rows[0].Group["agent"] != "reviewer" || back.Rows[0].CostUSD != 0.0147 || back.Total.Calls != 5 {
		t.Fatalf("json: %s", j)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"today":                time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		"yesterday":            time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		"7d":                   now.AddDate(0, 0, -7),
		"2w":                   now.AddDate(0, 0, -14),
		"36h":                  now.Add(-36 * time.Hour),
		"2026-11-30":           time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		"2026-11-30T08:00:00Z": time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC),
	} {
		got, err := costs.ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"last week", "7", "-3d", "d"} {
		if _, err := costs.ParseTime(bad, now); err == nil || !strings.Contains(err.Error(), "7d") {
			t.Errorf("ParseTime(%q) = %v, want an error showing the forms", bad, err)
		}
	}
}
