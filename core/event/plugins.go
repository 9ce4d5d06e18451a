package event

import "encoding/json"

// Routing-plugin events, on the stream "routing-plugins": which plugin
// decided routes, with what configuration, from when. A routing.decided
// event names its plugin by digest; these say what the digests were, so a
// decision can be re-run with the same module and configuration.

func init() {
	Register[RoutingPluginLoaded]("routing.plugin.loaded", 1, "a routing plugin went live in the gateway: its source, digests, configuration and manifest")
	Register[RoutingPluginInstalled]("routing.plugin.installed", 1, "a routing plugin module was uploaded to the gateway under a name")
	Register[RoutingPluginEnabled]("routing.plugin.enabled", 1, "an installed routing plugin was made the gateway's router, over the config file's")
	Register[RoutingPluginDisabled]("routing.plugin.disabled", 1, "the enabled routing plugin was turned off; the config file decides again")
}

// RoutingPluginsStream is the stream of the routing-plugin events.
const RoutingPluginsStream = "routing-plugins"

// PluginManifest is what a plugin declares about itself.
type PluginManifest struct {
	Name        string `json:"name,omitempty"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	Stateful    bool   `json:"stateful,omitempty"`
}

// RoutingPluginLoaded is written each time a routing plugin goes live: at
// start, on a config reload that changes it, on enable.
type RoutingPluginLoaded struct {
	Name string `json:"name"`
	// Source is where it came from: "file:PATH", "builtin:NAME" or
	// "installed:NAME".
	Source       string          `json:"source"`
	Digest       string          `json:"digest"`
	Config       json.RawMessage `json:"config,omitempty"`
	ConfigDigest string          `json:"config_digest,omitempty"`
	Manifest     PluginManifest  `json:"manifest,omitzero"`
}

// RoutingPluginInstalled records an upload. The module is kept in the
// data directory under its digest.
type RoutingPluginInstalled struct {
	Name     string          `json:"name"`
	Digest   string          `json:"digest"`
	Size     int             `json:"size"`
	Config   json.RawMessage `json:"config,omitempty"`
	Manifest PluginManifest  `json:"manifest,omitzero"`
}

// RoutingPluginEnabled makes an installed plugin the router.
type RoutingPluginEnabled struct {
	Name   string          `json:"name"`
	Digest string          `json:"digest"`
	Config json.RawMessage `json:"config,omitempty"`
}

// RoutingPluginDisabled turns the enabled plugin off.
type RoutingPluginDisabled struct {
	Name string `json:"name"`
}
