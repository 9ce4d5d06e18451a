package session

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/core/agent"
)

// Bubblewrap is how the manager runs CLIs in a bubblewrap sandbox: the
// sandbox has a network namespace of its own (only its loopback), so
// the gateway reaches it through a unix socket bind-mounted in, and a
// forwarder (switchyard sandbox-forward) listening at the gateway's
// address inside, which runs the CLI.
type Bubblewrap struct {
	// Path is bwrap; empty when bubblewrap is not installed or cannot
	// run here, and then Missing says which.
	Path    string
	Missing string
	// Self is the switchyard executable, which has sandbox-forward.
	Self string
	// Socket is the gateway's unix socket.
	Socket string
	// Hide are directories the sandbox must not see at all: the data
	// directory (other sessions, their keys, the log) and the home
	// directory (the user's credentials).
	Hide []string
	// SelfEnv is set for sandbox-forward (and so the CLI) inside.
	SelfEnv map[string]string
}

// sandbox says how a turn of s runs: the argv prefix (nil for none),
// the mode recorded ("bwrap" or "none") and what it means.
func (m *Manager) sandbox(d *agent.Definition, s *Session, cli string) (wrapper []string, mode, detail string, err error) {
	bw := m.Bubblewrap
	switch {
	case d.Sandbox == "none":
		return nil, "none", "the agent asks for none: the CLI runs as the server's user, unconfined", nil
	case bw.Path == "" && d.Sandbox == "bwrap":
		return nil, "", "", fmt.Errorf("agent %s asks for sandbox bwrap, but %s: set sandbox: auto or none to run it unconfined", d.Name, bw.missing())
	case bw.Path == "":
		return nil, "none", "sandbox auto, and " + bw.missing() + ": the CLI runs as the server's user, unconfined", nil
	}
	u, err := url.Parse(m.GatewayURL)
	if err != nil || u.Host == "" {
		return nil, "", "", fmt.Errorf("the gateway's address %q is not a URL", m.GatewayURL)
	}
	args := []string{bw.Path, "--die-with-parent", "--unshare-all",
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}
	for _, h := range bw.Hide {
		if st, err := os.Stat(h); err == nil && st.IsDir() {
			args = append(args, "--tmpfs", h)
		}
	}
	// What the CLI needs from the hidden directories: its installation
	// (the node_modules it lives in), sandbox-forward, and the session's
	// own directories and the gateway's socket.
	for _, p := range []string{installDir(cli), bw.Self} {
		if p != "" && hidden(p, append(slices.Clone(bw.Hide), "/tmp")) {
			args = append(args, "--ro-bind", p, p)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(bw.SelfEnv)) {
		args = append(args, "--setenv", k, bw.SelfEnv[k])
	}
	args = append(args, "--bind", s.Workspace, s.Workspace, "--bind", s.StateDir, s.StateDir,
		"--bind", bw.Socket, bw.Socket, "--chdir", s.Workspace,
		"--", bw.Self, "sandbox-forward", "--listen", u.Host, "--socket", bw.Socket, "--")
	return args, "bwrap", "bubblewrap: the system read-only, its workspace and state dir writable, " +
		strings.Join(bw.Hide, " and ") + " hidden, /tmp its own; network: its own loopback, where the gateway is forwarded", nil
}

// installDir is the directory a CLI is installed in: the node_modules
// its real path is under, or the real path's directory.
func installDir(cli string) string {
	real, err := filepath.EvalSymlinks(cli)
	if err != nil {
		return ""
	}
	for d := filepath.Dir(real); d != filepath.Dir(d); d = filepath.Dir(d) {
		if filepath.Base(d) == "node_modules" {
			return d
		}
	}
	return filepath.Dir(real)
}

// hidden reports whether p is in one of the dirs.
func hidden(p string, dirs []string) bool {
	for _, d := range dirs {
		if rel, err := filepath.Rel(d, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func (bw *Bubblewrap) missing() string {
	if bw.Missing != "" {
		return bw.Missing
	}
	return "bubblewrap is not installed (apt install bubblewrap)"
}

// Probe checks that bwrap runs here (it needs user namespaces, or root):
// it returns nil, or why not.
func (bw *Bubblewrap) Probe(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, bw.Path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--unshare-all", "--die-with-parent", "true").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
