package process

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// supervise watches the running process until ctx ends, restarting it
// when it fails.
func (p *Plugin) supervise(ctx context.Context, in *instance) {
	defer close(p.done)
	var failures []time.Time // within the window
	for {
		err := p.watch(ctx, in)
		if err == nil { // closing
			in.stop(p.cfg.StopTimeout)
			p.set(Stopped, nil, nil)
			p.log.Info("plugin stopped")
			return
		}
		dead := in
		in = nil
		for in == nil { // a failure: the process's, then each failed restart's
			now := time.Now()
			failures = slices.DeleteFunc(failures, func(t time.Time) bool { return now.Sub(t) > p.cfg.FailureWindow })
			failures = append(failures, now)
			if len(failures) >= p.cfg.MaxFailures {
				p.set(Failed, nil, err)
				p.log.Error("plugin failed too often; not restarting it",
					"error", err, "failures", len(failures), "window", p.cfg.FailureWindow)
				if dead != nil {
					dead.stop(0)
				}
				return
			}
			p.set(Restarting, nil, err) // from now on Dispense waits
			if dead != nil {
				dead.stop(0)
				dead = nil
			}
			wait := backoff(len(failures), p.cfg.MinBackoff, p.cfg.MaxBackoff)
			p.log.Warn("plugin failed; restarting it", "error", err, "backoff", wait)
			select {
			case <-ctx.Done():
				p.set(Stopped, nil, nil)
				return
			case <-time.After(wait):
			}
			p.mu.Lock()
			p.restarts++
			p.mu.Unlock()
			in, err = p.launch(ctx)
			if ctx.Err() != nil {
				if in != nil {
					in.stop(0)
				}
				p.set(Stopped, nil, nil)
				return
			}
		}
		p.set(Running, in, nil)
	}
}

// watch returns why the process failed, or nil once ctx ends.
func (p *Plugin) watch(ctx context.Context, in *instance) error {
	var tick <-chan time.Time
	if p.cfg.HealthInterval > 0 {
		t := time.NewTicker(p.cfg.HealthInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-in.exited:
			return in.exitError()
		case <-tick:
			err := in.check(ctx, p.cfg.HealthTimeout)
			if err == nil || ctx.Err() != nil {
				continue
			}
			select {
			case <-in.exited: // it died; say how
				return in.exitError()
			default:
			}
			return fmt.Errorf("health check failed, so the host killed process %d: %w", in.pid, err)
		}
	}
}

// backoff is the wait before a restart after the nth failure in the
// window: lo, doubled n-1 times, at most hi.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
