package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// apiCase builds requests to one API.
type apiCase struct {
	name string
	req  func(prompt string, stream bool) (path, body string)
	// errType reads the error's type (OpenAI, Anthropic) or status
	// (Gemini) from an error body.
	errType func(body map[string]any) string
	// content counts the content chunks among a stream's events.
	content func(evs []event) int
}

var apiCases = []apiCase{
	{
		name: "chat",
		req: func(prompt string, stream bool) (string, string) {
			return "/v1/chat/completions", `{"model":"sim-small","stream":` + boolText(stream) + `,"messages":[{"role":"user","content":` + jsonString(prompt) + `}]}`
		},
		errType: func(b map[string]any) string { return str(path(b, "error", "type")) },
		content: func(evs []event) int {
			n := 0
			for _, e := range evs {
				if str(path(e.data, "choices", 0, "delta", "content")) != "" {
					n++
				}
			}
			return n
		},
	},
	{
		name: "responses",
		req: func(prompt string, stream bool) (string, string) {
			return "/v1/responses", `{"model":"sim-small","stream":` + boolText(stream) + `,"input":` + jsonString(prompt) + `}`
		},
		errType: func(b map[string]any) string { return str(path(b, "error", "type")) },
		content: func(evs []event) int {
			n := 0
			for _, e := range evs {
				if e.name == "response.output_text.delta" {
					n++
				}
			}
			return n
		},
	},
	{
		name: "messages",
		req: func(prompt string, stream bool) (string, string) {
			return "/v1/messages", `{"model":"sim-small","max_tokens":100,"stream":` + boolText(stream) + `,"messages":[{"role":"user","content":` + jsonString(prompt) + `}]}`
		},
		errType: func(b map[string]any) string { return str(b["type"]) + "/" + str(path(b, "error", "type")) },
		content: func(evs []event) int {
			n := 0
			for _, e := range evs {
				if e.name == "content_block_delta" {
					n++
				}
			}
			return n
		},
	},
	{
		name: "gemini",
		req: func(prompt string, stream bool) (string, string) {
			p := "/v1beta/models/sim-small:generateContent"
			if stream {
				p = "/v1beta/models/sim-small:streamGenerateContent?alt=sse"
			}
			return p, `{"contents":[{"role":"user","parts":[{"text":` + jsonString(prompt) + `}]}]}`
		},
		errType: func(b map[string]any) string { return str(path(b, "error", "status")) },
		content: func(evs []event) int {
			n := 0
			for _, e := range evs {
				p := path(e.data, "candidates", 0, "content", "parts", 0)
				if str(path(p, "text")) != "" || path(p, "functionCall") != nil {
					n++
				}
			}
			return n
		},
	},
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestStatusFaults(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	// want: the error type per API, in apiCases order.
	for _, tc := range []struct {
		name, directive string
		status          int
		want            [4]string
	}{
		{"429", "fault=429 retry_after=3", 429, [4]string{"requests", "requests", "error/rate_limit_error", "RESOURCE_EXHAUSTED"}},
		{"500", "fault=500", 500, [4]string{"server_error", "server_error", "error/api_error", "INTERNAL"}},
		{"503", "fault=503", 503, [4]string{"server_error", "server_error", "error/overloaded_error", "UNAVAILABLE"}},
		{"529", "fault=529", 529, [4]string{"server_error", "server_error", "error/overloaded_error", "UNAVAILABLE"}},
		{"any status", "fault=404", 404, [4]string{"invalid_request_error", "invalid_request_error", "error/not_found_error", "NOT_FOUND"}},
		{"error_event without a stream", "fault=error_event", 500, [4]string{"server_error", "server_error", "error/api_error", "INTERNAL"}},
	} {
		for i, api := range apiCases {
			for _, stream := range []bool{false, true} {
				if tc.name == "error_event without a stream" && stream {
					continue
				}
				t.Run(tc.name+"/"+api.name+"/stream="+boolText(stream), func(t *testing.T) {
					t.Parallel()
					p, body := api.req("hi [[sim "+tc.directive+"]]", stream)
					res := post(t, ts, p, body)
					if res.status != tc.status {
						t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
					}
					if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
						t.Errorf("Content-Type %q", ct)
					}
					v := decodeJSON(t, res.body)
					if got := api.errType(v); got != tc.want[i] {
						t.Errorf("error type %q, want %q: %s", got, tc.want[i], res.body)
					}
					if tc.status != 429 {
						return
					}
					switch api.name {
					case "chat", "responses":
						if res.header.Get("Retry-After") != "3" || res.header.Get("X-Ratelimit-Remaining-Requests") != "0" || res.header.Get("X-Ratelimit-Reset-Requests") != "3s" {
							t.Errorf("rate-limit headers %v", res.header)
						}
						if code := str(path(v, "error", "code")); code != "rate_limit_exceeded" || !strings.Contains(str(path(v, "error", "message")), "try again in 3s") {
							t.Errorf("error %v", v["error"])
						}
					case "messages":
						reset, err := time.Parse(time.RFC3339, res.header.Get("Anthropic-Ratelimit-Requests-Reset"))
						if res.header.Get("Retry-After") != "3" || res.header.Get("Anthropic-Ratelimit-Requests-Remaining") != "0" || err != nil || !reset.Equal(fixedClock().Add(3*time.Second)) {
							t.Errorf("rate-limit headers %v", res.header)
						}
					case "gemini":
						if d := path(v, "error", "details", 0, "retryDelay"); d != "3s" {
							t.Errorf("RetryInfo delay %v, want 3s", d)
						}
					}
				})
			}
		}
	}
}

func TestStreamFaults(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	for _, api := range apiCases {
		for _, cut := range []struct {
			name, directive string
			want            int
		}{
			{"cut", "fault=cut after=2 words=10", 2},
			{"cut after the content", "fault=cut after=50 words=3", 3},
		} {
			t.Run(api.name+"/"+cut.name, func(t *testing.T) {
				t.Parallel()
				p, body := api.req("hi [[sim "+cut.directive+"]]", true)
				res := post(t, ts, p, body)
				if !errors.Is(res.err, io.ErrUnexpectedEOF) {
					t.Errorf("reading the body: %v, want unexpected EOF", res.err)
				}
				if n := api.content(readEvents(t, res.body)); n != cut.want {
					t.Errorf("%d content chunks before the cut, want %d", n, cut.want)
				}
			})
		}
		t.Run(api.name+"/malformed", func(t *testing.T) {
			t.Parallel()
			p, body := api.req("hi [[sim fault=malformed after=1]]", true)
			res := post(t, ts, p, body)
			if res.err != nil {
				t.Fatalf("reading the body: %v; a malformed stream still ends cleanly", res.err)
			}
			raw := string(res.body)
			last := raw[strings.LastIndex(strings.TrimRight(raw, "\r\n"), "data: ")+len("data: "):]
			if json.Valid([]byte(strings.TrimSpace(last))) {
				t.Errorf("last event data is valid JSON: %s", last)
			}
			before := raw[:strings.LastIndex(strings.TrimRight(raw, "\r\n"), "data: ")]
			if n := api.content(readEventsLenient(t, before)); n != 1 {
				t.Errorf("%d content chunks before the malformed one, want 1", n)
			}
		})
		t.Run(api.name+"/error event", func(t *testing.T) {
			t.Parallel()
			p, body := api.req("hi [[sim fault=error_event after=2]]", true)
			res := post(t, ts, p, body)
			if res.status != http.StatusOK || res.err != nil {
				t.Fatalf("status %d, err %v", res.status, res.err)
			}
			evs := readEvents(t, res.body)
			if n := api.content(evs); n != 2 {
				t.Errorf("%d content chunks before the error, want 2", n)
			}
			last := evs[len(evs)-1]
			switch api.name {
			case "chat":
				if str(path(last.data, "error", "type")) != "server_error" || last.name != "" {
					t.Errorf("last event %s %s", last.name, last.raw)
				}
			case "responses":
				prev := evs[len(evs)-2]
				if prev.name != "error" || str(prev.data["code"]) != "server_error" || str(prev.data["message"]) == "" {
					t.Errorf("error event %s %s", prev.name, prev.raw)
				}
				if last.name != "response.failed" || str(path(last.data, "response", "status")) != "failed" || str(path(last.data, "response", "error", "code")) != "server_error" {
					t.Errorf("last event %s %s", last.name, last.raw)
				}
				if num(last.data["sequence_number"]) != len(evs)-1 || num(prev.data["sequence_number"]) != len(evs)-2 {
					t.Errorf("error events numbered %v, %v of %d", prev.data["sequence_number"], last.data["sequence_number"], len(evs))
				}
			case "messages":
				if last.name != "error" || str(last.data["type"]) != "error" || str(path(last.data, "error", "type")) != "overloaded_error" {
					t.Errorf("last event %s %s", last.name, last.raw)
				}
			case "gemini":
				if num(path(last.data, "error", "code")) != 500 || str(path(last.data, "error", "status")) != "INTERNAL" {
					t.Errorf("last event %s", last.raw)
				}
			}
		})
		t.Run(api.name+"/cut without a stream", func(t *testing.T) {
			t.Parallel()
			p, body := api.req("hi [[sim fault=cut]]", false)
			res := post(t, ts, p, body)
			if res.status != http.StatusOK || !errors.Is(res.err, io.ErrUnexpectedEOF) {
				t.Errorf("status %d, err %v; want 200 and unexpected EOF", res.status, res.err)
			}
			if len(res.body) == 0 || json.Valid(res.body) {
				t.Errorf("got %d bytes (%s), want half a body", len(res.body), res.body)
			}
		})
		t.Run(api.name+"/malformed without a stream", func(t *testing.T) {
			t.Parallel()
			p, body := api.req("hi [[sim fault=malformed]]", false)
			res := post(t, ts, p, body)
			if res.status != http.StatusOK || res.err != nil || len(res.body) == 0 || json.Valid(res.body) {
				t.Errorf("status %d, err %v, body %s; want 200 with invalid JSON", res.status, res.err, res.body)
			}
		})
		t.Run(api.name+"/reset", func(t *testing.T) {
			t.Parallel()
			p, body := api.req("hi [[sim fault=reset]]", false)
			resp, err := ts.Client().Post(ts.URL+p, "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want the connection closed without a response", resp.StatusCode)
			}
		})
	}
}

// readEventsLenient parses events, ignoring a last incomplete one.
func readEventsLenient(t *testing.T, body string) []event {
	t.Helper()
	end := max(strings.LastIndex(body, "\n\n")+2, strings.LastIndex(body, "\r\n\r\n")+4)
	if end < 4 {
		return nil
	}
	return readEvents(t, []byte(body[:end]))
}

func TestTimeoutFault(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t, Config{})
	t.Run("hold then answer", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		res := post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"hi [[sim fault=timeout hold=40ms text=late]]"}]}`)
		if res.status != http.StatusOK || str(path(decodeJSON(t, res.body), "choices", 0, "message", "content")) != "late" {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("answered after %v, before the 40ms hold", d)
		}
	})
	t.Run("until the client gives up", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/messages",
			strings.NewReader(`{"model":"sim-small","max_tokens":9,"messages":[{"role":"user","content":"[[sim fault=timeout id=give-up]]"}]}`))
		if resp, err := ts.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got status %d, want the client to time out", resp.StatusCode)
		}
		rec := waitRecord(t, s, "give-up")
		if rec.Status != 0 || rec.Outcome != "client_gone" || rec.Fault != "timeout" {
			t.Errorf("record status %d outcome %q fault %q, want 0, client_gone, timeout", rec.Status, rec.Outcome, rec.Fault)
		}
	})
	t.Run("released when the server closes", func(t *testing.T) {
		t.Parallel()
		s2, ts2 := newTestServer(t, Config{})
		done := make(chan error, 1)
		go func() {
			resp, err := ts2.Client().Post(ts2.URL+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"sim-small","messages":[{"role":"user","content":"[[sim fault=timeout id=closing]]"}]}`))
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		waitRecord(t, s2, "closing") // the request is held
		s2.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Error("got a response, want the held connection dropped")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the held request was not released by Close")
		}
	})
}

// waitRecord waits until the request log has a request whose body holds
// marker, and for it to finish if it is held; it fails after 5s.
func waitRecord(t *testing.T, s *Server, marker string) RequestRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range s.Requests() {
			if strings.Contains(r.Body, marker) && (r.Outcome != "" || strings.Contains(marker, "closing")) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished request with %q in the log: %+v", marker, s.Requests())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTimesDirective(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	send := func(id string) int {
		return post(t, ts, "/v1/chat/completions", `{"model":"sim-small","messages":[{"role":"user","content":"hi [[sim fault=503 times=2 id=`+id+`]]"}]}`).status
	}
	var got []int
	for range 3 {
		got = append(got, send("a"))
	}
	got = append(got, send("b"), send("a"))
	want := []int{503, 503, 200, 503, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
}

func TestModelFault(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{Models: []Model{
		{Name: "flaky", Fault: "fault=503 times=1"},
		{Name: "limited", Fault: "429"},
	}})
	send := func(model, prompt string) int {
		return post(t, ts, "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"`+prompt+`"}]}`).status
	}
	if got := []int{send("flaky", "a"), send("flaky", "a")}; got[0] != 503 || got[1] != 200 {
		t.Errorf("flaky: %v, want [503 200]", got)
	}
	if got := send("limited", "a"); got != 429 {
		t.Errorf("limited: %d, want 429", got)
	}
	if got := send("limited", `a [[sim fault=500]]`); got != 500 {
		t.Errorf("limited with a fault directive: %d, want the directive's 500", got)
	}
}

// A stream to a client that goes away stops being generated.
func TestStreamStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Clock: fixedClock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	produced := make(chan int, 100)
	s.chunkHook = func(n int) { produced <- n }
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"sim-stream","stream":true,"messages":[{"role":"user","content":"[[sim words=40 id=leave]]"}]}`))
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-produced
	cancel()
	resp.Body.Close()
	rec := waitRecord(t, s, "id=leave")
	if rec.Outcome != "client_gone" || rec.Status != http.StatusOK {
		t.Errorf("status %d outcome %q, want 200 and client_gone", rec.Status, rec.Outcome)
	}
	if n := len(produced); n >= 39 {
		t.Errorf("%d more chunks produced after the client left", n)
	}
}

func TestRecordedOutcomes(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		name, prompt string
		stream       bool
		status       int
		fault        string
		outcome      string
	}{
		{"cut stream", "[[sim fault=cut after=1 id=o1]]", true, 200, "cut", "aborted"},
		{"cut body", "[[sim fault=cut id=o2]]", false, 200, "cut", "aborted"},
		{"reset", "[[sim fault=reset id=o3]]", false, 0, "reset", "reset"},
		{"error event", "[[sim fault=error_event id=o4]]", true, 200, "error_event", ""},
		{"status", "[[sim fault=529 id=o5]]", false, 529, "529", ""},
		{"spent fault", "[[sim fault=529 times=1 id=o6]] again", false, 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, body := apiCases[2].req(tc.prompt, tc.stream)
			if tc.name == "spent fault" {
				post(t, ts, p, strings.Replace(body, " again", "", 1))
			}
			resp, err := ts.Client().Post(ts.URL+p, "application/json", strings.NewReader(body))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			id := tc.prompt[strings.Index(tc.prompt, "id="):strings.Index(tc.prompt, "]]")]
			var rec RequestRecord
			deadline := time.Now().Add(5 * time.Second)
			for {
				for _, r := range s.Requests() {
					if strings.Contains(r.Body, id) && (tc.name != "spent fault" || strings.Contains(r.Body, "again")) {
						rec = r
					}
				}
				if rec.Status != 0 || rec.Outcome != "" || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if rec.Status != tc.status || rec.Fault != tc.fault || rec.Outcome != tc.outcome {
				t.Errorf("record status %d fault %q outcome %q, want %d %q %q", rec.Status, rec.Fault, rec.Outcome, tc.status, tc.fault, tc.outcome)
			}
		})
	}
}
