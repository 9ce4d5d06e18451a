package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RequestRecord is one request the simulator received, as GET
// /sim/requests shows it. Credentials are never stored: the values of
// Authorization, x-api-key and x-goog-api-key, and the key query
// parameter, are replaced by KeyFingerprint of the key.
type RequestRecord struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	// Model is the model asked for, from the body or (Gemini) the path.
	Model string `json:"model,omitempty"`
	// Stream reports a streaming request.
	Stream bool `json:"stream,omitempty"`
	// Headers holds every request header by lower-case name, several
	// values joined with ", ".
	Headers map[string]string `json:"headers"`
	// BodySize is the full body's size; Body is its first 64 KiB.
	BodySize      int    `json:"body_size"`
	Body          string `json:"body,omitempty"`
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	// Status is the status answered: 0 while the request is in progress,
	// or if no response was sent (the client gave up, or a reset).
	Status int `json:"status"`
	// Fault names the fault injected, if any: a status, timeout, reset,
	// cut, malformed or error_event.
	Fault string `json:"fault,omitempty"`
	// Outcome says how the exchange ended when that is not plain:
	// client_gone (the client left before the end), reset (fault=reset),
	// aborted (the connection was dropped: fault=cut, or the server shut
	// down under a held request).
	Outcome string `json:"outcome,omitempty"`
}

// maxRecordedBody is how much of a body a record keeps.
const maxRecordedBody = 64 << 10

// KeyFingerprint is what the request log shows in place of a key:
// "sha256:" and the first 8 hex digits of the key's SHA-256. A bearer
// token is fingerprinted without its "Bearer " prefix.
func KeyFingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// secretHeaders are the headers whose values are fingerprinted.
func secretHeader(name string) bool {
	return name == "authorization" || name == "x-api-key" || name == "x-goog-api-key"
}

func newRecord(r *http.Request, now time.Time, body []byte) *RequestRecord {
	rec := &RequestRecord{
		Time:     now,
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    redactQuery(r.URL.RawQuery),
		Headers:  make(map[string]string, len(r.Header)),
		BodySize: len(body),
	}
	for k, vs := range r.Header {
		name := strings.ToLower(k)
		v := strings.Join(vs, ", ")
		if secretHeader(name) {
			v = KeyFingerprint(bearer(v))
		}
		rec.Headers[name] = v
	}
	if len(body) > maxRecordedBody {
		body, rec.BodyTruncated = body[:maxRecordedBody], true
	}
	rec.Body = string(body)
	return rec
}

// bearer strips a "Bearer " prefix.
func bearer(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return v
}

// redactQuery replaces the value of a key parameter by its fingerprint.
func redactQuery(raw string) string {
	if !strings.Contains(raw, "key=") {
		return raw
	}
	q, err := url.ParseQuery(raw)
	if err != nil || !q.Has("key") {
		return raw
	}
	for i, k := range q["key"] {
		q["key"][i] = KeyFingerprint(k)
	}
	return q.Encode()
}

// requestLog is a ring of the last records.
type requestLog struct {
	mu    sync.Mutex
	ring  []*RequestRecord
	next  int // where the next record goes
	count int // records held
	total int // records added since the last clear
}

func newRequestLog(size int) *requestLog { return &requestLog{ring: make([]*RequestRecord, size)} }

func (l *requestLog) add(rec *RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.ring) == 0 {
		return
	}
	l.ring[l.next] = rec
	l.next = (l.next + 1) % len(l.ring)
	l.count = min(l.count+1, len(l.ring))
}

// answered records the status sent, under the log's lock because readers
// copy records concurrently.
func (l *requestLog) answered(rec *RequestRecord, status int, fault string) {
	l.mu.Lock()
	rec.Status, rec.Fault = status, fault
	l.mu.Unlock()
}

// end records how an exchange ended that did not end plainly.
func (l *requestLog) end(rec *RequestRecord, fault, outcome string) {
	l.mu.Lock()
	rec.Fault, rec.Outcome = fault, outcome
	l.mu.Unlock()
}

// setCall fills in what the body said, once it is decoded.
func (l *requestLog) setCall(rec *RequestRecord, model string, stream bool) {
	l.mu.Lock()
	rec.Model, rec.Stream = model, stream
	l.mu.Unlock()
}

// last returns copies of the last n records, oldest first; n <= 0 means
// all of them.
func (l *requestLog) last(n int) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= 0 || n > l.count {
		n = l.count
	}
	out := make([]RequestRecord, n)
	start := l.next - n
	if start < 0 {
		start += len(l.ring)
	}
	for i := range out {
		out[i] = *l.ring[(start+i)%len(l.ring)]
	}
	return out
}

func (l *requestLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ring)
	l.next, l.count, l.total = 0, 0, 0
}
