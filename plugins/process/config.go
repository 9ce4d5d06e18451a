package process

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-plugin"
)

// Config configures one plugin process and its supervision. Zero fields
// take the defaults in their comments.
type Config struct {
	// Name names the plugin in logs, errors and the Host. Default: the
	// <name> of the binary's switchyard-plugin-<name>.
	Name string
	// Path is the plugin binary.
	Path string
	// Args are passed to the plugin; Env is added to the host's
	// environment, which the plugin inherits.
	Args []string
	Env  []string
	// SHA256, in hex, pins the binary: it is checked before `describe`,
	// and again by go-plugin (SecureConfig) before every start.
	SHA256 string
	// Kind, when set, is the kind the plugin must describe itself as.
	Kind string
	// Versions maps each protocol version the host accepts to the plugins
	// it dispenses at that version (go-plugin's VersionedPlugins). go-plugin
	// picks the highest version both sides know.
	Versions map[int]plugin.PluginSet

	// StartTimeout bounds `describe` plus the handshake. Default 20s.
	StartTimeout time.Duration
	// StopTimeout is how long Close waits for the plugin to exit after
	// asking it to, before killing it. Default 2s.
	StopTimeout time.Duration
	// HealthInterval is the time between health checks (go-plugin's gRPC
	// health service); a check that fails or takes longer than
	// HealthTimeout gets the process killed and restarted. Defaults 5s
	// and 3s; a negative HealthInterval turns checks off.
	HealthInterval, HealthTimeout time.Duration
	// After a failure (exit, failed health check, failed restart) the
	// plugin is restarted after MinBackoff, doubled for each earlier
	// failure in FailureWindow, at most MaxBackoff. Defaults 200ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MaxFailures failures within FailureWindow make the plugin Failed: it
	// is no longer restarted. Defaults 5 and 1m.
	MaxFailures   int
	FailureWindow time.Duration
}

func (c *Config) setDefaults() {
	if c.Name == "" {
		if name, ok := pluginName(filepath.Base(c.Path)); ok {
			c.Name = name
		} else {
			c.Name = filepath.Base(c.Path)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.StartTimeout, 20*time.Second)
	def(&c.StopTimeout, 2*time.Second)
	def(&c.HealthInterval, 5*time.Second)
	def(&c.HealthTimeout, 3*time.Second)
	def(&c.MinBackoff, 200*time.Millisecond)
	def(&c.MaxBackoff, 30*time.Second)
	def(&c.FailureWindow, time.Minute)
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
}

// Validate reports the first thing wrong with the config.
func (c *Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("plugin config: path is required")
	case len(c.Versions) == 0:
		return fmt.Errorf("plugin %q: no protocol versions to accept", c.Name)
	case c.SHA256 != "" && !isSHA256(c.SHA256):
		return fmt.Errorf("plugin %q: sha256 %q is not 64 hex digits", c.Name, c.SHA256)
	case c.MaxFailures < 1:
		return fmt.Errorf("plugin %q: max failures %d is less than 1", c.Name, c.MaxFailures)
	case c.MinBackoff < 0 || c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("plugin %q: backoff from %v to %v", c.Name, c.MinBackoff, c.MaxBackoff)
	}
	for v, set := range c.Versions {
		if v < 1 || len(set) == 0 {
			return fmt.Errorf("plugin %q: protocol version %d: versions start at 1 and need plugins", c.Name, v)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32
}
