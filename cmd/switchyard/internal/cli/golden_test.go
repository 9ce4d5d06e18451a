package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/core/trace"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/pricing"
	"github.com/switchyard/switchyard/gateway/realclients"
	"github.com/switchyard/switchyard/harnesses/codex"
)

var (
	update = flag.Bool("update", false, "rewrite what the golden histories' replay must give (testdata/golden/*.expected)")
	record = flag.Bool("record", false, "record the golden histories again with the pinned CLIs (and rewrite what their replay must give)")
)

// regenerate is the command that rewrites the expected replays; rerecord
// records the histories themselves again.
const (
	regenerate = "go test ./cmd/switchyard/internal/cli -run TestGolden -update"
	rerecord   = "go test ./cmd/switchyard/internal/cli -run TestGolden -record"
)

// goldenHarnesses are the harnesses whose sessions are recorded, each
// with the agent that runs them: the demo's "fast" route, and a shell
// tool that may run echo.
var goldenHarnesses = []goldenHarness{
	{harness: "claude-code", tools: `["Bash(echo *)"]`},
	// Codex has no per-command allow-list: shell is its built-in tool,
	// allowed already.
	{harness: "codex", tools: `[shell]`, needsSandbox: true},
	{harness: "opencode", tools: `["bash(echo *)"]`},
}

type goldenHarness struct {
	harness, tools string
	// needsSandbox: where /usr/bin/bwrap is too old for the CLI's own
	// sandbox (Debian 12's, for Codex's), the agent must run in
	// Switchyard's, or is refused.
	needsSandbox bool
}

// goldenSession starts a server whose agent `name` runs h's CLI, and runs
// the two golden turns of a session of it; it returns the server and the
// session's id.
func goldenSession(t *testing.T, ctx context.Context, name string, h goldenHarness) (*sessionServer, string) {
	t.Helper()
	extra := ""
	if h.needsSandbox && codex.SystemBwrapTooOld() != "" {
		extra = "    sandbox: bwrap\n"
	}
	srv := startSessionServer(t, fmt.Sprintf("agents:\n  - name: %s\n    harness: %s\n    model: fast\n    tools: {allow: %s}\n%s", name, h.harness, h.tools, extra))
	r := cli(t, ctx, "", "session", "start", "--agent", name, "-f", goldenPrompt1, "--addr", srv.addr).ok(t)
	id := strings.SplitN(r.out, "\n", 2)[0]
	if !strings.Contains(r.out, "turn 1 completed") {
		t.Fatalf("turn 1 of the %s session:\n%s", h.harness, r.out)
	}
	if r := cli(t, ctx, "", "session", "send", id, "-f", goldenPrompt2, "--addr", srv.addr).ok(t); !strings.Contains(r.out, "turn 2 completed") {
		t.Fatalf("turn 2 of the %s session:\n%s", h.harness, r.out)
	}
	return srv, id
}

// The two turns of each recorded session: a shell tool call scripted by
// the simulator, then a plain answer.
const (
	goldenPrompt1 = `Run it. [[sim tool=shell cmd="echo golden"]]`
	goldenPrompt2 = "Now say something."
)

// TestGolden replays recorded sessions of each harness
// (testdata/golden/HARNESS.jsonl: the events of the session's stream and
// of its key's call stream, in log order) into a fresh store, folds the
// read models from them (sessions, costs, audit, the decision traces)
// and compares what they say with testdata/golden/HARNESS.expected. It
// also re-prices every call with the built-in price table: a price
// change must be a regeneration on purpose.
//
// -update rewrites the expected files from the histories (after a
// change to a read model that is meant); -record first records the
// sessions again, with a server, the simulator and the pinned CLIs (after
// a change to what the harnesses or the gateway write), and rewrites both.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, h := range goldenHarnesses {
		t.Run(h.harness, func(t *testing.T) {
			t.Parallel()
			history := filepath.Join("testdata", "golden", h.harness+".jsonl")
			expected := filepath.Join("testdata", "golden", h.harness+".expected")
			if *record {
				if err := os.MkdirAll(filepath.Dir(history), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(history, recordGolden(t, h), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			evs := loadGolden(t, history)
			got := replayGolden(t, h.harness, evs)
			repriceGolden(t, evs)
			if *update || *record {
				if err := os.WriteFile(expected, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(expected)
			if err != nil {
				t.Fatalf("%v: record it with `%s`", err, rerecord)
			}
			if got != string(want) {
				t.Errorf("the replay of %s differs from %s (- expected, + replayed):\n%s\nIf the change is intended, regenerate with `%s` (or record the sessions again with `%s`).",
					history, expected, lineDiff(string(want), got), regenerate, rerecord)
			}
		})
	}
}

// recordGolden runs a session of two turns on a server with the demo and
// the pinned CLIs and returns its history: every event of its stream and
// of its key's call stream, in log order, one envelope a line, with the
// machine's paths, the server's address and host name normalised.
func recordGolden(t *testing.T, h goldenHarness) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	harness := h.harness
	srv, id := goldenSession(t, ctx, "golden-"+harness, h)
	addr := srv.addr
	s := sessionJSON(t, ctx, addr, id)
	if s["status"] != "idle" || s["turns"].(float64) != 2 || s["tool_calls"].(float64) < 1 {
		t.Fatalf("the %s session after two turns: %v", harness, s)
	}
	keyID, _ := s["key_id"].(string)
	stateDir, _ := s["state_dir"].(string)

	// The gateway writes a call's end when the call ends, which may be
	// a moment after the CLI has gone: read until every call has ended.
	var lines [][]byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines = append(readStreamLines(t, ctx, addr, session.Stream(id)), readStreamLines(t, ctx, addr, "calls-"+keyID)...)
		if open := openCalls(t, lines); open == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d model call(s) of the %s session never ended", open, harness)
		}
		time.Sleep(50 * time.Millisecond)
	}
	slices.SortStableFunc(lines, func(a, b []byte) int { return cmp.Compare(position(t, a), position(t, b)) })
	out := bytes.Join(lines, []byte("\n"))
	out = append(out, '\n')

	// The tool ran, and said so.
	if !slices.ContainsFunc(lines, func(l []byte) bool {
		return bytes.Contains(l, []byte(`"type":"session.harness.tool_result"`)) && bytes.Contains(l, []byte(`"output":"golden`))
	}) {
		t.Fatalf("the %s session has no result of its echo:\n%s", harness, out)
	}
	// No secret: not the session's key, nor the demo's.
	for what, file := range map[string]string{"the session key": filepath.Join(filepath.Dir(stateDir), "key"), "the demo key": filepath.Join(srv.data, "demo-key")} {
		secret, err := os.ReadFile(file)
		if err != nil || len(bytes.TrimSpace(secret)) < 8 {
			t.Fatalf("read %s's secret from %s: %v", what, file, err)
		}
		if bytes.Contains(out, bytes.TrimSpace(secret)) {
			t.Fatalf("the history of the %s session holds %s's secret", harness, what)
		}
	}
	return normaliseGolden(t, out, srv)
}

// normaliseGolden replaces what is this machine's or this run's own in
// a recorded history: the data dir (in workspaces, state dirs, the
// gateway's socket, and in the project dir Claude Code names after its
// working dir, "/" made "-"), the other temporary files, the clients'
// install and the home directory, the server's address, the host name
// of the node that ran the turns, and the user who ran the commands.
// Event data so changed no longer matches the recorded hashes; a replay
// appends the events anew and the store chains them again.
func normaliseGolden(t *testing.T, out []byte, srv *sessionServer) []byte {
	t.Helper()
	tmp := filepath.Dir(srv.data)
	dashed := regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllLiteralString(srv.data, "-")
	pairs := []string{srv.data, "$DATA", dashed, "$DATA", tmp, "$TMP"}
	if clients, err := realclients.Dir(); err == nil {
		pairs = append(pairs, clients, "$CLIENTS")
	}
	pairs = append(pairs, srv.addr, "$GATEWAY")
	if host, err := os.Hostname(); err == nil && host != "" {
		pairs = append(pairs, `"node":"`+host+`"`, `"node":"$NODE"`)
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		pairs = append(pairs, `"actor":"user:`+u.Username+`"`, `"actor":"user:$USER"`)
	}
	s := strings.NewReplacer(pairs...).Replace(string(out))
	if home, err := os.UserHomeDir(); err == nil && len(home) > 1 {
		s = regexp.MustCompile(regexp.QuoteMeta(home)+`\b`).ReplaceAllLiteralString(s, "$HOME")
	}
	// The temporary dirs of this test are named after it.
	if i := strings.Index(s, filepath.Base(filepath.Dir(tmp))); i >= 0 {
		t.Fatalf("the history still names a temporary path of this run: ...%s...", s[max(0, i-100):min(len(s), i+200)])
	}
	return []byte(s)
}

// readStreamLines returns the events of stream as GET
// /api/v1/streams/STREAM/events gives them, one envelope a line.
func readStreamLines(t *testing.T, ctx context.Context, addr, stream string) [][]byte {
	t.Helper()
	r := cli(t, ctx, "", "events", "read", stream, "--addr", addr).ok(t)
	var out [][]byte
	for l := range strings.Lines(r.out) {
		out = append(out, []byte(strings.TrimSuffix(l, "\n")))
	}
	return out
}

func position(t *testing.T, line []byte) uint64 {
	var e struct {
		Position uint64 `json:"position"`
	}
	if err := json.Unmarshal(line, &e); err != nil || e.Position == 0 {
		t.Fatalf("event line without a position (%v): %s", err, line)
	}
	return e.Position
}

// openCalls counts the model calls started and not yet ended.
func openCalls(t *testing.T, lines [][]byte) int {
	open := map[string]bool{}
	for _, l := range lines {
		var e struct {
			Type string `json:"type"`
			Data struct {
				CallID string `json:"call_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("event line %s: %v", l, err)
		}
		switch e.Type {
		case "model.call.started":
			open[e.Data.CallID] = true
		case "model.call.completed", "model.call.failed":
			delete(open, e.Data.CallID)
		}
	}
	return len(open)
}

// loadGolden reads a recorded history.
func loadGolden(t *testing.T, path string) []event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: record it with `%s` (needs the pinned CLIs: bash scripts/install-clients.sh)", err, rerecord)
	}
	var evs []event.Event
	for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e event.Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		t.Fatalf("%s holds no event", path)
	}
	return evs
}

// replayGolden appends evs to a fresh embedded store, checks that it
// gives them back as recorded, folds the read models from it and
// renders what they say.
func replayGolden(t *testing.T, harness string, evs []event.Event) string {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	// Runs of events of one stream go in one append, in log order.
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].Stream == evs[i].Stream {
			j++
		}
		batch := make([]event.Proposed, 0, j-i)
		for _, e := range evs[i:j] {
			batch = append(batch, event.Proposed{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata, Time: e.Time})
		}
		expected := eventstore.NoStream
		if v := evs[i].StreamVersion; v > 0 {
			expected = eventstore.Exact(v - 1)
		}
		res, err := st.Append(ctx, evs[i].Stream, expected, batch...)
		if err != nil {
			t.Fatalf("append the recorded events %d to %d (%s from version %d): %v", i, j-1, evs[i].Stream, evs[i].StreamVersion, err)
		}
		if res.FirstVersion != evs[i].StreamVersion || res.LastVersion != evs[j-1].StreamVersion {
			t.Fatalf("%s: the recorded versions %d-%d were appended at %d-%d", evs[i].Stream, evs[i].StreamVersion, evs[j-1].StreamVersion, res.FirstVersion, res.LastVersion)
		}
		i = j
	}

	// The store gives back what was recorded, and the read models fold
	// the whole log.
	reg, cm, am := session.NewRegistry(), costs.New(), audit.New()
	n := 0
	for e, err := range st.ReadAll(ctx, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n >= len(evs) {
			t.Fatalf("the store holds more events than the %d recorded: %s %s", len(evs), e.Stream, e.Type)
		}
		if w := evs[n]; e.ID != w.ID || e.Type != w.Type || e.Stream != w.Stream || e.StreamVersion != w.StreamVersion ||
			!e.Time.Equal(w.Time) || e.Metadata != w.Metadata || !jsonEqual(e.Data, w.Data) {
			t.Fatalf("event %d read back from the replay:\n%s %s %s v%d %s %+v %s\nrecorded:\n%s %s %s v%d %s %+v %s", n,
				e.ID, e.Type, e.Stream, e.StreamVersion, e.Time.Format(time.RFC3339Nano), e.Metadata, e.Data,
				w.ID, w.Type, w.Stream, w.StreamVersion, w.Time.Format(time.RFC3339Nano), w.Metadata, w.Data)
		}
		n++
		for _, p := range []interface{ Apply(*event.Event) error }{reg, cm, am} {
			if err := p.Apply(&e); err != nil {
				t.Fatalf("fold %s at position %d: %v", e.Type, e.Position, err)
			}
		}
	}
	if n != len(evs) {
		t.Fatalf("the store gave back %d of the %d recorded events", n, len(evs))
	}
	return renderGolden(t, ctx, harness, evs, st, reg, cm, am)
}

func jsonEqual(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// renderGolden writes what the read models say of the history, without
// what a re-recording changes although nothing else did: ids (the
// session's, its key's, the harness session's, the calls' and the tool
// calls', replaced by names), times, positions, hashes and latencies.
// Counts, statuses, turns, tool calls, tokens, exact costs, models,
// providers, outcomes and the shape of each trace stay.
func renderGolden(t *testing.T, ctx context.Context, harness string, evs []event.Event, st eventstore.Reader, reg *session.Registry, cm *costs.Model, am *audit.Model) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# What the read models fold from %s.jsonl (a recorded %s session), with\n", harness, harness)
	fmt.Fprintf(&b, "# ids, times, positions, hashes and latencies left out. Regenerate with\n# %s\n", regenerate)

	// The history.
	streams, types := map[string]int{}, map[string]int{}
	for _, e := range evs {
		streams[e.Stream]++
		types[e.Type]++
	}
	fmt.Fprintf(&b, "\n== history: %d events\n", len(evs))
	for _, s := range slices.Sorted(maps.Keys(streams)) {
		fmt.Fprintf(&b, "%s: %d\n", s, streams[s])
	}
	for _, ty := range slices.Sorted(maps.Keys(types)) {
		fmt.Fprintf(&b, "  %-40s %d\n", ty, types[ty])
	}

	// The session registry.
	ss := reg.List(session.Filter{})
	if len(ss) != 1 {
		t.Fatalf("the registry folds %d sessions from the history, want 1", len(ss))
	}
	s := ss[0]
	var fields map[string]any
	raw, _ := json.Marshal(s)
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"created_at", "updated_at", "turn_started_at", "running_ms"} {
		delete(fields, k)
	}
	raw, _ = json.MarshalIndent(fields, "", "  ")
	fmt.Fprintf(&b, "\n== session (core/session)\n%s\n", raw)

	// The cost model.
	for _, by := range []string{"decision", "model", "provider"} {
		dims, err := costs.ParseBy(by)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := cm.Query(costs.Query{By: dims})
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := rep.WriteCSV(&c); err != nil {
			t.Fatal(err)
		}
		// Without the mean latency, the last column.
		recs, err := csv.NewReader(&c).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n== costs by %s (core/costs; dollars exact to the nano-dollar)\n", by)
		for _, r := range recs {
			fmt.Fprintf(&b, "%s\n", strings.Join(r[:len(r)-1], ","))
		}
	}

	// The audit model.
	ar := am.Query(audit.Filter{})
	fmt.Fprintf(&b, "\n== audit (core/audit): %d events in %d streams checked, %d broken links\n", ar.Chains.Events, ar.Chains.Streams, len(ar.Chains.Breaks))
	for _, br := range ar.Chains.Breaks {
		fmt.Fprintf(&b, "break %s v%d: %s\n", br.Stream, br.Version, br.Reason)
	}
	for _, e := range ar.Entries {
		fmt.Fprintf(&b, "%s %s %s v%d: %s\n", e.Actor, e.Action, e.Target, e.Version, e.Detail)
	}

	// The decision traces.
	for turn := 1; turn <= s.Turns; turn++ {
		fmt.Fprintf(&b, "\n== trace of turn %d (core/trace)\n", turn)
		n, err := trace.Build(ctx, st, s.ID, turn)
		if err != nil {
			// What the log makes of the turn, a failure included: a fix
			// shows as a difference, to be regenerated.
			fmt.Fprintf(&b, "trace.Build failed: %v\n", err)
			continue
		}
		writeGoldenNode(&b, n, "")
	}
	return goldenNames(evs, s).Replace(b.String())
}

// volatileAttrs are trace attributes that change with each recording
// of the same session.
var volatileAttrs = []string{"latency_ms", "seed", "clock_unix_ms"}

// writeGoldenNode writes a trace node, its facts and its children: no
// times, no event positions (their number stays), and no summary for a
// model call (its latency is in it; its facts are in the attributes).
func writeGoldenNode(b *strings.Builder, n *trace.Node, indent string) {
	fmt.Fprintf(b, "%s%s %s (%d events)", indent, n.Kind, n.Name, len(n.Events))
	if n.Summary != "" && n.Kind != trace.KindModelCall {
		fmt.Fprintf(b, ": %s", n.Summary)
	}
	b.WriteString("\n")
	if n.CostUSD != 0 || n.InputTokens != 0 || n.OutputTokens != 0 {
		fmt.Fprintf(b, "%s  | tokens %d in, %d out; cost %s\n", indent, n.InputTokens, n.OutputTokens, usd9(n.CostUSD))
	}
	if n.Error != "" {
		fmt.Fprintf(b, "%s  | error %q\n", indent, n.Error)
	}
	for _, k := range slices.Sorted(maps.Keys(n.Attrs)) {
		if slices.Contains(volatileAttrs, k) {
			continue
		}
		var v string
		switch a := n.Attrs[k].(type) {
		case float64:
			v = usd9(a)
		case string:
			v = strconv.Quote(a)
		default:
			j, _ := json.Marshal(a)
			v = string(j)
		}
		fmt.Fprintf(b, "%s  | %s: %s\n", indent, k, v)
	}
	for _, c := range n.Children {
		writeGoldenNode(b, c, indent+"    ")
	}
}

// usd9 writes an amount rounded to 9 decimals, the nano-dollar.
func usd9(v float64) string { return strconv.FormatFloat(v, 'f', 9, 64) }

// goldenNames replaces the ids a recording makes up with names: the
// session's, its key's, the harness session's, and the calls' and tool
// calls' in the order they appear (a tool call's id is rendered quoted,
// as an attribute).
func goldenNames(evs []event.Event, s session.Session) *strings.Replacer {
	pairs := []string{s.ID, "$SESSION", s.KeyID, "$KEY"}
	if s.HarnessSessionID != "" {
		pairs = append(pairs, s.HarnessSessionID, "$HARNESS_SESSION")
	}
	seen := map[string]bool{}
	calls, tools := 0, 0
	for _, e := range evs {
		var d struct {
			CallID   string `json:"call_id"`
			ToolCall struct {
				ID string `json:"id"`
			} `json:"tool_call"`
		}
		json.Unmarshal(e.Data, &d)
		switch {
		case e.Type == "model.call.started" && d.CallID != "" && !seen[d.CallID]:
			calls++
			pairs = append(pairs, d.CallID, fmt.Sprintf("$CALL%d", calls))
			seen[d.CallID] = true
		case e.Type == session.HarnessType("tool_call") && d.ToolCall.ID != "" && !seen[d.ToolCall.ID]:
			tools++
			pairs = append(pairs, strconv.Quote(d.ToolCall.ID), fmt.Sprintf(`"$TOOL%d"`, tools)) // quoted: some are as short as "item_1"
			seen[d.ToolCall.ID] = true
		}
	}
	return strings.NewReplacer(pairs...)
}

// repriceGolden prices the usage of every completed call of the history
// again with the built-in price table: the cost recorded must be what
// the table gives, so that a change of a price fails here until the
// goldens are regenerated on purpose.
func repriceGolden(t *testing.T, evs []event.Event) {
	t.Helper()
	table := pricing.Builtin()
	kinds := map[string]string{}
	for _, p := range demoConfig("").Providers {
		kinds[p.Name] = p.Kind
	}
	priced := 0
	for _, e := range evs {
		if e.Type != "model.call.completed" {
			continue
		}
		var d event.ModelCallCompleted
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatalf("model.call.completed %s: %v", e.ID, err)
		}
		kind, ok := kinds[d.Provider]
		if !ok {
			t.Fatalf("call %s: provider %q is not the demo's", d.CallID, d.Provider)
		}
		price, ok := table.Lookup(kind, d.TargetModel)
		if !ok || d.Unpriced {
			t.Errorf("call %s on %s/%s: recorded unpriced %v, the built-in table has a price %v; record the sessions again with `%s` if the table changed on purpose",
				d.CallID, kind, d.TargetModel, d.Unpriced, ok, rerecord)
			continue
		}
		// The event counts cached tokens in the input; llm.Usage does not.
		u := llm.Usage{InputTokens: d.InputTokens - d.CacheReadTokens - d.CacheWriteTokens, OutputTokens: d.OutputTokens,
			CacheReadTokens: d.CacheReadTokens, CacheWriteTokens: d.CacheWriteTokens, ReasoningTokens: d.ReasoningTokens}
		if got := pricing.Cost(price, u).Total; math.Abs(got-d.CostUSD) > 1e-12 {
			t.Errorf("call %s on %s/%s (%d input tokens, %d cached, %d output): recorded cost_usd %.12f, the built-in price table gives %.12f; record the sessions again with `%s` if the table changed on purpose",
				d.CallID, kind, d.TargetModel, d.InputTokens, d.CacheReadTokens+d.CacheWriteTokens, d.OutputTokens, d.CostUSD, got, rerecord)
		}
		priced++
	}
	if priced == 0 {
		t.Error("the history has no completed model call to price")
	}
}

// lineDiff is a line diff of want and got: the changed lines, marked -
// and +, with two lines of context around each change.
func lineDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
		ln   int // the line number in want (or got, for an added line)
	}
	var ops []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, line{' ', a[i], i + 1})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, line{'-', a[i], i + 1})
			i++
		default:
			ops = append(ops, line{'+', b[j], j + 1})
			j++
		}
	}
	var out strings.Builder
	last := -1
	for k, o := range ops {
		near := false
		for d := max(0, k-2); d <= min(len(ops)-1, k+2); d++ {
			near = near || ops[d].op != ' '
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("  ...\n")
		}
		fmt.Fprintf(&out, "%c %4d %s\n", o.op, o.ln, o.text)
		last = k
	}
	return out.String()
}
