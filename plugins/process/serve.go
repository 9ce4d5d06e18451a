package process

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ServeConfig is what a plugin binary serves.
type ServeConfig struct {
	// Description answers `describe`. Name and Kind are required;
	// ProtocolVersions is filled in from Plugins.
	Description Description
	// Plugins maps each protocol version the plugin speaks to the
	// go-plugin plugins (plugin.GRPCPlugin) it serves at that version. The
	// host picks the highest version both sides know.
	Plugins map[int]plugin.PluginSet
}

// stderr is the process's real stderr. plugin.Serve points os.Stderr at a
// pipe streamed to the host over gRPC; the real one is simpler and reaches
// the host even while gRPC is in trouble.
var stderr = os.Stderr

// Logger returns a logger for plugin code. It writes JSON lines to stderr,
// which the host logs at their level and with their attributes, under the
// plugin's name.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Serve is a plugin binary's main:
//
//	func main() {
//		process.Serve(process.ServeConfig{
//			Description: process.Description{Name: "echo", Kind: "harness", Version: "0.1.0"},
//			Plugins:     map[int]plugin.PluginSet{1: {"harness": &harness.Plugin{Impl: echo{}}}},
//		})
//	}
//
// Run with the single argument `describe`, it prints the description as
// JSON and exits. Otherwise it serves the plugins over gRPC until the host
// shuts it down, then returns; if the host dies, it exits within a second
// and kills what it started. Run by hand, it says it is a plugin and
// exits 1.
func Serve(cfg ServeConfig) {
	d := cfg.Description
	d.ProtocolVersions = slices.Sorted(maps.Keys(cfg.Plugins))
	if d.Name == "" || d.Kind == "" || len(d.ProtocolVersions) == 0 {
		fmt.Fprintln(stderr, "process.Serve: the plugin is misbuilt: Description.Name, Description.Kind and Plugins are required")
		os.Exit(1)
	}
	if len(os.Args) == 2 && os.Args[1] == "describe" {
		b, _ := json.MarshalIndent(d, "", "  ")
		fmt.Println(string(b))
		os.Exit(0)
	}
	go exitWithHost()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: cfg.Plugins,
		GRPCServer:       plugin.DefaultGRPCServer,
		// go-plugin's own messages, as JSON the host parses; below Info
		// they are chatter.
		Logger: hclog.New(&hclog.LoggerOptions{Output: stderr, JSONFormat: true, Level: hclog.Info}),
	})
}
