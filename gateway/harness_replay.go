package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/switchyard/switchyard/gateway/tape"
)

// tapes are the harness replays the gateway serves, by replay session.
type tapes struct {
	mu      sync.Mutex
	players map[string]*tape.Player
}

// Player implements proxy.Replays.
func (t *tapes) Player(session string) (*tape.Player, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.players[session]
	return p, ok
}

// ArmReplay loads the recorded answers of session `of` and serves them,
// from now on, to the model calls of session `replay` (whose key has
// the tag tape.ReplayTag naming `of`), until the player is closed. It
// fails, saying why, when the recording cannot be played. A replay never
// calls a provider. before, if not 0, keeps the calls of the turns
// before it only: a fork at turn `before` replays those, and its key goes
// live from there (tape.LiveFromTag).
func (g *Gateway) ArmReplay(ctx context.Context, replay, of string, before int) (*tape.Player, error) {
	calls, err := g.loadTape(ctx, of)
	if err != nil {
		return nil, err
	}
	if before > 0 {
		calls = slices.DeleteFunc(calls, func(c tape.Call) bool { return c.Turn >= before })
		for i := range calls {
			calls[i].N = i + 1
		}
	}
	t := &g.tapes
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.players[replay]; ok {
		return nil, fmt.Errorf("session %s already replays a recording", replay)
	}
	var p *tape.Player
	p = tape.NewPlayer(replay, of, calls, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.players[replay] == p {
			delete(t.players, replay)
		}
	})
	if t.players == nil {
		t.players = map[string]*tape.Player{}
	}
	t.players[replay] = p
	return p, nil
}

// loadTape loads the recording of session of. A call of it still
// running (its CLI may have exited a moment before the gateway wrote the
// call's end) is waited for, a few seconds at most.
func (g *Gateway) loadTape(ctx context.Context, of string) ([]tape.Call, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		// The recording's last events may be on their way to the log.
		if err := g.rec.Flush(ctx); err != nil {
			return nil, fmt.Errorf("replay of %s: write the gateway's events first: %w", of, err)
		}
		calls, err := tape.Load(ctx, g.opts.Store, of)
		if !errors.Is(err, tape.ErrCallsOpen) {
			return calls, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("session %s is %w: %w", of, tape.ErrNotReplayable, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
