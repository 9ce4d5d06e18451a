// Command rebuildbench measures how fast serve's read models rebuild
// from position 0 of a large log: the stream catalogue, agents,
// sessions, keys, budgets, costs and audit, folded over one subscription
// as serve runs them.
//
// The log is a synthetic month of agent sessions on the embedded store:
// each turn is a session.turn.started, five harness events, a
// session.turn.ended, and some model calls of three events each
// (model.call.started, routing.decided, model.call.completed), about 22
// events a turn. It is written once into --dir and reused while the
// generator's version and --events are the same (10M events take some
// 4.5 GB and a few minutes to write).
//
// `go tool task bench:rebuild` runs it; the figures go in
// docs/performance.md. It also times the cost queries of issue 6 against
// the rebuilt cost model.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/sdk/harness"
)

var (
	dir    = flag.String("dir", "", "data directory of the log (default: $SWITCHYARD_BENCH_DIR/rebuild, or ~/.cache/switchyard/bench/rebuild)")
	events = flag.Int("events", 10_000_000, "events in the log")
	runs   = flag.Int("runs", 1, "rebuilds to time")
	each   = flag.Bool("each", false, "also rebuild each read model alone, to see which costs what")
	prof   = flag.String("cpuprofile", "", "write a CPU profile of the rebuilds to this file")
	mprof  = flag.String("memprofile", "", "write a heap profile after the last rebuild to this file")
	read   = flag.Bool("read", false, "first time a bare read of the whole log (one subscription, no read model): the floor of a rebuild")
)

// generatorVersion changes when the log's shape does, so an old log is
// rewritten.
const generatorVersion = "1"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rebuildbench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	if *dir == "" {
		base := os.Getenv("SWITCHYARD_BENCH_DIR")
		if base == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				return err
			}
			base = filepath.Join(cache, "switchyard", "bench")
		}
		*dir = filepath.Join(base, "rebuild")
	}
	marker := filepath.Join(*dir, "generated")
	want := fmt.Sprintf("v%s %d", generatorVersion, *events)
	if b, _ := os.ReadFile(marker); string(b) != want {
		if err := os.RemoveAll(*dir); err != nil {
			return err
		}
		if err := generate(ctx, *dir, *events); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(want), 0o644); err != nil {
			return err
		}
	}
	st, err := embedded.Open(embedded.Config{Dir: *dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	head, err := eventstore.Head(ctx, st)
	if err != nil {
		return err
	}
	fmt.Printf("log: %d events in %s (%s, GOMAXPROCS %d)\n", head, *dir, size(*dir), runtime.GOMAXPROCS(0))

	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *read {
		began := time.Now()
		var n uint64
		rctx, cancel := context.WithCancel(ctx)
		for e, err := range st.SubscribeAll(rctx, 1) {
			if err != nil {
				cancel()
				return err
			}
			if n++; e.Position >= head {
				break
			}
		}
		cancel()
		elapsed := time.Since(began)
		fmt.Printf("bare read of %d events: %s, %.0f events/s\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	}
	var spend *costs.Model
	for i := range *runs {
		ps := models()
		cpu0 := cpuTime()
		elapsed, err := rebuild(ctx, st, head, ps)
		if err != nil {
			return err
		}
		cpu := cpuTime() - cpu0
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("rebuild %d of all %d read models: %s, %.0f events/s; CPU %s (%.0f events per CPU second), heap %.1f GB, %d GCs\n", i+1, len(ps),
			elapsed.Round(time.Millisecond), float64(head)/elapsed.Seconds(), cpu.Round(time.Second), float64(head)/cpu.Seconds(), float64(ms.HeapAlloc)/1e9, ms.NumGC)
		if *mprof != "" && i == *runs-1 {
			f, err := os.Create(*mprof)
			if err != nil {
				return err
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				return err
			}
			f.Close()
		}
		spend = ps[5].(*costs.Model)
	}
	if *each {
		for i := range models() {
			p := models()[i]
			elapsed, err := rebuild(ctx, st, head, []projection.Projection{p})
			if err != nil {
				return err
			}
			fmt.Printf("  %-22s alone: %s, %.0f events/s\n", p.Name(), elapsed.Round(time.Millisecond), float64(head)/elapsed.Seconds())
		}
	}
	return queries(spend)
}

// models are the read models serve keeps, fresh.
func models() []projection.Projection {
	bud, err := budget.New(budget.Config{}, time.Now, nil)
	if err != nil {
		panic(err)
	}
	return []projection.Projection{projection.NewStreamCatalog(), agent.NewRegistry(), session.NewRegistry(), keys.NewRegistry(), bud, costs.New(), audit.New()}
}

// rebuild forgets ps' checkpoints and runs them from position 0 until
// each has folded head, as serve would after an upgrade that renames
// them: one group over one subscription, the gateway's read models (keys,
// budgets) with the control plane's. Checkpoints are saved as serve saves
// them.
func rebuild(ctx context.Context, st *embedded.Store, head uint64, ps []projection.Projection) (time.Duration, error) {
	runtime.GC()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	group := projection.NewGroup(st, st, nil)
	runs := []func(context.Context) error{group.Run}
	var runners []*projection.Runner
	for _, p := range ps {
		var r *projection.Runner
		switch p.Name() {
		case costs.ProjectionName, audit.ProjectionName:
			r = group.Add(p, projection.RunnerConfig{CheckpointEvery: 500_000, CheckpointInterval: time.Minute})
		default:
			r = group.Add(p, projection.RunnerConfig{})
		}
		if err := r.Rebuild(ctx); err != nil {
			return 0, err
		}
		runners = append(runners, r)
	}
	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(runs))
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(rctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	for _, r := range runners {
		if err := r.WaitFor(rctx, head); err != nil {
			cancel()
			wg.Wait()
			select {
			case err := <-errs:
				return 0, err
			default:
				return 0, err
			}
		}
	}
	elapsed := time.Since(began)
	cancel()
	wg.Wait()
	return elapsed, nil
}

// queries times the cost questions of issue 6 on the rebuilt model.
func queries(m *costs.Model) error {
	var last time.Time
	for _, r := range mustQuery(m, costs.Query{By: mustBy("day")}).Rows {
		t, _ := time.Parse(time.DateOnly, r.Group[0])
		if end := t.AddDate(0, 0, 1); end.After(last) {
			last = end
		}
	}
	for _, q := range []struct {
		name  string
		by    string
		where string
		since time.Duration
	}{
		{"--by agent,model --since 7d", "agent,model", "", 7 * 24 * time.Hour},
		{"--by day,model --where agent=agent-7", "day,model", "agent=agent-7", 0},
		{"--by agent,model (all)", "agent,model", "", 0},
		{"--by user --since 7d", "user", "", 7 * 24 * time.Hour},
		{"--by tag:tier,provider --since 7d", "tag:tier,provider", "", 7 * 24 * time.Hour},
		{"--by decision --where agent=agent-7 --since 1d", "decision", "agent=agent-7", 24 * time.Hour},
		{"--by model --where session=S", "model", "session=s0000000000000400", 0},
	} {
		cq := costs.Query{By: mustBy(q.by)}
		if q.where != "" {
			f, err := costs.ParseFilter(q.where)
			if err != nil {
				return err
			}
			cq.Where = []costs.Filter{f}
		}
		if q.since > 0 {
			cq.Since = last.Add(-q.since)
		}
		var times []time.Duration
		var rep *costs.Report
		for range 20 {
			began := time.Now()
			rep = mustQuery(m, cq)
			times = append(times, time.Since(began))
		}
		slices.Sort(times)
		fmt.Printf("  costs %-46s p50 %7s  max %7s  (%d groups, %d rows of the %s table)\n", q.name,
			times[len(times)/2].Round(10*time.Microsecond), times[len(times)-1].Round(10*time.Microsecond), len(rep.Rows), rep.Scanned, rep.Table)
	}
	return nil
}

func mustBy(s string) []costs.Dim {
	d, err := costs.ParseBy(s)
	if err != nil {
		panic(err)
	}
	return d
}

func mustQuery(m *costs.Model, q costs.Query) *costs.Report {
	r, err := m.Query(q)
	if err != nil {
		panic(err)
	}
	return r
}

// generate writes n events of sessions into a new store in dir, from 8
// writers at once (whole sessions per append, as a busy server's
// batches are).
func generate(ctx context.Context, dir string, n int) error {
	fmt.Printf("writing a log of %d events into %s (once)\n", n, dir)
	st, err := embedded.Open(embedded.Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	began := time.Now()
	const writers = 8
	perWriter := n / writers
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := writeSessions(ctx, st, w, perWriter); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("written in %s\n", time.Since(began).Round(time.Second))
	return nil
}

// writeSessions appends sessions until about n events are written.
func writeSessions(ctx context.Context, st *embedded.Store, w, n int) error {
	rng := rand.New(rand.NewPCG(uint64(w), 11))
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	month := 30 * 24 * time.Hour
	models := []struct{ provider, model string }{{"anthropic", "claude-sonnet-4-5"}, {"anthropic", "claude-haiku-4-5"}, {"openai", "gpt-5"},
		{"openai", "gpt-5-mini"}, {"gemini", "gemini-2.5-pro"}, {"gemini", "gemini-2.5-flash"}, {"openrouter", "llama-4"}, {"openrouter", "qwen-3"}}
	mk := func(typ string, data any, md event.Metadata, at time.Time) event.Proposed {
		p, err := event.New(typ, data, md)
		if err != nil {
			panic(err)
		}
		p.Time = at
		return p
	}
	written := 0
	for s := 0; written < n; s++ {
		id := fmt.Sprintf("s%08x%08x", w, s)
		key := fmt.Sprintf("key_%08x%04x", w, s)
		agentNo := rng.IntN(50)
		md := event.Metadata{Agent: "agent-" + strconv.Itoa(agentNo), Team: "team-" + strconv.Itoa(agentNo%10),
			User: "user-" + strconv.Itoa(rng.IntN(100)), Session: id, Actor: "user:u" + strconv.Itoa(rng.IntN(100))}
		at := start.Add(time.Duration(float64(month) * float64(written) / float64(n)))
		sess := []event.Proposed{mk("session.created", session.Created{ID: id, Agent: md.Agent, Harness: "claude-code", Model: "fast",
			Prompt: "fix the failing test in " + id, KeyID: key}, md, at)}
		var calls []event.Proposed
		env, tier := []string{"prod", "staging"}[rng.IntN(2)], []string{"gold", "silver", "free"}[rng.IntN(3)]
		turns := 1 + rng.IntN(6)
		for turn := 1; turn <= turns; turn++ {
			sess = append(sess, mk("session.turn.started", session.TurnStarted{Turn: turn, Mode: session.ModeStart, Prompt: "go on"}, md, at))
			tags := map[string]string{"session": id, "turn": strconv.Itoa(turn), "env": env, "tier": tier}
			for c := range 1 + rng.IntN(9) {
				m := models[rng.IntN(len(models))]
				callID := fmt.Sprintf("call_%s_%d_%d", id, turn, c)
				cmd := event.Metadata{CorrelationID: callID, Actor: "key:" + key, Agent: md.Agent, Team: md.Team, User: md.User, Session: id}
				attr := event.CallAttribution{KeyID: key, Tags: tags, Client: "claude-code", ClientSessionID: "h-" + id}
				calls = append(calls,
					mk("model.call.started", event.ModelCallStarted{CallID: callID, CallAttribution: attr, API: "anthropic.messages", Operation: "chat",
						RequestModel: "fast", Stream: true, MaxTokens: 32000, EstimatedInputTokens: 20000}, cmd, at),
					mk("routing.decided", event.RoutingDecided{CallID: callID, Router: "static", RequestModel: "fast",
						Targets: []event.RouteTarget{{Provider: m.provider, Model: m.model}}, Reason: "route fast"}, cmd, at),
					mk("model.call.completed", event.ModelCallCompleted{CallID: callID, CallAttribution: attr, API: "anthropic.messages",
						Provider: m.provider, RequestModel: "fast", ResponseModel: m.model, FinishReason: "tool_use",
						CallRoute: event.CallRoute{TargetModel: m.model},
						CallUsage: event.CallUsage{InputTokens: 1000 + rng.IntN(50000), OutputTokens: rng.IntN(4000), CacheReadTokens: rng.IntN(30000),
							CostUSD: float64(rng.IntN(100000)) / 1e6, InputCostUSD: 0.001, OutputCostUSD: 0.002},
						Stream: true, LatencyMS: float64(rng.IntN(100000)) / 10, TTFTMS: 300, Attempts: 1}, cmd, at))
			}
			for _, h := range []harness.Event{
				{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant, Text: "Looking at the test."}, Raw: json.RawMessage(`{"type":"assistant"}`)},
				{Kind: harness.KindToolCall, ToolCall: &harness.ToolCall{ID: "t1", Name: "Bash", Input: json.RawMessage(`{"command":"go test ./..."}`)}, Raw: json.RawMessage(`{"type":"tool_use"}`)},
				{Kind: harness.KindToolResult, ToolResult: &harness.ToolResult{ID: "t1", Output: "ok"}, Raw: json.RawMessage(`{"type":"tool_result"}`)},
				{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant, Text: "Fixed."}, Raw: json.RawMessage(`{"type":"assistant"}`)},
				{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: "Fixed."}, Raw: json.RawMessage(`{"type":"result"}`)},
			} {
				sess = append(sess, mk(session.HarnessType(h.Kind), session.HarnessEvent{Turn: turn, Event: h}, md, at))
			}
			sess = append(sess, mk("session.turn.ended", session.TurnEnded{Turn: turn, Outcome: session.OutcomeCompleted, Result: "Fixed."}, md, at))
		}
		for stream, evs := range map[string][]event.Proposed{session.Stream(id): sess, "calls-" + key: calls} {
			if _, err := st.Append(ctx, stream, eventstore.NoStream, evs...); err != nil {
				return fmt.Errorf("append to %s: %w", stream, err)
			}
			written += len(evs)
		}
	}
	return nil
}

// cpuTime is the CPU time this process has used, user and system. The
// rebuild's share of it (which includes the last checkpoints saved after
// it) is steadier than its wall time on a machine running other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func size(dir string) string {
	var total int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	return strings.TrimSpace(fmt.Sprintf("%.1f GB", float64(total)/1e9))
}
