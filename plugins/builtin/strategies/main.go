// Command strategies is the routing plugin the gateway ships with: its
// built-in strategies (by task type and tags, cheapest capable, lowest
// latency, weighted, rate-limit-aware failover) in one WASM module, chosen
// and tuned by configuration. It is an ordinary sdk/routing plugin, built
// by `go tool task gen:builtin` and embedded in the binary
// (plugins/builtin); docs/routing-plugins.md shows its configurations.
package main

import (
	"github.com/switchyard/switchyard/sdk/routing"
)

func init() {
	routing.Declare(routing.Manifest{
		Name:        "strategies",
		Version:     "1",
		Description: "built-in strategies: rules by task type and tags, cheapest capable, fastest, weighted, failover",
	})
	routing.Configure(func(b []byte) error {
		p, err := parse(b)
		if err != nil {
			return err
		}
		policy = p
		return nil
	})
	routing.Handle(func(f *routing.Facts) routing.Decision { return policy.decide(f) })
}

// policy is the configured strategy, set once per instance.
var policy, _ = parse(nil)

func main() {}
