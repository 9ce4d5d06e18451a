package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/agent"
	"github.com/switchyard/switchyard/core/audit"
	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/core/session"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/gateway/tape"
)

// controlPlane is the control plane's part of a running server: agents,
// sessions and the read models (stream catalogue, costs, audit), folded
// by one projection group over one subscription to the log (with the
// gateway's).
type controlPlane struct {
	agents       *agent.Service
	agentsRunner *projection.Runner
	sessions     *session.Registry
	// sessionsRunner follows the log for the session registry.
	sessionsRunner *projection.Runner
	// costs is the cost read model, costsRunner its runner.
	costs       *costs.Model
	costsRunner *projection.Runner
	// audit is the audit read model, auditRunner its runner.
	audit       *audit.Model
	auditRunner *projection.Runner
	// catalog lists the log's streams, catalogRunner its runner.
	catalog       *projection.StreamCatalog
	catalogRunner *projection.Runner
	stop          func() // stops the runners after each saved a last checkpoint
}

// costsCheckpoints: the cost and audit models' snapshots are tens of
// megabytes on a large log, so they are saved less often than the small
// registries'.
var costsCheckpoints = projection.RunnerConfig{CheckpointEvery: 500_000, CheckpointInterval: time.Minute}

// newControl adds the control plane's read models to group: the agent
// and session registries, costs, audit and the stream catalogue. serve
// runs the gateway's keys and budgets in the same group: one
// subscription, the log read and decoded once for all seven (reading it
// was a fifth of a rebuild's CPU, paid once a subscription).
func newControl(store eventstore.Store, group *projection.Group) *controlPlane {
	agents, sessions, spend, trail, catalog := agent.NewRegistry(), session.NewRegistry(), costs.New(), audit.New(), projection.NewStreamCatalog()
	return &controlPlane{
		agents:         &agent.Service{Registry: agents, Store: store},
		agentsRunner:   group.Add(agents, projection.RunnerConfig{}),
		sessions:       sessions,
		sessionsRunner: group.Add(sessions, projection.RunnerConfig{}),
		costs:          spend, costsRunner: group.Add(spend, costsCheckpoints),
		audit: trail, auditRunner: group.Add(trail, costsCheckpoints),
		catalog: catalog, catalogRunner: group.Add(catalog, projection.RunnerConfig{}),
		stop: func() {},
	}
}

// start runs group (cp's read models and whatever else joined it) until
// cp.stop, and catches the agent and session registries up with the log;
// the other read models' queries wait for them. Sessions the log says
// are running lost their harness with the server that ran them: they are
// marked interrupted before it returns.
func (cp *controlPlane) start(ctx context.Context, group *projection.Group, store eventstore.Store, log *slog.Logger) error {
	began := time.Now()
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := group.Run(rctx); err != nil && rctx.Err() == nil {
			log.Error("read models stopped: changes by other servers will not be seen until a restart", "err", err)
		}
	}()
	cp.stop = func() { cancel(); wg.Wait() }
	head, err := eventstore.Head(ctx, store)
	if err == nil {
		err = projection.CatchUp(ctx, head, log, cp.agentsRunner, cp.sessionsRunner)
	}
	if err != nil {
		return fmt.Errorf("control plane start: catching up with the event log: %w", err)
	}
	ids, err := cp.sessions.InterruptRunning(ctx, store, "switchyard stopped while the session ran: `switchyard session resume` continues it", time.Now())
	if err != nil {
		log.Error("could not mark every running session interrupted", "err", err)
	}
	if len(ids) > 0 {
		log.Warn("sessions interrupted by the last shutdown", "sessions", ids, "after", time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// envHarnessBin lists directories holding the harness CLIs.
const envHarnessBin = "SWITCHYARD_HARNESS_BIN"

// startSessions makes the session manager: sessions' directories under
// the data dir, keys minted by the gateway, CLIs from bin.
func startSessions(cp *controlPlane, store eventstore.Appender, reader eventstore.Reader, gw *gateway.Gateway, data string, ad *adapters, log *slog.Logger) *session.Manager {
	host, _ := os.Hostname()
	// The CLIs run in directories of their own: the paths handed to
	// them must not depend on our working directory.
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	bw := session.Bubblewrap{Socket: gatewaySocket(data)}
	if p, err := exec.LookPath("bwrap"); err == nil {
		bw.Path = p
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := bw.Probe(ctx); err != nil {
			bw.Path, bw.Missing = "", "bubblewrap is installed but cannot run here ("+err.Error()+")"
			log.Warn("sessions run unconfined", "why", bw.Missing)
		}
		cancel()
	}
	if self, err := os.Executable(); err == nil {
		bw.Self = self
	}
	bw.Hide = []string{data}
	if home, err := os.UserHomeDir(); err == nil {
		bw.Hide = append(bw.Hide, home)
	}
	if testing.Testing() {
		// In tests, the executable is the test binary, which is switchyard
		// only with this set (TestMain).
		// A -race binary sleeps a second at exit unless told not to.
		bw.SelfEnv = map[string]string{"SWITCHYARD_TEST_MAIN": "1", "GORACE": "atexit_sleep_ms=0"}
	}
	return &session.Manager{
		Bubblewrap: bw,
		Registry:   cp.sessions, Store: store, Agent: cp.agents.Get,
		Adapters: ad,
		MintKey: func(ctx context.Context, s *session.Session, a *agent.Agent) (string, string, error) {
			tags := maps.Clone(a.Definition.Tags)
			if tags == nil {
				tags = map[string]string{}
			}
			tags["session"] = s.ID
			// The gateway serves the calls of a replay's key from the
			// recording: only a replay's key says so, whatever the
			// agent's tags.
			for _, t := range []string{tape.ReplayTag, tape.LiveFromTag, proxy.ModelTag, proxy.RoutingPluginTag} {
				delete(tags, t)
			}
			if s.ReplayOf != "" {
				tags[tape.ReplayTag] = s.ReplayOf
			}
			if s.ForkAt > 0 {
				// A fork at a turn: the turns before it from the
				// recording, then live, with its changes.
				if s.ForkAt > 1 {
					tags[tape.ReplayTag] = s.ForkOf
					tags[tape.LiveFromTag] = strconv.Itoa(s.ForkAt)
				}
				if ch := s.Changes; ch != nil {
					if ch.Model != "" {
						tags[proxy.ModelTag] = ch.Model
					}
					if ch.RoutingPlugin != "" {
						tags[proxy.RoutingPluginTag] = ch.RoutingPlugin
					}
				}
			}
			spec := keys.Spec{Name: "session " + s.ID, Agent: a.Definition.Name, Tags: tags, MaxBudgetUSD: a.Definition.Budget.MaxUSDPerSession}
			k, secret, err := gw.CreateKey(ctx, spec, "system")
			return k.ID, secret, err
		},
		RevokeKey: func(ctx context.Context, keyID, reason string) error {
			return gw.RevokeKey(ctx, keyID, reason, "system")
		},
		Dir: filepath.Join(data, "sessions"), Node: host, Log: log.With("component", "sessions"),
		Reader: reader,
		ArmReplay: func(ctx context.Context, replay, of string, before int) (session.Tape, error) {
			p, err := gw.ArmReplay(ctx, replay, of, before)
			if err != nil {
				return nil, err // not a nil *tape.Player in an interface
			}
			return p, nil
		},
		CheckRoutingPlugin: func(name string) error {
			for _, p := range gw.Plugins().Installed {
				if p.Name == name {
					return nil
				}
			}
			return fmt.Errorf("%w: %q (install it with `switchyard plugin install`; `switchyard plugin list` lists them)", gateway.ErrPluginNotFound, name)
		},
	}
}

// gatewaySocket is where serve also listens on a unix socket, for the
// sandboxes (which have no network but their loopback) to reach the
// gateway: in the data dir, or under the temporary directory when that
// path would be too long for a socket's address.
func gatewaySocket(data string) string {
	p := filepath.Join(data, "run", "gateway.sock")
	if len(p) < 100 {
		return p
	}
	sum := sha256.Sum256([]byte(data))
	return filepath.Join(os.TempDir(), "switchyard-"+hex.EncodeToString(sum[:6])+".sock")
}
