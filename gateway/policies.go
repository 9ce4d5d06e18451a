package gateway

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/gateway/proxy"
	"github.com/switchyard/switchyard/plugins/js"
)

// PolicyConfig is a JS policy (docs/policies.md) and how it runs. The
// gateway evaluates its before_model_call function, if it has one, for
// every call after authentication and before routing.
type PolicyConfig struct {
	// Path is the .js file; relative to the config file.
	Path string `json:"path"`
	// Name is how verdicts and logs call it; default: the file's name.
	Name string `json:"name,omitempty"`
	// OnError is what a call gets when the policy throws, overruns or
	// returns no verdict: allow (fail open, the default) or deny.
	OnError string `json:"on_error,omitempty"`
	// Timeout bounds one verdict (default 5ms); Runtimes is how many run
	// at once (default 4); Fresh gives every call a new runtime, so no
	// state survives between calls (slower: tens of µs).
	Timeout  config.Duration `json:"timeout,omitempty"`
	Runtimes int             `json:"runtimes,omitempty"`
	Fresh    bool            `json:"fresh,omitempty"`
}

func (pc PolicyConfig) validate(i int) error {
	switch {
	case pc.Path == "":
		return fmt.Errorf("gateway.policies[%d]: path is required: the policy's .js file (see docs/policies.md)", i)
	case pc.OnError != "" && pc.OnError != string(js.Allow) && pc.OnError != string(js.Deny):
		return fmt.Errorf("gateway.policies[%d].on_error: %q is neither allow (fail open) nor deny (fail closed)", i, pc.OnError)
	case pc.Timeout < 0, pc.Runtimes < 0:
		return fmt.Errorf("gateway.policies[%d]: timeout and runtimes cannot be negative", i)
	}
	return nil
}

// loadPolicies loads the configured policies as one set, in order; nil
// when there are none.
func (g *Gateway) loadPolicies(cfg []PolicyConfig) (*policySet, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	var loaded []*js.Policy
	for i, pc := range cfg {
		p, err := js.LoadFile(pc.Name, pc.Path, js.Config{
			Runtimes: pc.Runtimes, Fresh: pc.Fresh, Timeout: pc.Timeout.D(), OnError: js.Decision(pc.OnError),
		}, g.log.With("component", "policies"))
		if err != nil {
			js.NewSet(loaded...).Close()
			return nil, fmt.Errorf("gateway.policies[%d] (%s): %w", i, filepath.Base(pc.Path), err)
		}
		loaded = append(loaded, p)
	}
	return &policySet{set: js.NewSet(loaded...)}, nil
}

// policySet is the proxy's Policy over a set of JS policies.
type policySet struct{ set *js.Set }

func (s *policySet) BeforeModelCall(ctx context.Context, c *proxy.PolicyCall) proxy.PolicyResult {
	in := &js.ModelCall{
		CallID: c.CallID, Model: c.Model, API: string(c.API), Agent: c.Key.Agent, Team: c.Key.Team, User: c.Key.User,
		KeyID: c.Key.ID, Tags: c.Tags, TaskType: c.TaskType, EstimatedTokens: c.EstimatedTokens,
		HasTools: c.HasTools, Stream: c.Stream, BudgetLeftUSD: c.BudgetLeftUSD, Now: c.Now, Seed: c.Seed,
	}
	res := s.set.Evaluate(ctx, in)
	out := proxy.PolicyResult{Annotations: res.Annotations}
	for _, v := range res.Verdicts {
		out.Verdicts = append(out.Verdicts, v.Event())
	}
	if res.Decision == js.Deny && len(res.Verdicts) > 0 {
		v := res.Verdicts[len(res.Verdicts)-1]
		out.Denied, out.Policy, out.Reason = true, v.Policy, v.Reason
		if v.Failed() {
			out.Reason = "it failed and is set to deny on error: " + v.Err.Error()
		}
	}
	return out
}

// close closes the set's policies; nil-safe.
func (s *policySet) close() {
	if s != nil {
		s.set.Close()
	}
}

// asPolicy returns s as the proxy's Policy: a nil set is no policy (not a
// typed nil the proxy would call).
func (s *policySet) asPolicy() proxy.Policy {
	if s == nil {
		return nil
	}
	return s
}
