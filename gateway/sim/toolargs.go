package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// shellToolNames are the names, lower-cased, of the tools that run a shell
// command in the harnesses the simulator serves: Claude Code's Bash,
// OpenCode's bash, Codex's shell, shell_command, exec_command and
// local_shell, and Gemini CLI's run_shell_command.
var shellToolNames = []string{"bash", "shell", "exec_command", "local_shell", "run_shell_command", "shell_command"}

// findShellTool returns the first tool with a shell tool's name.
func findShellTool(tools []toolDef) (toolDef, bool) {
	for _, t := range tools {
		for _, n := range shellToolNames {
			if strings.EqualFold(t.name, n) {
				return t, true
			}
		}
	}
	return toolDef{}, false
}

// findTool returns the tool called name, matched exactly or else
// case-insensitively.
func findTool(tools []toolDef, name string) (toolDef, bool) {
	for _, t := range tools {
		if t.name == name {
			return t, true
		}
	}
	for _, t := range tools {
		if strings.EqualFold(t.name, name) {
			return t, true
		}
	}
	return toolDef{}, false
}

// schemaProp is one property of a tool's parameter schema.
type schemaProp struct {
	name string
	typ  string // lower-cased JSON Schema type; "" if absent
}

// shellArgs builds the arguments object of a call that runs cmd, from the
// tool's JSON schema: a "command" array gets ["bash","-lc",cmd], a
// "command" or "cmd" string gets cmd, a required string "description"
// gets "Run a command", and every other required property the zero value
// of its type. Properties keep the schema's order. A tool without
// properties gets {"command":cmd}.
func shellArgs(schema json.RawMessage, cmd string) (string, error) {
	props, required, err := parseSchema(schema)
	if err != nil {
		return "", err
	}
	if len(props) == 0 {
		return `{"command":` + string(appendString(nil, cmd)) + `}`, nil
	}
	out := []byte{'{'}
	for _, p := range props {
		var val []byte
		switch {
		case p.name == "command" && p.typ == "array":
			val = appendStringArray(nil, []string{"bash", "-lc", cmd})
		case (p.name == "command" || p.name == "cmd") && (p.typ == "string" || p.typ == ""):
			val = appendString(nil, cmd)
		case !required[p.name]:
			continue
		case p.name == "description" && p.typ == "string":
			val = appendString(nil, "Run a command")
		default:
			val = []byte(zeroOf(p.typ))
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendString(out, p.name)
		out = append(out, ':')
		out = append(out, val...)
	}
	return string(append(out, '}')), nil
}

func zeroOf(typ string) string {
	switch typ {
	case "string":
		return `""`
	case "number", "integer":
		return "0"
	case "boolean":
		return "false"
	case "array":
		return "[]"
	case "object":
		return "{}"
	}
	return "null"
}

// parseSchema reads the properties, in order, and the required names of
// an object schema.
func parseSchema(schema json.RawMessage) ([]schemaProp, map[string]bool, error) {
	schema = bytes.TrimSpace(schema)
	if len(schema) == 0 || string(schema) == "null" {
		return nil, nil, nil
	}
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, nil, fmt.Errorf("tool parameters are not a JSON schema object: %w", err)
	}
	required := make(map[string]bool, len(top.Required))
	for _, r := range top.Required {
		required[r] = true
	}
	if len(bytes.TrimSpace(top.Properties)) == 0 {
		return nil, required, nil
	}
	dec := json.NewDecoder(bytes.NewReader(top.Properties))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("tool parameters: properties must be an object")
	}
	var props []schemaProp
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("tool parameters: %w", err)
		}
		name, _ := tok.(string)
		var p struct {
			Type json.RawMessage `json:"type"`
		}
		if err := dec.Decode(&p); err != nil {
			return nil, nil, fmt.Errorf("tool parameters: property %q: %w", name, err)
		}
		props = append(props, schemaProp{name: name, typ: schemaType(p.Type)})
	}
	return props, required, nil
}

// schemaType reads a "type" that is a string or a list of strings (the
// first that is not "null"), lower-cased: Gemini writes "STRING".
func schemaType(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.ToLower(s)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for _, t := range list {
			if t != "null" {
				return strings.ToLower(t)
			}
		}
	}
	return ""
}
