package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Change is one field that differs between two definitions. Old is
// absent for an added field and New for a removed one; both are JSON.
type Change struct {
	Path string          `json:"path"`
	Old  json.RawMessage `json:"old,omitempty"`
	New  json.RawMessage `json:"new,omitempty"`
}

// String is the change as `apply` prints it: "+ path: new",
// "- path: old" or "~ path: old -> new".
func (c Change) String() string {
	switch {
	case c.Old == nil:
		return fmt.Sprintf("+ %s: %s", c.Path, c.New)
	case c.New == nil:
		return fmt.Sprintf("- %s: %s", c.Path, c.Old)
	}
	return fmt.Sprintf("~ %s: %s -> %s", c.Path, c.Old, c.New)
}

// Diff lists the fields that differ from before to after, in path
// order. A nil before is an agent being created: every field is added.
func Diff(before, after *Definition) []Change {
	old, cur := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if before != nil {
		flatten(old, "", before)
	}
	flatten(cur, "", after)
	var out []Change
	for p, n := range cur {
		if o, ok := old[p]; !ok {
			out = append(out, Change{Path: p, New: n})
		} else if string(o) != string(n) {
			out = append(out, Change{Path: p, Old: o, New: n})
		}
	}
	for p, o := range old {
		if _, ok := cur[p]; !ok {
			out = append(out, Change{Path: p, Old: o})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		if d := fieldOrder(a.Path) - fieldOrder(b.Path); d != 0 {
			return d
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out
}

// flatten puts every leaf of v's JSON into m under its path
// ("mcp_servers[0].url", "env.HOME").
func flatten(m map[string]json.RawMessage, prefix string, v any) {
	b, _ := json.Marshal(v)
	var t any
	_ = json.Unmarshal(b, &t)
	walk(m, prefix, t)
}

func walk(m map[string]json.RawMessage, p string, v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if p == "" {
				walk(m, k, e)
			} else {
				walk(m, p+"."+k, e)
			}
		}
	case []any:
		for i, e := range t {
			walk(m, fmt.Sprintf("%s[%d]", p, i), e)
		}
	default:
		b, _ := json.Marshal(t)
		m[p] = b
	}
}
