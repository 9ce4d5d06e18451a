package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// instance is one run of a plugin's process.
type instance struct {
	desc    Description
	client  *plugin.Client
	rpc     *plugin.GRPCClient
	cmd     *exec.Cmd
	pid     int
	version int             // negotiated
	exited  <-chan struct{} // closed once the process has exited and been waited for
	kill    func()          // kills the process group (cancels cmd's ctx)
	stopped chan struct{}   // closed when the host starts to stop the process
	tail    *tail           // its last lines of output
}

// launch starts a process of the plugin, bounded by ctx and StartTimeout:
// checksum, `describe`, the kind and versions check, then go-plugin's
// start and handshake.
func (p *Plugin) launch(ctx context.Context) (*instance, error) {
	cfg := p.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()

	if cfg.SHA256 != "" {
		sum, err := Checksum(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", p.name, err)
		}
		if sum != strings.ToLower(cfg.SHA256) {
			return nil, fmt.Errorf("plugin %q: %s has sha256 %s, not the configured %s: %w",
				p.name, cfg.Path, sum, cfg.SHA256, plugin.ErrChecksumsDoNotMatch)
		}
	}
	d, err := describe(ctx, cfg.Path, cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.name, err)
	}
	if cfg.Kind != "" && d.Kind != cfg.Kind {
		return nil, fmt.Errorf("plugin %q (%s) is a %q plugin, not a %q one", p.name, cfg.Path, d.Kind, cfg.Kind)
	}
	accepted := slices.Sorted(maps.Keys(cfg.Versions))
	if !slices.ContainsFunc(d.ProtocolVersions, func(v int) bool { return slices.Contains(accepted, v) }) {
		return nil, &VersionError{Plugin: p.name, Path: cfg.Path, Kind: d.Kind, Offered: d.ProtocolVersions, Accepted: accepted}
	}

	cmdCtx, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(cmdCtx, cfg.Path, cfg.Args...)
	// go-plugin would append the host's environment after ours, and the
	// last duplicate wins: we add it (SkipHostEnv), first. go-plugin then
	// adds its own variables (cookie, protocol versions, mTLS cert).
	cmd.Env = append(os.Environ(), cfg.Env...)
	setProcessGroup(cmd)
	in := &instance{desc: d, cmd: cmd, kill: kill, stopped: make(chan struct{}), tail: &tail{}}
	var secure *plugin.SecureConfig
	if cfg.SHA256 != "" {
		sum, _ := hex.DecodeString(cfg.SHA256)
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	in.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: withExitWatch(cfg.Versions),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// Only this host can talk to the plugin's socket.
		AutoMTLS:        true,
		SkipHostEnv:     true,
		StartTimeout:    cfg.StartTimeout,
		Logger:          goPluginLogger(p.log),
		Stderr:          &lineWriter{log: p.log.With("stream", "stderr"), tail: in.tail},
		SyncStderr:      &lineWriter{log: p.log.With("stream", "stderr"), tail: in.tail},
		SyncStdout:      &lineWriter{log: p.log.With("stream", "stdout"), tail: in.tail},
		GRPCDialOptions: callOptions(p.name, in.stopped),
	})

	stop := context.AfterFunc(ctx, kill) // ctx ends the start by killing the process
	err = in.connect()
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if cmd.Process != nil {
		in.pid = cmd.Process.Pid
	}
	if err != nil {
		in.stop(0)
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		hint := ""
		if strings.Contains(in.tail.String(), "This binary is a plugin") {
			hint = " (the binary answers `describe` but refused the handshake cookie: it was built for an incompatible Switchyard; rebuild it)"
		}
		return nil, fmt.Errorf("start plugin %q (%s): %w; its last output: %s%s", p.name, cfg.Path, err, in.tail, hint)
	}
	p.log.Info("plugin started", "pid", in.pid, "version", d.Version, "protocol_version", in.version)
	return in, nil
}

// connect starts the process and does the handshake.
func (in *instance) connect() error {
	cp, err := in.client.Client()
	if err != nil {
		return err
	}
	in.rpc = cp.(*plugin.GRPCClient) // AllowedProtocols is gRPC only
	raw, err := in.rpc.Dispense(exitWatchName)
	if err != nil {
		return err
	}
	in.exited = raw.(context.Context).Done()
	in.version = in.client.NegotiatedVersion()
	return nil
}

// exitWatch is a go-plugin plugin only the host has: dispensing it
// returns the ctx go-plugin hands to GRPCClient, which go-plugin cancels
// when the process has exited. It is the only exit notification go-plugin
// offers short of polling Client.Exited.
type exitWatch struct{ plugin.NetRPCUnsupportedPlugin }

var _ plugin.GRPCPlugin = exitWatch{}

const exitWatchName = "switchyard.process.exit"

func (exitWatch) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (exitWatch) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, _ *grpc.ClientConn) (any, error) {
	return ctx, nil
}

func withExitWatch(versions map[int]plugin.PluginSet) map[int]plugin.PluginSet {
	out := make(map[int]plugin.PluginSet, len(versions))
	for v, set := range versions {
		out[v] = maps.Clone(set)
		out[v][exitWatchName] = exitWatch{}
	}
	return out
}

// check asks go-plugin's gRPC health service whether the plugin serves.
func (in *instance) check(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := grpc_health_v1.NewHealthClient(in.rpc.Conn).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	return err
}

// exitError describes the exit; call it once exited is closed.
func (in *instance) exitError() error {
	// go-plugin's cmd.Wait set ProcessState before exited was closed.
	return fmt.Errorf("process %d exited (%s); its last output: %s", in.pid, in.cmd.ProcessState, in.tail)
}

// stop ends the process and returns once it and its children are gone.
// With a grace period go-plugin first asks it to exit; without, or when
// that takes longer, the process group is killed. Call it once.
func (in *instance) stop(grace time.Duration) {
	close(in.stopped)
	if grace <= 0 {
		in.kill()
	}
	done := make(chan struct{})
	go func() {
		in.client.Kill() // closes the connection, asks the plugin to exit, waits for it
		close(done)
	}()
	if grace > 0 {
		select {
		case <-done:
		case <-time.After(grace):
			in.kill()
		}
	}
	<-done
	in.kill()
	killGroup(in.pid)
}
