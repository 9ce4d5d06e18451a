package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/projection"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
)

type harness struct {
	srv   *Server
	store *embedded.Store
	base  string // http://127.0.0.1:port
}

// start serves a Server over a fresh embedded store on 127.0.0.1:0, with
// a stream catalogue fed by a projection runner.
func start(t *testing.T, tweak ...func(*Config)) *harness {
	t.Helper()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := projection.NewStreamCatalog()
	runner := projection.NewRunner(cat, store, store, projection.RunnerConfig{}, nil)
	rctx, rcancel := context.WithCancel(context.Background())
	rdone := make(chan error, 1)
	go func() { rdone <- runner.Run(rctx) }()

	cfg := Config{Heartbeat: 20 * time.Millisecond, Version: "test", Catalog: cat, CatalogWaiter: runner}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := New(cfg, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		rcancel()
		if err := <-rdone; err != nil && !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("catalogue runner: %v", err)
		}
		store.Close()
	})
	return &harness{srv: srv, store: store, base: "http://" + ln.Addr().String()}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t *testing.T, method, path string, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (r response) errorBody(t *testing.T) ErrorBody {
	t.Helper()
	var er ErrorResponse
	if err := json.Unmarshal(r.body, &er); err != nil || er.Error.Code == "" {
		t.Fatalf("want a JSON error body, got %d %q (%v)", r.status, r.body, err)
	}
	return er.Error
}

func (r response) events(t *testing.T) []event.Event {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q, want application/x-ndjson (body %q)", ct, r.body)
	}
	var out []event.Event
	for line := range bytes.Lines(r.body) {
		var e event.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func (h *harness) appendOK(t *testing.T, stream, body string) AppendResponse {
	t.Helper()
	r := h.do(t, "POST", "/api/v1/streams/"+url.PathEscape(stream)+"/events", body)
	if r.status != http.StatusCreated {
		t.Fatalf("append: %d %s", r.status, r.body)
	}
	var ar AppendResponse
	if err := json.Unmarshal(r.body, &ar); err != nil {
		t.Fatal(err)
	}
	return ar
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	h := start(t)
	if r := h.do(t, "GET", "/healthz", ""); r.status != 200 || !strings.Contains(string(r.body), `"status":"ok"`) {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	if r := h.do(t, "GET", "/readyz", ""); r.status != 200 || !strings.Contains(string(r.body), `"last_position":0`) {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	h.appendOK(t, "s-1", `{"type":"t.a","data":{}}`)
	if r := h.do(t, "GET", "/readyz", ""); !strings.Contains(string(r.body), `"last_position":1`) {
		t.Fatalf("readyz after an append: %d %s", r.status, r.body)
	}
}

func TestAppend(t *testing.T) {
	t.Parallel()
	h := start(t)
	id := event.NewID().String()
	one := `{"id":"` + id + `","type":"session.started","data":{"agent":"a"},"metadata":{"actor":"user:alice"}}`

	ar := h.appendOK(t, "session-1", one)
	if ar.Stream != "session-1" || ar.FirstVersion != 0 || ar.LastVersion != 0 || len(ar.Positions) != 1 || ar.Duplicate {
		t.Fatalf("first append: %+v", ar)
	}
	// A retry with the same id is a duplicate, answered 200 with the original result.
	r := h.do(t, "POST", "/api/v1/streams/session-1/events?expected=no-stream", one)
	var dup AppendResponse
	json.Unmarshal(r.body, &dup)
	if r.status != http.StatusOK || !dup.Duplicate || dup.Positions[0] != ar.Positions[0] {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	// An array, with the expected version in the header.
	r = h.do(t, "POST", "/api/v1/streams/session-1/events",
		`[{"type":"message.added","data":{"role":"user","text":"hi"}},{"type":"message.added","data":{"role":"assistant","text":"hello"}}]`,
		ExpectedVersionHeader, "0")
	if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"first_version":1,"last_version":2`) {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	// A stream name that needs escaping.
	if ar := h.appendOK(t, "team/blue:1", `{"type":"t.a","data":1}`); ar.Stream != "team/blue:1" {
		t.Fatalf("escaped stream name came back as %q", ar.Stream)
	}
	got := h.do(t, "GET", "/api/v1/streams/session-1/events", "").events(t)
	if len(got) != 3 || got[0].ID.String() != id || got[0].Metadata.Actor != "user:alice" || got[2].Type != "message.added" {
		t.Fatalf("read back %+v", got)
	}
	if err := event.VerifyChain(got); err != nil {
		t.Fatal(err)
	}
}

func TestAppendErrors(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.appendOK(t, "s", `{"type":"t.a","data":{}}`)
	cases := []struct {
		name, stream, query, body string
		header                    []string
		status                    int
		code                      string
		message                   string // a substring
	}{
		{"wrong expected version", "s", "?expected=5", `{"type":"t.a","data":{}}`, nil, 409, "wrong_expected_version", `expected version 5 but it is at version 0`},
		{"expected no-stream on an existing stream", "s", "?expected=no-stream", `{"type":"t.a","data":{}}`, nil, 409, "wrong_expected_version", "no-stream"},
		{"unknown expected version", "s", "?expected=latest", `{"type":"t.a","data":{}}`, nil, 400, "bad_request", `want any, no-stream, exists or a version number`},
		{"query and header disagree", "s", "?expected=1", `{"type":"t.a","data":{}}`, []string{ExpectedVersionHeader, "2"}, 400, "bad_request", "send one"},
		{"malformed JSON", "s", "", `{"type":"t.a","data":{}`, nil, 400, "bad_request", "malformed JSON"},
		{"syntax error", "s", "", `{"type":"t.a" "data":{}}`, nil, 400, "bad_request", "malformed JSON at byte 15"},
		{"empty body", "s", "", ``, nil, 400, "bad_request", "request body is empty"},
		{"not an object", "s", "", `"hello"`, nil, 400, "bad_request", "not a JSON object or array"},
		{"empty array", "s", "", `[]`, nil, 400, "bad_request", "array of events is empty"},
		{"unknown field", "s", "", `{"type":"t.a","dat":{}}`, nil, 400, "bad_request", `unknown field "dat"`},
		{"wrong field type", "s", "", `{"type":"t.a","data":{},"metadata":{"schema":"x"}}`, nil, 400, "bad_request", `field "metadata.schema" holds a JSON string`},
		{"no data", "s", "", `{"type":"t.a"}`, nil, 400, "bad_request", "has no data"},
		{"no type", "s", "", `{"data":{}}`, nil, 400, "bad_request", "has no type"},
		{"bad id", "s", "", `{"id":"abc","type":"t.a","data":{}}`, nil, 400, "bad_request", `id "abc" is not a UUID`},
		{"second event bad", "s", "", `[{"type":"t.a","data":{}},{"type":"t.a"}]`, nil, 400, "bad_request", "event 2 of 2"},
		{"two values", "s", "", `{"type":"t.a","data":{}} {}`, nil, 400, "bad_request", "more than one JSON value"},
		{"bad type", "s", "", `{"type":"Not A Type","data":{}}`, nil, 400, "invalid", "dotted lower-case"},
		{"reserved stream", "$all", "", `{"type":"t.a","data":{}}`, nil, 400, "invalid", "reserved"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, "POST", "/api/v1/streams/"+url.PathEscape(tc.stream)+"/events"+tc.query, tc.body, tc.header...)
			eb := r.errorBody(t)
			if r.status != tc.status || eb.Code != tc.code || !strings.Contains(eb.Message, tc.message) {
				t.Fatalf("got %d %+v, want %d %s with %q", r.status, eb, tc.status, tc.code, tc.message)
			}
		})
	}
	t.Run("conflict carries expected and actual", func(t *testing.T) {
		eb := h.do(t, "POST", "/api/v1/streams/s/events?expected=7", `{"type":"t.a","data":{}}`).errorBody(t)
		if eb.Stream != "s" || eb.Expected != "7" || eb.Actual != "0" {
			t.Fatalf("%+v", eb)
		}
		eb = h.do(t, "POST", "/api/v1/streams/new/events?expected=exists", `{"type":"t.a","data":{}}`).errorBody(t)
		if eb.Expected != "exists" || eb.Actual != "no-stream" {
			t.Fatalf("%+v", eb)
		}
	})
	t.Run("id conflict", func(t *testing.T) {
		id := event.NewID().String()
		h.appendOK(t, "a", `{"id":"`+id+`","type":"t.a","data":{}}`)
		r := h.do(t, "POST", "/api/v1/streams/b/events", `{"id":"`+id+`","type":"t.a","data":{}}`)
		if eb := r.errorBody(t); r.status != 409 || eb.Code != "id_conflict" {
			t.Fatalf("%d %+v", r.status, eb)
		}
	})
}

func TestRead(t *testing.T) {
	t.Parallel()
	h := start(t)
	for i := range 5 {
		h.appendOK(t, "s", fmt.Sprintf(`{"type":"t.a","data":{"i":%d}}`, i))
		h.appendOK(t, "other", `{"type":"t.b","data":{}}`)
	}
	versions := func(es []event.Event) (out []uint64) {
		for _, e := range es {
			out = append(out, e.StreamVersion)
		}
		return out
	}
	positions := func(es []event.Event) (out []uint64) {
		for _, e := range es {
			out = append(out, e.Position)
		}
		return out
	}
	cases := []struct {
		path string
		want string
		of   func([]event.Event) []uint64
	}{
		{"/api/v1/streams/s/events", "[0 1 2 3 4]", versions},
		{"/api/v1/streams/s/events?from=2&limit=2", "[2 3]", versions},
		{"/api/v1/streams/s/events?direction=backwards", "[4 3 2 1 0]", versions},
		{"/api/v1/streams/s/events?direction=backwards&from=1", "[1 0]", versions},
		{"/api/v1/streams/s/events?from=9", "[]", versions},
		{"/api/v1/events", "[1 2 3 4 5 6 7 8 9 10]", positions},
		{"/api/v1/events?from=8", "[8 9 10]", positions},
		{"/api/v1/events?direction=backwards&limit=3", "[10 9 8]", positions},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			r := h.do(t, "GET", tc.path, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := fmt.Sprint(tc.of(r.events(t))); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	errs := []struct {
		path    string
		status  int
		code    string
		message string
	}{
		{"/api/v1/streams/nope/events", 404, "stream_not_found", "stream not found"},
		{"/api/v1/streams/s/events?from=x", 400, "bad_request", `from "x" is not a version`},
		{"/api/v1/events?from=-1", 400, "bad_request", `from "-1" is not a position`},
		{"/api/v1/events?direction=up", 400, "bad_request", "want forwards or backwards"},
		{"/api/v1/events?limit=lots", 400, "bad_request", "limit"},
		{"/api/v1/nothing", 404, "not_found", "no such endpoint"},
		{"/api/v1/events/feed?from=soon", 400, "bad_request", `from "soon" is not a position`},
	}
	for _, tc := range errs {
		t.Run(tc.path, func(t *testing.T) {
			r := h.do(t, "GET", tc.path, "")
			eb := r.errorBody(t)
			if r.status != tc.status || eb.Code != tc.code || !strings.Contains(eb.Message, tc.message) {
				t.Fatalf("got %d %+v, want %d %s with %q", r.status, eb, tc.status, tc.code, tc.message)
			}
		})
	}
}

func TestStreams(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.appendOK(t, "a", `[{"type":"t.a","data":{}},{"type":"t.b","data":{}}]`)
	h.appendOK(t, "b", `{"type":"t.a","data":{}}`)
	r := h.do(t, "GET", "/api/v1/streams", "")
	var sr StreamsResponse
	if err := json.Unmarshal(r.body, &sr); err != nil || r.status != 200 {
		t.Fatalf("%d %s %v", r.status, r.body, err)
	}
	if sr.Position != 3 || len(sr.Streams) != 2 || sr.Streams[0].Stream != "a" || sr.Streams[0].Events != 2 ||
		sr.Streams[0].Types["t.b"] != 1 || sr.Streams[1].LastPosition != 3 {
		t.Fatalf("%s", r.body)
	}
}

// feedClient reads a server-sent-event stream.
type feedClient struct {
	res    *http.Response
	rd     *bufio.Reader
	cancel context.CancelFunc
}

func (h *harness) openFeed(t *testing.T, query string, header ...string) *feedClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.base+"/api/v1/events/feed"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	fc := &feedClient{res: res, rd: bufio.NewReader(res.Body), cancel: cancel}
	t.Cleanup(fc.close)
	return fc
}

func (fc *feedClient) close() { fc.cancel(); fc.res.Body.Close() }

// next returns the next event's id and data, skipping comments.
func (fc *feedClient) next(t *testing.T) (id string, e event.Event) {
	t.Helper()
	var name, data string
	for {
		line, err := fc.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("feed ended: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data == "" {
				continue
			}
			if name != "" {
				t.Fatalf("feed sent event %q: %s", name, data)
			}
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatal(err)
			}
			return id, e
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			name = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		default:
			t.Fatalf("unexpected feed line %q", line)
		}
	}
}

func TestFeedCatchUpThenLive(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.appendOK(t, "s", `[{"type":"t.a","data":{"n":1}},{"type":"t.a","data":{"n":2}}]`)
	fc := h.openFeed(t, "?from=0")
	for want := uint64(1); want <= 2; want++ {
		id, e := fc.next(t)
		if id != fmt.Sprint(want) || e.Position != want {
			t.Fatalf("event id %s position %d, want %d", id, e.Position, want)
		}
	}
	h.appendOK(t, "t", `{"type":"t.b","data":{"n":3}}`)
	if id, e := fc.next(t); id != "3" || e.Stream != "t" || string(e.Data) != `{"n":3}` {
		t.Fatalf("live event %s %+v", id, e)
	}

	// A reconnecting client resumes after Last-Event-ID, whatever from says.
	again := h.openFeed(t, "?from=0", "Last-Event-ID", "2")
	if id, _ := again.next(t); id != "3" {
		t.Fatalf("resumed at %s, want 3", id)
	}
	// from=end sends only new events.
	tail := h.openFeed(t, "?from=end")
	h.appendOK(t, "t", `{"type":"t.b","data":{"n":4}}`)
	if id, _ := tail.next(t); id != "4" {
		t.Fatalf("from=end sent %s first, want 4", id)
	}
}

// A session's feed sends its events at once, also when events of other
// streams, which it leaves out, come after them (not at the next
// heartbeat, an hour away here).
func TestFeedOfASessionIsNotHeldBack(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.Heartbeat = time.Hour })
	h.appendOK(t, "session-x", `{"type":"t.a","data":{"n":1}}`)
	for range 50 {
		h.appendOK(t, "other", `{"type":"t.b","data":{}}`)
	}
	fc := h.openFeed(t, "?from=0&session=x")
	stop := time.AfterFunc(5*time.Second, fc.close)
	defer stop.Stop()
	if _, e := fc.next(t); e.Stream != "session-x" {
		t.Fatalf("first event %+v", e)
	}
	h.appendOK(t, "session-x", `{"type":"t.a","data":{"n":2}}`)
	h.appendOK(t, "other", `{"type":"t.b","data":{}}`)
	if _, e := fc.next(t); e.Stream != "session-x" || string(e.Data) != `{"n":2}` {
		t.Fatalf("live event %+v", e)
	}
}

func TestFeedEndsWhenClientGoes(t *testing.T) {
	t.Parallel()
	h := start(t)
	fc := h.openFeed(t, "")
	// Wait for the writer to be running, then go away.
	if _, err := fc.rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	fc.close()
	// The feed notices at its next heartbeat and ends: the stream count
	// drops to zero, which Shutdown would otherwise wait for.
	done := make(chan struct{})
	go func() { h.srv.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the feed kept running after its client went away")
	}
}

func TestShutdownEndsFeeds(t *testing.T) {
	t.Parallel()
	h := start(t)
	h.appendOK(t, "s", `{"type":"t.a","data":{}}`)
	fc := h.openFeed(t, "")
	fc.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %s with a feed open", d)
	}
	if _, err := io.ReadAll(fc.rd); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("feed body after shutdown: %v", err)
	}
	if r, err := http.Get(h.base + "/healthz"); err == nil {
		r.Body.Close()
		t.Fatal("server still answers after shutdown")
	}
}

func TestFeedErrorWhenStoreCloses(t *testing.T) {
	t.Parallel()
	h := start(t)
	fc := h.openFeed(t, "")
	if _, err := fc.rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	h.store.Close()
	var rest strings.Builder
	io.Copy(&rest, fc.rd)
	if !strings.Contains(rest.String(), "event: error\ndata: {\"error\":{\"code\":\"unavailable\"") {
		t.Fatalf("feed after the store closed: %q", rest.String())
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Heartbeat: -1}, nil, nil); err == nil {
		t.Fatal("negative heartbeat accepted")
	}
	if _, err := New(Config{}, nil, nil); err == nil || !strings.Contains(err.Error(), "no event store") {
		t.Fatalf("nil store: %v", err)
	}
	var _ Store = eventstore.Store(nil)
}

func TestLimitsAndRoutes(t *testing.T) {
	t.Parallel()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := New(Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"DELETE", "/api/v1/events", "", 405, "method_not_allowed"},
		{"GET", "/nope", "", 404, "not_found"},
		{"GET", "/readyz", "", 503, "not_ready"}, // not serving yet
		{"GET", "/api/v1/streams", "", 501, "not_implemented"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			res, err := srv.app.Test(req, 5000)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			r := response{status: res.StatusCode, header: res.Header, body: b}
			if eb := r.errorBody(t); r.status != tc.status || eb.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, b, tc.status, tc.code)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.BodyLimit = 64 })
	r := h.do(t, "POST", "/api/v1/streams/s/events", `{"type":"t.a","data":{"text":"`+strings.Repeat("x", 100)+`"}}`)
	if eb := r.errorBody(t); r.status != 413 || eb.Code != "payload_too_large" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestShutdownRightAfterServe stops a server whose Serve may not have
// reached fasthttp yet: Serve must still return.
func TestShutdownRightAfterServe(t *testing.T) {
	t.Parallel()
	store, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for range 20 {
		srv, err := New(Config{}, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after Shutdown")
		}
	}
}
