package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/realclients"
)

// These tests run real clients against a server that speaks through this
// codec: the pinned Codex and openai SDK that go tool task deps:clients
// installs (see realclients.Dir). SWITCHYARD_CODEX and
// SWITCHYARD_OPENAI_NODE point them at other installs.

// answerServer answers POST /v1/responses through the codec: it decodes
// each request (which must succeed), asks answer for the canonical
// events, and streams them (or encodes them whole if the client did not
// ask for a stream).
type answerServer struct {
	t      *testing.T
	answer func(turn int, req *llm.Request) []llm.StreamEvent
	mu     sync.Mutex
	reqs   []*llm.Request
	bodies [][]byte
}

func (s *answerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/responses" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	c := Codec{}
	req, err := c.DecodeRequest(body)
	if err != nil {
		s.t.Errorf("the client's request does not decode: %v\n%s", err, body)
		le := err.(*llm.Error)
		w.WriteHeader(le.Status)
		_, _ = w.Write(c.EncodeError(le))
		return
	}
	s.mu.Lock()
	turn := len(s.reqs)
	s.reqs = append(s.reqs, req)
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	events := s.answer(turn, req)
	bound := c.ForRequest(req)
	if !req.Stream {
		resp := assemble(s.t, events)
		out, err := bound.EncodeResponse(resp)
		if err != nil {
			s.t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	enc := bound.NewStreamEncoder(w)
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			s.t.Error(err)
			return
		}
		w.(http.Flusher).Flush()
	}
}

func textAnswer(id, text string) []llm.StreamEvent {
	return streamOf(&llm.Response{ID: id, Model: "test-model", StopReason: llm.StopEndTurn,
		Parts: []llm.Part{{Type: llm.PartText, Text: text}}, Usage: llm.Usage{InputTokens: 10, OutputTokens: 5}}, 4)
}

// runCodex runs codex exec with prompt against srv in a fresh home and
// workspace, and returns its JSON output lines and the workspace.
func runCodex(t *testing.T, bin, model string, srv http.Handler, prompt string, flags ...string) (string, string) {
	t.Helper()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	home, work := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"exec", "--json", "--skip-git-repo-check", "-C", work, "-m", model, "-s", "danger-full-access",
		"-c", "model_provider=sy",
		"-c", `model_providers.sy.name="switchyard"`,
		"-c", `model_providers.sy.base_url="` + hs.URL + `/v1"`,
		"-c", `model_providers.sy.env_key="SY_KEY"`,
		"-c", `model_providers.sy.wire_api="responses"`,
		"-c", "analytics.enabled=false", "-c", "check_for_update_on_startup=false",
		"-c", `web_search="disabled"`}
	args = append(append(args, flags...), prompt)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "CODEX_HOME="+home, "SY_KEY=test-key")
	cmd.Stdin = strings.NewReader("")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("codex stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("codex exec: %v\nstderr:\n%s", err, stderr.String())
	}
	return stdout.String(), work
}

// TestCodexExec runs Codex turns through the codec: requests as Codex
// 0.169 sends them must decode, and Codex must act on the answers. With
// web search on (its default) Codex's requests are refused by design, so
// it runs with web_search="disabled".
func TestCodexExec(t *testing.T) {
	bin := os.Getenv("SWITCHYARD_CODEX")
	if bin == "" {
		bin = filepath.Join(realclients.DirOrSkip(t), "node_modules", ".bin", "codex")
	}
	t.Run("apply_patch", func(t *testing.T) {
		// The model answers with a call of Codex's custom apply_patch
		// tool; Codex applies the patch, sends the result (and the
		// reasoning) back, and the model finishes with text.
		patch := "*** Begin Patch\n*** Add File: hello.txt\n+hello from the gateway\n*** End Patch\n"
		srv := &answerServer{t: t, answer: func(turn int, req *llm.Request) []llm.StreamEvent {
			if turn > 0 {
				return textAnswer("msg_done", "Created hello.txt.")
			}
			if !hasCustomTool(req, "apply_patch") {
				t.Errorf("Codex sent no custom apply_patch tool; tools: %v", toolNames(req))
			}
			return streamOf(&llm.Response{ID: "msg_call", Model: "test-model", StopReason: llm.StopToolUse,
				Parts: []llm.Part{
					{Type: llm.PartThinking, Text: "I will create the file.", Signature: "sig-opaque"},
					{Type: llm.PartToolCall, ToolCallID: "call_patch_1", ToolName: "apply_patch", Arguments: customArguments(patch)},
				}, Usage: llm.Usage{InputTokens: 100, OutputTokens: 20}}, 9)
		}}
		out, work := runCodex(t, bin, "gpt-5.5", srv, "Create hello.txt saying hello.")
		got, err := os.ReadFile(filepath.Join(work, "hello.txt"))
		if err != nil || string(got) != "hello from the gateway\n" {
			t.Errorf("hello.txt = %q, %v; want the patched content", got, err)
		}
		if !strings.Contains(out, "Created hello.txt.") {
			t.Errorf("codex did not report the final answer")
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if len(srv.reqs) != 2 {
			t.Fatalf("codex made %d requests, want 2", len(srv.reqs))
		}
		first, second := srv.reqs[0], srv.reqs[1]
		t.Logf("tools Codex sent: %v", toolNames(first))
		if !first.Stream || len(first.System) == 0 {
			t.Errorf("first request: stream %v, %d system parts; want a streamed request with instructions", first.Stream, len(first.System))
		}
		var call, result, thinking bool
		for _, m := range second.Messages {
			for _, p := range m.Parts {
				switch {
				case p.Type == llm.PartToolCall && p.ToolCallID == "call_patch_1" && customInput(p.Arguments) == patch:
					call = true
				case p.Type == llm.PartToolResult && p.ToolCallID == "call_patch_1":
					result = true
				case p.Type == llm.PartThinking && p.Signature == "sig-opaque" && p.Text == "I will create the file.":
					thinking = true
				}
			}
		}
		if !call || !result || !thinking {
			t.Errorf("second request: call %v, result %v, reasoning sent back %v; want all\n%s", call, result, thinking, srv.bodies[1])
		}
	})
	t.Run("namespaced tools", func(t *testing.T) {
		// A model Codex has no metadata for gets its sub-agent tools in
		// a namespace.
		srv := &answerServer{t: t, answer: func(int, *llm.Request) []llm.StreamEvent { return textAnswer("msg_hi", "Hello.") }}
		out, _ := runCodex(t, bin, "some-other-model", srv, "Say hello.")
		if !strings.Contains(out, `"text":"Hello."`) {
			t.Errorf("codex did not report the answer")
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		t.Logf("tools Codex sent: %v", toolNames(srv.reqs[0]))
		namespaced := 0
		for _, tool := range srv.reqs[0].Tools {
			if m, _ := markOf(tool); m.Namespace != "" && strings.HasPrefix(tool.Name, m.Namespace+"__") {
				namespaced++
			}
		}
		if namespaced == 0 {
			t.Errorf("no namespaced tools decoded from\n%s", srv.bodies[0])
		}
	})
	t.Run("retry after a rate limit", func(t *testing.T) {
		// A failed stream with rate_limit_exceeded and a delay makes
		// Codex wait and send the turn again.
		srv := &answerServer{t: t, answer: func(turn int, _ *llm.Request) []llm.StreamEvent {
			if turn == 0 {
				return []llm.StreamEvent{{Type: llm.EventStart, ID: "msg_limited", Model: "test-model"},
					{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrRateLimit, Status: 429,
						Message: "Rate limit reached", RetryAfter: 200 * time.Millisecond}}}
			}
			return textAnswer("msg_ok", "Done after waiting.")
		}}
		out, _ := runCodex(t, bin, "gpt-5.5", srv, "Say hello.")
		if !strings.Contains(out, "Done after waiting.") {
			t.Errorf("codex did not retry to the answer")
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if len(srv.reqs) != 2 {
			t.Errorf("codex made %d requests, want the failed one and its retry", len(srv.reqs))
		}
	})
}

func hasCustomTool(req *llm.Request, name string) bool {
	for _, t := range req.Tools {
		if t.Name == name && IsCustomTool(t) {
			return true
		}
	}
	return false
}

func toolNames(req *llm.Request) []string {
	var names []string
	for _, t := range req.Tools {
		names = append(names, t.Name)
	}
	return names
}

// nodeClientScript uses the openai SDK: a plain create, a streamed create,
// a stream that fails and a non-streamed error.
const nodeClientScript = `
const OpenAI = require("openai");
const client = new OpenAI({ baseURL: process.env.BASE_URL + "/v1", apiKey: "test-key", maxRetries: 0 });
(async () => {
  const out = {};
  const r = await client.responses.create({ model: "test-model", input: "say hi" });
  out.plain = { id: r.id, text: r.output_text, status: r.status, usage: r.usage };
  const stream = await client.responses.create({ model: "test-model", input: "say hi", stream: true });
  const types = []; let text = ""; let final = null;
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "response.output_text.delta") text += ev.delta;
    if (ev.type === "response.completed") final = ev.response;
  }
  out.stream = { types, text, finalStatus: final && final.status, finalText: final && final.output[0].content[0].text };
  try {
    const s = await client.responses.create({ model: "test-model", input: "fail please", stream: true });
    for await (const ev of s) {}
    out.failed = "no error";
  } catch (e) { out.failed = { name: e.constructor.name, message: e.message }; }
  try {
    await client.responses.create({ model: "", input: "x" });
    out.rejected = "no error";
  } catch (e) { out.rejected = { status: e.status, message: e.message, code: e.code, type: e.type }; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestNodeSDK checks that the official openai SDK reads the codec's
// answers: Response objects, streams, a failed stream (which must throw)
// and an error body.
func TestNodeSDK(t *testing.T) {
	modules := os.Getenv("SWITCHYARD_OPENAI_NODE")
	if modules == "" {
		modules = filepath.Join(realclients.DirOrSkip(t), "node_modules")
	}
	srv := &answerServer{t: t, answer: func(_ int, req *llm.Request) []llm.StreamEvent {
		if req.Messages[0].Parts[0].Text == "fail please" {
			return []llm.StreamEvent{{Type: llm.EventStart, ID: "msg_f", Model: "test-model"},
				{Type: llm.EventError, Err: &llm.Error{Kind: llm.ErrOverloaded, Status: 503, Message: "all targets are busy"}}}
		}
		return textAnswer("msg_hi", "Hi there!")
	}}
	mux := http.NewServeMux()
	mux.Handle("/v1/responses", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bytes.Contains(peekBody(r), []byte(`"model":""`)) {
			w.WriteHeader(400)
			_, _ = w.Write(Codec{}.EncodeError(invalidf("model", "required; name the model to use")))
			return
		}
		srv.ServeHTTP(w, r)
	}))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-e", nodeClientScript)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "BASE_URL="+hs.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Plain struct {
			ID, Text, Status string
			Usage            struct {
				InputTokens int `json:"input_tokens"`
				TotalTokens int `json:"total_tokens"`
			}
		}
		Stream struct {
			Types                        []string
			Text, FinalStatus, FinalText string
		}
		Failed   struct{ Name, Message string }
		Rejected struct {
			Status              int
			Message, Code, Type string
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %s: %v", out, err)
	}
	if got.Plain.ID != "resp_msg_hi" || got.Plain.Text != "Hi there!" || got.Plain.Status != "completed" || got.Plain.Usage.TotalTokens != 15 {
		t.Errorf("plain create = %+v", got.Plain)
	}
	if got.Stream.Text != "Hi there!" || got.Stream.FinalText != "Hi there!" || got.Stream.FinalStatus != "completed" ||
		len(got.Stream.Types) < 4 || got.Stream.Types[0] != "response.created" {
		t.Errorf("stream = %+v", got.Stream)
	}
	if got.Failed.Name != "APIError" || !strings.Contains(got.Failed.Message, "all targets are busy") {
		t.Errorf("failed stream = %+v, want an APIError with the message", got.Failed)
	}
	if got.Rejected.Status != 400 || got.Rejected.Type != "invalid_request_error" || !strings.Contains(got.Rejected.Message, "model: required") {
		t.Errorf("error body = %+v", got.Rejected)
	}
}

// peekBody reads r's body and puts it back.
func peekBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b
}
