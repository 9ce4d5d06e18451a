package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/sim"
)

const testPolicy = `
function before_model_call(call) {
  if (call.model === "sim-large" && call.tags.team === "interns") return deny("interns use sim-small")
  if (call.task_type === "finance") return annotate({cost_center: "fin"})
  if (call.tags.boom === "1") throw new Error("boom")
  if (call.tags.spin === "1") { for (;;) {} }
}
`

// Policies judge every call before routing: a deny reaches the caller
// with its reason and never reaches a provider, an annotation becomes a
// tag, and a policy that throws or loops does not harm the call. Every
// verdict is an event on the call's stream.
func TestPoliciesJudgeCalls(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "guard.js")
	if err := os.WriteFile(path, []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{gatewaytest.ProviderSim("a")},
			Policies:  []gateway.PolicyConfig{{Path: path, Timeout: 50e6}},
		},
	})
	verdict := func(c gatewaytest.Call) event.PolicyVerdict {
		t.Helper()
		return gatewaytest.Find[event.PolicyVerdict](t, s.Events(c.ID()), "policy.verdict")
	}

	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-large", "hi", false), "x-switchyard-tags", "team=interns")
	if c.Status != 403 || !strings.Contains(string(c.Body), "denied by policy guard: interns use sim-small") {
		t.Fatalf("deny: %d %s", c.Status, c.Body)
	}
	if v := verdict(c); v.Decision != "deny" || v.Policy != "guard" || !strings.HasPrefix(v.Digest, "sha256:") || v.Hook != "before_model_call" {
		t.Fatalf("deny verdict %+v", v)
	}
	if types := gatewaytest.Types(s.Events(c.ID())); strings.Contains(types, "model.call") {
		t.Fatalf("a denied call went on: %s", types)
	}

	c = s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi", false), "x-switchyard-tags", "task=finance")
	if c.Status != 200 {
		t.Fatalf("annotate: %d %s", c.Status, c.Body)
	}
	started := gatewaytest.Find[event.ModelCallStarted](t, s.Events(c.ID()), "model.call.started")
	if v := verdict(c); v.Decision != "annotate" || v.Annotations["cost_center"] != "fin" || started.Tags["cost_center"] != "fin" {
		t.Fatalf("annotate: verdict %+v, call tags %v", v, started.Tags)
	}

	for _, tag := range []string{"boom=1", "spin=1"} {
		c = s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi", false), "x-switchyard-tags", tag)
		if c.Status != 200 {
			t.Fatalf("%s: a failing policy failed the call: %d %s", tag, c.Status, c.Body)
		}
		if v := verdict(c); v.Decision != "allow" || v.Error == "" {
			t.Fatalf("%s: verdict %+v, want allow with the error", tag, v)
		}
	}
}

func TestPolicyConfigErrors(t *testing.T) {
	newErr := newWith(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.js")
	os.WriteFile(bad, []byte("function before_model_call(call) {\n  return allow(\n}\n"), 0o644)
	for _, tc := range []struct {
		pc   gateway.PolicyConfig
		want string
	}{
		{gateway.PolicyConfig{}, "gateway.policies[0]: path is required"},
		{gateway.PolicyConfig{Path: bad, OnError: "maybe"}, `"maybe" is neither allow`},
		{gateway.PolicyConfig{Path: bad}, "syntax error at " + bad + ":3"},
		{gateway.PolicyConfig{Path: filepath.Join(dir, "none.js")}, "no such file"},
	} {
		err := newErr(func(c *gateway.Config) { c.Policies = []gateway.PolicyConfig{tc.pc} })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one saying %q", tc.pc, err, tc.want)
		}
	}
}
