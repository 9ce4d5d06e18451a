package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"
)

// Handshake is what the host and a plugin must share before they talk.
// The cookie is a UX check, not security: it stops a plugin binary run by
// hand, or by another go-plugin host, from waiting forever for a
// connection. Changing it breaks every plugin built before; protocol
// versions are the way to evolve an interface.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "SWITCHYARD_PLUGIN",
	MagicCookieValue: "8f1c6d0e-switchyard-process-plugin",
}

// Description is a plugin's answer to `describe`: the JSON its binary
// prints when run with that single argument (a convention from Packer's
// plugins), so a host or a person can learn what a binary is without the
// handshake.
type Description struct {
	// Name is the plugin's name, normally the <name> of its binary.
	Name string `json:"name"`
	// Kind says which interface the plugin implements, e.g. "harness".
	Kind string `json:"kind"`
	// Version is the plugin's own release, e.g. "1.4.2".
	Version string `json:"version,omitempty"`
	// ProtocolVersions are the versions of its kind's protocol the plugin
	// speaks; Serve fills it in from ServeConfig.Plugins.
	ProtocolVersions []int `json:"protocol_versions"`
	// Capabilities are optional features, named by the plugin's kind.
	Capabilities []string `json:"capabilities,omitempty"`
	// Metadata is free-form, e.g. the version of a CLI the plugin drives.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// VersionError says a plugin and the host share no protocol version.
type VersionError struct {
	Plugin, Path, Kind string
	Offered            []int // by the plugin
	Accepted           []int // by the host
}

func (e *VersionError) Error() string {
	hint := fmt.Sprintf("install a release of the plugin built for one of %v", e.Accepted)
	switch {
	case len(e.Offered) == 0 || len(e.Accepted) == 0:
	case slices.Min(e.Offered) > slices.Max(e.Accepted):
		hint = "the plugin is newer than this Switchyard: upgrade Switchyard, or " + hint
	case slices.Max(e.Offered) < slices.Min(e.Accepted):
		hint = "the plugin is older than this Switchyard: " + hint
	}
	return fmt.Sprintf("plugin %q (%s) speaks %s protocol versions %v, this host accepts %v: %s",
		e.Plugin, e.Path, e.Kind, e.Offered, e.Accepted, hint)
}

// Describe runs `path describe` and returns the plugin's answer.
func Describe(ctx context.Context, path string) (Description, error) {
	return describe(ctx, path, nil)
}

func describe(ctx context.Context, path string, env []string) (Description, error) {
	var d Description
	cmd := exec.CommandContext(ctx, path, "describe")
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && len(exit.Stderr) > 0 {
			err = fmt.Errorf("%w; stderr: %s", err, quoteLines(lastLines(string(exit.Stderr), 5)))
		}
		return d, fmt.Errorf("describe %s: %w (a Switchyard plugin prints its description for `describe`: is this one built with process.Serve?)", path, err)
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &d); err != nil || d.Name == "" || d.Kind == "" || len(d.ProtocolVersions) == 0 {
		if err == nil {
			err = errors.New("name, kind or protocol_versions missing")
		}
		return d, fmt.Errorf("describe %s: not a Switchyard plugin description (%v): %s", path, err, quoteLines(lastLines(string(out), 3)))
	}
	return d, nil
}

// lastLines returns up to n last non-empty lines of s.
func lastLines(s string, n int) []string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines[max(0, len(lines)-n):]
}

// quoteLines renders lines for an error message: quoted, so a multi-line
// stderr stays on one line, and shortened.
func quoteLines(lines []string) string {
	if len(lines) == 0 {
		return "(nothing)"
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, " ")
}
