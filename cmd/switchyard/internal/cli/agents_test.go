package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyAndAgents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "agents.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`agents:
  - name: reviewer
    harness: claude-code
    model: sim-small
    workspace: {path: ./repo}
  - name: fixer
    harness: codex
    model: sim-large
`)
	addr, _, stop := serveInProcess(t, filepath.Join(dir, "data"))

	r := cli(t, ctx, "", "apply", "-f", file, "--addr", addr).ok(t)
	if !strings.Contains(r.out, "agent reviewer created\n") || !strings.Contains(r.out, `+ workspace.path: "`+filepath.Join(dir, "repo")+`"`) ||
		!strings.Contains(r.out, "agent fixer created") || !strings.Contains(r.err, "2 agent(s) created, 0 changed, 0 unchanged") {
		t.Fatalf("first apply:\n%s\n%s", r.out, r.err)
	}
	r = cli(t, ctx, "", "apply", "-f", file, "--addr", addr).ok(t)
	if r.out != "agent reviewer unchanged\nagent fixer unchanged\n" {
		t.Fatalf("second apply of the same file:\n%s", r.out)
	}
	write(strings.Replace(string(must(os.ReadFile(file))), "sim-large", "sim-reasoning", 1))
	r = cli(t, ctx, "", "apply", "-f", file, "--dry-run", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "agent fixer would change (it is at revision 1)\n  ~ model: \"sim-large\" -> \"sim-reasoning\"\n") || !strings.Contains(r.err, "dry run, nothing was changed") {
		t.Fatalf("dry run:\n%s\n%s", r.out, r.err)
	}
	r = cli(t, ctx, "", "agent", "list", "--json", "--addr", addr).ok(t)
	if ls := r.lines(t); len(ls) != 2 || ls[0]["definition"].(map[string]any)["model"] != "sim-large" {
		t.Fatalf("after a dry run: %s", r.out)
	}
	cli(t, ctx, "", "apply", "-f", file, "--addr", addr).ok(t)

	// A broken file: every problem with its line, nothing applied.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("agents:\n  - name: fixer\n    harness: codex\n    model: other\n  - name: x\n    harnes: codex\n"), 0o644)
	r = cli(t, ctx, "", "apply", "-f", bad, "--addr", addr)
	if r.code != 2 || !strings.Contains(r.err, bad+`:6:5: agents[1]: unknown field "harnes"`) || !strings.Contains(r.err, "nothing was applied") {
		t.Fatalf("bad file: %d\n%s", r.code, r.err)
	}

	r = cli(t, ctx, "", "agent", "show", "fixer", "--addr", addr).ok(t)
	for _, want := range []string{"# agent fixer, revision 2", "model: sim-reasoning", "#  v0 ", "#  v1 ", `~ model: "sim-large" -> "sim-reasoning"`} {
		if !strings.Contains(r.out, want) {
			t.Fatalf("agent show lacks %q:\n%s", want, r.out)
		}
	}
	r = cli(t, ctx, "", "agent", "show", "nobody", "--addr", addr)
	if r.code == 0 || !strings.Contains(r.err, `no agent "nobody"`) {
		t.Fatalf("show of an unknown agent: %d %s", r.code, r.err)
	}
	cli(t, ctx, "", "agent", "delete", "reviewer", "--reason", "retired", "--addr", addr).ok(t)

	// Over the API: a body that does not match the path, and a bad field.
	for body, want := range map[string]string{
		`{"name":"other","harness":"codex","model":"m"}`:   `the body defines agent "other" but the path says "fixer"`,
		`{"harness":"codex","model":"m","sandbox":"jail"}`: `sandbox: "jail": use auto`,
		`{"harness":"codex","modle":"m"}`:                  `unknown field "modle"`,
	} {
		req, _ := http.NewRequest("PUT", "http://"+addr+"/api/v1/agents/fixer", strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var er struct {
			Error struct{ Code, Message string }
		}
		json.NewDecoder(res.Body).Decode(&er)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(er.Error.Message, want) {
			t.Errorf("PUT %s = %d %+v, want 400 with %q", body, res.StatusCode, er, want)
		}
	}

	// The agents are in the log: a restarted server has them.
	stop()
	addr, _, _ = serveInProcess(t, filepath.Join(dir, "data"))
	r = cli(t, ctx, "", "agent", "list", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "fixer") || !strings.Contains(r.out, "sim-reasoning") || strings.Contains(r.out, "reviewer") {
		t.Fatalf("after restart:\n%s", r.out)
	}
	r = cli(t, ctx, "", "apply", "-f", file, "--addr", addr).ok(t)
	if !strings.Contains(r.out, "agent reviewer created") || !strings.Contains(r.out, "agent fixer unchanged") {
		t.Fatalf("apply after restart:\n%s", r.out)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
