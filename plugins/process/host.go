package process

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Host owns the plugins it starts, by name, and stops them all on Close.
type Host struct {
	log *slog.Logger

	mu       sync.Mutex
	plugins  map[string]*Plugin // nil while starting
	starting sync.WaitGroup
	closed   bool
}

// NewHost returns an empty host. log nil discards.
func NewHost(log *slog.Logger) *Host {
	return &Host{log: log, plugins: map[string]*Plugin{}}
}

// Start starts a plugin (see the package-level Start) and keeps it under
// its name, which must be free.
func (h *Host) Start(ctx context.Context, cfg Config) (*Plugin, error) {
	cfg.setDefaults()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, fmt.Errorf("start plugin %q: %w", cfg.Name, ErrClosed)
	}
	if _, taken := h.plugins[cfg.Name]; taken {
		h.mu.Unlock()
		return nil, fmt.Errorf("start plugin %q: the name is taken", cfg.Name)
	}
	h.plugins[cfg.Name] = nil
	h.starting.Add(1)
	h.mu.Unlock()
	defer h.starting.Done()

	p, err := Start(ctx, cfg, h.log)
	h.mu.Lock()
	closed := h.closed
	if err != nil || closed {
		delete(h.plugins, cfg.Name)
	} else {
		h.plugins[cfg.Name] = p
	}
	h.mu.Unlock()
	if err == nil && closed {
		_ = p.Close()
		return nil, fmt.Errorf("start plugin %q: %w", cfg.Name, ErrClosed)
	}
	return p, err
}

// Plugin returns the plugin called name, or nil.
func (h *Host) Plugin(name string) *Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.plugins[name]
}

// Plugins returns the plugins, sorted by name.
func (h *Host) Plugins() []*Plugin {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ps []*Plugin
	for _, name := range slices.Sorted(maps.Keys(h.plugins)) {
		if p := h.plugins[name]; p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Close stops every plugin, in parallel, and returns when all their
// processes are gone; starts in progress end with ErrClosed. It is
// idempotent and always returns nil.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.starting.Wait() // each closes its plugin itself

	var wg sync.WaitGroup
	for _, p := range h.Plugins() {
		wg.Go(func() { _ = p.Close() })
	}
	wg.Wait()
	return nil
}
