package agent

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const good = `# two agents
agents:
  - name: reviewer
    harness: claude-code
    model: claude-sonnet-4-5
    instructions: |
      Review the diff.
    tools:
      allow: ["Read", "Bash(git *)"]
    mcp_servers:
      - name: docs
        url: http://127.0.0.1:9000/mcp
    budget: {max_usd_per_session: 2.5}
    workspace: {path: ./repo}
    limits: {wall_clock: 30m, memory_mb: 2048}
  - name: fixer
    harness: codex
    model: fast
    tags: {task: quick}
    workspace: {git: /srv/repo}
    resume: auto
gateway:
  providers: []
`

func TestParseFile(t *testing.T) {
	doc, err := ParseFile("/etc/sy/agents.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Agents) != 2 || doc.Agents[0].Name != "reviewer" || doc.Agents[1].Name != "fixer" {
		t.Fatalf("agents = %+v", doc.Agents)
	}
	r := doc.Agents[0]
	if r.Workspace.Path != "/etc/sy/repo" {
		t.Errorf("relative workspace.path = %q, want it made absolute from the file's directory", r.Workspace.Path)
	}
	if r.Limits.WallClock.D() != 30*time.Minute || r.Limits.MemoryMB != 2048 || r.Budget.MaxUSDPerSession != 2.5 {
		t.Errorf("limits/budget = %+v %+v", r.Limits, r.Budget)
	}
	if r.Instructions != "Review the diff.\n" || len(r.Tools.Allow) != 2 || r.MCPServers[0].URL == "" {
		t.Errorf("reviewer = %+v", r)
	}
	if doc.Agents[1].Tags["task"] != "quick" || doc.Agents[1].Resume != "auto" {
		t.Errorf("fixer = %+v", doc.Agents[1])
	}
	if len(doc.Other) != 1 || doc.Other[0] != "gateway" {
		t.Errorf("other sections = %v", doc.Other)
	}
	// The same in JSON.
	j := `{"agents":[{"name":"a","harness":"opencode","model":"m"}]}`
	if doc, err := ParseFile("a.json", []byte(j)); err != nil || len(doc.Agents) != 1 {
		t.Fatalf("json: %v %+v", err, doc)
	}
}

// Every bad input is refused with the line of the problem and what to do.
func TestParseFileErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // each an error line's start, in order
	}{
		{"empty", ``, []string{"f.yaml: the file is empty"}},
		{"not yaml", "agents: [\n", []string{"f.yaml:1: did not find expected node content"}},
		{"no agents", "gateway: {}\n", []string{`f.yaml:1:1: no "agents:" list`}},
		{"agents not a list", "agents: {name: x}\n", []string{"f.yaml:1:9: agents: must be a list"}},
		{"unknown field", "agents:\n  - name: a\n    harnes: codex\n", []string{`f.yaml:3:5: agents[0]: unknown field "harnes": the fields are budget, description, env, harness,`}},
		{"unknown nested field", "agents:\n  - name: a\n    harness: codex\n    model: m\n    tools: {allow: [x], permit: [y]}\n", []string{`f.yaml:5:25: agents[0].tools: unknown field "permit"`}},
		{"unknown field in a list item", "agents:\n  - name: a\n    harness: codex\n    model: m\n    mcp_servers:\n      - name: d\n        uri: http://x\n", []string{`f.yaml:7:9: agents[0].mcp_servers[0]: unknown field "uri"`}},
		{"wrong type", "agents:\n  - name: a\n    harness: codex\n    model: m\n    limits:\n      memory_mb: lots\n", []string{`f.yaml:6:7: agents[0].limits.memory_mb: is string, want a number`}},
		{"bad values, all reported", "agents:\n  - name: Bad_Name\n    harness: claud\n  - name: ok\n    harness: codex\n    model: m\n    mcp_servers:\n      - name: d\n        url: ftp://x\n", []string{
			`f.yaml:2:5: agents[0].name: "Bad_Name" is not an agent name`,
			`f.yaml:2:5: agents[0].model: required`, // model is missing: the agent's line
			`f.yaml:3:5: agents[0].harness: "claud" is not a harness: use one of claude-code, codex, opencode`,
			`f.yaml:9:9: agents[1].mcp_servers[0].url: "ftp://x" is not an http(s) URL`}},
		{"duplicate name", "agents:\n  - {name: a, harness: codex, model: m}\n  - {name: a, harness: codex, model: n}\n", []string{`f.yaml:3:6: agents[1].name: "a" is also the name of agents[0]`}},
		{"bad duration", "agents:\n  - name: a\n    harness: codex\n    model: m\n    limits: {wall_clock: 30}\n", []string{`f.yaml:2:5: agents[0]: duration 30: write it as a string with a unit`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile("f.yaml", []byte(c.doc))
			var les LineErrors
			if !errors.As(err, &les) {
				t.Fatalf("err = %v, want LineErrors", err)
			}
			got := strings.Split(les.Error(), "\n")
			if len(got) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(c.want), les.Error())
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestValidateOverAPI(t *testing.T) {
	d := Definition{Name: "a", Harness: "codex", Model: "m", Workspace: Workspace{Path: "rel/dir"}}
	err := d.Validate()
	if err == nil || !strings.Contains(err.Error(), "workspace.path: \"rel/dir\" is relative") {
		t.Fatalf("relative path over the API: %v", err)
	}
	d.Workspace.Path = filepath.Join(t.TempDir())
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}
