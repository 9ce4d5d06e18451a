// Package builtin holds the routing plugins Switchyard ships with, as WASM
// modules embedded in the binary. They are ordinary routing plugins (the
// ABI of docs/routing-plugins.md): the strategies (rules by task type and
// tags, cheapest capable, fastest, weighted, failover) are one module,
// plugins/builtin/strategies, chosen and tuned by its configuration. It
// is written in AssemblyScript, whose small, straight code costs the
// gateway a fraction of what the same strategies compiled from Go did.
//
// The modules are built by `go tool task gen:builtin` (with the pinned
// AssemblyScript compiler that scripts/install-clients.sh installs) into
// wasm/, which git ignores; a binary built without that task has no
// built-ins and says so when one is asked for.
package builtin

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

//go:embed all:wasm
var modules embed.FS

// Strategies are the names `builtin:` takes in a routing_plugin setting.
// Each is the strategies module with {"strategy": NAME} merged into its
// configuration.
var Strategies = []string{"rules", "cheapest", "fastest", "weighted", "failover"}

// Module returns the module of the built-in named name (one of
// Strategies): all of them are the strategies module.
func Module(name string) ([]byte, error) {
	if !slices.Contains(Strategies, name) {
		return nil, fmt.Errorf("there is no built-in routing strategy %q: use one of %s", name, strings.Join(Strategies, ", "))
	}
	b, err := fs.ReadFile(modules, "wasm/strategies.wasm")
	if err != nil {
		return nil, fmt.Errorf("this binary was built without its built-in routing plugins: build it with `go tool task build` (which runs gen:builtin first)")
	}
	return b, nil
}
