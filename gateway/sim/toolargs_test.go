package sim

import (
	"encoding/json"
	"testing"
)

func TestShellArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, schema, cmd, want string
	}{
		{name: "Claude Code Bash", schema: "@claude_code_bash.json", cmd: "echo hi",
			want: `{"command":"echo hi"}`},
		{name: "OpenCode bash", schema: "@opencode_bash.json", cmd: "echo hi",
			want: `{"command":"echo hi"}`},
		{name: "OpenCode bash before 1.x, description required", schema: "@opencode_bash_v0.json", cmd: "echo hi",
			want: `{"command":"echo hi","description":"Run a command"}`},
		{name: "Codex shell", schema: "@codex_shell.json", cmd: `echo "hi there"`,
			want: `{"command":["bash","-lc","echo \"hi there\""]}`},
		{name: "Codex exec_command", schema: "@codex_exec_command.json", cmd: "ls -la",
			want: `{"cmd":"ls -la"}`},
		{name: "Codex shell_command", schema: "@codex_shell_command.json", cmd: "ls -la",
			want: `{"command":"ls -la"}`},
		{name: "Gemini CLI run_shell_command, upper-case types", schema: "@gemini_run_shell_command.json", cmd: "pwd",
			want: `{"command":"pwd"}`},
		{name: "no schema", schema: ``, cmd: "pwd", want: `{"command":"pwd"}`},
		{name: "no properties", schema: `{"type":"object"}`, cmd: "pwd", want: `{"command":"pwd"}`},
		{name: "required properties get zero values in schema order", cmd: "make",
			schema: `{"type":"object","properties":{"n":{"type":"integer"},"f":{"type":"number"},"ok":{"type":"boolean"},"list":{"type":"array"},
				"obj":{"type":"object"},"s":{"type":["null","string"]},"any":{},"command":{"type":"string"},"optional":{"type":"string"},"description":{"type":"string"}},
				"required":["description","any","s","obj","list","ok","f","n"]}`,
			want: `{"n":0,"f":0,"ok":false,"list":[],"obj":{},"s":"","any":null,"command":"make","description":"Run a command"}`},
		{name: "command without type is a string", schema: `{"properties":{"command":{}}}`, cmd: "x", want: `{"command":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			schema := []byte(tc.schema)
			if len(tc.schema) > 0 && tc.schema[0] == '@' {
				schema = readTestdata(t, "tools/"+tc.schema[1:])
			}
			got, err := shellArgs(schema, tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestShellArgsRejectsBadSchema(t *testing.T) {
	t.Parallel()
	for _, schema := range []string{`[]`, `{"properties":[1]}`, `{"properties":{"a":1}}`} {
		if got, err := shellArgs([]byte(schema), "x"); err == nil {
			t.Errorf("%s: got %s, want an error", schema, got)
		}
	}
}

func TestFindShellTool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tools []string
		want  string
	}{
		{"Claude Code", []string{"Task", "Glob", "Bash", "Read"}, "Bash"},
		{"OpenCode", []string{"read", "bash", "edit"}, "bash"},
		{"Codex shell", []string{"update_plan", "shell"}, "shell"},
		{"Codex exec_command", []string{"exec_command", "write_stdin"}, "exec_command"},
		{"Codex shell_command", []string{"shell_command"}, "shell_command"},
		{"Gemini CLI", []string{"read_file", "run_shell_command"}, "run_shell_command"},
		{"first of several", []string{"exec_command", "bash"}, "exec_command"},
		{"none", []string{"read", "write"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tools []toolDef
			for _, n := range tc.tools {
				tools = append(tools, toolDef{name: n, kind: "function"})
			}
			got, ok := findShellTool(tools)
			if got.name != tc.want || ok != (tc.want != "") {
				t.Errorf("found %q (%v), want %q", got.name, ok, tc.want)
			}
		})
	}
}
