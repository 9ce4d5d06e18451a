package proxy

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/route"
)

// Policy judges a call after it is authenticated and before it is routed:
// the gateway's JS policies (plugins/js) at the before_model_call hook.
type Policy interface {
	BeforeModelCall(ctx context.Context, c *PolicyCall) PolicyResult
}

// PolicyCall is what a policy sees of a call.
type PolicyCall struct {
	CallID, Model string
	API           llm.API
	Key           *keys.Key
	// Tags are the key's and the request's; TaskType is the "task" tag.
	Tags            map[string]string
	TaskType        string
	EstimatedTokens int
	HasTools        bool
	Stream          bool
	// BudgetLeftUSD is the smallest spend left among the caller's capped
	// scopes; negative when none is capped.
	BudgetLeftUSD float64
	// Now and Seed are the call's clock and random seed: all the time and
	// randomness a policy may use, recorded with its verdict.
	Now  time.Time
	Seed uint64
}

// PolicyResult is the policies' combined answer.
type PolicyResult struct {
	// Denied stops the call with Reason, from the policy named Policy.
	Denied         bool
	Policy, Reason string
	// Annotations are added to the call's tags (a tag already set stays):
	// the router, the events and the cost reports see them.
	Annotations map[string]string
	// Verdicts are recorded as policy.verdict events, in order.
	Verdicts []event.PolicyVerdict
}

// judge runs the policies, records their verdicts, and returns the error
// to answer with when one denied.
func (c *call) judge(ctx context.Context, pol Policy) *llm.Error {
	res := pol.BeforeModelCall(ctx, &PolicyCall{
		CallID: c.id, Model: c.peek.Model, API: c.req.API, Key: c.key, Tags: c.attr.Tags, TaskType: c.attr.Tags["task"],
		EstimatedTokens: c.estimateInput(), HasTools: c.peek.HasTools, Stream: c.peek.Stream,
		BudgetLeftUSD: c.budgetLeft(), Now: c.g.now(), Seed: route.SeedFor(c.id),
	})
	for _, v := range res.Verdicts {
		c.record("policy.verdict", v)
	}
	if res.Denied {
		return &llm.Error{Kind: llm.ErrPermission, Status: 403,
			Message: fmt.Sprintf("denied by policy %s: %s", res.Policy, res.Reason)}
	}
	if len(res.Annotations) > 0 {
		tags := maps.Clone(c.attr.Tags)
		if tags == nil {
			tags = make(map[string]string, len(res.Annotations))
		}
		for k, v := range res.Annotations {
			if _, set := tags[k]; !set {
				tags[k] = v
			}
		}
		c.attr.Tags = tags
	}
	return nil
}
