package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/gateway/sse"
)

// Each chunk reaches the client as soon as it is produced: the client
// reads the first content chunk while the server is held before
// producing the second.
func TestStreamFlushesEachChunk(t *testing.T) {
	t.Parallel()
	for _, api := range apiCases {
		t.Run(api.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(Config{Clock: fixedClock}, nil)
			if err != nil {
				t.Fatal(err)
			}
			release := make(chan struct{})
			s.chunkHook = func(n int) {
				if n == 1 {
					<-release
				}
			}
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			defer s.Close()
			p, body := api.req("hi [[sim words=5]]", true)
			resp, err := ts.Client().Post(ts.URL+p, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := sse.NewReader(resp.Body)
			first := make(chan error, 1)
			go func() {
				for {
					ev, err := r.Next()
					if err != nil {
						first <- err
						return
					}
					var data map[string]any
					_ = json.Unmarshal(ev.Data, &data)
					if api.content([]event{{name: ev.Name, data: data}}) == 1 {
						first <- nil
						return
					}
				}
			}()
			select {
			case err := <-first:
				if err != nil {
					t.Fatalf("reading the first chunk: %v", err)
				}
			case <-time.After(5 * time.Second):
				close(release)
				t.Fatal("the first chunk did not arrive before the second was produced: it was not flushed")
			}
			close(release)
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if len(rest) == 0 {
				t.Error("nothing after the first chunk")
			}
		})
	}
}

func TestModelTiming(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t, Config{})
	t.Run("sim-slow waits before headers and first chunk", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		resp, err := ts.Client().Post(ts.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"sim-slow","stream":true,"messages":[{"role":"user","content":"hi [[sim words=2]]"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("headers after %v, want at least the 50ms latency", d)
		}
		r := sse.NewReader(resp.Body)
		for {
			ev, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(ev.Data), `"content":"Simulated"`) {
				break
			}
		}
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("first chunk after %v, want at least latency + TTFT = 100ms", d)
		}
	})
	t.Run("sim-stream paces its chunks", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		res := post(t, ts, "/v1/messages", `{"model":"sim-stream","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi [[sim words=9]]"}]}`)
		// TTFT 20ms, then 8 gaps of 5ms.
		if d := time.Since(start); d < 60*time.Millisecond {
			t.Errorf("stream took %v, want at least 60ms", d)
		}
		if res.err != nil || res.status != http.StatusOK {
			t.Fatalf("%d %v", res.status, res.err)
		}
	})
	t.Run("non-streamed answers wait for the whole generation", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		post(t, ts, "/v1/chat/completions", `{"model":"sim-stream","messages":[{"role":"user","content":"hi [[sim words=9]]"}]}`)
		if d := time.Since(start); d < 60*time.Millisecond {
			t.Errorf("answer after %v, want at least 60ms", d)
		}
	})
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"a b c.", []string{"a", " b", " c."}},
		{"  lead  and\ntrail  ", []string{"  lead", "  and", "\ntrail  "}},
		{"   ", []string{"   "}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := splitWords(tc.in)
			if strings.Join(got, "") != tc.in || len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestSplitBytesKeepsRunes(t *testing.T) {
	t.Parallel()
	in := `{"command":"echo héllo wörld ✓"}`
	chunks := splitBytes(in, 8)
	if strings.Join(chunks, "") != in {
		t.Fatalf("chunks %q do not join to the input", chunks)
	}
	for _, c := range chunks {
		if !utf8.ValidString(c) || len(c) > 8 {
			t.Errorf("chunk %q is not whole runes of at most 8 bytes", c)
		}
	}
}
