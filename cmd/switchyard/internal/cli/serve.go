package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/harnesses/claudecode"
	"github.com/switchyard/switchyard/harnesses/codex"
	"github.com/switchyard/switchyard/harnesses/opencode"
)

// shutdownGrace bounds a graceful shutdown: requests still open after it
// are cut off.
const shutdownGrace = 10 * time.Second

type serveOptions struct {
	addr, data, config  string
	logFormat, logLevel string
	demo                bool
	adminTokenFile      string
	harnessBin          []string
	harnessPlugins      string
	inlineAdapters      bool
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the switchyard server on a data directory",
		Long: `Run the switchyard server: open the event store in the data directory and serve the HTTP
API and the live event feed on --addr (loopback only by default; give a non-loopback
address to expose it).

--demo seeds a few example events into an empty store and prints what to try next.

SIGINT (Ctrl-C) or SIGTERM shuts down gracefully: the server stops accepting connections,
ends the event feeds, waits up to 10s for requests in flight, then closes the store. A
second signal exits at once. Logs go to stderr.`,
		Example: `  switchyard serve
  switchyard serve --addr 127.0.0.1:4400 --data ./data --log-format json
  switchyard serve --demo --data .demo/data`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), o)
		}),
	}
	f := cmd.Flags()
	def := a.io.getenv(envAddr)
	if def == "" {
		def = httpapi.DefaultAddr
	}
	f.StringVar(&o.addr, "addr", def, "address to listen on, HOST:PORT (env "+envAddr+")")
	a.dataFlag(cmd, &o.data)
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.BoolVar(&o.demo, "demo", false, "run the built-in provider simulator, seed demo events and a demo key, and print what to try next")
	f.StringVar(&o.config, "config", "", "config file (.yaml or .json) with the gateway's providers, routes and budgets; SIGHUP or POST /api/v1/gateway/reload re-reads it")
	f.StringVar(&o.adminTokenFile, "admin-token-file", "", "file holding the admin token that every request under /api/v1 must send as \"Authorization: Bearer TOKEN\" (default: env "+envAdminToken+"; without either the API is open, and only a loopback --addr is allowed)")
	var bin []string
	if v := a.io.getenv(envHarnessBin); v != "" {
		bin = filepath.SplitList(v)
	}
	f.StringVar(&o.harnessPlugins, "harness-plugins", "", "a directory of harness adapter plugins (switchyard-plugin-NAME, sdk/harness): each adds or replaces the adapter of the harness it names")
	f.BoolVar(&o.inlineAdapters, "inline-adapters", false, "run the built-in harness adapters in this process instead of a plugin process each")
	f.StringSliceVar(&o.harnessBin, "harness-bin", bin, "directories holding the harness CLIs (claude, codex, opencode), searched before PATH (env "+envHarnessBin+", colon-separated)")
	return cmd
}

// adminToken is the token the API under /api/v1 requires: the file's, or
// $SWITCHYARD_ADMIN_TOKEN. Without one the API is open, which serve
// allows only on a loopback address.
func (a *app) adminToken(o serveOptions) (string, error) {
	token := a.io.getenv(envAdminToken)
	if o.adminTokenFile != "" {
		b, err := os.ReadFile(o.adminTokenFile)
		if err != nil {
			return "", usagef("--admin-token-file: %v", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return "", usagef("--admin-token-file %s is empty: put the token in it", o.adminTokenFile)
		}
	}
	if token == "" && !loopback(o.addr) {
		return "", usagef("--addr %s is reachable from other machines, and the API under /api/v1 (the event log, keys, plugins) would be open to them: set %s or --admin-token-file, or listen on %s", o.addr, envAdminToken, httpapi.DefaultAddr)
	}
	return token, nil
}

// loopback reports whether addr (HOST:PORT) listens on loopback only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

func (a *app) serve(ctx context.Context, o serveOptions) (err error) {
	log, err := newLogger(a.io.Err, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	if err := requireDataDir(o.data); err != nil {
		return err
	}
	token, err := a.adminToken(o)
	if err != nil {
		return err
	}
	a.startPprof(log)
	store, err := embedded.Open(embedded.Config{Dir: o.data}, log.With("component", "eventstore"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close event store: %w", cerr)
		}
		log.Info("switchyard stopped")
	}()

	seeded := 0
	if o.demo {
		if seeded, err = seedDemo(ctx, store); err != nil {
			return err
		}
		if seeded > 0 {
			log.Info("seeded demo events", "events", seeded)
		}
	}

	// Every read model, the control plane's and the gateway's, folds one
	// subscription to the log.
	group := projection.NewGroup(store, store, log.With("component", "projection"))
	control := newControl(store, group)
	gw, metrics, demo, err := a.newGateway(ctx, o, store, group, log)
	if err != nil {
		return err
	}
	// After the gateway's close, deferred below. A closure: control.stop
	// is set by control.start, and `defer control.stop()` would keep the
	// no-op it is until then (the read models never saved their last
	// checkpoints, and each start folded the log again from the one before).
	defer func() { control.stop() }()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := gw.Close(cctx); err != nil {
			log.Warn("gateway events not all written", "err", err)
		}
		demo.close()
	}()
	if err := control.start(ctx, group, store, log); err != nil {
		return err
	}
	if err := startGateway(ctx, gw, metrics, demo, o.data); err != nil {
		return err
	}
	ads := newAdapters(o.harnessBin, o.harnessPlugins, o.inlineAdapters, log.With("component", "harness"))
	defer ads.Close() // after the sessions (deferred below, so run before)
	sessions := startSessions(control, store, store, gw, o.data, ads, log)
	defer sessions.Close() // on the error paths; the shutdown below closes it first
	srv, err := httpapi.New(httpapi.Config{
		Version: Version(), Catalog: control.catalog, CatalogWaiter: control.catalogRunner,
		Gateway: gw, Admin: gw, Agents: control.agents, Sessions: control.sessions, SessionControl: sessions, SessionsWaiter: control.sessionsRunner,
		Retracer: sessions, Costs: control.costs, CostsWaiter: control.costsRunner,
		Audit: control.audit, AuditWaiter: control.auditRunner,
		Replayer: gw, WhatIf: gw,
		Metrics:    adaptor.HTTPHandler(promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{})),
		AdminToken: token,
	}, store, log.With("component", "httpapi"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return listenError(o.addr, err)
	}
	sessions.GatewayURL = "http://" + ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The same API on a unix socket, which sandboxed CLIs reach.
	if sock, err := listenUnix(sessions.Bubblewrap.Socket); err != nil {
		log.Warn("no gateway socket for sandboxed sessions: agents with sandbox bwrap cannot run", "err", err)
		sessions.Bubblewrap.Path = ""
	} else {
		go srv.Serve(sock)
	}
	ads.Warm()
	if ids, err := sessions.ResumeInterrupted(ctx); len(ids) > 0 || err != nil {
		log.Info("resumed the interrupted sessions of agents with resume: auto", "sessions", ids, "err", err)
	}

	log.Info("switchyard serving", "addr", ln.Addr().String(), "data", o.data, "version", Version())
	if o.demo {
		if err := a.demoCall(ctx, ln.Addr().String(), demo.secret, gw, store); err != nil {
			log.Error("the demo call through the gateway failed", "err", err)
		}
		flag := ""
		if addr := ln.Addr().String(); addr != httpapi.DefaultAddr {
			flag = " --addr " + addr
		}
		agentHint := a.demoAgents(ctx, control, ads, flag, log)
		a.printDemoHints(ln.Addr().String(), o.data, seeded, demo, agentHint)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if err := gw.Reload(context.Background()); err != nil {
				log.Error("config reload failed; the running config is unchanged", "err", err)
			}
		}
	}()
	if a.io.onListen != nil {
		a.io.onListen(ln.Addr()) // once everything above is done
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", shutdownGrace)
	case err := <-served:
		return fmt.Errorf("http api stopped: %w", err)
	}
	// Running turns stop first, while their CLIs can still reach the
	// gateway; each is recorded as interrupted, to be resumed.
	sessions.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown was not clean", "err", err)
	}
	if err := <-served; err != nil {
		log.Warn("http api", "err", err)
	}
	return nil
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("cannot listen on %s: the address is in use (is another switchyard running?): stop it or pass another --addr", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("cannot listen on %s: permission denied: use a port above 1023", addr)
	}
	return fmt.Errorf("cannot listen on %s: %w: give --addr as HOST:PORT, e.g. %s", addr, err, httpapi.DefaultAddr)
}

func (a *app) printDemoHints(addr, data string, seeded int, demo *demoRun, agentHint string) {
	p := a.io.Prog
	flag := ""
	if addr != httpapi.DefaultAddr {
		flag = " --addr " + addr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSwitchyard is running at http://%s (data in %s).\n", addr, data)
	if seeded > 0 {
		fmt.Fprintf(&b, "It holds %d demo events in two sessions. Try, in another terminal:\n\n", seeded)
	} else {
		fmt.Fprintf(&b, "Try, in another terminal:\n\n")
	}
	fmt.Fprintf(&b, "The gateway serves the OpenAI and Anthropic APIs at http://%s/v1, backed by the\n", addr)
	fmt.Fprintf(&b, "built-in provider simulator (%s). The demo key is in %s/demo-key:\n\n", demo.simURL, data)
	fmt.Fprintf(&b, "  export SY_KEY=$(cat %s/demo-key)\n", data)
	fmt.Fprintf(&b, "  curl -s http://%s/v1/chat/completions -H \"Authorization: Bearer $SY_KEY\" \\\n", addr)
	fmt.Fprintf(&b, "    -d '{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}'\n")
	fmt.Fprintf(&b, "  ANTHROPIC_BASE_URL=http://%s ANTHROPIC_API_KEY=$SY_KEY claude -p hello   # if Claude Code is installed\n", addr)
	fmt.Fprintf(&b, "  %s calls tail%s      # each call: who, model, provider, tokens, cost\n\n", p, flag)
	for _, l := range [][2]string{
		{p + " events streams" + flag, "the streams and their event counts"},
		{p + " events read session-demo-1" + flag, "one session's history, as JSON lines"},
		{p + " events tail" + flag, "every event, then new ones live (Ctrl-C stops)"},
		{p + " events append session-demo-1" + flag + ` --type message.added --data '{"role":"user","text":"thanks"}'`, "add one"},
		{"curl -N http://" + addr + "/api/v1/events/feed", "the same feed as server-sent events"},
		{p + " events verify --data " + data, "check every hash chain (after stopping the server)"},
	} {
		fmt.Fprintf(&b, "  %s\n      # %s\n", l[0], l[1])
	}
	if agentHint != "" {
		fmt.Fprintf(&b, "\n%s", agentHint)
	}
	fmt.Fprintf(&b, "\nThe HTTP API is described in docs/operations.md. Press Ctrl-C to stop.\n\n")
	io.WriteString(a.io.Out, b.String())
}

// storeEmpty reports whether the store holds no events.
func storeEmpty(ctx context.Context, r eventstore.Reader) (bool, error) {
	for _, err := range r.ReadAll(ctx, eventstore.ReadOptions{Limit: 1}) {
		if err != nil {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// demoAgents defines the demo's agents, one per harness, on the
// simulator's "fast" route, and says how to run those whose CLI is
// found (and what is missing for the others).
func (a *app) demoAgents(ctx context.Context, cp *controlPlane, ads *adapters, flag string, log *slog.Logger) string {
	p := a.io.Prog
	var b strings.Builder
	for _, d := range []agent.Definition{
		{Name: "demo-coder", Description: "The demo's Claude Code agent, on the simulator", Harness: claudecode.Name, Model: "fast",
			Tools: agent.Tools{Allow: []string{"Bash(echo *)", "Read"}}},
		{Name: "demo-codex", Description: "The demo's Codex agent, on the simulator", Harness: codex.Name, Model: "fast"},
		{Name: "demo-opencode", Description: "The demo's OpenCode agent, on the simulator", Harness: opencode.Name, Model: "fast"},
	} {
		if _, err := cp.agents.Put(ctx, d, "system:demo", false); err != nil {
			log.Warn("could not define a demo agent", "agent", d.Name, "err", err)
			continue
		}
		if _, err := ads.lookCLI(d.Harness, ads.clis[d.Harness]); err != nil {
			fmt.Fprintf(&b, "  # %s (%s) cannot run: %v\n", d.Name, d.Harness, err)
			continue
		}
		fmt.Fprintf(&b, "  %s session start --agent %s -f%s 'Run it. [[sim tool=shell cmd=\"echo hello from %s\"]]'\n", p, d.Name, flag, d.Harness)
	}
	if b.Len() == 0 {
		return ""
	}
	return "Agents that run Claude Code, Codex and OpenCode headless through the gateway (docs/sessions.md):\n\n" + b.String() +
		"      # every step and model call, live; then: " + p + " session list" + flag + "\n" +
		"\nWhat it all cost, and why (docs/costs.md, docs/traces.md):\n\n" +
		"  " + p + " costs --by agent,model" + flag + "\n" +
		"  " + p + " costs --by decision --since 1d" + flag + "      # a decision is SESSION/TURN\n" +
		"  " + p + " trace SESSION/1" + flag + "                     # the turn as a tree: calls, routing, tools, cost\n" +
		"  " + p + " replay SESSION" + flag + "                      # re-run its routing decisions from the log\n" +
		"  " + p + " session replay SESSION" + flag + "              # run its CLI again, served the recorded answers\n" +
		"  " + p + " audit" + flag + "                               # who changed what, hash chains checked\n"
}

// listenUnix listens on a unix socket at path, replacing a stale one.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	os.Remove(path) // a previous run's: the store's lock says no other serve runs
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	return ln, nil
}
