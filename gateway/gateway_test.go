package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/budget"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/route"
	"github.com/switchyard/switchyard/gateway/sim"
)

func TestCompletedCallsArePricedAndAttributed(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	for _, tc := range []struct {
		name, path, body string
		stream           bool
		text             func(t *testing.T, c gatewaytest.Call) string
	}{
		{"chat", "/v1/chat/completions", gatewaytest.ChatBody("sim-small", "hello there", false), false, func(t *testing.T, c gatewaytest.Call) string {
			return gatewaytest.JSONField(t, c.Body, "choices", "0", "message", "content").(string)
		}},
		{"chat stream", "/v1/chat/completions", gatewaytest.ChatBody("sim-small", "hello there", true), true, nil},
		{"messages", "/v1/messages", gatewaytest.MessagesBody("sim-small", "hello there", false), false, func(t *testing.T, c gatewaytest.Call) string {
			return gatewaytest.JSONField(t, c.Body, "content", "0", "text").(string)
		}},
		{"messages stream", "/v1/messages", gatewaytest.MessagesBody("sim-small", "hello there", true), true, nil},
		{"responses", "/v1/responses", gatewaytest.ResponsesBody("sim-small", "hello there", false), false, nil},
		{"responses stream", "/v1/responses", gatewaytest.ResponsesBody("sim-small", "hello there", true), true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Post(tc.path, s.Key, tc.body, "x-switchyard-tags", "ticket=SY-1")
			if c.Status != 200 {
				t.Fatalf("status %d: %s", c.Status, c.Body)
			}
			if tc.text != nil && !strings.Contains(tc.text(t, c), "Simulated answer") {
				t.Fatalf("answer text: %s", c.Body)
			}
			if tc.stream && len(gatewaytest.SSEEvents(c.Body)) < 3 {
				t.Fatalf("stream has too few events: %s", c.Body)
			}
			id := c.Header.Get("x-switchyard-call-id")
			evs := s.Events(id)
			if got := gatewaytest.Types(evs); got != "model.call.started routing.decided model.call.completed" {
				t.Fatalf("events: %s", got)
			}
			done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed")
			if done.Provider != "sim" || done.ResponseModel == "" || done.InputTokens == 0 || done.OutputTokens == 0 ||
				done.CostUSD <= 0 || done.Unpriced || done.Attempts != 1 || done.KeyID != s.KeyID ||
				done.Tags["ticket"] != "SY-1" || done.Tags["suite"] != "gateway" || done.Stream != tc.stream {
				t.Fatalf("completed event %+v", done)
			}
			if evs[0].Metadata.Team != "eng" || evs[0].Metadata.User != "ana" || evs[0].Metadata.CorrelationID != id {
				t.Fatalf("metadata %+v", evs[0].Metadata)
			}
			// sim-small: $0.50/M input, $1.50/M output (no cache here).
			want := float64(done.InputTokens)*0.5e-6 + float64(done.OutputTokens)*1.5e-6
			if diff := done.CostUSD - want; diff > 1e-12 || diff < -1e-12 {
				t.Fatalf("cost %v, want %v", done.CostUSD, want)
			}
		})
	}
}

func TestTranslationAcrossFormats(t *testing.T) {
	// Each provider speaks one format only, so every call through it is
	// translated.
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"chat": {}, "msgs": {}, "gem": {}, "resp": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{
				{Name: "chat", Kind: "sim", BaseURL: "sim:chat", APIs: []llm.API{llm.APIOpenAIChat}},
				{Name: "msgs", Kind: "sim", BaseURL: "sim:msgs", APIs: []llm.API{llm.APIAnthropicMessages}},
				{Name: "gem", Kind: "sim", BaseURL: "sim:gem", APIs: []llm.API{llm.APIGemini}},
				{Name: "resp", Kind: "sim", BaseURL: "sim:resp", APIs: []llm.API{llm.APIOpenAIResponses}},
			},
		},
	})
	for _, provider := range []string{"chat", "msgs", "gem", "resp"} {
		for _, in := range []struct{ name, path, body string }{
			{"chat", "/v1/chat/completions", gatewaytest.ChatBody(provider+"/sim-small", "translate me [[sim words=5]]", false)},
			{"chat-stream", "/v1/chat/completions", gatewaytest.ChatBody(provider+"/sim-small", "translate me [[sim words=5]]", true)},
			{"messages", "/v1/messages", gatewaytest.MessagesBody(provider+"/sim-small", "translate me [[sim words=5]]", false)},
			{"messages-stream", "/v1/messages", gatewaytest.MessagesBody(provider+"/sim-small", "translate me [[sim words=5]]", true)},
			{"responses", "/v1/responses", gatewaytest.ResponsesBody(provider+"/sim-small", "translate me [[sim words=5]]", false)},
			{"responses-stream", "/v1/responses", gatewaytest.ResponsesBody(provider+"/sim-small", "translate me [[sim words=5]]", true)},
		} {
			t.Run(in.name+"→"+provider, func(t *testing.T) {
				c := s.Post(in.path, s.Key, in.body)
				if c.Status != 200 {
					t.Fatalf("status %d: %s", c.Status, c.Body)
				}
				if !strings.Contains(string(c.Body), "Simulated") {
					t.Fatalf("answer lacks the simulated text: %s", c.Body)
				}
				done := gatewaytest.Find[event.ModelCallCompleted](t, s.Events(c.Header.Get("x-switchyard-call-id")), "model.call.completed")
				if done.Provider != provider || done.OutputTokens == 0 || done.InputTokens == 0 {
					t.Fatalf("completed %+v", done)
				}
			})
		}
	}
}

func TestFallbackOn429AndRetryOn500(t *testing.T) {
	// Simulator a's sim-flaky always answers 429; b is healthy.
	flaky := sim.Config{Models: append(sim.DefaultModels(), sim.Model{Name: "sim-flaky", Fault: "fault=429 retry_after=1"})}
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": flaky, "b": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")},
			Routes: []route.Rule{
				{Model: "pair", Targets: []route.Target{{Provider: "a", Model: "sim-flaky"}, {Provider: "b", Model: "sim-small"}}},
				{Model: "pair-small", Targets: []route.Target{{Provider: "a", Model: "sim-small"}, {Provider: "b", Model: "sim-small"}}},
				{Model: "solo", Targets: []route.Target{{Provider: "a", Model: "sim-small"}}},
			},
		},
	})
	t.Run("429 falls back to the next target", func(t *testing.T) {
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("pair", "hi", false))
		if c.Status != 200 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		if c.Header.Get("x-switchyard-provider") != "b" {
			t.Fatalf("answered by %q, want b", c.Header.Get("x-switchyard-provider"))
		}
		evs := s.Events(c.Header.Get("x-switchyard-call-id"))
		att := gatewaytest.Find[event.ModelCallAttempt](t, evs, "model.call.attempt")
		if att.Provider != "a" || att.Outcome != "rate_limit" || att.Status != 429 || att.Next != "fallback" || att.RetryAfterMS != 1000 {
			t.Fatalf("attempt %+v", att)
		}
		want := event.CallRoute{TargetModel: "sim-small", Fallbacks: 1, Via: "fallback"}
		if done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed"); done.Attempts != 2 || done.Provider != "b" || done.CallRoute != want {
			t.Fatalf("completed %+v, want route %+v", done, want)
		}
	})
	t.Run("500 is retried on the same target after a backoff", func(t *testing.T) {
		c := s.Post("/v1/messages", s.Key, gatewaytest.MessagesBody("solo", "hi [[sim fault=500 times=1 id=r1]]", false))
		if c.Status != 200 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		evs := s.Events(c.Header.Get("x-switchyard-call-id"))
		att := gatewaytest.Find[event.ModelCallAttempt](t, evs, "model.call.attempt")
		if att.Outcome != "server" || att.Status != 500 || att.Next != "retry" {
			t.Fatalf("attempt %+v", att)
		}
		want := event.CallRoute{TargetModel: "sim-small", Retries: 1, Via: "retry"}
		if done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed"); done.Attempts != 2 || done.CallRoute != want {
			t.Fatalf("completed %+v, want route %+v", done, want)
		}
	})
	t.Run("a long Retry-After on the only target is passed to the client", func(t *testing.T) {
		c := s.Post("/v1/messages", s.Key, gatewaytest.MessagesBody("solo", "hi [[sim fault=429 retry_after=60 id=r2]]", false))
		if c.Status != 429 || c.Header.Get("Retry-After") != "60" {
			t.Fatalf("status %d, Retry-After %q: %s", c.Status, c.Header.Get("Retry-After"), c.Body)
		}
		if typ := gatewaytest.JSONField(t, c.Body, "error", "type"); typ != "rate_limit_error" {
			t.Fatalf("error type %v: %s", typ, c.Body)
		}
		evs := s.Events(c.Header.Get("x-switchyard-call-id"))
		if got := gatewaytest.Types(evs); got != "model.call.started routing.decided model.call.attempt model.call.failed" {
			t.Fatalf("events %s", got)
		}
		att := gatewaytest.Find[event.ModelCallAttempt](t, evs, "model.call.attempt")
		if att.Next != "give_up" || !strings.Contains(att.Reason, "max_retry_after") {
			t.Fatalf("attempt %+v", att)
		}
		if f := gatewaytest.Find[event.ModelCallFailed](t, evs, "model.call.failed"); f.ErrorKind != "rate_limit" || f.Status != 429 || f.CostUSD != 0 {
			t.Fatalf("failed %+v", f)
		}
	})
	t.Run("attempts are bounded", func(t *testing.T) {
		_, fresh, err := s.GW.CreateKey(t.Context(), keysSpec("fresh"), "test")
		if err != nil {
			t.Fatal(err)
		}
		c := s.Post("/v1/chat/completions", fresh, gatewaytest.ChatBody("pair-small", "hi [[sim fault=503 id=r3]]", false))
		if c.Status != 503 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		evs := s.Events(c.Header.Get("x-switchyard-call-id"))
		atts := gatewaytest.All[event.ModelCallAttempt](t, evs, "model.call.attempt")
		if n := len(atts); n != 4 || atts[3].Next != "give_up" || !strings.Contains(atts[3].Reason, "max attempts") {
			t.Fatalf("%d attempts (%+v), want the default max of 4", n, atts)
		}
		// a, b, a again (a retry), b again: the last attempt was reached by a retry.
		want := event.CallRoute{TargetModel: "sim-small", Retries: 2, Fallbacks: 1, Via: "retry"}
		if f := gatewaytest.Find[event.ModelCallFailed](t, evs, "model.call.failed"); f.CallRoute != want {
			t.Fatalf("failed %+v, want route %+v", f, want)
		}
		if typ := gatewaytest.JSONField(t, c.Body, "error", "type"); typ == nil {
			t.Fatalf("not an OpenAI error body: %s", c.Body)
		}
	})
}

func TestRetryBudgetStopsSpirals(t *testing.T) {
	// Every call fails: after the key's retry budget is spent, calls get
	// one attempt each instead of four. (A tiny time-based refill keeps the
	// count independent of how fast this machine runs the test.)
	s := gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim")},
		Proxy:     proxyConfig(func(c *proxyCfg) { c.RetryFloor = 0.001 }),
	}})
	total, stopped := 0, 0
	for i := range 20 {
		c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", fmt.Sprintf("hi [[sim fault=500 id=spiral%d]]", i), false))
		if c.Status != 500 {
			t.Fatalf("status %d: %s", c.Status, c.Body)
		}
		atts := gatewaytest.All[event.ModelCallAttempt](t, s.Events(c.ID()), "model.call.attempt")
		total += len(atts)
		if strings.Contains(atts[len(atts)-1].Reason, "retry budget") {
			stopped++
		}
	}
	// Without a budget: 4 attempts a call, 80. With it: the first
	// attempts, plus the initial 5 tokens, plus 0.2 a call.
	if total > 20+5+4+1 || stopped == 0 {
		t.Fatalf("%d attempts for 20 failing calls, %d stopped by the retry budget: retries spiralled", total, stopped)
	}
}

func TestTimeoutThenRetry(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim")},
		Proxy:     proxyConfig(func(c *proxyCfg) { c.AttemptTimeout = config.Duration(300 * time.Millisecond) }),
	}})
	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi [[sim fault=timeout times=1 id=to1]]", false))
	if c.Status != 200 {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	evs := s.Events(c.Header.Get("x-switchyard-call-id"))
	att := gatewaytest.Find[event.ModelCallAttempt](t, evs, "model.call.attempt")
	if att.Outcome != "timeout" || att.Next != "retry" || att.LatencyMS < 300 {
		t.Fatalf("attempt %+v", att)
	}
	c = s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim-small", "hi [[sim fault=reset times=1 id=rs1]]", false))
	if c.Status != 200 {
		t.Fatalf("after a connection reset: status %d: %s", c.Status, c.Body)
	}
	att = gatewaytest.Find[event.ModelCallAttempt](t, s.Events(c.Header.Get("x-switchyard-call-id")), "model.call.attempt")
	if att.Outcome != "connection" {
		t.Fatalf("reset attempt %+v", att)
	}
	// A malformed answer is a failed attempt, never garbage for the client.
	for _, path := range []string{"/v1/chat/completions", "/v1/messages"} {
		text := "hi [[sim fault=malformed times=1 id=mal" + strings.ReplaceAll(path, "/", "-") + "]]"
		body := gatewaytest.ChatBody("sim-small", text, false)
		if path == "/v1/messages" {
			body = gatewaytest.MessagesBody("sim-small", text, false)
		}
		c = s.Post(path, s.Key, body)
		if c.Status != 200 {
			t.Fatalf("%s after a malformed answer: status %d: %s", path, c.Status, c.Body)
		}
		att = gatewaytest.Find[event.ModelCallAttempt](t, s.Events(c.ID()), "model.call.attempt")
		if att.Outcome != "server" || !strings.Contains(att.Error, "malformed answer") || att.Next != "retry" {
			t.Fatalf("%s malformed attempt %+v", path, att)
		}
	}
}

func TestStreamCutAfterFirstByteEndsWithAnErrorEvent(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	for _, tc := range []struct{ name, path, body, errMark string }{
		{"messages", "/v1/messages", gatewaytest.MessagesBody("sim-small", "hi [[sim fault=cut after=3 words=20 id=c1]]", true), "event: error"},
		{"chat", "/v1/chat/completions", gatewaytest.ChatBody("sim-small", "hi [[sim fault=cut after=3 words=20 id=c2]]", true), `"error"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.Post(tc.path, s.Key, tc.body)
			if c.Status != 200 {
				t.Fatalf("status %d: %s", c.Status, c.Body)
			}
			if !strings.Contains(string(c.Body), tc.errMark) || strings.Contains(string(c.Body), "message_stop") || strings.Contains(string(c.Body), "[DONE]") {
				t.Fatalf("a cut stream must end in an error, not a normal end:\n%s", c.Body)
			}
			evs := s.Events(c.Header.Get("x-switchyard-call-id"))
			f := gatewaytest.Find[event.ModelCallFailed](t, evs, "model.call.failed")
			if !f.AfterFirstByte || f.ErrorKind != "stream_cut" || f.OutputTokens == 0 || f.CostUSD <= 0 {
				t.Fatalf("failed event %+v: a cut stream is billed for what was generated", f)
			}
		})
	}
}

func TestClientCancelIsStillBilled(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	req, _ := http.NewRequest("POST", s.URL+"/v1/messages", strings.NewReader(gatewaytest.MessagesBody("sim-stream", "cancel me [[sim words=400]]", true)))
	req.Header.Set("x-api-key", s.Key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Header.Get("x-switchyard-call-id")
	br := bufio.NewReader(res.Body)
	deltas := 0
	for deltas < 3 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, "text_delta") {
			deltas++
		}
	}
	res.Body.Close() // the client goes away mid-stream
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		evs := s.Events(id)
		if len(gatewaytest.All[event.ModelCallCompleted](t, evs, "model.call.completed")) > 0 {
			done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed")
			if !done.Cancelled || done.OutputTokens < 3 || done.OutputTokens > 390 || done.CostUSD <= 0 {
				t.Fatalf("completed %+v", done)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no completed event for the cancelled stream")
}

func TestClientErrorsInEachAPIShape(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{BodyLimit: 64 << 10})
	k, _, err := s.GW.CreateKey(t.Context(), keysSpec("limited", "sim-large"), "test")
	if err != nil {
		t.Fatal(err)
	}
	_ = k
	_, limited, _ := s.GW.CreateKey(t.Context(), keysSpec("limited2", "sim-large"), "test")
	big := `{"model":"sim-small","messages":[{"role":"user","content":"` + strings.Repeat("x", 100<<10) + `"}]}`
	for _, tc := range []struct {
		name, key, body string
		status          int
		openAIType      string // error.type in OpenAI's shape
		anthropicType   string // error.type in Anthropic's shape
	}{
		{"malformed JSON", s.Key, `{"model":"sim-small","messages":[`, 400, "invalid_request_error", "invalid_request_error"},
		{"no key", "", gatewaytest.ChatBody("sim-small", "hi", false), 401, "", "authentication_error"},
		{"bad key", "sy-not-a-key", gatewaytest.ChatBody("sim-small", "hi", false), 401, "", "authentication_error"},
		{"unknown model", s.Key, gatewaytest.ChatBody("no-such-model", "hi", false), 404, "", "not_found_error"},
		{"model not allowed", limited, gatewaytest.ChatBody("sim-small", "hi", false), 403, "", "permission_error"},
		{"oversized body", s.Key, big, 413, "", "request_too_large"},
	} {
		for _, api := range []string{"openai", "anthropic"} {
			t.Run(tc.name+" "+api, func(t *testing.T) {
				path, hdr := "/v1/chat/completions", []string{}
				body := tc.body
				if api == "anthropic" {
					path = "/v1/messages"
					body = strings.Replace(body, `"messages"`, `"max_tokens":64,"messages"`, 1)
				}
				var c gatewaytest.Call
				if tc.status == 413 {
					// The gateway answers 413 from the Content-Length and
					// closes the connection; a client still sending the
					// body may see the reset before it reads the answer
					// (a known limit: fasthttp does not drain the body).
					// The answer's shape is what is checked here.
					c = postUntilAnswered(t, s.URL+path, tc.key, body)
				} else {
					c = s.Post(path, tc.key, body, hdr...)
				}
				if c.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", c.Status, tc.status, c.Body)
				}
				if api == "anthropic" {
					if gatewaytest.JSONField(t, c.Body, "type") != "error" || gatewaytest.JSONField(t, c.Body, "error", "type") != tc.anthropicType {
						t.Fatalf("not Anthropic's %s error: %s", tc.anthropicType, c.Body)
					}
				} else {
					msg, _ := gatewaytest.JSONField(t, c.Body, "error", "message").(string)
					if msg == "" || (tc.openAIType != "" && gatewaytest.JSONField(t, c.Body, "error", "type") != tc.openAIType) {
						t.Fatalf("not an OpenAI error: %s", c.Body)
					}
				}
				if strings.Contains(string(c.Body), s.Key) {
					t.Fatal("the key is echoed in the error")
				}
				// Nothing was accepted: no call events.
				if id := c.Header.Get("x-switchyard-call-id"); id != "" {
					if evs := s.Events(id); len(evs) != 0 {
						t.Fatalf("a refused request left events: %s", gatewaytest.Types(evs))
					}
				}
			})
		}
	}
}

func TestBudgetCapIsNeverExceeded(t *testing.T) {
	const capUSD = 0.0005
	s := gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim")},
		Budgets:   []budget.Rule{{Scope: "team:eng", SpendUSD: capUSD, Period: "month"}},
		Proxy:     proxyConfig(func(c *proxyCfg) { c.ReserveOutputTokens = 64 }),
	}})
	var denied *gatewaytest.Call
	spent := 0.0
	for i := range 100 {
		c := s.Post("/v1/messages", s.Key, gatewaytest.MessagesBody("sim-small", "spend [[sim words=40]]", false))
		if c.Status == 429 {
			denied = &c
			break
		}
		if c.Status != 200 {
			t.Fatalf("call %d: status %d: %s", i, c.Status, c.Body)
		}
		spent += gatewaytest.Find[event.ModelCallCompleted](t, s.Events(c.Header.Get("x-switchyard-call-id")), "model.call.completed").CostUSD
	}
	if denied == nil {
		t.Fatalf("100 calls and no budget refusal (spent $%f of $%f)", spent, capUSD)
	}
	if spent > capUSD {
		t.Fatalf("spent $%f over the $%f cap", spent, capUSD)
	}
	if denied.Header.Get("x-should-retry") != "false" {
		t.Fatal("a budget refusal must tell SDKs not to retry (x-should-retry: false)")
	}
	if typ := gatewaytest.JSONField(t, denied.Body, "error", "type"); typ != "rate_limit_error" {
		t.Fatalf("budget refusal is not a 429 rate_limit_error in Anthropic's shape: %s", denied.Body)
	}
	msg := gatewaytest.JSONField(t, denied.Body, "error", "message").(string)
	if !strings.Contains(msg, `team "eng"`) || !strings.Contains(msg, "budget") {
		t.Fatalf("message does not say which budget: %s", msg)
	}
	evs := s.Events(denied.Header.Get("x-switchyard-call-id"))
	if be := gatewaytest.Find[event.BudgetExceeded](t, evs, "budget.exceeded"); be.Scope != "team:eng" || be.Limit != "spend" {
		t.Fatalf("budget event %+v", be)
	}
}

func TestSecretsNeverLeaveTheGateway(t *testing.T) {
	const providerKey = "sk-live-abcdefghijklmnop0123456789"
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"locked": {APIKeys: []string{"a-different-key-entirely"}}, "sim": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{
				{Name: "locked", Kind: "sim", BaseURL: "sim:locked", APIKey: providerKey},
				gatewaytest.ProviderSim("sim"),
			},
			Routes: []route.Rule{{Model: "guarded", Targets: []route.Target{{Provider: "locked", Model: "sim-small"}}}},
		},
	})
	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("guarded", "hi", false))
	if c.Status != 502 {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	if !strings.Contains(string(c.Body), "refused the gateway's credentials") {
		t.Fatalf("error does not explain: %s", c.Body)
	}
	s.GW.Flush(t.Context())
	for e, err := range s.Store.ReadAll(t.Context(), readAll) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(e.Data), providerKey) || strings.Contains(string(e.Data), s.Key) {
			t.Fatalf("a secret is in event %s: %s", e.Type, e.Data)
		}
	}
	if strings.Contains(string(c.Body), providerKey) {
		t.Fatal("the provider key is in the client's error")
	}
}

func TestUnpricedModelIsFlaggedNotFree(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("sim/some-new-model", "hi", false))
	if c.Status != 200 {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	done := gatewaytest.Find[event.ModelCallCompleted](t, s.Events(c.ID()), "model.call.completed")
	if !done.Unpriced || done.CostUSD != 0 || done.OutputTokens == 0 {
		t.Fatalf("completed %+v: an unpriced model must be flagged", done)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	spec := keysSpec("rpm")
	spec.RPM = 2
	_, secret, err := s.GW.CreateKey(t.Context(), spec, "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if c := s.Post("/v1/messages", secret, gatewaytest.MessagesBody("sim-small", "hi", false)); c.Status != 200 {
			t.Fatalf("call %d: %d %s", i, c.Status, c.Body)
		}
	}
	c := s.Post("/v1/messages", secret, gatewaytest.MessagesBody("sim-small", "hi", false))
	if c.Status != 429 || c.Header.Get("Retry-After") == "" {
		t.Fatalf("third call in a minute: %d, Retry-After %q: %s", c.Status, c.Header.Get("Retry-After"), c.Body)
	}
	if msg := gatewaytest.JSONField(t, c.Body, "error", "message").(string); !strings.Contains(msg, "requests per minute") {
		t.Fatalf("message: %s", msg)
	}
	be := gatewaytest.Find[event.BudgetExceeded](t, s.Events(c.ID()), "budget.exceeded")
	if be.Limit != "requests_per_minute" || !strings.HasPrefix(be.Scope, "key:") {
		t.Fatalf("event %+v", be)
	}
}

func TestFailingTargetCoolsDown(t *testing.T) {
	broken := sim.Config{Models: append(sim.DefaultModels(), sim.Model{Name: "sim-down", Fault: "fault=503"})}
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"a": broken, "b": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{gatewaytest.ProviderSim("a"), gatewaytest.ProviderSim("b")},
			Routes:    []route.Rule{{Model: "m", Targets: []route.Target{{Provider: "a", Model: "sim-down"}, {Provider: "b", Model: "sim-small"}}}},
		},
	})
	// Three failures in a row cool a down (the default); after that, calls
	// go straight to b and the decision says why.
	for i := range 3 {
		if c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("m", "hi", false)); c.Status != 200 {
			t.Fatalf("call %d: %d %s", i, c.Status, c.Body)
		}
	}
	c := s.Post("/v1/chat/completions", s.Key, gatewaytest.ChatBody("m", "hi", false))
	evs := s.Events(c.ID())
	d := gatewaytest.Find[event.RoutingDecided](t, evs, "routing.decided")
	if len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0], "cooling down") || d.Targets[0].Provider != "b" {
		t.Fatalf("decision %+v", d)
	}
	if n := len(gatewaytest.All[event.ModelCallAttempt](t, evs, "model.call.attempt")); n != 0 {
		t.Fatalf("%d failed attempts on a cooled-down target", n)
	}
}

func TestSpendSurvivesRestart(t *testing.T) {
	// The budget is rebuilt from the log: a new gateway on the same store
	// sees what the first one spent.
	s := gatewaytest.New(t, gatewaytest.Config{Gateway: gateway.Config{
		Providers: []provider.Config{gatewaytest.ProviderSim("sim")},
		Budgets:   []budget.Rule{{Scope: "team:eng", SpendUSD: 100, Period: "total"}},
	}})
	for range 3 {
		if c := s.Post("/v1/messages", s.Key, gatewaytest.MessagesBody("sim-large", "hi [[sim words=100]]", false)); c.Status != 200 {
			t.Fatalf("%d %s", c.Status, c.Body)
		}
	}
	if err := s.GW.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var want float64
	for e, err := range s.Store.ReadAll(t.Context(), readAll) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == "model.call.completed" {
			var d event.ModelCallCompleted
			json.Unmarshal(e.Data, &d)
			want += d.CostUSD
		}
	}
	restart := func(t *testing.T, group *projection.Group) *gateway.Gateway {
		g2, err := gateway.New(gateway.Config{
			Providers: []provider.Config{{Name: "sim", Kind: "sim", BaseURL: s.Sims["sim"].URL}},
			Budgets:   []budget.Rule{{Scope: "team:eng", SpendUSD: 100, Period: "total"}},
		}, gateway.Options{Store: s.Store, Projections: group})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g2.Close(context.Background()) })
		if group != nil {
			// The caller runs its group, with a read model of its own.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			t.Cleanup(func() { cancel(); <-done })
			go func() { defer close(done); group.Run(ctx) }()
		}
		if err := g2.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		return g2
	}
	check := func(t *testing.T, g2 *gateway.Gateway) {
		left := g2.BudgetRemaining("team:eng")
		if want <= 0 || math.Abs((100-left)-want) > 1e-9 {
			t.Fatalf("after restart: $%v left, want $%v spent", left, want)
		}
		if ks := g2.ListKeys(); len(ks) != 1 {
			t.Fatalf("after restart: keys %+v", ks)
		}
	}
	t.Run("its own group", func(t *testing.T) { check(t, restart(t, nil)) })
	t.Run("the caller's group", func(t *testing.T) {
		// The gateway's keys and budgets fold the caller's subscription,
		// with the caller's read models.
		group := projection.NewGroup(s.Store, s.Store, nil)
		catalog := projection.NewStreamCatalog()
		catalogRunner := group.Add(catalog, projection.RunnerConfig{})
		g2 := restart(t, group)
		check(t, g2)
		// A key made after the start has its budget rule at once.
		k, _, err := g2.CreateKey(t.Context(), keys.Spec{Name: "capped", MaxBudgetUSD: 2}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if left := g2.BudgetRemaining("key:" + k.ID); left != 2 {
			t.Fatalf("a new key's budget: $%v left, want $2", left)
		}
		head, err := eventstore.Head(t.Context(), s.Store)
		if err != nil {
			t.Fatal(err)
		}
		if err := catalogRunner.WaitFor(t.Context(), head); err != nil {
			t.Fatal(err)
		}
		if n := len(catalog.Streams()); n < 2 {
			t.Fatalf("the caller's read model folded %d streams", n)
		}
	})
}

func TestShutdownDrainsCallsInFlight(t *testing.T) {
	s := gatewaytest.New(t, gatewaytest.Config{})
	// sim-stream: 200 tokens a second, so 100 words take half a second.
	req, _ := http.NewRequest("POST", s.URL+"/v1/messages", strings.NewReader(gatewaytest.MessagesBody("sim-stream", "drain [[sim words=100]]", true)))
	req.Header.Set("x-api-key", s.Key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if _, err := br.ReadString('\n'); err != nil { // the stream has started
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- s.HTTP.Shutdown(ctx)
	}()
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("stream broken by shutdown: %v", err)
	}
	if !strings.Contains(string(rest), "message_stop") {
		t.Fatalf("the call in flight did not finish: %s", rest)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	done := gatewaytest.Find[event.ModelCallCompleted](t, s.Events(res.Header.Get("x-switchyard-call-id")), "model.call.completed")
	if done.Cancelled || done.OutputTokens < 100 {
		t.Fatalf("completed %+v", done)
	}
}

func TestUntranslatableRequestFallsBackOrIsRefused(t *testing.T) {
	// Codex sends OpenAI's hosted web_search tool: no Messages provider can
	// run it. With only such a target the client gets a 400 naming the
	// tool; with a Responses-speaking fallback the call goes there.
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"msgs": {}, "resp": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{
				gatewaytest.ProviderSim("msgs", llm.APIAnthropicMessages),
				gatewaytest.ProviderSim("resp", llm.APIOpenAIResponses),
			},
			Routes: []route.Rule{
				{Model: "claude-only", Targets: []route.Target{{Provider: "msgs", Model: "sim-small"}}},
				{Model: "claude-then-openai", Targets: []route.Target{{Provider: "msgs", Model: "sim-small"}, {Provider: "resp", Model: "sim-small"}}},
			},
		},
	})
	body := func(model string) string {
		return `{"model":"` + model + `","store":false,"input":"hi","tools":[{"type":"web_search"},{"type":"function","name":"f","parameters":{"type":"object"}}]}`
	}
	c := s.Post("/v1/responses", s.Key, body("claude-only"))
	if c.Status != 400 || !strings.Contains(string(c.Body), "web_search") {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	if typ := gatewaytest.JSONField(t, c.Body, "error", "type"); typ != "invalid_request_error" {
		t.Fatalf("error type %v", typ)
	}
	c = s.Post("/v1/responses", s.Key, body("claude-then-openai"))
	if c.Status != 200 || c.Header.Get("x-switchyard-provider") != "resp" {
		t.Fatalf("status %d via %q: %s", c.Status, c.Header.Get("x-switchyard-provider"), c.Body)
	}
	att := gatewaytest.Find[event.ModelCallAttempt](t, s.Events(c.ID()), "model.call.attempt")
	if att.Outcome != "untranslatable" || att.Next != "fallback" {
		t.Fatalf("attempt %+v", att)
	}
}

func TestClaudeCodeRequestToOpenAIUsesMaxCompletionTokens(t *testing.T) {
	// An Anthropic request (max_tokens required there) translated for
	// OpenAI must say max_completion_tokens: gpt-5 refuses max_tokens.
	s := gatewaytest.New(t, gatewaytest.Config{
		Sims: map[string]sim.Config{"oai": {}},
		Gateway: gateway.Config{
			Providers: []provider.Config{{Name: "oai", Kind: "openai", BaseURL: "sim:oai/v1", APIKey: "sk-test", APIs: []llm.API{llm.APIOpenAIChat}}},
			Routes:    []route.Rule{{Model: "claude-sonnet-4-5", Targets: []route.Target{{Provider: "oai", Model: "gpt-5"}}}},
		},
	})
	s.GW.Flush(t.Context())
	c := s.Post("/v1/messages", s.Key, gatewaytest.MessagesBody("claude-sonnet-4-5", "hi", false))
	if c.Status != 200 {
		t.Fatalf("status %d: %s", c.Status, c.Body)
	}
	res, err := http.Get(s.Sims["oai"].URL + "/sim/requests?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `max_completion_tokens`) || strings.Contains(string(b), `\"max_tokens\"`) {
		t.Fatalf("the upstream request: %s", b)
	}
}

// postUntilAnswered posts body until the server's answer is read, up to
// ten tries: an answer sent while the request body is still being
// written can be lost to the connection's reset.
func postUntilAnswered(t *testing.T, url, key, body string) gatewaytest.Call {
	t.Helper()
	var last error
	for range 10 {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			last = err
			continue
		}
		return gatewaytest.Call{Status: res.StatusCode, Header: res.Header, Body: b}
	}
	t.Fatalf("no answer in ten tries: %v", last)
	return gatewaytest.Call{}
}
