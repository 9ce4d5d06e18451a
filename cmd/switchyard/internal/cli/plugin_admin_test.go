package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/plugins/wasm/wasmtest"
)

// A user installs a plugin into a running gateway, enables it, sees its
// decisions in the event log, restarts the gateway with it still enabled,
// and disables it; bad input is refused with what to do.
func TestPluginInstallEnableDisable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simAddr := startSim(t, ctx)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchyard.yaml")
	y := "gateway:\n  providers:\n    - name: sim\n      kind: sim\n      base_url: http://" + simAddr + "\n      models: [sim-small, sim-large]\n" +
		"  routes:\n    - model: team-default\n      targets: [{provider: sim, model: sim-small}]\n"
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	module := wasmtest.Build(t, wasmtest.Behaviours)
	file := filepath.Join(dir, "behaviours.wasm")
	if err := os.WriteFile(file, module, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	addr, _, stop := serveInProcess(t, data, "--config", cfg)

	secret := strings.TrimSpace(cli(t, ctx, "", "keys", "create", "ops", "--addr", addr).ok(t).out)
	call := func() {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"team-default","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("call: status %d", res.StatusCode)
		}
	}
	// router is who decided call n (from 1), from the event log: the
	// gateway writes a call's events just after it answers.
	router := func(n int) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			out := cli(t, ctx, "", "events", "read", "--all", "--limit", "1000", "--addr", addr).ok(t).out
			var decided []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, `"routing.decided"`) {
					decided = append(decided, line)
				}
			}
			if len(decided) >= n {
				for _, r := range []string{"plugin:behaviours", "gateway.routers.static"} {
					if strings.Contains(decided[n-1], r) {
						return r
					}
				}
				return decided[n-1]
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d routing.decided events, want %d:\n%s", len(decided), n, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	r := cli(t, ctx, "", "plugin", "install", file, "--addr", addr).ok(t)
	if !strings.Contains(r.out, "behaviours "+wasm.Digest(module)) {
		t.Fatalf("install printed %q", r.out)
	}
	r = cli(t, ctx, "", "plugin", "list", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "behaviours") || !strings.Contains(r.out, "installed") || !strings.Contains(r.out, "routing now: the static routes") {
		t.Fatalf("list before enable:\n%s", r.out)
	}
	call()
	if got := router(1); got != "gateway.routers.static" {
		t.Fatalf("before enable the call was routed by %s", got)
	}
	r = cli(t, ctx, "", "plugin", "enable", "behaviours", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "routing now: behaviours from installed:behaviours") {
		t.Fatalf("enable printed %q", r.out)
	}
	call()
	if got := router(2); got != "plugin:behaviours" {
		t.Fatalf("after enable the call was routed by %s", got)
	}

	// The enabled plugin survives a restart: its state is in the log.
	stop()
	addr, _, _ = serveInProcess(t, data, "--config", cfg)
	r = cli(t, ctx, "", "plugin", "list", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "enabled") || !strings.Contains(r.out, "routing now: behaviours") {
		t.Fatalf("list after a restart:\n%s", r.out)
	}
	call()
	if got := router(3); got != "plugin:behaviours" {
		t.Fatalf("after a restart the call was routed by %s", got)
	}

	cli(t, ctx, "", "plugin", "disable", "--addr", addr).ok(t)
	call()
	if got := router(4); got != "gateway.routers.static" {
		t.Fatalf("after disable the call was routed by %s", got)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plugin", "enable", "nosuch"}, "no routing plugin is installed under that name"},
		{[]string{"plugin", "disable"}, "no installed plugin is enabled"},
		{[]string{"plugin", "install", cfg, "--name", "yaml"}, "not a valid WASM module"},
		{[]string{"plugin", "install", file, "--name", "Bad Name"}, "use 1-64 lower-case letters"},
		{[]string{"plugin", "install", file, "--name", "conf", "--config", cfg}, "takes no configuration"},
	} {
		r := cli(t, ctx, "", append(c.args, "--addr", addr)...)
		if r.code == 0 || !strings.Contains(r.err, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want one saying %q", c.args, r.code, r.err, c.want)
		}
	}
}
