package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
)

// controlPlane is the control plane's part of a running server: the
// agents, kept current by a projection runner.
type controlPlane struct {
	agents *agent.Service
	stop   func() // stops the runner after it saved a last checkpoint
}

// startControl catches the agent registry up with the log and keeps it
// current; it returns once every agent in the log is known.
func startControl(ctx context.Context, store eventstore.Store, cps projection.CheckpointStore, log *slog.Logger) (*controlPlane, error) {
	reg := agent.NewRegistry()
	runner := projection.NewRunner(reg, store, cps, projection.RunnerConfig{}, log.With("component", "projection", "projection", reg.Name()))
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := runner.Run(rctx); err != nil && rctx.Err() == nil {
			log.Error("agent registry stopped: agent changes by other servers will not be seen until a restart", "err", err)
		}
	}()
	cp := &controlPlane{
		agents: &agent.Service{Registry: reg, Store: store},
		stop:   func() { cancel(); <-done },
	}
	var head uint64
	for e, err := range store.ReadAll(ctx, eventstore.ReadOptions{From: eventstore.End, Direction: eventstore.Backwards, Limit: 1}) {
		if err != nil {
			cp.stop()
			return nil, fmt.Errorf("control plane start: %w", err)
		}
		head = e.Position
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := runner.WaitFor(wctx, head); err != nil {
		cp.stop()
		return nil, fmt.Errorf("control plane start: catching up with the event log: %w", err)
	}
	return cp, nil
}
