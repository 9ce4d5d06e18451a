package trace

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText draws the tree for people, one node a line:
//
//	decision s1/2 (completed, 14.2s): 3 model call(s), 1 tool call(s), $0.012
//	├─ model call call_x: anthropic/claude-sonnet-4-5, 1200 in / 80 out tokens, ...
//	│  ├─ routing static: route fast
//	...
func WriteText(w io.Writer, n *Node) error {
	var b strings.Builder
	b.WriteString(line(n))
	b.WriteByte('\n')
	writeChildren(&b, n, "")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChildren(b *strings.Builder, n *Node, indent string) {
	for i, c := range n.Children {
		branch, next := "├─ ", "│  "
		if i == len(n.Children)-1 {
			branch, next = "└─ ", "   "
		}
		b.WriteString(indent + branch + line(c) + "\n")
		writeChildren(b, c, indent+next)
	}
}

func line(n *Node) string {
	title := strings.ReplaceAll(n.Kind, "_", " ") + " " + n.Name
	if n.Kind == KindAttempt {
		title = n.Name
	}
	var facts []string
	if n.Kind == KindDecision {
		if o, ok := n.Attrs["outcome"].(string); ok {
			facts = append(facts, o)
		} else {
			facts = append(facts, "running")
		}
	}
	if !n.End.IsZero() && n.Kind != KindModelCall && n.Kind != KindAttempt {
		facts = append(facts, n.End.Sub(n.Start).Round(time.Millisecond).String())
	}
	if len(facts) > 0 {
		title += " (" + strings.Join(facts, ", ") + ")"
	}
	if n.Summary != "" {
		title += ": " + n.Summary
	}
	if n.Kind == KindRouting {
		if t, ok := n.Attrs["targets"].([]string); ok {
			title += " → " + strings.Join(t, ", ")
		}
		if d, ok := n.Attrs["plugin_digest"].(string); ok {
			title += fmt.Sprintf(" [plugin %s]", short(d))
		}
	}
	if n.Error != "" {
		title += " ERROR: " + excerpt(n.Error)
	}
	return title
}

func short(digest string) string {
	if i := strings.IndexByte(digest, ':'); i >= 0 && len(digest) > i+13 {
		return digest[:i+13]
	}
	return digest
}
