package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/replay"
	"github.com/switchyard/switchyard/plugins/builtin"
	"github.com/switchyard/switchyard/plugins/wasm"
)

// replayTimeout bounds one replayed decision or verdict. A replay is not
// on a request's path: it gives a plugin or policy far longer than the
// live budget, so a slow machine does not make a decision look different.
const replayTimeout = time.Second

// ReplaySession re-runs the routing decisions, policy verdicts and budget
// checks of session id (of its turn `turn` when turn > 0) from the log,
// with a plugin host and policies of its own: see package replay. It
// never calls a provider.
func (g *Gateway) ReplaySession(ctx context.Context, id string, turn int) (*replay.Report, error) {
	host, err := wasm.NewHost(ctx, wasm.Config{CacheDir: g.opts.PluginCacheDir, Instances: 1, Timeout: replayTimeout}, g.log.With("component", "replay"))
	if err != nil {
		return nil, fmt.Errorf("replay: start a plugin host: %w", err)
	}
	defer host.Close(context.WithoutCancel(ctx))
	rp := &replay.Replayer{Store: g.opts.Store, Host: host, Modules: g.findModule, PolicyTimeout: replayTimeout}
	defer rp.Close()
	return rp.Session(ctx, id, turn)
}

// findModule finds a routing plugin's module by the digest its
// routing.plugin.loaded event names: among the installed modules, the
// built-in ones, and the file it was loaded from (if unchanged).
func (g *Gateway) findModule(l *event.RoutingPluginLoaded) ([]byte, error) {
	var tried []string
	if g.opts.PluginDir != "" {
		b, err := os.ReadFile(g.modulePath(l.Digest))
		if err == nil {
			return b, nil
		}
		tried = append(tried, "the installed modules")
	}
	if b, err := builtin.Module(builtin.Strategies[0]); err == nil && wasm.Digest(b) == l.Digest {
		return b, nil
	}
	tried = append(tried, "the built-in ones")
	if path, ok := strings.CutPrefix(l.Source, "file:"); ok {
		b, err := os.ReadFile(path)
		if err == nil && wasm.Digest(b) == l.Digest {
			return b, nil
		}
		tried = append(tried, path+" (changed or gone since)")
	}
	return nil, errors.New("not among " + strings.Join(tried, ", "))
}
