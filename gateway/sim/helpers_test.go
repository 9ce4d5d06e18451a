package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/gateway/sse"
)

// fixedClock is the time every test answer carries.
var fixedClock = func() time.Time { return time.Unix(1767225600, 0) } // 2026-01-01

// newTestServer starts a simulator with cfg (fixed clock by default)
// behind an httptest server.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts
}

// result is a response read whole.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error // from reading the body
}

// do sends body to path with headers ("Name: value") and reads the
// answer.
func do(t *testing.T, ts *httptest.Server, method, path, body string, headers ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func post(t *testing.T, ts *httptest.Server, path, body string, headers ...string) result {
	t.Helper()
	return do(t, ts, http.MethodPost, path, body, headers...)
}

// decodeJSON decodes b into a generic value.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, b)
	}
	return v
}

// event is one server-sent event, data decoded.
type event struct {
	name string
	raw  string
	data map[string]any
}

// readEvents parses an SSE body. Events whose data is not a JSON object
// ([DONE]) keep only raw.
func readEvents(t *testing.T, body []byte) []event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(body))
	var out []event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading events: %v\n%s", err, body)
		}
		e := event{name: ev.Name, raw: string(ev.Data)}
		if len(ev.Data) > 0 && ev.Data[0] == '{' {
			if err := json.Unmarshal(ev.Data, &e.data); err != nil {
				t.Fatalf("event data is not JSON: %v\n%s", err, ev.Data)
			}
		}
		out = append(out, e)
	}
}

// path walks a decoded JSON value: string keys index objects, ints index
// arrays.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// num reads a JSON number as an int.
func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// str reads a JSON string.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// names lists the events' names, or their data's "type" when unnamed.
func names(evs []event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.name
		if out[i] == "" {
			out[i] = str(e.data["type"])
		}
	}
	return out
}

// The requests of the format tests.
const (
	shellSchema = `{"type":"object","properties":{"command":{"type":"string"},"description":{"type":"string"}},"required":["command","description"]}`
)

// readTestdata reads a file under testdata/.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
