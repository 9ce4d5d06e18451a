package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
)

// demoRun is what --demo started: the simulator and the demo key.
type demoRun struct {
	simURL string
	secret string // the demo key's secret, also in <data>/demo-key
	stop   func()
}

func (d *demoRun) close() {
	if d != nil && d.stop != nil {
		d.stop()
	}
}

// newGateway builds the gateway from --config, or the demo config with
// an in-process simulator, or an empty config. Its read models join
// group; startGateway starts it once group runs.
func (a *app) newGateway(ctx context.Context, o serveOptions, store *embedded.Store, group *projection.Group, log *slog.Logger) (*gateway.Gateway, *gateway.Metrics, *demoRun, error) {
	var (
		cfg  gateway.Config
		demo *demoRun
		err  error
	)
	switch {
	case o.config != "":
		if cfg, err = gateway.LoadFile(o.config); err != nil {
			return nil, nil, nil, err
		}
	case o.demo:
		if demo, err = startDemoSim(ctx, log); err != nil {
			return nil, nil, nil, err
		}
		cfg = demoConfig(demo.simURL)
	}
	metrics := gateway.NewMetrics()
	gw, err := gateway.New(cfg, gateway.Options{
		Store: store, ConfigPath: o.config, Log: log.With("component", "gateway"), Observe: metrics.Observe,
		PluginCacheDir: filepath.Join(o.data, "plugin-cache"),
		PluginDir:      filepath.Join(o.data, "plugins"),
		Projections:    group,
	})
	if err != nil {
		demo.close()
		return nil, nil, nil, err
	}
	return gw, metrics, demo, nil
}

// startGateway starts the gateway newGateway built (its group running):
// it returns once its keys and budgets have caught up with the log.
func startGateway(ctx context.Context, gw *gateway.Gateway, metrics *gateway.Metrics, demo *demoRun, data string) (err error) {
	if err := gw.Start(ctx); err != nil {
		return err
	}
	metrics.RegisterRecorder(gw)
	if demo != nil {
		if demo.secret, err = demoKey(ctx, gw, data); err != nil {
			return err
		}
	}
	return nil
}

// demoConfig routes every model name the CLIs and SDKs use by default to
// the simulator, so they work offline with no provider keys.
func demoConfig(simURL string) gateway.Config {
	return gateway.Config{
		Providers: []provider.Config{{
			Name: "sim", Kind: "sim", BaseURL: simURL,
			Models: []string{"sim-small", "sim-large", "sim-slow", "sim-stream", "sim-reasoning"},
		}},
		Routes: []route.Rule{
			{Model: "claude-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "gpt-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "gemini-*", Targets: []route.Target{{Provider: "sim", Model: "sim-large"}}},
			{Model: "o*", Targets: []route.Target{{Provider: "sim", Model: "sim-reasoning"}}},
			{Model: "fast", Targets: []route.Target{{Provider: "sim", Model: "sim-small"}, {Provider: "sim", Model: "sim-large"}}},
		},
	}
}

// demoKey returns the demo key's secret, creating the key on first use.
// The secret is kept in <data>/demo-key (mode 0600): a demo convenience;
// real keys are shown once and never stored.
func demoKey(ctx context.Context, gw *gateway.Gateway, data string) (string, error) {
	path := filepath.Join(data, "demo-key")
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		for _, k := range gw.ListKeys() {
			if k.Hash == keys.HashSecret(secret) && k.RevokedAt.IsZero() {
				return secret, nil
			}
		}
	}
	_, secret, err := gw.CreateKey(ctx, keys.Spec{Name: "demo", Team: "demo", User: "you", Tags: map[string]string{"env": "demo"}}, "demo")
	if err != nil {
		return "", fmt.Errorf("demo key: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo key: %w", err)
	}
	return secret, nil
}
