package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{APIKeys: []string{"sk-good", "other"}})
	chat := `{"model":"sim-small","messages":[{"role":"user","content":"hi"}]}`
	msgs := `{"model":"sim-small","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	gem := `{"contents":[{"parts":[{"text":"hi"}]}]}`
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
		errType          string // OpenAI/Anthropic error type, Gemini status
		errCode          string // OpenAI code or Gemini reason
	}{
		{"openai bearer", "/v1/chat/completions", chat, []string{"Authorization: Bearer sk-good"}, 200, "", ""},
		{"openai second key", "/v1/responses", `{"model":"m","input":"hi"}`, []string{"Authorization: Bearer other"}, 200, "", ""},
		{"openai missing", "/v1/chat/completions", chat, nil, 401, "invalid_request_error", ""},
		{"openai wrong", "/v1/chat/completions", chat, []string{"Authorization: Bearer sk-bad"}, 401, "invalid_request_error", "invalid_api_key"},
		{"anthropic x-api-key", "/v1/messages", msgs, []string{"x-api-key: sk-good"}, 200, "", ""},
		{"anthropic bearer (auth token)", "/v1/messages", msgs, []string{"Authorization: Bearer sk-good"}, 200, "", ""},
		{"anthropic missing", "/v1/messages", msgs, nil, 401, "authentication_error", ""},
		{"anthropic wrong", "/v1/messages", msgs, []string{"x-api-key: nope"}, 401, "authentication_error", ""},
		{"gemini header", "/v1beta/models/sim-small:generateContent", gem, []string{"x-goog-api-key: sk-good"}, 200, "", ""},
		{"gemini query", "/v1beta/models/sim-small:generateContent?key=sk-good", gem, nil, 200, "", ""},
		{"gemini wrong", "/v1beta/models/sim-small:generateContent?key=bad", gem, nil, 400, "INVALID_ARGUMENT", "API_KEY_INVALID"},
		{"gemini missing", "/v1beta/models/sim-small:generateContent", gem, nil, 403, "PERMISSION_DENIED", ""},
		{"models list", "/v1/models", "", nil, 401, "invalid_request_error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := http.MethodPost
			if tc.body == "" {
				method = http.MethodGet
			}
			res := do(t, ts, method, tc.path, tc.body, tc.headers...)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.status == 200 {
				return
			}
			v := decodeJSON(t, res.body)
			var typ, code string
			switch {
			case strings.HasPrefix(tc.path, "/v1beta"):
				typ, code = str(path(v, "error", "status")), str(path(v, "error", "details", 0, "reason"))
			case strings.HasPrefix(tc.path, "/v1/messages"):
				typ = str(path(v, "error", "type"))
				if str(v["type"]) != "error" || !strings.HasPrefix(str(v["request_id"]), "req_") {
					t.Errorf("not an Anthropic error: %s", res.body)
				}
			default:
				typ, code = str(path(v, "error", "type")), str(path(v, "error", "code"))
			}
			if typ != tc.errType || code != tc.errCode {
				t.Errorf("error %q/%q, want %q/%q: %s", typ, code, tc.errType, tc.errCode, res.body)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{StrictModels: true, MaxBodyBytes: 4096})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string // a part of the body
	}{
		{"chat malformed JSON", "POST", "/v1/chat/completions", `{"model":`, 400, `"type":"invalid_request_error"`},
		{"chat missing model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`, 400, "you must provide a model parameter"},
		{"chat missing messages", "POST", "/v1/chat/completions", `{"model":"sim-small"}`, 400, `"param":"messages","code":"missing_required_parameter"`},
		{"chat unknown model", "POST", "/v1/chat/completions", `{"model":"gpt-x","messages":[{"role":"user","content":"x"}]}`, 404, `"code":"model_not_found"`},
		{"chat content of the wrong type", "POST", "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":5}]}`, 400, "content must be a string or an array"},
		{"responses missing input", "POST", "/v1/responses", `{"model":"sim-small"}`, 400, `"param":"input"`},
		{"responses unknown model", "POST", "/v1/responses", `{"model":"nope","input":"x"}`, 404, "does not exist"},
		{"messages malformed JSON", "POST", "/v1/messages", `not json`, 400, `{"type":"error","error":{"type":"invalid_request_error"`},
		{"messages missing messages", "POST", "/v1/messages", `{"model":"sim-small","max_tokens":1}`, 400, "messages: Field required"},
		{"messages unknown model", "POST", "/v1/messages", `{"model":"claude-x","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 404, `"type":"not_found_error","message":"model: claude-x"`},
		{"gemini malformed JSON", "POST", "/v1beta/models/sim-small:generateContent", `{`, 400, `"status":"INVALID_ARGUMENT"`},
		{"gemini missing contents", "POST", "/v1beta/models/sim-small:generateContent", `{}`, 400, "contents is not specified"},
		{"gemini unknown model", "POST", "/v1beta/models/gemini-x:generateContent", `{"contents":[{"parts":[{"text":"x"}]}]}`, 404, `"status":"NOT_FOUND"`},
		{"gemini unknown method", "POST", "/v1beta/models/sim-small:embed", `{}`, 404, `"status":"NOT_FOUND"`},
		{"no shell tool", "POST", "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"[[sim tool=shell cmd=ls]]"}],"tools":[{"type":"function","function":{"name":"read"}}]}`, 400, "no shell tool in the request"},
		{"no such tool", "POST", "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"[[sim tool=write args='{}']]"}],"tools":[{"type":"function","function":{"name":"read"}}]}`, 400, `no tool named \"write\"`},
		{"no tools at all: a text answer", "POST", "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"title this [[sim tool=shell cmd=ls]]"}]}`, 200, "Simulated answer to title this:"},
		{"body too large", "POST", "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`, 413, "exceeds"},
		{"unknown path", "POST", "/v1/embeddings", `{}`, 404, "Invalid URL (POST /v1/embeddings)"},
		{"unknown path, Anthropic shape", "POST", "/v1/complete", `{}`, 404, `"type":"not_found_error"`},
		{"wrong method", "GET", "/v1/chat/completions", ``, 405, "use POST"},
		{"unknown sim endpoint", "GET", "/sim/nothing", ``, 404, "unknown simulator endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var headers []string
			if strings.Contains(tc.name, "Anthropic shape") {
				headers = []string{"anthropic-version: 2023-06-01"}
			}
			res := do(t, ts, tc.method, tc.path, tc.body, headers...)
			if res.status != tc.status || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("%d %s\nwant %d and %s", res.status, res.body, tc.status, tc.want)
			}
			if !json.Valid(res.body) {
				t.Errorf("error body is not JSON: %s", res.body)
			}
		})
	}
}

func TestModels(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Models: []Model{{Name: "a"}, {Name: "b"}}})
	for _, tc := range []struct {
		name, path string
		headers    []string
		status     int
		want       string
	}{
		{"openai list", "/v1/models", nil, 200,
			`{"object":"list","data":[{"id":"a","object":"model","created":1735689600,"owned_by":"switchyard"},{"id":"b","object":"model","created":1735689600,"owned_by":"switchyard"}]}`},
		{"anthropic list", "/v1/models?limit=20", []string{"anthropic-version: 2023-06-01"}, 200,
			`{"data":[{"type":"model","id":"a","display_name":"a","created_at":"2025-01-01T00:00:00Z"},{"type":"model","id":"b","display_name":"b","created_at":"2025-01-01T00:00:00Z"}],"has_more":false,"first_id":"a","last_id":"b"}`},
		{"openai one", "/v1/models/b", nil, 200, `{"id":"b","object":"model","created":1735689600,"owned_by":"switchyard"}`},
		{"anthropic one", "/v1/models/a", []string{"anthropic-version: 2023-06-01"}, 200, `{"type":"model","id":"a","display_name":"a","created_at":"2025-01-01T00:00:00Z"}`},
		{"gemini list", "/v1beta/models", nil, 200, `"name":"models/a"`},
		{"unknown model is accepted when not strict", "/v1/models/zzz", nil, 200, `"id":"zzz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := do(t, ts, http.MethodGet, tc.path, "", tc.headers...)
			if res.status != tc.status || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("%d %s\nwant %d and %s", res.status, res.body, tc.status, tc.want)
			}
		})
	}
	_, strict := newTestServer(t, Config{StrictModels: true})
	if res := do(t, strict, http.MethodGet, "/v1/models/zzz", ""); res.status != 404 || !strings.Contains(string(res.body), "model_not_found") {
		t.Errorf("strict unknown model: %d %s", res.status, res.body)
	}
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t, Config{APIKeys: []string{"sk-secret", "goog"}, RequestLogSize: 3})
	post(t, ts, "/v1/chat/completions", `{"model":"sim-small","stream":true,"messages":[{"role":"user","content":"one"}]}`, "Authorization: Bearer sk-secret", "X-Session-Id: s1")
	post(t, ts, "/v1/messages?beta=true", `{"model":"sim-large","max_tokens":5,"messages":[{"role":"user","content":"two [[sim fault=503]]"}]}`, "x-api-key: sk-secret")
	post(t, ts, "/v1beta/models/sim-slow:generateContent?key=goog", `{"contents":[{"parts":[{"text":"three"}]}]}`)
	post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"four"}]}`, "Authorization: Bearer wrong")
	do(t, ts, http.MethodGet, "/sim/healthz", "")

	recs := s.Requests()
	if len(recs) != 3 {
		t.Fatalf("%d records, want the last 3 (ring of 3; /sim/ requests are not recorded)", len(recs))
	}
	fp := KeyFingerprint("sk-secret")
	if len(fp) != len("sha256:")+8 || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("fingerprint %q", fp)
	}
	m, g, c := recs[0], recs[1], recs[2]
	if m.Path != "/v1/messages" || m.Query != "beta=true" || m.Model != "sim-large" || m.Status != 503 || m.Fault != "503" || m.Headers["x-api-key"] != fp {
		t.Errorf("messages record %+v", m)
	}
	if g.Model != "sim-slow" || g.Query != "key="+strings.ReplaceAll(KeyFingerprint("goog"), ":", "%3A") || g.Status != 200 {
		t.Errorf("gemini record %+v", g)
	}
	if c.Status != 401 || c.Headers["authorization"] != KeyFingerprint("wrong") || c.Method != "POST" || !c.Time.Equal(fixedClock()) || c.BodySize != len(c.Body) {
		t.Errorf("chat record %+v", c)
	}
	for _, r := range recs {
		for k, v := range r.Headers {
			if strings.Contains(v, "sk-secret") || strings.Contains(v, "goog") && k != "x-goog-api-key" {
				t.Errorf("secret stored in header %s: %s", k, v)
			}
		}
	}

	res := do(t, ts, http.MethodGet, "/sim/requests?limit=2", "")
	var got struct{ Requests []RequestRecord }
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Requests) != 2 || got.Requests[0].Model != "sim-slow" || got.Requests[1].Status != 401 {
		t.Errorf("limit=2 gave %+v", got.Requests)
	}
	if res := do(t, ts, http.MethodGet, "/sim/requests?limit=x", ""); res.status != 400 {
		t.Errorf("bad limit: %d", res.status)
	}
	if res := do(t, ts, http.MethodDelete, "/sim/requests", ""); res.status != 204 || len(s.Requests()) != 0 {
		t.Errorf("delete: %d, %d left", res.status, len(s.Requests()))
	}
}

func TestRequestLogTruncatesBodies(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t, Config{})
	big := strings.Repeat("y", 70<<10)
	post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"`+big+`"}]}`)
	r := s.Requests()[0]
	if len(r.Body) != 64<<10 || !r.BodyTruncated || r.BodySize <= 70<<10 {
		t.Errorf("body %d bytes, truncated %v, size %d", len(r.Body), r.BodyTruncated, r.BodySize)
	}
}

// Hammer the log and the times counters from many goroutines; run with
// -race.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t, Config{RequestLogSize: 16})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				body := fmt.Sprintf(`{"model":"sim-small","stream":%v,"messages":[{"role":"user","content":"g%d i%d [[sim fault=500 times=5 id=shared]]"}]}`, i%2 == 0, g, i)
				res := post(t, ts, "/v1/chat/completions", body)
				mu.Lock()
				statuses[res.status]++
				mu.Unlock()
				s.Requests()
			}
		})
		wg.Go(func() {
			for range 20 {
				do(t, ts, http.MethodGet, "/sim/requests?limit=5", "")
			}
		})
	}
	wg.Wait()
	if statuses[500] != 5 || statuses[200] != 155 {
		t.Errorf("statuses %v, want exactly 5 faults of 160: times=N counts the directive text, not the prompt", statuses)
	}
	if n := len(s.Requests()); n != 16 {
		t.Errorf("%d records, want the ring's 16", n)
	}
}

func TestListenAndServe(t *testing.T) {
	t.Parallel()
	s, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/sim/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was done")
	}
	if err := s.ListenAndServe(context.Background(), "256.0.0.1:0"); err == nil {
		t.Error("ListenAndServe on a bad address: no error")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	def := DefaultConfig()
	if len(def.Models) != 5 || def.MaxBodyBytes != 32<<20 || def.RequestLogSize != 1000 || def.Clock == nil {
		t.Fatalf("defaults %+v", def)
	}
	byName := map[string]Model{}
	for _, m := range def.Models {
		byName[m.Name] = m
	}
	if m := byName["sim-stream"]; m.TTFT != Duration(20*time.Millisecond) || m.TokensPerSecond != 200 || m.OutputWords != 24 {
		t.Errorf("sim-stream %+v", m)
	}
	if m := byName["sim-reasoning"]; m.ReasoningTokens != 64 || m.CachedFraction != 0.5 {
		t.Errorf("sim-reasoning %+v", m)
	}

	var c Config
	if err := json.Unmarshal([]byte(`{"models":[{"name":"x","latency":"50ms","ttft":1000000}],"strict_models":true}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.Models[0].Latency != Duration(50*time.Millisecond) || c.Models[0].TTFT != Duration(time.Millisecond) || !c.StrictModels {
		t.Errorf("decoded %+v", c)
	}
	if b, _ := json.Marshal(c.Models[0].Latency); string(b) != `"50ms"` {
		t.Errorf("duration marshals as %s", b)
	}
	if err := json.Unmarshal([]byte(`{"models":[{"name":"x","latency":"soon"}]}`), &c); err == nil {
		t.Error("bad duration: no error")
	}

	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty name", Config{Models: []Model{{Name: ""}}}, "name is empty"},
		{"duplicate", Config{Models: []Model{{Name: "a"}, {Name: "a"}}}, "appears twice"},
		{"negative latency", Config{Models: []Model{{Name: "a", Latency: -1}}}, "must not be negative"},
		{"cached fraction", Config{Models: []Model{{Name: "a", CachedFraction: 1.5}}}, "outside [0, 1]"},
		{"bad fault", Config{Models: []Model{{Name: "a", Fault: "fault=explode"}}}, "is not a fault"},
		{"empty key", Config{APIKeys: []string{""}}, "api_keys[0] is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
