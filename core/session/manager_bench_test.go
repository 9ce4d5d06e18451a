package session

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/sdk/harness"
)

// spawnAdapter starts /bin/true as its CLI and says when the process is
// spawned: where the harness's own start-up begins and ours ends.
type spawnAdapter struct{ spawned chan time.Time }

func (spawnAdapter) Describe(context.Context) (harness.Info, error) {
	return harness.Info{Harness: "claude-code", CLI: "true"}, nil
}

func (a spawnAdapter) Run(ctx context.Context, r *harness.Run, emit harness.Emit) error {
	cmd := &harness.Command{Path: r.Request.CLIPath, Dir: r.Request.Workdir, Env: harness.BaseEnv(), Sandbox: r.Request.Sandbox}
	p, err := cmd.Start(ctx)
	if err != nil {
		return err
	}
	a.spawned <- time.Now()
	exit := p.Wait()
	return emit(harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{ExitCode: exit.Code}})
}

// testManager returns a manager on a fresh store whose one agent, name,
// runs /bin/true as its CLI, saying on spawned when it is spawned. With
// wrap, the manager appends through the appender wrap makes of the store.
func testManager(tb testing.TB, name string, spawned chan time.Time, wrap func(eventstore.Appender) eventstore.Appender) *Manager {
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: tb.TempDir()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	agents := agent.NewRegistry()
	if _, err := agents.Put(ctx, st, agent.Definition{Name: name, Harness: "claude-code", Model: "m", Limits: agent.Limits{MemoryMB: 4096}}, "", time.Now(), false); err != nil {
		tb.Fatal(err)
	}
	var app eventstore.Appender = st
	if wrap != nil {
		app = wrap(st)
	}
	ks := keys.NewRegistry()
	return &Manager{Registry: NewRegistry(), Store: app, Agent: agents.Get, Adapters: oneAdapter{spawnAdapter{spawned}},
		MintKey: func(ctx context.Context, s *Session, a *agent.Agent) (string, string, error) {
			k, secret, err := ks.Create(ctx, st, keys.Spec{Name: "session " + s.ID, Agent: a.Definition.Name, Tags: map[string]string{"session": s.ID}}, "system", time.Now())
			return k.ID, secret, err
		},
		GatewayURL: "http://127.0.0.1:1", Dir: tb.TempDir()}
}

type oneAdapter struct{ a harness.Adapter }

func (o oneAdapter) Check(context.Context, string) error { return nil }

func (o oneAdapter) Adapter(context.Context, string) (harness.Adapter, string, func(), error) {
	return o.a, "/bin/true", func() {}, nil
}

// BenchmarkStartToSpawn measures our part of starting a session, from
// Manager.Start to the harness CLI's process being spawned: the session
// directory, the gateway key (a key.created event), session.created and
// session.turn.started (each appended durably), the request, the fork and
// exec. The CLI's own start-up and its first model call's trip through
// the gateway (docs/performance.md, gateway) are not in it.
func BenchmarkStartToSpawn(b *testing.B) {
	ctx := context.Background()
	spawned := make(chan time.Time, 1)
	m := testManager(b, "bench", spawned, nil)
	defer m.Close()
	var total time.Duration
	for b.Loop() {
		t0 := time.Now()
		s, err := m.Start(ctx, "bench", "go", "bench")
		if err != nil {
			b.Fatal(err)
		}
		total += (<-spawned).Sub(t0)
		for {
			if got, _ := m.Registry.Get(s.ID); got.Status != StatusRunning {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-spawn")
}
