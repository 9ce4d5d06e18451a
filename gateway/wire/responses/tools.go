package responses

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// toolMarker is the member of a canonical tool's Parameters that keeps
// what the tool's Responses form says beyond a plain function: that it is
// a custom (freeform) tool or the client's tool search, and the
// namespace it came in. See the package doc.
const toolMarker = "x-openai-tool"

// toolMark is the value of the x-openai-tool member.
type toolMark struct {
	// Type is "custom" for a custom tool, "tool_search" for a
	// client-executed tool search, "" for a function.
	Type string `json:"type,omitempty"`
	// Format is a custom tool's format, if it had one.
	Format json.RawMessage `json:"format,omitempty"`
	// Namespace and NamespaceDescription are those of the namespace tool
	// the tool was declared in; its canonical name is then
	// Namespace + "__" + its name.
	Namespace            string `json:"namespace,omitempty"`
	NamespaceDescription string `json:"namespace_description,omitempty"`
}

const (
	markCustom     = "custom"
	markToolSearch = "tool_search"
	// toolSearchName is the canonical name of the client's tool search,
	// which has no name on the wire.
	toolSearchName = "tool_search"
)

const customInputDescription = "The complete freeform input of this tool, as raw text: " +
	"the tool takes text, not JSON, so put exactly what it expects in this one string."

// customSchema is the schema of a custom tool's one string property,
// "input", whose description repeats the tool's grammar, if any, so that
// models other than OpenAI's see it.
func customSchema(format json.RawMessage) json.RawMessage {
	desc := customInputDescription
	var f struct {
		Type       string `json:"type"`
		Syntax     string `json:"syntax"`
		Definition string `json:"definition"`
	}
	if json.Unmarshal(format, &f) == nil && f.Type == "grammar" && f.Definition != "" {
		syntax := f.Syntax
		if syntax == "" {
			syntax = "lark"
		}
		desc += "\n\nThe text must match this " + syntax + " grammar:\n" + f.Definition
	}
	type prop struct {
		Type        string `json:"type"`
		Description string `json:"description"`
	}
	b, _ := marshal(struct {
		Type                 string          `json:"type"`
		Properties           map[string]prop `json:"properties"`
		Required             []string        `json:"required"`
		AdditionalProperties bool            `json:"additionalProperties"`
	}{"object", map[string]prop{"input": {"string", desc}}, []string{"input"}, false})
	return b
}

// marked returns the JSON Schema object params with the marker m as its
// first member.
func marked(params json.RawMessage, m toolMark) json.RawMessage {
	mark, _ := marshal(m)
	body := bytes.TrimSpace(params)[1:] // after '{'
	out := make([]byte, 0, len(params)+len(mark)+len(toolMarker)+4)
	out = append(out, `{"`+toolMarker+`":`...)
	out = append(out, mark...)
	if rest := bytes.TrimSpace(body); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body...)
}

// markOf returns the marker of canonical tool t and whether it has one.
func markOf(t llm.Tool) (toolMark, bool) {
	if !bytes.Contains(t.Parameters, []byte(`"`+toolMarker+`"`)) {
		return toolMark{}, false
	}
	var schema map[string]json.RawMessage
	if json.Unmarshal(t.Parameters, &schema) != nil {
		return toolMark{}, false
	}
	raw, ok := schema[toolMarker]
	if !ok {
		return toolMark{}, false
	}
	var m toolMark
	if json.Unmarshal(raw, &m) != nil {
		return toolMark{}, false
	}
	if string(m.Format) == "null" {
		m.Format = nil
	}
	return m, true
}

// IsCustomTool reports whether t is a Responses custom (freeform) tool in
// canonical form, as DecodeRequest builds it: its Parameters carry the
// x-openai-tool member with type "custom", and a call of it has
// Arguments {"input":"<text>"}.
func IsCustomTool(t llm.Tool) bool {
	m, ok := markOf(t)
	return ok && m.Type == markCustom
}

// toolMarks maps the canonical names of tools that carry a marker to
// their markers; nil if none does.
func toolMarks(tools []llm.Tool) map[string]toolMark {
	var marks map[string]toolMark
	for _, t := range tools {
		if m, ok := markOf(t); ok {
			if marks == nil {
				marks = map[string]toolMark{}
			}
			marks[t.Name] = m
		}
	}
	return marks
}

// canonicalName is the canonical name of the tool name in namespace.
func canonicalName(name, namespace string) string {
	if namespace == "" {
		return name
	}
	return namespace + "__" + name
}

// wireName is the Responses name of the canonical tool name with marker m.
func wireName(name string, m toolMark) string {
	return strings.TrimPrefix(name, m.Namespace+"__")
}

// customArguments is the canonical Arguments of a custom tool call.
func customArguments(input string) string {
	b, _ := marshal(struct {
		Input string `json:"input"`
	}{input})
	return string(b)
}

// customInput is the freeform input of a custom tool call with canonical
// arguments args. Arguments that are not the expected object (a model
// that ignored the schema) are passed on as the input unchanged.
func customInput(args string) string {
	var v struct {
		Input *string `json:"input"`
	}
	if json.Unmarshal([]byte(args), &v) != nil || v.Input == nil {
		return args
	}
	return *v.Input
}

// reasoningData is the Part.Data that keeps a reasoning item's id.
func reasoningData(id string) string {
	if id == "" {
		return ""
	}
	b, _ := marshal(struct {
		ID string `json:"id"`
	}{id})
	return string(b)
}

// reasoningID is the reasoning item id kept in a thinking part's Data, ""
// if there is none.
func reasoningID(data string) string {
	if !strings.HasPrefix(data, "{") {
		return ""
	}
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(data), &v)
	return v.ID
}
