package config

import "fmt"

// JSONable turns what yaml.v3 decodes into an any (maps keyed by string
// or by any value, lists) into what encoding/json takes, in place where
// it can: config files are YAML on disk and JSON native.
func JSONable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = JSONable(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = JSONable(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = JSONable(e)
		}
	}
	return v
}
