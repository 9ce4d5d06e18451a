package sim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// Server is a provider simulator. It is safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	models map[string]*Model
	keys   [][]byte

	counter atomic.Uint64 // answers given, mixed into ids

	timesMu sync.Mutex
	times   map[string]int // requests seen per directive text, for times=N

	reqs *requestLog

	done     chan struct{} // closed when the server shuts down
	doneOnce sync.Once

	// chunkHook, if set (by tests), runs before each content chunk of a
	// stream is produced, with the chunk's number from 0.
	chunkHook func(n int)
}

var _ http.Handler = (*Server)(nil)

// New returns a simulator for cfg, with defaults filled in. A nil log
// discards.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:    cfg,
		log:    log,
		models: make(map[string]*Model, len(cfg.Models)),
		times:  map[string]int{},
		reqs:   newRequestLog(cfg.RequestLogSize),
		done:   make(chan struct{}),
	}
	for i := range s.cfg.Models {
		s.models[s.cfg.Models[i].Name] = &s.cfg.Models[i]
	}
	for _, k := range cfg.APIKeys {
		s.keys = append(s.keys, []byte(k))
	}
	return s, nil
}

// Handler returns the simulator's HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// Requests returns the requests in the log, oldest first.
func (s *Server) Requests() []RequestRecord { return s.reqs.last(0) }

// ListenAndServe serves on addr (and only there) until ctx is done, then
// shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully: it
// releases held requests, lets answers in flight finish for up to 5
// seconds, and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.log.Info("sim listening", "addr", ln.Addr().String(), "models", len(s.cfg.Models))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sim: serve: %w", err)
	case <-ctx.Done():
	}
	s.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("sim: shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sim: serve: %w", err)
	}
	return nil
}

// Close ends every wait: requests held by a timeout fault, and answers
// waiting on latency or pacing, are dropped (their connections closed),
// now and afterwards; answers that need no wait are still served. Serve
// calls it when its context is done. Close is idempotent.
func (s *Server) Close() { s.doneOnce.Do(func() { close(s.done) }) }

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/sim/") {
		s.serveSim(w, r)
		return
	}
	var api llm.API
	switch {
	case p == "/v1/chat/completions":
		api = llm.APIOpenAIChat
	case p == "/v1/responses":
		api = llm.APIOpenAIResponses
	case p == "/v1/messages" || p == "/v1/messages/count_tokens":
		api = llm.APIAnthropicMessages
	case strings.HasPrefix(p, "/v1beta/models/") && r.Method != http.MethodGet:
		api = llm.APIGemini
	case p == "/v1/models" || strings.HasPrefix(p, "/v1/models/") || p == "/v1beta/models" || strings.HasPrefix(p, "/v1beta/models/"):
		s.serveModels(w, r)
		return
	default:
		x := s.newExchange(w, r, apiOf(r), nil)
		x.fail(llm.Errorf(llm.ErrNotFound, "Invalid URL (%s %s): the simulator serves /v1/chat/completions, /v1/responses, /v1/messages and /v1beta/models/{model}:generateContent", r.Method, p))
		return
	}
	if r.Method != http.MethodPost {
		x := s.newExchange(w, r, api, nil)
		x.fail(&llm.Error{Kind: llm.ErrInvalidRequest, Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("Method %s is not allowed for %s; use POST", r.Method, p)})
		return
	}
	s.serveCall(w, r, api)
}

// bufPool holds the buffers answers are written into.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBuf bounds the buffers kept for reuse.
const maxPooledBuf = 256 << 10

// exchange is one request and its response under way.
type exchange struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	api   llm.API
	rec   *RequestRecord
	reqID string
	fault string
	buf   []byte
}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request, api llm.API, body []byte) *exchange {
	x := &exchange{s: s, w: w, r: r, api: api}
	x.rec = newRecord(r, s.cfg.Clock(), body)
	s.reqs.add(x.rec)
	return x
}

// writeHeader sends the status and records it.
func (x *exchange) writeHeader(status int) {
	x.w.WriteHeader(status)
	x.s.reqs.answered(x.rec, status, x.fault)
}

// writeJSON sends a complete JSON body.
func (x *exchange) writeJSON(status int, body []byte) {
	h := x.w.Header()
	h.Set("Content-Type", contentTypeJSON(x.api))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.writeHeader(status)
	x.w.Write(body)
}

func contentTypeJSON(api llm.API) string {
	if api == llm.APIGemini {
		return "application/json; charset=UTF-8"
	}
	return "application/json"
}

// fail answers e in the API's error shape.
func (x *exchange) fail(e *llm.Error) {
	x.setIDHeader()
	x.writeJSON(e.Status, x.errorBody(e))
}

// setIDHeader sets the API's request-id header.
func (x *exchange) setIDHeader() {
	if x.reqID == "" {
		g := idGen{}
		g.seed(uint64(x.rec.Time.UnixNano()), x.s.counter.Add(1))
		x.reqID = g.base62("req_01", 22)
	}
	switch x.api {
	case llm.APIOpenAIChat, llm.APIOpenAIResponses:
		x.w.Header().Set("X-Request-Id", x.reqID)
	case llm.APIAnthropicMessages:
		x.w.Header().Set("Request-Id", x.reqID)
	}
}

// errorBody is e in the API's error shape.
func (x *exchange) errorBody(e *llm.Error) []byte {
	switch x.api {
	case llm.APIAnthropicMessages:
		return anthropicError(nil, e, x.reqID)
	case llm.APIGemini:
		return geminiError(nil, e)
	}
	return openAIError(nil, e)
}

// serveCall serves a model call.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request, api llm.API) {
	body, tooBig := readBody(w, r, s.cfg.MaxBodyBytes)
	x := s.newExchange(w, r, api, body)
	bp := bufPool.Get().(*[]byte)
	x.buf = (*bp)[:0]
	defer func() {
		if cap(x.buf) <= maxPooledBuf {
			*bp = x.buf[:0]
			bufPool.Put(bp)
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.reqs.end(x.rec, x.fault, "aborted")
			}
			panic(v)
		}
	}()
	if tooBig {
		x.fail(llm.Errorf(llm.ErrTooLarge, "The request body exceeds the simulator's limit of %d bytes (Config.MaxBodyBytes).", s.cfg.MaxBodyBytes))
		return
	}
	if e := s.authenticate(r, api); e != nil {
		x.fail(e)
		return
	}

	c, e := s.decode(r, api, body)
	if e != nil {
		x.fail(e)
		return
	}
	s.reqs.setCall(x.rec, c.model, c.stream)
	m, known := s.models[c.model]
	if !known {
		if s.cfg.StrictModels {
			x.fail(modelNotFound(api, c.model))
			return
		}
		m = &Model{Name: c.model, OutputWords: defaultOutputWords}
	}
	if r.URL.Path == "/v1/messages/count_tokens" {
		x.writeJSON(http.StatusOK, append(appendInt([]byte(`{"input_tokens":`), (c.promptBytes+3)/4), '}'))
		return
	}

	d := newDirectives()
	if m.Fault != "" {
		_, _ = scanPairs(modelFault(m.Fault), 0, false, &d) // checked by Validate
	}
	prompt, err := parseDirectives(c.prompt, &d)
	if err != nil {
		x.fail(badRequest("%v", err))
		return
	}
	if m.Fault != "" {
		d.key = m.Name + "\x00" + m.Fault + "\x01" + d.key
	}
	c.prompt = prompt
	if d.fault != "" && (d.times == 0 || s.bump(d.key) <= d.times) {
		x.fault = d.fault
	}

	a, e := s.buildAnswer(c, m, &d, body)
	if e != nil {
		x.fail(e)
		return
	}
	x.reqID = a.ids.base62("req_01", 22)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("sim call", "api", string(api), "model", c.model, "stream", c.stream, "fault", x.fault)
	}

	if !s.wait(r.Context(), time.Duration(m.Latency)) {
		s.gone(x)
		return
	}
	switch f := x.fault; {
	case f == "timeout":
		hold := d.hold
		if hold == 0 {
			hold = 1<<63 - 1
		}
		if !s.wait(r.Context(), hold) {
			s.gone(x)
			return
		}
	case f == "reset":
		s.reset(x)
		return
	case f != "" && (f[0] >= '0' && f[0] <= '9' || f == "error_event" && !c.stream):
		x.fail(faultError(api, f, d.retryAfter, x))
		return
	}

	if c.stream {
		s.stream(x, c, a, m, &d)
		return
	}
	chunks := a.contentChunks()
	wait := time.Duration(m.TTFT)
	if m.TokensPerSecond > 0 && chunks > 1 {
		wait += time.Duration(float64(chunks-1) / m.TokensPerSecond * float64(time.Second))
	}
	if !s.wait(r.Context(), wait) {
		s.gone(x)
		return
	}
	x.setIDHeader()
	x.buf = encodeBody(x.buf[:0], c, a)
	switch x.fault {
	case "cut":
		h := w.Header()
		h.Set("Content-Type", contentTypeJSON(api))
		h.Set("Content-Length", strconv.Itoa(len(x.buf)))
		x.writeHeader(http.StatusOK)
		w.Write(x.buf[:len(x.buf)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	case "malformed":
		x.writeJSON(http.StatusOK, x.buf[:len(x.buf)/2])
	default:
		x.writeJSON(http.StatusOK, x.buf)
	}
}

// decode reads the body of a call to api.
func (s *Server) decode(r *http.Request, api llm.API, body []byte) (*call, *llm.Error) {
	switch api {
	case llm.APIOpenAIChat:
		return decodeChat(body)
	case llm.APIOpenAIResponses:
		return decodeResponses(body)
	case llm.APIAnthropicMessages:
		return decodeMessages(body, r.URL.Path == "/v1/messages/count_tokens")
	}
	model, action, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1beta/models/"), ":")
	switch {
	case !ok || model == "":
		return nil, llm.Errorf(llm.ErrNotFound, "The path %s names no model and method; use /v1beta/models/{model}:generateContent", r.URL.Path)
	case action == "generateContent":
		return decodeGemini(body, model, false)
	case action == "streamGenerateContent":
		return decodeGemini(body, model, true)
	}
	return nil, llm.Errorf(llm.ErrNotFound, "Method %q is not supported; use generateContent or streamGenerateContent", action)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	return body, errors.As(err, &tooBig)
}

// authenticate checks the request's key against Config.APIKeys.
func (s *Server) authenticate(r *http.Request, api llm.API) *llm.Error {
	if len(s.keys) == 0 {
		return nil
	}
	key := r.Header.Get("x-api-key")
	if key == "" {
		key = r.Header.Get("x-goog-api-key")
	}
	if key == "" {
		key = bearer(r.Header.Get("Authorization"))
	}
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	for _, k := range s.keys {
		if subtle.ConstantTimeCompare([]byte(key), k) == 1 {
			return nil
		}
	}
	return authError(api, key == "")
}

// bump counts one more request carrying directive text key.
func (s *Server) bump(key string) int {
	s.timesMu.Lock()
	defer s.timesMu.Unlock()
	s.times[key]++
	return s.times[key]
}

// wait sleeps for d unless the client goes away or the server closes
// first; it reports whether the whole time passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// gone ends an exchange whose client left (or whose server is closing)
// before it was answered.
func (s *Server) gone(x *exchange) {
	select {
	case <-s.done:
		s.reqs.end(x.rec, x.fault, "aborted")
		panic(http.ErrAbortHandler)
	default:
		s.reqs.end(x.rec, x.fault, "client_gone")
	}
}

// reset closes the connection without a response, with a TCP RST where
// the connection allows it.
func (s *Server) reset(x *exchange) {
	s.reqs.end(x.rec, x.fault, "reset")
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// serveSim serves the simulator's own endpoints.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/sim/healthz" && r.Method == http.MethodGet:
		io.WriteString(w, `{"status":"ok"}`)
	case r.URL.Path == "/sim/requests" && r.Method == http.MethodGet:
		n := 0
		if v := r.URL.Query().Get("limit"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"message":%q}}`, "limit must be a whole number >= 0; 0 or none means all")
				return
			}
		}
		recs := s.reqs.last(n)
		json.NewEncoder(w).Encode(struct {
			Requests []RequestRecord `json:"requests"`
		}{recs})
	case r.URL.Path == "/sim/requests" && r.Method == http.MethodDelete:
		s.reqs.clear()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"message":%q}}`, "unknown simulator endpoint "+r.Method+" "+r.URL.Path+"; see GET /sim/requests, DELETE /sim/requests, GET /sim/healthz")
	}
}
