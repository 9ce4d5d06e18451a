package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// maxSchemaDepth bounds nesting and $ref expansion, so that a recursive
// schema ends instead of growing without limit.
const maxSchemaDepth = 16

// keptKeywords are copied as they are. See the package doc.
var keptKeywords = []string{
	"title", "description", "nullable", "minItems", "maxItems", "minLength", "maxLength",
	"minProperties", "maxProperties", "pattern", "minimum", "maximum", "default", "example",
	"propertyOrdering",
}

// allowedFormats lists the formats Gemini accepts, by type.
var allowedFormats = map[string][]string{
	"string":  {"enum", "date-time"},
	"number":  {"float", "double"},
	"integer": {"int32", "int64"},
}

// toolParameters converts a tool's JSON Schema to Gemini's Schema, or nil
// when the tool takes no arguments (an object without properties, which
// the API refuses as parameters).
func toolParameters(raw json.RawMessage) (json.RawMessage, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	s, err := parseSchema(raw, false)
	if err != nil {
		return nil, err
	}
	if s["type"] == "object" && s["properties"] == nil && s["anyOf"] == nil {
		return nil, nil
	}
	return json.Marshal(s)
}

// convertSchema converts a JSON Schema for responseSchema. Objects get a
// propertyOrdering in the order the schema lists their properties, since
// Gemini otherwise orders the answer's keys alphabetically.
func convertSchema(raw json.RawMessage) (json.RawMessage, error) {
	s, err := parseSchema(raw, true)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

func parseSchema(raw json.RawMessage, order bool) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers (minimum, default) exactly as written
	v, err := parseOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	root, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("a JSON Schema must be an object, got %s", kindOf(v))
	}
	c := schemaConverter{defs: map[string]any{}, order: order}
	for _, key := range []string{"definitions", "$defs"} {
		if defs, ok := root.m[key].(*object); ok {
			for _, name := range defs.keys {
				c.defs["#/"+key+"/"+name] = defs.m[name]
			}
		}
	}
	return c.convert(root, 0), nil
}

// object is a parsed JSON object that remembers the order of its keys.
type object struct {
	keys []string
	m    map[string]any
}

// MarshalJSON writes the object in its original key order (for default
// and example values copied through).
func (o *object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.m[k])
		if err != nil {
			return nil, err
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// parseOrdered reads one JSON value: objects as *object, arrays as []any,
// numbers as json.Number. A repeated key keeps its last value, as
// encoding/json does.
func parseOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := parseOrdered(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.m[key]; !dup {
					o.keys = append(o.keys, key)
				}
				o.m[key] = v
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parseOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ']'
			return arr, err
		}
		return nil, errors.New("unexpected delimiter")
	}
	return tok, nil
}

type schemaConverter struct {
	defs  map[string]any // "#/$defs/Name" → schema
	order bool           // add propertyOrdering
}

// convert turns one JSON Schema node into a Gemini Schema. Its output is
// made of plain maps and slices, marshalled with sorted keys.
func (c *schemaConverter) convert(v any, depth int) map[string]any {
	in, ok := v.(*object)
	out := map[string]any{}
	if !ok || depth > maxSchemaDepth {
		return out // true, false or too deep: no constraint Gemini can express
	}

	// $ref: start from the definition; sibling keywords override it.
	if ref, ok := in.m["$ref"].(string); ok {
		if def, found := c.defs[ref]; found {
			for k, v := range c.convert(def, depth+1) {
				out[k] = v
			}
		}
	}
	// allOf: merge every branch into this schema.
	if all, ok := in.m["allOf"].([]any); ok {
		for _, sub := range all {
			merge(out, c.convert(sub, depth+1))
		}
	}

	for _, k := range keptKeywords {
		if v, ok := in.m[k]; ok {
			out[k] = v
		}
	}

	// type: a list with "null" becomes nullable; several types, anyOf.
	switch t := in.m["type"].(type) {
	case string:
		if t == "null" {
			out["nullable"] = true
		} else {
			out["type"] = t
		}
	case []any:
		var types []string
		for _, x := range t {
			s, _ := x.(string)
			switch s {
			case "":
			case "null":
				out["nullable"] = true
			default:
				types = append(types, s)
			}
		}
		switch len(types) {
		case 0:
		case 1:
			out["type"] = types[0]
		default:
			branches := make([]any, len(types))
			for i, s := range types {
				b := map[string]any{"type": s}
				if s == "array" {
					b["items"] = map[string]any{} // Gemini requires items on every array
				}
				branches[i] = b
			}
			out["anyOf"] = branches
		}
	}

	// anyOf and oneOf: null branches become nullable; one branch left is
	// inlined.
	var branches []any
	for _, key := range []string{"anyOf", "oneOf"} {
		list, _ := in.m[key].([]any)
		for _, sub := range list {
			if o, ok := sub.(*object); ok && o.m["type"] == "null" && len(o.keys) == 1 {
				out["nullable"] = true
				continue
			}
			branches = append(branches, c.convert(sub, depth+1))
		}
	}
	switch len(branches) {
	case 0:
	case 1:
		merge(out, branches[0].(map[string]any))
	default:
		out["anyOf"] = branches
	}

	var own []string // this schema's property names, in order
	if props, ok := in.m["properties"].(*object); ok && len(props.keys) > 0 {
		// This schema's own properties win over those of $ref and allOf.
		merged, _ := out["properties"].(map[string]any)
		if merged == nil {
			merged = make(map[string]any, len(props.keys))
		}
		for _, name := range props.keys {
			merged[name] = c.convert(props.m[name], depth+1)
		}
		out["properties"] = merged
		own = props.keys
	}
	if req, ok := in.m["required"].([]any); ok {
		merge(out, map[string]any{"required": req})
	}

	switch items := in.m["items"].(type) {
	case *object:
		out["items"] = c.convert(items, depth+1)
	case []any: // a tuple: Gemini has none, so accept any of the positions
		if len(items) > 0 {
			subs := make([]any, len(items))
			for i, sub := range items {
				subs[i] = c.convert(sub, depth+1)
			}
			out["items"] = map[string]any{"anyOf": subs}
		}
	}
	if out["type"] == "array" && out["items"] == nil {
		out["items"] = map[string]any{}
	}

	c.enum(in, out)

	if f, ok := in.m["format"].(string); ok {
		t, _ := out["type"].(string)
		for _, allowed := range allowedFormats[t] {
			if f == allowed {
				out["format"] = f
			}
		}
	}
	keepDeclaredRequired(out)
	c.propertyOrdering(out, own)
	return out
}

// enum keeps enums of strings and turns others into prose: Gemini allows
// enum only for strings.
func (c *schemaConverter) enum(in *object, out map[string]any) {
	var values []any
	if cv, ok := in.m["const"]; ok {
		values = []any{cv}
	}
	if ev, ok := in.m["enum"].([]any); ok {
		values = ev
	}
	if values == nil {
		return
	}
	allStrings := true
	for _, v := range values {
		if _, ok := v.(string); !ok {
			allStrings = false
			break
		}
	}
	if t, hasType := out["type"]; allStrings && (!hasType || t == "string") {
		out["type"] = "string"
		out["enum"] = values
		return
	}
	words := make([]string, len(values))
	for i, v := range values {
		b, _ := json.Marshal(v)
		words[i] = string(b)
	}
	note := "Allowed values: " + strings.Join(words, ", ") + "."
	if d, _ := out["description"].(string); d != "" {
		note = d + " " + note
	}
	out["description"] = note
}

// propertyOrdering makes out's propertyOrdering list exactly its
// properties: a given or inherited ordering first, then own (the schema's
// own properties in their order), then any others sorted. Without c.order
// an ordering is only repaired, never added.
func (c *schemaConverter) propertyOrdering(out map[string]any, own []string) {
	props, _ := out["properties"].(map[string]any)
	given, hasGiven := out["propertyOrdering"].([]any)
	if len(props) < 2 || (!c.order && !hasGiven) {
		delete(out, "propertyOrdering")
		return
	}
	var order []any
	add := func(name string) {
		if props[name] != nil && !containsString(order, name) {
			order = append(order, name)
		}
	}
	for _, g := range given {
		if name, ok := g.(string); ok {
			add(name)
		}
	}
	for _, name := range own {
		add(name)
	}
	rest := make([]string, 0, len(props))
	for name := range props {
		rest = append(rest, name)
	}
	sort.Strings(rest)
	for _, name := range rest {
		add(name)
	}
	out["propertyOrdering"] = order
}

// merge copies src into dst: properties are united, required lists
// joined, and other keywords already in dst win.
func merge(dst, src map[string]any) {
	for k, v := range src {
		switch k {
		case "properties":
			sp, _ := v.(map[string]any)
			dp, _ := dst[k].(map[string]any)
			if dp == nil {
				dp = make(map[string]any, len(sp))
			}
			for name, s := range sp {
				if _, taken := dp[name]; !taken {
					dp[name] = s
				}
			}
			dst[k] = dp
		case "required":
			sr, _ := v.([]any)
			dr, _ := dst[k].([]any)
			for _, r := range sr {
				if name, ok := r.(string); ok && !containsString(dr, name) {
					dr = append(dr, name)
				}
			}
			dst[k] = dr
		default:
			if _, taken := dst[k]; !taken {
				dst[k] = v
			}
		}
	}
}

// keepDeclaredRequired drops required names that have no property: the
// API refuses them ("property is not defined").
func keepDeclaredRequired(out map[string]any) {
	req, ok := out["required"].([]any)
	if !ok {
		return
	}
	props, _ := out["properties"].(map[string]any)
	var kept []any
	for _, r := range req {
		if name, ok := r.(string); ok && props[name] != nil && !containsString(kept, name) {
			kept = append(kept, name)
		}
	}
	if len(kept) == 0 {
		delete(out, "required")
		return
	}
	out["required"] = kept
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}
