package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeysCallsAndConfig drives the gateway commands against a server
// started with a config file: keys create/list/revoke, a call with the
// new key, calls tail, and a reload that changes the routes.
func TestKeysCallsAndConfig(t *testing.T) {
	t.Parallel()
	simAddr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	simDone := make(chan int, 1)
	simUp := make(chan string, 1)
	go func() {
		simDone <- Run(ctx, []string{"sim", "--addr", simAddr, "--log-level", "error"},
			IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &syncBuffer{}, Getenv: func(string) string { return "" },
				onListen: func(a net.Addr) { simUp <- a.String() }})
	}()
	select {
	case <-simUp:
	case code := <-simDone:
		t.Fatalf("sim exited with %d", code)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchyard.yaml")
	write := func(route string) {
		y := "gateway:\n  providers:\n    - name: sim\n      kind: sim\n      base_url: http://" + simAddr + "\n      models: [sim-small, sim-large]\n" +
			"  routes:\n    - model: team-default\n      targets: [{provider: sim, model: " + route + "}]\n"
		if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sim-small")
	addr, _, stop := serveInProcess(t, filepath.Join(dir, "data"), "--config", cfg)
	defer stop()

	r := cli(t, ctx, "", "keys", "create", "alice", "--team", "eng", "--models", "team-*,sim-*", "--json", "--addr", addr).ok(t)
	var ck struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(r.out), &ck); err != nil || ck.Secret == "" {
		t.Fatalf("keys create --json: %v %q", err, r.out)
	}
	r = cli(t, ctx, "", "keys", "list", "--addr", addr).ok(t)
	if !strings.Contains(r.out, ck.Key.ID) || !strings.Contains(r.out, "alice") || strings.Contains(r.out, ck.Secret) {
		t.Fatalf("keys list: %s", r.out)
	}

	post := func() (int, string) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"team-default","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+ck.Secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return res.StatusCode, res.Header.Get("x-switchyard-model")
	}
	if code, model := post(); code != 200 || model != "sim-small" {
		t.Fatalf("call: %d via %s", code, model)
	}
	r = cli(t, ctx, "", "calls", "tail", "--limit", "1", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "team-default → sim/sim-small") || !strings.Contains(r.out, ck.Key.ID) || !strings.Contains(r.out, "team=eng") {
		t.Fatalf("calls tail: %s", r.out)
	}

	// Reload: the route now goes to sim-large.
	write("sim-large")
	res, err := http.Post("http://"+addr+"/api/v1/gateway/reload", "application/json", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("reload: %v %v", err, res)
	}
	if code, model := post(); code != 200 || model != "sim-large" {
		t.Fatalf("after reload: %d via %s", code, model)
	}
	// A broken config is refused and the running one kept.
	os.WriteFile(cfg, []byte("gateway:\n  providers:\n    - kind: nope\n"), 0o644)
	res, _ = http.Post("http://"+addr+"/api/v1/gateway/reload", "application/json", nil)
	if res.StatusCode != 400 {
		t.Fatalf("broken reload answered %d", res.StatusCode)
	}
	if code, model := post(); code != 200 || model != "sim-large" {
		t.Fatalf("after a refused reload: %d via %s", code, model)
	}

	cli(t, ctx, "", "keys", "revoke", ck.Key.ID, "--reason", "test", "--addr", addr).ok(t)
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, _ := post()
		if code == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still accepted: %d", code)
		}
	}
	if r := cli(t, ctx, "", "keys", "revoke", "key_nope", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "keys list") {
		t.Fatalf("revoke of an unknown key: %d %q", r.code, r.err)
	}
}

// startSim runs `switchyard sim` on a port of its own until ctx is done,
// and returns its address.
func startSim(t *testing.T, ctx context.Context) string {
	t.Helper()
	up, exited := make(chan string, 1), make(chan int, 1)
	go func() {
		exited <- Run(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--log-level", "error"},
			IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &syncBuffer{}, Getenv: func(string) string { return "" },
				onListen: func(a net.Addr) { up <- a.String() }})
	}()
	select {
	case addr := <-up:
		return addr
	case code := <-exited:
		t.Fatalf("sim exited with %d", code)
		return ""
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSimConfigReplacesDefaultModels: a model in --config gets only what
// the file says, not fields of the default model it happens to replace
// (the fifth default, sim-reasoning, reports reasoning and cached tokens).
func TestSimConfigReplacesDefaultModels(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, `{"models":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"plain"}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := make(chan string, 1)
	go Run(ctx, []string{"sim", "--addr", "127.0.0.1:0", "--config", cfg, "--log-level", "error"},
		IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &syncBuffer{}, Getenv: func(string) string { return "" },
			onListen: func(a net.Addr) { up <- a.String() }})
	addr := <-up
	res, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"plain","messages":[{"role":"user","content":"a prompt long enough to have cached tokens if any"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Usage struct {
			Prompt struct {
				Cached int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
			Completion struct {
				Reasoning int `json:"reasoning_tokens"`
			} `json:"completion_tokens_details"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Usage.Prompt.Cached != 0 || out.Usage.Completion.Reasoning != 0 {
		t.Fatalf("usage %+v: the configured model inherited the default sim-reasoning's settings", out.Usage)
	}
	r := cli(t, ctx, "", "sim", "--addr", "127.0.0.1:0", "--config", writeFile(t, `{"modles":[]}`))
	if r.code == 0 || !strings.Contains(r.err, "unknown field") {
		t.Fatalf("a misspelt field: %d %q", r.code, r.err)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
