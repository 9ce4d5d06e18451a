package event

import "encoding/json"

// Routing events, on the stream "routing-plugins": which plugin (or
// which static routes) decided routes, with what configuration, from when. A routing.decided
// event names its plugin by digest; these say what the digests were, so a
// decision can be re-run with the same module and configuration.

func init() {
	Register[RoutingPluginLoaded]("routing.plugin.loaded", 1, "a routing plugin went live in the gateway: its source, digests, configuration and manifest")
	Register[RoutingPluginInstalled]("routing.plugin.installed", 1, "a routing plugin module was uploaded to the gateway under a name")
	Register[RoutingPluginEnabled]("routing.plugin.enabled", 1, "an installed routing plugin was made the gateway's router, over the config file's")
	Register[RoutingPluginDisabled]("routing.plugin.disabled", 1, "the enabled routing plugin was turned off; the config file decides again")
	Register[RoutingRoutesLoaded]("routing.routes.loaded", 1, "the gateway's static routes went live: its routing table and the models of each provider")
}

// RoutingRoutesLoaded is written when the gateway's static routes go
// live (at start, and on a config change that changes them), on the
// stream "routing-plugins": a routing.decided event of the static router
// names them by digest, so that its decision can be re-run.
type RoutingRoutesLoaded struct {
	// Digest is the sha256 of the routes and providers, as this event
	// has them.
	Digest    string           `json:"digest"`
	Routes    []RouteRule      `json:"routes,omitempty"`
	Providers []ProviderModels `json:"providers"`
}

// RouteRule is one entry of the static routing table (route.Rule).
type RouteRule struct {
	Model     string            `json:"model"`
	Targets   []RouteRuleTarget `json:"targets"`
	Weighted  bool              `json:"weighted,omitempty"`
	PassModel bool              `json:"pass_model,omitempty"`
}

// RouteRuleTarget is a target of a RouteRule.
type RouteRuleTarget struct {
	Provider string `json:"provider"`
	Model    string `json:"model,omitempty"`
	Weight   int    `json:"weight,omitempty"`
}

// ProviderModels is a configured provider and the models it lists, in
// the config's order.
type ProviderModels struct {
	Provider string   `json:"provider"`
	Models   []string `json:"models,omitempty"`
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
	// Targets are the deployments the plugin is shown on every call,
	// less their health, and TargetsDigest their sha256: a decision's
	// plugin_facts names them by digest.
	Targets       []PluginTarget `json:"targets,omitempty"`
	TargetsDigest string         `json:"targets_digest,omitempty"`
}

// PluginTarget is a deployment as a routing plugin sees it, less its
// health: what changes only with the config (providers, models, prices).
type PluginTarget struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Tools    bool   `json:"tools,omitempty"`
	// Prices in US dollars per million tokens; -1 when unpriced.
	InputUSDPerMTok  float64 `json:"input_usd_per_mtok"`
	OutputUSDPerMTok float64 `json:"output_usd_per_mtok"`
	ContextWindow    int     `json:"context_window,omitempty"`
}

// PluginFacts are the facts a routing plugin decided on, as
// routing.decided records them: with the targets of the
// routing.plugin.loaded event of TargetsDigest, and the call id, model,
// clock and seed of the routing.decided event that carries them, they
// rebuild exactly what the plugin saw, so that the decision can be re-run
// bit for bit (plugins/wasm.ReplayFacts).
type PluginFacts struct {
	TargetsDigest   string            `json:"targets_digest"`
	API             string            `json:"api"`
	EstimatedTokens int               `json:"estimated_tokens"`
	Tools           bool              `json:"tools,omitempty"`
	Stream          bool              `json:"stream,omitempty"`
	KeyID           string            `json:"key_id,omitempty"`
	Agent           string            `json:"agent,omitempty"`
	Team            string            `json:"team,omitempty"`
	User            string            `json:"user,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	// BudgetLeftUSD is the caller's smallest budget left; -1 for none.
	BudgetLeftUSD float64 `json:"budget_left_usd"`
	// Health lists the targets whose health was not all zero, by index.
	Health []TargetHealth `json:"health,omitempty"`
	// Default is the static route as target indices. Indices past the
	// deployments are Extra's: default targets that are not deployments
	// (a pattern route passing the requested model on).
	Default []int         `json:"default"`
	Extra   []RouteTarget `json:"extra,omitempty"`
}

// TargetHealth is one target's health as a plugin saw it.
type TargetHealth struct {
	Target      int     `json:"target"`
	LatencyMS   float64 `json:"latency_ms,omitempty"`
	ErrorRate   float64 `json:"error_rate,omitempty"`
	RateLimited bool    `json:"rate_limited,omitempty"`
	CoolingDown bool    `json:"cooling_down,omitempty"`
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
