package sim

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenRequests are one request per format and scenario; each runs
// streamed and not, on a fresh server with a fixed clock, so its answer is
// the same byte for byte.
var goldenRequests = []struct {
	name, path, streamPath, body string
	headers                      []string
}{
	{
		name: "chat.text", path: "/v1/chat/completions",
		body: `{"model":"sim-reasoning","reasoning_effort":"low","messages":[{"role":"system","content":"You are terse."},
			{"role":"user","content":"Name three rivers [[sim words=6]]"}]`,
	},
	{
		name: "chat.tool", path: "/v1/chat/completions",
		body: `{"model":"sim-small","messages":[{"role":"user","content":"List the files [[sim tool=shell cmd=\"ls -la\"]]"}],
			"tools":[{"type":"function","function":{"name":"bash","description":"Run a shell command","parameters":@opencode_bash_v0.json}}]`,
	},
	{
		name: "responses.text", path: "/v1/responses",
		body: `{"model":"sim-reasoning","instructions":"You are terse.","store":false,
			"reasoning":{"effort":"medium","summary":"auto"},"include":["reasoning.encrypted_content"],
			"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Name three rivers [[sim words=6 reasoning=3]]"}]}]`,
	},
	{
		name: "responses.tool", path: "/v1/responses",
		body: `{"model":"sim-small","store":false,"tool_choice":"auto","parallel_tool_calls":false,
			"tools":[{"type":"function","name":"shell","description":"Runs a shell command","strict":false,"parameters":@codex_shell.json}],
			"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"List the files [[sim tool=shell cmd=\"ls -la\"]]"}]}]`,
	},
	{
		name: "messages.text", path: "/v1/messages?beta=true", headers: []string{"anthropic-version: 2023-06-01"},
		body: `{"model":"sim-reasoning","max_tokens":1024,"thinking":{"type":"enabled","budget_tokens":1024},"system":"You are terse.",
			"messages":[{"role":"user","content":"Name three rivers [[sim words=6 reasoning=3]]"}]`,
	},
	{
		name: "messages.tool", path: "/v1/messages?beta=true", headers: []string{"anthropic-version: 2023-06-01"},
		body: `{"model":"sim-small","max_tokens":1024,"tools":[{"name":"Bash","description":"Executes a bash command","input_schema":@claude_code_bash.json}],
			"messages":[{"role":"user","content":[{"type":"text","text":"List the files [[sim tool=shell cmd=\"ls -la\"]]"}]}]`,
	},
	{
		name: "gemini.text", path: "/v1beta/models/sim-reasoning:generateContent", streamPath: "/v1beta/models/sim-reasoning:streamGenerateContent?alt=sse",
		body: `{"systemInstruction":{"parts":[{"text":"You are terse."}]},"generationConfig":{"thinkingConfig":{"includeThoughts":true}},
			"contents":[{"role":"user","parts":[{"text":"Name three rivers [[sim words=6 reasoning=3]]"}]}]`,
	},
	{
		name: "gemini.tool", path: "/v1beta/models/sim-small:generateContent", streamPath: "/v1beta/models/sim-small:streamGenerateContent?alt=sse",
		body: `{"tools":[{"functionDeclarations":[{"name":"run_shell_command","description":"Runs a shell command","parameters":@gemini_run_shell_command.json}]}],
			"contents":[{"role":"user","parts":[{"text":"List the files [[sim tool=shell cmd=\"ls -la\"]]"}]}]`,
	},
}

func TestGolden(t *testing.T) {
	for _, g := range goldenRequests {
		for _, stream := range []bool{false, true} {
			name, p, body := g.name+".json", g.path, g.body
			if stream {
				name = g.name + ".stream.txt"
				if g.streamPath != "" {
					p = g.streamPath
				} else {
					body += `,"stream":true`
					if strings.HasPrefix(g.name, "chat") {
						body += `,"stream_options":{"include_usage":true}`
					}
				}
			}
			t.Run(name, func(t *testing.T) {
				_, ts := newTestServer(t, Config{})
				res := post(t, ts, p, inlineSchemas(t, body)+"}", g.headers...)
				if res.err != nil {
					t.Fatal(res.err)
				}
				var got strings.Builder
				got.WriteString("status: " + strconv.Itoa(res.status) + "\n")
				for _, h := range []string{"Content-Type", "X-Request-Id", "Request-Id"} {
					if v := res.header.Get(h); v != "" {
						got.WriteString(strings.ToLower(h) + ": " + v + "\n")
					}
				}
				got.WriteString("\n")
				got.Write(res.body)
				file := filepath.Join("testdata", "golden", name)
				if *update {
					if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(file, []byte(got.String()), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGolden -update to write it)", err)
				}
				if got.String() != string(want) {
					t.Errorf("answer differs from %s (review, then go test -run TestGolden -update):\ngot:\n%s\nwant:\n%s", file, got.String(), want)
				}
			})
		}
	}
}

// inlineSchemas replaces @name.json with testdata/tools/name.json.
func inlineSchemas(t *testing.T, body string) string {
	t.Helper()
	for {
		at := strings.Index(body, "@")
		if at < 0 {
			return body
		}
		end := strings.Index(body[at:], ".json") + at + len(".json")
		body = body[:at] + string(readTestdata(t, "tools/"+body[at+1:end])) + body[end:]
	}
}
