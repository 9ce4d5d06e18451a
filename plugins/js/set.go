package js

import "context"

// Set is an ordered list of policies evaluated together at each hook.
type Set struct {
	policies []*Policy
}

// NewSet returns a set that evaluates policies in the order given.
func NewSet(policies ...*Policy) *Set {
	return &Set{policies: append([]*Policy(nil), policies...)}
}

// Policies lists the set's policies in order.
func (s *Set) Policies() []*Policy { return append([]*Policy(nil), s.policies...) }

// Handles reports whether any policy of the set handles h.
func (s *Set) Handles(h Hook) bool {
	for _, p := range s.policies {
		if p.Handles(h) {
			return true
		}
	}
	return false
}

// Result is a set's combined answer at one hook.
type Result struct {
	// Decision is Deny if a policy denied, else Annotate if one
	// annotated, else Allow.
	Decision Decision
	// Reason is the denying policy's reason, for the caller.
	Reason string
	// Annotations merges the verdicts' annotations; on a key two
	// policies set, the earlier policy's value stays.
	Annotations map[string]string
	// Verdicts has one verdict per policy evaluated, in order: each is to
	// be recorded as a policy.verdict event. When a policy denied, its
	// verdict is the last.
	Verdicts []Verdict
}

// Evaluate runs the policies that handle in's hook, in order, and stops
// at the first that denies: an earlier policy takes precedence over a
// later one. A policy that fails counts as its OnError decision.
func (s *Set) Evaluate(ctx context.Context, in Input) Result {
	res := Result{Decision: Allow}
	for _, p := range s.policies {
		if in != nil && !p.Handles(in.Hook()) {
			continue
		}
		if res.Verdicts == nil {
			res.Verdicts = make([]Verdict, 0, len(s.policies))
		}
		v := p.Evaluate(ctx, in)
		res.Verdicts = append(res.Verdicts, v)
		for k, val := range v.Annotations {
			if res.Annotations == nil {
				res.Annotations = make(map[string]string, len(v.Annotations))
			}
			if _, set := res.Annotations[k]; !set {
				res.Annotations[k] = val
			}
		}
		switch v.Decision {
		case Deny:
			res.Decision, res.Reason = Deny, v.Reason
			return res
		case Annotate:
			res.Decision = Annotate
		}
	}
	return res
}

// Close closes every policy of the set.
func (s *Set) Close() {
	for _, p := range s.policies {
		p.Close()
	}
}
