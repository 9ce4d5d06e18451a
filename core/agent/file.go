package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/core/config"
)

// LineError is a problem in a file, at a line and column (1-based; 0
// when unknown).
type LineError struct {
	File         string
	Line, Column int
	Path         string // field path, such as agents[1].harness
	Message      string
}

func (e LineError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	return b.String() + ": " + e.Message
}

// LineErrors is every problem found in a file, in file order.
type LineErrors []LineError

func (es LineErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Document is what ParseFile found: the agents, in file order, and the
// other top-level sections, which apply does not act on.
type Document struct {
	Agents []Definition
	Other  []string
}

// ParseFile reads agents from a YAML or JSON document (JSON is YAML):
//
//	agents:
//	  - name: reviewer
//	    harness: claude-code
//	    model: claude-sonnet-4-5
//
// file names the document in errors, and a relative workspace.path is
// made absolute from file's directory. Every problem is reported, each
// with its line: a LineErrors.
func ParseFile(file string, b []byte) (Document, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Document{}, LineErrors{yamlError(file, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return Document{}, LineErrors{{File: file, Message: "the file is empty: define agents under a top-level \"agents:\" list"}}
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return Document{}, LineErrors{at(file, top, "", "the file must be a mapping with an \"agents:\" list")}
	}
	var doc Document
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k := top.Content[i].Value; k == "agents" {
			list = top.Content[i+1]
		} else {
			doc.Other = append(doc.Other, k)
		}
	}
	if list == nil {
		return doc, LineErrors{at(file, top, "", "no \"agents:\" list: define agents under a top-level \"agents:\" key")}
	}
	if list.Kind != yaml.SequenceNode {
		return doc, LineErrors{at(file, list, "agents", "must be a list of agents (each item starting with \"- name: ...\")")}
	}
	var errs LineErrors
	names := map[string]int{}
	for i, n := range list.Content {
		p := fmt.Sprintf("agents[%d]", i)
		d, es := decodeAgent(file, p, n)
		if len(es) > 0 {
			errs = append(errs, es...)
			continue
		}
		if d.Workspace.Path != "" && !filepath.IsAbs(d.Workspace.Path) {
			d.Workspace.Path = filepath.Join(filepath.Dir(file), d.Workspace.Path)
			if abs, err := filepath.Abs(d.Workspace.Path); err == nil {
				d.Workspace.Path = abs
			}
		}
		if err := d.Validate(); err != nil {
			var fes FieldErrors
			errors.As(err, &fes)
			for _, fe := range fes {
				errs = append(errs, at(file, find(n, fe.Path), p+"."+fe.Path, fe.Message))
			}
			continue
		}
		if j, dup := names[d.Name]; dup {
			errs = append(errs, at(file, find(n, "name"), p+".name", fmt.Sprintf("%q is also the name of agents[%d]: names are unique", d.Name, j)))
			continue
		}
		names[d.Name] = i
		doc.Agents = append(doc.Agents, d)
	}
	if errs != nil {
		slices.SortStableFunc(errs, func(a, b LineError) int { return a.Line - b.Line })
		return doc, errs
	}
	return doc, nil
}

// decodeAgent decodes one agent node strictly: unknown fields and wrong
// types are errors at their line.
func decodeAgent(file, p string, n *yaml.Node) (Definition, LineErrors) {
	var errs LineErrors
	if n.Kind != yaml.MappingNode {
		return Definition{}, LineErrors{at(file, n, p, "an agent is a mapping of fields (name:, harness:, model:, ...)")}
	}
	unknownFields(file, p, n, reflect.TypeFor[Definition](), &errs)
	if errs != nil {
		return Definition{}, errs
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return Definition{}, LineErrors{yamlError(file, err)}
	}
	j, err := json.Marshal(config.JSONable(v))
	if err != nil {
		return Definition{}, LineErrors{at(file, n, p, err.Error())}
	}
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(j))
	if err := dec.Decode(&d); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Definition{}, LineErrors{at(file, find(n, te.Field), p+"."+te.Field, fmt.Sprintf("is %s, want %s", te.Value, jsonKind(te.Type)))}
		}
		// A field's own decoder (a duration, say) says what was wrong but
		// not where: point at the agent.
		return Definition{}, LineErrors{at(file, n, p, err.Error())}
	}
	return d, nil
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// unknownFields reports keys of n that t (a struct) has no JSON field
// for, recursing into struct and list-of-struct fields.
func unknownFields(file, p string, n *yaml.Node, t reflect.Type, errs *LineErrors) {
	if n.Kind != yaml.MappingNode {
		return // the type check reports it
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			slices.Sort(known)
			*errs = append(*errs, at(file, k, p, fmt.Sprintf("unknown field %q: the fields are %s", k.Value, strings.Join(known, ", "))))
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.NumField() > 0 && ft.PkgPath() == t.PkgPath():
			unknownFields(file, p+"."+k.Value, v, ft, errs)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && v.Kind == yaml.SequenceNode:
			for j, e := range v.Content {
				unknownFields(file, fmt.Sprintf("%s.%s[%d]", p, k.Value, j), e, ft.Elem(), errs)
			}
		}
	}
}

// find returns the node at a field path under n ("mcp_servers[1].url"),
// or the deepest node on the way that exists.
func find(n *yaml.Node, path string) *yaml.Node {
	for _, part := range strings.Split(path, ".") {
		key, idx, _ := strings.Cut(part, "[")
		if n.Kind != yaml.MappingNode {
			return n
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				if next.Kind != yaml.MappingNode && next.Kind != yaml.SequenceNode {
					next = n.Content[i] // point at the key: "harness: x" reads well
					if idx == "" {
						return next
					}
				}
				break
			}
		}
		if next == nil {
			return n
		}
		n = next
		for idx != "" {
			var s string
			s, idx, _ = strings.Cut(idx, "]")
			idx = strings.TrimPrefix(idx, "[")
			i, err := strconv.Atoi(s)
			if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		}
	}
	return n
}

func at(file string, n *yaml.Node, path, msg string) LineError {
	return LineError{File: file, Line: n.Line, Column: n.Column, Path: path, Message: msg}
}

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into a LineError.
func yamlError(file string, err error) LineError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.TrimPrefix(te.Errors[0], "yaml: ")
	}
	e := LineError{File: file, Message: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(num); err == nil {
				e.Line, e.Message = l, tail
			}
		}
	}
	return e
}
