package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/sdk/routing"
)

// Config is the plugin's configuration, the gateway's
// routing_plugin.config as JSON.
type Config struct {
	// Strategy is the built-in's name: rules (the default), cheapest,
	// fastest, weighted or failover. All but rules are shorthands for
	// "otherwise: {pick: NAME}" with no rules.
	Strategy string `json:"strategy"`
	// Rules are tried in order; the first whose when matches decides.
	Rules []Rule `json:"rules"`
	// Otherwise decides a call no rule matches; default: the default route.
	Otherwise *action `json:"otherwise"`
	// Weights are the weighted pick's weights by "provider" or
	// "provider/model"; a target without one weighs 0 and comes last.
	Weights map[string]float64 `json:"weights"`
	// Failover puts targets that are rate limited or cooling down behind
	// the healthy ones, keeping their order otherwise. Default true.
	Failover *bool `json:"failover"`
}

// Rule is a condition and what to do when it holds.
type Rule struct {
	When   match `json:"when"`
	action `json:",inline"`
}

// match is a rule's condition: every field given must hold.
type match struct {
	Task  string            `json:"task"`  // the task type (the "task" tag)
	Tags  map[string]string `json:"tags"`  // each tag has this value
	Model string            `json:"model"` // the requested model; a trailing * matches a prefix
	API   string            `json:"api"`
	Agent string            `json:"agent"`
	Team  string            `json:"team"`
	User  string            `json:"user"`
	Tools *bool             `json:"tools"`      // the request declares tools, or not
	Min   int               `json:"min_tokens"` // estimated input tokens, at least
	Max   int               `json:"max_tokens"` // and at most (0: no bound)

	// Made at parse time (compile), for deciding.
	tags   []routing.Tag // Tags, by key
	model  string        // Model without a trailing *
	prefix bool          // which Model had
}

// action orders targets: the preferred ones first, in the order given,
// then the others the pick ranks (none without a pick).
type action struct {
	// Prefer names targets as "provider" or "provider/model".
	Prefer []string `json:"prefer"`
	// Pick ranks the capable targets: default (the static route),
	// cheapest, fastest or weighted.
	Pick string `json:"pick"`

	// What deciding reads, made at parse time: comparing strings is slow
	// in Go's WebAssembly code.
	prefer []name // Prefer, split
	pick   pick   // Pick
}

// pick is a parsed action.Pick.
type pick int

const (
	pickNone pick = iota
	pickDefault
	pickCheapest
	pickFastest
	pickWeighted
)

// name is a parsed "provider" or "provider/model".
type name struct{ provider, model string }

// Policy is a parsed configuration.
type Policy struct {
	Rules     []Rule
	Otherwise action
	Weights   map[string]float64
	weights   map[name]float64 // Weights by parsed name: no key to build while deciding
	Failover  bool
	// reasons are the decisions' reasons, made once so that deciding
	// allocates nothing: by rule index + 1 (0: no rule matched), then by
	// whether failover moved a target.
	reasons [][2]string
}

var picks = map[string]pick{"": pickNone, "default": pickDefault, "cheapest": pickCheapest, "fastest": pickFastest, "weighted": pickWeighted}

func parse(b []byte) (*Policy, error) {
	var c Config
	if len(bytes.TrimSpace(b)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("config: %v", err)
		}
	}
	p := &Policy{Rules: c.Rules, Otherwise: action{Pick: "default"}, Weights: c.Weights, Failover: c.Failover == nil || *c.Failover}
	switch c.Strategy {
	case "", "rules":
	case "cheapest", "fastest", "weighted":
		p.Otherwise = action{Pick: c.Strategy}
	case "failover":
		p.Otherwise, p.Failover = action{Pick: "default"}, true
	default:
		return nil, fmt.Errorf("config: strategy %q is unknown: use rules, cheapest, fastest, weighted or failover", c.Strategy)
	}
	if c.Otherwise != nil {
		p.Otherwise = *c.Otherwise
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if err := r.action.check(); err != nil {
			return nil, fmt.Errorf("config: rules[%d]: %v", i, err)
		}
		r.action.compile()
		r.When.compile()
		if r.When.Max > 0 && r.When.Max < r.When.Min {
			return nil, fmt.Errorf("config: rules[%d].when: max_tokens %d is below min_tokens %d", i, r.When.Max, r.When.Min)
		}
	}
	if err := p.Otherwise.check(); err != nil {
		return nil, fmt.Errorf("config: otherwise: %v", err)
	}
	p.Otherwise.compile()
	uses := p.Otherwise.Pick == "weighted"
	for _, r := range p.Rules {
		uses = uses || r.Pick == "weighted"
	}
	if uses && len(p.Weights) == 0 {
		return nil, errors.New(`config: the weighted pick needs weights, e.g. "weights": {"openai": 3, "anthropic": 1}`)
	}
	p.weights = make(map[name]float64, len(p.Weights))
	for k, w := range p.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("config: weights[%q] is %v; a weight is a finite number, 0 or more", k, w)
		}
		provider, model, _ := strings.Cut(k, "/")
		p.weights[name{provider, model}] = w
	}
	for i := -1; i < len(p.Rules); i++ {
		p.reasons = append(p.reasons, [2]string{p.describe(i, false), p.describe(i, true)})
	}
	return p, nil
}

func (a *action) compile() {
	for _, s := range a.Prefer {
		provider, model, _ := strings.Cut(s, "/")
		a.prefer = append(a.prefer, name{provider, model})
	}
	a.pick = picks[a.Pick]
}

func (m *match) compile() {
	for k, v := range m.Tags {
		m.tags = append(m.tags, routing.Tag{Key: k, Value: v})
	}
	slices.SortFunc(m.tags, func(a, b routing.Tag) int { return strings.Compare(a.Key, b.Key) })
	m.model, m.prefix = strings.CutSuffix(m.Model, "*")
}

func (a action) check() error {
	if a.Pick == "" && len(a.Prefer) == 0 {
		return errors.New("give prefer (targets to try first), pick (default, cheapest, fastest or weighted), or both")
	}
	if _, ok := picks[a.Pick]; !ok {
		return fmt.Errorf("pick %q is unknown: use default, cheapest, fastest or weighted", a.Pick)
	}
	for _, name := range a.Prefer {
		if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") {
			return fmt.Errorf("prefer: %q is not \"provider\" or \"provider/model\"", name)
		}
	}
	return nil
}

func (p *Policy) describe(rule int, moved bool) string {
	var b strings.Builder
	a := p.Otherwise
	if rule >= 0 {
		a = p.Rules[rule].action
		fmt.Fprintf(&b, "rule %d (%s): ", rule+1, p.Rules[rule].When)
	} else if len(p.Rules) > 0 {
		b.WriteString("no rule matched: ")
	}
	if len(a.Prefer) > 0 {
		fmt.Fprintf(&b, "prefer %s", strings.Join(a.Prefer, ", "))
		if a.Pick != "" {
			b.WriteString(", then ")
		}
	}
	switch a.Pick {
	case "default":
		b.WriteString("the default route")
	case "cheapest":
		b.WriteString("cheapest capable")
	case "fastest":
		b.WriteString("lowest latency")
	case "weighted":
		b.WriteString("weighted")
	}
	if moved {
		b.WriteString("; rate-limited or cooling targets moved last")
	}
	return b.String()
}

func (m match) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	add("task", m.Task)
	keys := make([]string, 0, len(m.Tags))
	for k := range m.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+m.Tags[k])
	}
	add("model", m.Model)
	add("api", m.API)
	add("agent", m.Agent)
	add("team", m.Team)
	add("user", m.User)
	if m.Tools != nil {
		parts = append(parts, fmt.Sprint("tools ", *m.Tools))
	}
	if m.Min > 0 {
		parts = append(parts, fmt.Sprint("≥", m.Min, " tokens"))
	}
	if m.Max > 0 {
		parts = append(parts, fmt.Sprint("≤", m.Max, " tokens"))
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, ", ")
}

func (m *match) holds(f *routing.Facts) bool {
	if m.Task != "" && f.TaskType != m.Task ||
		m.API != "" && f.API != m.API ||
		m.Agent != "" && f.Agent != m.Agent ||
		m.Team != "" && f.Team != m.Team ||
		m.User != "" && f.User != m.User ||
		m.Tools != nil && f.Tools != *m.Tools ||
		f.EstimatedTokens < m.Min ||
		m.Max > 0 && f.EstimatedTokens > m.Max {
		return false
	}
	if m.Model != "" {
		if m.prefix {
			if !strings.HasPrefix(f.Model, m.model) {
				return false
			}
		} else if f.Model != m.model {
			return false
		}
	}
	for _, want := range m.tags {
		found := false
		for _, t := range f.Tags {
			if t.Key == want.Key && t.Value == want.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
