package realclients_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/realclients"
)

// cliTimeout bounds one CLI run; they take 1 to 10 s here.
const cliTimeout = 3 * time.Minute

// jsonLines decodes a CLI's line-delimited JSON output, skipping other lines.
func jsonLines(out []byte) []map[string]any {
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

// cliCase is one prompt for a CLI and what its final text must hold.
type cliCase struct {
	name, prompt string
	want         []string
}

var cliCases = []cliCase{
	{"text answer", "Say hello to Switchyard.", []string{"Simulated answer"}},
	{"shell tool call", `Run the command. [[sim tool=shell cmd="echo switchyard-e2e"]]`, []string{"Tool result", "switchyard-e2e"}},
}

// checkCLICalls asserts that the CLI's calls were recorded, attributed to
// the CLI and its own session id, and priced.
func checkCLICalls(t *testing.T, s *gatewaytest.Stack, client, session string, atLeast int) {
	t.Helper()
	calls := completedBy(t, s, client)
	n := 0
	for _, c := range calls {
		if c.ClientSessionID == "" {
			t.Fatalf("a %s call without its session id: %+v", client, c)
		}
		if c.ClientSessionID != session {
			continue // the other case's session
		}
		n++
		if c.KeyID != s.KeyID || c.OutputTokens == 0 || c.CostUSD <= 0 || c.Unpriced {
			t.Fatalf("%s call %+v: want the test key, tokens and a price", client, c)
		}
	}
	if n < atLeast {
		var seen []string
		for _, c := range calls {
			seen = append(seen, c.ClientSessionID)
		}
		t.Fatalf("%d %s calls with session %q, want at least %d (sessions seen: %v)", n, client, session, atLeast, seen)
	}
}

func TestClaudeCode(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			work, conf := t.TempDir(), t.TempDir()
			env := []string{
				"ANTHROPIC_BASE_URL=" + s.URL, "ANTHROPIC_API_KEY=" + s.Key, "CLAUDE_CONFIG_DIR=" + conf,
				"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1",
			}
			args := []string{"-p", tc.prompt, "--output-format", "stream-json", "--verbose", "--model", "sim-large", "--allowedTools", "Bash"}
			out, err := run(t, cliTimeout, work, env, filepath.Join(dir, "node_modules/.bin/claude"), args...)
			if err != nil {
				t.Fatal(err)
			}
			var session, result string
			for _, l := range jsonLines(out) {
				if l["type"] == "system" && l["subtype"] == "init" {
					session = str(l, "session_id")
				}
				if l["type"] == "result" {
					result = str(l, "result")
					if l["is_error"] == true {
						t.Fatalf("claude reported an error: %v", l)
					}
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(result, w) {
					t.Fatalf("result %q lacks %q; output:\n%s", result, w, tail(string(out), 3000))
				}
			}
			checkCLICalls(t, s, "claude-code", session, 1)
		})
	}
}

func TestCodex(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			work, home := t.TempDir(), t.TempDir()
			env := []string{"CODEX_HOME=" + home, "SY_KEY=" + s.Key}
			args := []string{"exec", "--json", "--skip-git-repo-check", "-m", "sim-large",
				"--dangerously-bypass-approvals-and-sandbox",
				"--disable", "plugins", "--disable", "remote_plugin", "--disable", "apps",
				"--disable", "api_key_model_discovery", "--disable", "tool_suggest",
				"-c", "analytics.enabled=false", "-c", "check_for_update_on_startup=false",
				"-c", "model_provider=sy", "-c", `model_providers.sy.name="switchyard"`,
				"-c", fmt.Sprintf(`model_providers.sy.base_url="%s/v1"`, s.URL),
				"-c", `model_providers.sy.env_key="SY_KEY"`, "-c", `model_providers.sy.wire_api="responses"`,
				tc.prompt}
			out, err := run(t, cliTimeout, work, env, filepath.Join(dir, "node_modules/.bin/codex"), args...)
			if err != nil {
				t.Fatal(err)
			}
			var thread, text string
			for _, l := range jsonLines(out) {
				switch l["type"] {
				case "thread.started":
					thread = str(l, "thread_id")
				case "item.completed":
					if str(l, "item", "type") == "agent_message" {
						text = str(l, "item", "text")
					}
				case "turn.failed", "error":
					t.Fatalf("codex failed: %v", l)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Fatalf("final message %q lacks %q; output:\n%s", text, w, tail(string(out), 3000))
				}
			}
			checkCLICalls(t, s, "codex", thread, 1)
		})
	}
}

func TestOpenCode(t *testing.T) {
	t.Parallel()
	dir := realclients.DirOrSkip(t)
	s := newStack(t)
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			work, xdg := t.TempDir(), t.TempDir()
			cfg := filepath.Join(xdg, "opencode.json")
			conf := fmt.Sprintf(`{"$schema":"https://opencode.ai/config.json","autoupdate":false,"share":"disabled",
				"provider":{"sy":{"npm":"@ai-sdk/openai-compatible","name":"Switchyard",
				"options":{"baseURL":"%s/v1","apiKey":"{env:SY_KEY}"},"models":{"sim-large":{"name":"sim-large"}}}},
				"model":"sy/sim-large"}`, s.URL)
			if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			env := []string{"SY_KEY=" + s.Key, "OPENCODE_CONFIG=" + cfg,
				"OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1", "OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
				"OPENCODE_DISABLE_LSP_DOWNLOAD=1", "OPENCODE_DISABLE_SHARE=1",
				"XDG_DATA_HOME=" + filepath.Join(xdg, "data"), "XDG_CONFIG_HOME=" + filepath.Join(xdg, "config"),
				"XDG_CACHE_HOME=" + filepath.Join(xdg, "cache"), "XDG_STATE_HOME=" + filepath.Join(xdg, "state")}
			out, err := run(t, cliTimeout, work, env, filepath.Join(dir, "node_modules/.bin/opencode"), "run", "--format", "json", tc.prompt)
			if err != nil {
				t.Fatal(err)
			}
			var session, text string
			for _, l := range jsonLines(out) {
				if s := str(l, "sessionID"); s != "" {
					session = s
				}
				if l["type"] == "text" {
					text += str(l, "part", "text")
				}
				if l["type"] == "error" {
					t.Fatalf("opencode failed: %v", l)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Fatalf("answer %q lacks %q; output:\n%s", text, w, tail(string(out), 3000))
				}
			}
			// A new session makes a title call and the real one.
			checkCLICalls(t, s, "opencode", session, 2)
		})
	}
}
