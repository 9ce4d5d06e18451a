package proxy

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/config"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, leak string }{
		{"Incorrect API key provided: sk-proj-abcdefghijklmnop1234. You can find your API key at ...", "sk-proj-abcdefghijklmnop1234"},
		{"invalid x-api-key sk-ant-api03-AAAAAAAAAAAAAAAAAAAA", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAA"},
		{"API key not valid: AIzaSyD-abcdefghijklmnopqrstuvwxyz012", "AIzaSyD-abcdefghijklmnopqrstuvwxyz012"},
		{"sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "eyJhbGciOiJIUzI1NiJ9.payload"},
		{"virtual key sy-Zm9vYmFyYmF6cXV4cXV1eA was revoked", "sy-Zm9vYmFyYmF6cXV4cXV1eA"},
		{"groq: gsk_abcdefghijklmnopqrstu is invalid", "gsk_abcdefghijklmnopqrstu"},
	} {
		if got := redact(tc.in); strings.Contains(got, tc.leak) || !strings.Contains(got, "[redacted]") {
			t.Errorf("redact(%q) = %q", tc.in, got)
		}
	}
	if got := redact("the model is overloaded; try again"); got != "the model is overloaded; try again" {
		t.Errorf("plain message changed: %q", got)
	}
	if got := redact(strings.Repeat("x", 2000)); len(got) > 510 {
		t.Errorf("long message not bounded: %d bytes", len(got))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second},
		{http.Header{"Retry-After-Ms": {"1500"}, "Retry-After": {"9"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{}, 0},
	} {
		if got := parseRetryAfter(tc.h, now); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestParseTags(t *testing.T) {
	got, err := ParseTags(" ticket=SY-1, env = ci ,empty=")
	if err != nil || got["ticket"] != "SY-1" || got["env"] != "ci" || got["empty"] != "" || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"novalue", "=v", "a=1,,b=2"} {
		if _, err := ParseTags(bad); err == nil || !strings.Contains(err.Error(), "k1=v1") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestRetryBudget(t *testing.T) {
	now := time.Unix(0, 0)
	rb := newRetryBudget(0.2, 1)
	// A new key starts with half the bucket (5 retries).
	n := 0
	for rb.Withdraw("k", now) {
		n++
	}
	if n != 5 {
		t.Fatalf("%d retries from a fresh bucket, want 5", n)
	}
	// Five calls earn one retry; a second of time earns one more.
	for range 5 {
		rb.Deposit("k", now)
	}
	if !rb.Withdraw("k", now) || rb.Withdraw("k", now) {
		t.Fatal("five calls should earn exactly one retry")
	}
	if !rb.Withdraw("k", now.Add(time.Second)) {
		t.Fatal("the floor should refill one retry a second")
	}
	// Keys do not share a bucket.
	if !rb.Withdraw("other", now) {
		t.Fatal("another key's bucket is empty")
	}
}

func TestBackoffIsBoundedAndHonoursRetryAfter(t *testing.T) {
	g := &Gateway{cfg: Config{BackoffBase: config.Duration(100 * time.Millisecond), BackoffMax: config.Duration(time.Second)}}
	c := &call{g: g}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 30; n++ {
		d := c.backoff(n, 0, rng)
		if ceiling := min(time.Second, 100*time.Millisecond<<(n-1)); d < 0 || d > ceiling {
			t.Fatalf("retry %d: %v outside [0, %v]", n, d, ceiling)
		}
	}
	if d := c.backoff(1, 3*time.Second, rng); d != 3*time.Second {
		t.Fatalf("Retry-After of 3s gave %v", d)
	}
}

func TestAskChatUsage(t *testing.T) {
	for _, tc := range []struct {
		in       string
		dropLast bool
	}{
		{`{"model":"m","stream":true}`, true},
		{`{"model":"m","stream":true,"stream_options":{"include_usage":false}}`, true},
		{`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, false},
	} {
		out, drop := askChatUsage([]byte(tc.in))
		var v struct {
			StreamOptions struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if err := json.Unmarshal(out, &v); err != nil || !v.StreamOptions.IncludeUsage || drop != tc.dropLast {
			t.Errorf("%s → %s drop=%v (%v)", tc.in, out, drop, err)
		}
	}
	if !isUsageOnlyChunk([]byte(`data: {"id":"x","choices":[],"usage":{"prompt_tokens":1}}`+"\n\n")) ||
		isUsageOnlyChunk([]byte(`data: {"id":"x","choices":[{"delta":{"content":"hi"}}],"usage":null}`+"\n\n")) {
		t.Fatal("usage-only chunk detection")
	}
}
