package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
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

// loadPolicies loads the configured policies as one set, in order, and
// records the sources the log does not have yet; nil when there are none.
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
	if err := g.recordPolicies(context.Background(), loaded); err != nil {
		js.NewSet(loaded...).Close()
		return nil, fmt.Errorf("gateway.policies: record the policies' sources: %w", err)
	}
	return &policySet{set: js.NewSet(loaded...)}, nil
}

// policyLoaded is p's policy.loaded event.
func policyLoaded(p *js.Policy) event.PolicyLoaded {
	c := p.Config()
	l := event.PolicyLoaded{
		Name: p.Name(), Digest: p.Digest(), File: p.File(), Source: p.Source(), Hooks: []string{},
		Config: event.PolicyConfig{OnError: string(c.OnError), TimeoutMS: float64(c.Timeout) / float64(time.Millisecond), Fresh: c.Fresh, Runtimes: c.Runtimes},
	}
	for _, h := range p.Hooks() {
		l.Hooks = append(l.Hooks, string(h))
	}
	return l
}

// policyKey is what makes two loads of a policy the same.
type policyKey struct {
	name, digest string
	config       event.PolicyConfig
}

// recordPolicies appends a policy.loaded event for each of ps the log
// does not have (same name, source and configuration), so that every
// verdict's digest finds its source (a replay needs it). A restart or a
// reload that changes no policy records nothing.
func (g *Gateway) recordPolicies(ctx context.Context, ps []*js.Policy) error {
	have := map[policyKey]bool{}
	for e, err := range g.opts.Store.ReadStream(ctx, event.PoliciesStream, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break // no policy recorded yet
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", event.PoliciesStream, err)
		}
		if e.Type != "policy.loaded" {
			continue
		}
		var l event.PolicyLoaded
		if err := json.Unmarshal(e.Data, &l); err != nil {
			return fmt.Errorf("%s event %s: %w", e.Type, e.ID, err)
		}
		have[policyKey{l.Name, l.Digest, l.Config}] = true
	}
	var add []event.Proposed
	for _, p := range ps {
		l := policyLoaded(p)
		if k := (policyKey{l.Name, l.Digest, l.Config}); !have[k] {
			have[k] = true
			pr, err := event.New("policy.loaded", l, event.Metadata{Actor: "gateway"})
			if err != nil {
				return err
			}
			add = append(add, pr)
		}
	}
	if len(add) == 0 {
		return nil
	}
	_, err := g.opts.Store.Append(ctx, event.PoliciesStream, eventstore.Any, add...)
	return err
}

// policySet is the proxy's Policy over a set of JS policies.
type policySet struct{ set *js.Set }

func (s *policySet) BeforeModelCall(ctx context.Context, c *proxy.PolicyCall) proxy.PolicyResult {
	in := &js.ModelCall{
		CallID: c.CallID, Model: c.Model, API: string(c.API), Agent: c.Key.Agent, Session: c.Key.Tags["session"], Team: c.Key.Team, User: c.Key.User,
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
