package sim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start:
// on a busy machine it is a steadier figure than ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

const (
	benchChat     = `{"model":"sim-small","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello to the benchmark in a few words."}]}`
	benchMessages = `{"model":"sim-small","max_tokens":256,"stream":true,"system":"You are terse.","messages":[{"role":"user","content":"Say hello to the benchmark in a few words."}]}`
)

func benchServer(b *testing.B) *Server {
	s, err := New(Config{RequestLogSize: 1000}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkChatCompletion is a non-streamed chat completion through a real
// HTTP server and client.
func BenchmarkChatCompletion(b *testing.B) {
	benchHTTP(b, "/v1/chat/completions", benchChat)
}

// BenchmarkMessagesStream is a streamed Anthropic message (24 words)
// through a real HTTP server and client.
func BenchmarkMessagesStream(b *testing.B) {
	benchHTTP(b, "/v1/messages", benchMessages)
}

func benchHTTP(b *testing.B, path, body string) {
	ts := httptest.NewServer(benchServer(b).Handler())
	defer ts.Close()
	client := ts.Client()
	payload := []byte(body)
	b.ReportAllocs()
	start := cpuTime(b)
	defer reportCPU(b, start)
	for b.Loop() {
		resp, err := client.Post(ts.URL+path, "application/json", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n == 0 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}

// BenchmarkChatCompletionHandler is the simulator's own cost of a
// non-streamed chat completion: the handler alone, no network.
func BenchmarkChatCompletionHandler(b *testing.B) {
	benchHandler(b, "/v1/chat/completions", benchChat)
}

// BenchmarkMessagesStreamHandler is the simulator's own cost of a
// streamed message.
func BenchmarkMessagesStreamHandler(b *testing.B) {
	benchHandler(b, "/v1/messages", benchMessages)
}

func benchHandler(b *testing.B, path, body string) {
	h := benchServer(b).Handler()
	payload := []byte(body)
	b.ReportAllocs()
	start := cpuTime(b)
	defer reportCPU(b, start)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(payload))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
