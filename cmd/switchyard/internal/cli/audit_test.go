package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/audit"
)

// TestAudit changes an agent and a key through the CLI and finds the
// changes, with their actor, in `switchyard audit`.
func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, _, _ := serveInProcess(t, filepath.Join(t.TempDir(), "data"))
	def := writeFile(t, "agents:\n  - name: auditor\n    harness: claude-code\n    model: fast\n")
	cli(t, ctx, "", "apply", "-f", def, "--addr", addr).ok(t)
	r := cli(t, ctx, "", "keys", "create", "ci", "--json", "--addr", addr).ok(t)
	var ck struct {
		Key struct{ ID string } `json:"key"`
	}
	json.Unmarshal([]byte(r.out), &ck)
	cli(t, ctx, "", "keys", "revoke", ck.Key.ID, "--reason", "rotated", "--addr", addr).ok(t)

	var rep audit.Report
	r = cli(t, ctx, "", "audit", "--format", "json", "--addr", addr).ok(t)
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Entries {
		got = append(got, e.Action+" "+e.Target)
		if e.Actor == "" || e.Hash == "" {
			t.Errorf("entry without actor or hash: %+v", e)
		}
	}
	want := "agent.applied agent:auditor,key.created key:" + ck.Key.ID + ",key.revoked key:" + ck.Key.ID
	if strings.Join(got, ",") != want || len(rep.Chains.Breaks) != 0 || rep.Chains.Events < 3 {
		t.Fatalf("audit: %s\nwant %s; chains %+v", strings.Join(got, ","), want, rep.Chains)
	}
	r = cli(t, ctx, "", "audit", "--action", "key.revoked", "--addr", addr).ok(t)
	if lines := strings.Split(strings.TrimSpace(r.out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "reason rotated") {
		t.Fatalf("audit --action key.revoked:\n%s", r.out)
	}
	if !strings.Contains(r.err, "no break") {
		t.Fatalf("no word on the hash chains: %q", r.err)
	}
	if r := cli(t, ctx, "", "audit", "--since", "a while ago", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "7d") {
		t.Fatalf("a bad --since: %d %q", r.code, r.err)
	}
}
