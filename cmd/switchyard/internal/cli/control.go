package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/eventstore"
)

// controlPlane is the control plane's part of a running server: agents
// and sessions, kept current by projection runners.
type controlPlane struct {
	agents   *agent.Service
	sessions *session.Registry
	stop     func() // stops the runners after each saved a last checkpoint
}

// startControl catches the agent and session registries up with the
// log and keeps them current. Sessions the log says are running lost
// their harness with the server that ran them: they are marked
// interrupted before it returns.
func startControl(ctx context.Context, store eventstore.Store, cps projection.CheckpointStore, log *slog.Logger) (*controlPlane, error) {
	start := time.Now()
	agents, sessions := agent.NewRegistry(), session.NewRegistry()
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var runners []*projection.Runner
	for _, p := range []projection.Projection{agents, sessions} {
		r := projection.NewRunner(p, store, cps, projection.RunnerConfig{}, log.With("component", "projection", "projection", p.Name()))
		runners = append(runners, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(rctx); err != nil && rctx.Err() == nil {
				log.Error("projection stopped: changes by other servers will not be seen until a restart", "projection", p.Name(), "err", err)
			}
		}()
	}
	cp := &controlPlane{
		agents:   &agent.Service{Registry: agents, Store: store},
		sessions: sessions,
		stop:     func() { cancel(); wg.Wait() },
	}
	fail := func(err error) (*controlPlane, error) {
		cp.stop()
		return nil, fmt.Errorf("control plane start: %w", err)
	}
	var head uint64
	for e, err := range store.ReadAll(ctx, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards, Limit: 1}) {
		if err != nil {
			return fail(err)
		}
		head = e.Position
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	for _, r := range runners {
		if err := r.WaitFor(wctx, head); err != nil {
			return fail(fmt.Errorf("catching up with the event log: %w", err))
		}
	}
	ids, err := sessions.InterruptRunning(ctx, store, "switchyard stopped while the session ran: `switchyard session resume` continues it", time.Now())
	if err != nil {
		log.Error("could not mark every running session interrupted", "err", err)
	}
	if len(ids) > 0 {
		log.Warn("sessions interrupted by the last shutdown", "sessions", ids, "after", time.Since(start).Round(time.Millisecond))
	}
	return cp, nil
}
