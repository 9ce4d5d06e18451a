package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/gateway/sim"
)

// startDemoSim runs the simulator in-process on a free loopback port.
func startDemoSim(ctx context.Context, log *slog.Logger) (*demoRun, error) {
	s, err := sim.New(sim.DefaultConfig(), log.With("component", "sim"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo simulator: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(sctx, ln); err != nil {
			log.Error("demo simulator stopped", "err", err)
		}
	}()
	return &demoRun{simURL: "http://" + ln.Addr().String(), stop: func() { cancel(); <-done }}, nil
}

func (a *app) simCmd() *cobra.Command {
	var addr, config, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the LLM provider simulator on its own",
		Long: `Run the simulator that stands in for LLM providers in tests, benchmarks and the demo: an
HTTP server speaking the OpenAI Chat Completions and Responses, Anthropic Messages and
Gemini wire formats, deterministic, with configurable latency, time to first token,
tokens per second, usage (cached and reasoning tokens), scripted tool calls and injected
faults. Directives in the last user message script a call, e.g.
  [[sim fault=429 retry_after=2 times=1 id=t1]]   [[sim tool=shell cmd="ls"]]
See the package documentation of gateway/sim for all of them.

--config takes a JSON file of sim.Config (models with latency, ttft_ms, tokens_per_second,
...); without it the default models are served: sim-small, sim-large, sim-slow,
sim-stream, sim-reasoning.`,
		Example: `  switchyard sim --addr 127.0.0.1:4500
  curl -s 127.0.0.1:4500/v1/chat/completions -d '{"model":"sim-small","messages":[{"role":"user","content":"hi"}]}'`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.io.Err, logFormat, logLevel)
			if err != nil {
				return err
			}
			// Decode into a zero Config (sim.New fills the defaults):
			// decoding over DefaultConfig would merge the file's models
			// into the default ones element by element, keeping fields
			// the file leaves out (a default model's latency, say).
			var cfg sim.Config
			if config != "" {
				b, err := os.ReadFile(config)
				if err != nil {
					return fmt.Errorf("sim config: %w", err)
				}
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&cfg); err != nil {
					return fmt.Errorf("sim config %s: %w", config, err)
				}
			}
			s, err := sim.New(cfg, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return listenError(addr, err)
			}
			if a.io.onListen != nil {
				a.io.onListen(ln.Addr())
			}
			return s.Serve(cmd.Context(), ln)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:4500", "address to listen on, HOST:PORT")
	f.StringVar(&config, "config", "", "simulator config (JSON)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}
