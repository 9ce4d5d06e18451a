package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With an admin token, the API under /api/v1 answers only requests that
// send it, the CLI sends $SWITCHYARD_ADMIN_TOKEN, and health stays open.
// Without one, serve refuses an address other machines can reach.
func TestAdminToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveInProcess(t, filepath.Join(dir, "data"), "--admin-token-file", file)
	ctx := context.Background()
	withToken := func(token string) func(string) string {
		return func(k string) string {
			if k == envAdminToken {
				return token
			}
			return ""
		}
	}
	run := func(token string, args ...string) result {
		var out, errb syncBuffer
		code := Run(ctx, args, IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: withToken(token)})
		return result{out: out.String(), err: errb.String(), code: code}
	}
	if r := run("", "events", "streams", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "no admin token was sent") || !strings.Contains(r.err, "SWITCHYARD_ADMIN_TOKEN") {
		t.Fatalf("without the token: exit %d, stderr %q; want a refusal that says what to send", r.code, r.err)
	}
	if r := run("guess", "keys", "list", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "not this server's") {
		t.Fatalf("with a wrong token: exit %d, stderr %q", r.code, r.err)
	}
	run("s3cret", "events", "streams", "--addr", addr).ok(t)
	run("s3cret", "keys", "create", "ci", "--addr", addr).ok(t)
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz without the token: %d", res.StatusCode)
	}

	r := cli(t, ctx, "", "serve", "--addr", "0.0.0.0:0", "--data", filepath.Join(dir, "other"))
	if r.code != exitUsage || !strings.Contains(r.err, envAdminToken) {
		t.Fatalf("serve on all interfaces without a token: exit %d, stderr %q; want a usage error naming %s", r.code, r.err, envAdminToken)
	}
}
