// Package gatewaytest runs a real gateway for tests: an event store in a
// temporary directory, simulators on loopback as providers, and the HTTP
// front end on a free port, with helpers to call it and read the events a
// call left.
package gatewaytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/config"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/provider"
	"github.com/switchyard/switchyard/gateway/sim"
)

// stack is a gateway in front of one or more simulators, served over real
// HTTP on loopback, with its event log in a temporary directory.
type Stack struct {
	t *testing.T
	// GW is the gateway, Store its event log.
	GW    *gateway.Gateway
	Store *embedded.Store
	// URL is the gateway's base URL, http://127.0.0.1:port.
	URL string
	// Sims are the simulators by name.
	Sims map[string]*httptest.Server
	// HTTP is the front end; tests may shut it down themselves (the
	// cleanup's second Shutdown is harmless).
	HTTP *httpapi.Server
	// Key is the secret of a key made for the test (team "eng", user
	// "ana", tag suite=gateway), KeyID its id.
	Key   string
	KeyID string
}

type Config struct {
	// Sims are simulator names → config; each becomes a provider of
	// kind sim with that name (and its default models).
	Sims map[string]sim.Config
	// Gateway is completed with the sims' base URLs: providers whose
	// BaseURL is "sim:NAME" (or "sim:NAME/v1") point at that simulator. Without providers,
	// one sim provider named "sim" is configured.
	Gateway   gateway.Config
	BodyLimit int
}

func New(t *testing.T, sc Config) *Stack {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{t: t, Store: st, Sims: map[string]*httptest.Server{}}
	if sc.Sims == nil {
		sc.Sims = map[string]sim.Config{"sim": {}}
	}
	for name, c := range sc.Sims {
		srv, err := sim.New(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		s.Sims[name] = hs
		t.Cleanup(func() { srv.Close(); hs.Close() })
	}
	cfg := sc.Gateway
	if len(cfg.Providers) == 0 {
		cfg.Providers = append(cfg.Providers, ProviderSim("sim"))
	}
	for i, p := range cfg.Providers {
		if ref, ok := strings.CutPrefix(p.BaseURL, "sim:"); ok {
			// "sim:NAME" or "sim:NAME/path" (an OpenAI kind wants /v1).
			name, path, _ := strings.Cut(ref, "/")
			cfg.Providers[i].BaseURL = s.Sims[name].URL
			if path != "" {
				cfg.Providers[i].BaseURL += "/" + path
			}
		}
	}
	if cfg.Proxy.BackoffBase == 0 {
		cfg.Proxy.BackoffBase = config.Duration(time.Millisecond)
		cfg.Proxy.BackoffMax = config.Duration(5 * time.Millisecond)
	}
	gw, err := gateway.New(cfg, gateway.Options{Store: st, PluginDir: filepath.Join(t.TempDir(), "plugins")})
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.GW = gw
	srv, err := httpapi.New(httpapi.Config{Gateway: gw, Admin: gw, BodyLimit: sc.BodyLimit}, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.HTTP = srv
	go srv.Serve(ln)
	s.URL = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		gw.Close(sctx)
		st.Close()
	})
	k, secret, err := gw.CreateKey(ctx, keys.Spec{Name: "test", Team: "eng", User: "ana", Tags: map[string]string{"suite": "gateway"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	s.Key, s.KeyID = secret, k.ID
	return s
}

// call is one HTTP exchange with the gateway.
type Call struct {
	Status int
	Header http.Header
	Body   []byte
}

// ID is the call id the gateway gave the call.
func (c Call) ID() string { return c.Header.Get("x-switchyard-call-id") }

func (s *Stack) Post(path, key string, body string, hdr ...string) Call {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("read answer: %v", err)
	}
	return Call{Status: res.StatusCode, Header: res.Header, Body: b}
}

// events returns the events of call id, in log order, after flushing the
// recorder.
func (s *Stack) Events(callID string) []event.Event {
	s.t.Helper()
	if err := s.GW.Flush(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	var out []event.Event
	for e, err := range s.Store.ReadAll(context.Background(), eventstore.ReadOptions{}) {
		if err != nil {
			s.t.Fatal(err)
		}
		var d struct {
			CallID string `json:"call_id"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.CallID == callID {
			out = append(out, e)
		}
	}
	return out
}

func Types(evs []event.Event) string {
	var ts []string
	for _, e := range evs {
		ts = append(ts, e.Type)
	}
	return strings.Join(ts, " ")
}

// find decodes the first event of type typ into v.
func Find[T any](t *testing.T, evs []event.Event, typ string) T {
	t.Helper()
	var v T
	for _, e := range evs {
		if e.Type == typ {
			if err := json.Unmarshal(e.Data, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s among %s", typ, Types(evs))
	return v
}

func All[T any](t *testing.T, evs []event.Event, typ string) []T {
	t.Helper()
	var out []T
	for _, e := range evs {
		if e.Type == typ {
			var v T
			if err := json.Unmarshal(e.Data, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// sseEvents splits an SSE body into (event name, data) pairs.
func SSEEvents(body []byte) [][2]string {
	var out [][2]string
	var name string
	var data []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 || name != "" {
				out = append(out, [2]string{name, strings.Join(data, "\n")})
			}
			name, data = "", nil
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	return out
}

func ChatBody(model, text string, stream bool) string {
	b, _ := json.Marshal(map[string]any{"model": model, "stream": stream, "messages": []map[string]any{{"role": "user", "content": text}}})
	return string(b)
}

func MessagesBody(model, text string, stream bool) string {
	b, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 256, "stream": stream, "messages": []map[string]any{{"role": "user", "content": text}}})
	return string(b)
}

func ResponsesBody(model, text string, stream bool) string {
	b, _ := json.Marshal(map[string]any{"model": model, "stream": stream, "store": false, "input": text})
	return string(b)
}

func JSONField(t *testing.T, body []byte, path ...string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			if i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// ProviderSim is a provider config for simulator name, optionally limited
// to some wire formats (so calls through it are translated).
func ProviderSim(name string, apis ...llm.API) provider.Config {
	return provider.Config{Name: name, Kind: "sim", BaseURL: "sim:" + name, APIs: apis,
		Models: []string{"sim-small", "sim-large", "sim-slow", "sim-stream", "sim-reasoning"}}
}
