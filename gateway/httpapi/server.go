package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	fiberrecover "github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/switchyard/switchyard/eventstore"
)

// DefaultAddr is where the server listens unless told otherwise: loopback
// only, so a fresh install is not reachable from the network.
const DefaultAddr = "127.0.0.1:4400"

// Store is what the API needs of an event store. eventstore.Store
// satisfies it.
type Store interface {
	eventstore.Appender
	eventstore.Reader
	eventstore.Subscriber
}

// Config configures a Server. The zero value is usable.
type Config struct {
	// Heartbeat is how often the event feed sends a comment line when there
	// is nothing else to send; it bounds how long a feed outlives a client
	// that went away. Default 15s.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// BodyLimit caps a request body in bytes. Default 32 MiB, the embedded
	// store's limit on one append.
	BodyLimit int `json:"body_limit,omitempty"`
	// ReadTimeout bounds reading one request, and IdleTimeout how long a
	// keep-alive connection may wait for the next. Defaults 30s and 2m.
	ReadTimeout time.Duration `json:"read_timeout,omitempty"`
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
	// Version is reported by /healthz.
	Version string `json:"version,omitempty"`
	// Catalog serves GET /api/v1/streams; nil answers 501.
	Catalog Catalog `json:"-"`
	// CatalogWaiter, if set, lets GET /api/v1/streams wait (up to 2s) for
	// the catalogue to catch up with the log, and report its position.
	CatalogWaiter CatalogWaiter `json:"-"`
	// Gateway serves the model APIs under /v1; nil leaves them out.
	Gateway Gateway `json:"-"`
	// Admin serves the gateway's admin API (keys, config reload); nil
	// leaves it out.
	Admin Admin `json:"-"`
	// Metrics serves GET /metrics; nil leaves it out.
	Metrics fiber.Handler `json:"-"`
	// Sessions serves /api/v1/sessions; nil leaves it out.
	// SessionControl adds starting, sending to, resuming, pausing and
	// stopping sessions.
	Sessions       Sessions       `json:"-"`
	SessionControl SessionControl `json:"-"`
	// Retracer serves POST and GET /api/v1/sessions/ID/retrace, harness
	// replays; nil leaves them out.
	Retracer Retracer `json:"-"`
	// SessionsWaiter, if set, lets reads of sessions wait (up to 2s) for
	// the session registry to catch up with the log.
	SessionsWaiter CatalogWaiter `json:"-"`
	// Agents serves /api/v1/agents; nil leaves it out.
	Agents Agents `json:"-"`
	// Costs serves /api/v1/costs; nil leaves it out. CostsWaiter, if
	// set, lets a query wait (up to 2s) for the model to catch up.
	Costs       Costs         `json:"-"`
	CostsWaiter CatalogWaiter `json:"-"`
	// Audit serves /api/v1/audit; nil leaves it out. AuditWaiter as
	// CostsWaiter.
	Audit       Audit         `json:"-"`
	AuditWaiter CatalogWaiter `json:"-"`
	// Replayer serves POST /api/v1/sessions/ID/replay, WhatIf POST
	// /api/v1/whatif; nil leaves them out.
	Replayer Replayer `json:"-"`
	WhatIf   WhatIfs  `json:"-"`
	// AdminToken, if set, must come as "Authorization: Bearer TOKEN" on
	// every request under /api/v1 (the event log, keys, plugins, reload).
	// The model APIs take virtual keys instead, and /healthz, /readyz and
	// /metrics stay open.
	AdminToken string `json:"-"`
}

func (c *Config) setDefaults() {
	if c.Heartbeat == 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = 32 << 20
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
}

// Validate reports a config that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Heartbeat < 0:
		return fmt.Errorf("httpapi config: heartbeat %s is negative", c.Heartbeat)
	case c.BodyLimit < 0:
		return fmt.Errorf("httpapi config: body limit %d is negative", c.BodyLimit)
	case c.ReadTimeout < 0 || c.IdleTimeout < 0:
		return errors.New("httpapi config: timeouts must not be negative")
	}
	return nil
}

// Server is the HTTP API. Create it with New, run it with Listen or Serve,
// stop it with Shutdown.
type Server struct {
	cfg   Config
	store Store
	log   *slog.Logger
	app   *fiber.App

	// base is the parent of every long-running response (feeds, reads);
	// Shutdown cancels it so that they end.
	base   context.Context
	cancel context.CancelFunc
	// callBase is the parent of model calls. Unlike base it is not
	// cancelled when Shutdown starts: calls in flight are drained, and
	// only cut when Shutdown's own deadline passes.
	callBase   context.Context
	callCancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	lns     []net.Listener // given to Serve, closed by Shutdown
	streams sync.WaitGroup // body stream writers still running

	ready atomic.Bool
}

// New returns a Server over store. A nil log discards.
func New(cfg Config, store Store, log *slog.Logger) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("httpapi: no event store given")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: store, log: log}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.callBase, s.callCancel = context.WithCancel(context.Background())
	s.app = fiber.New(fiber.Config{
		AppName:               "switchyard",
		DisableStartupMessage: true,
		// Copy every value out of the request context: the store may keep
		// stream names and bodies after the handler returns.
		Immutable:    true,
		BodyLimit:    cfg.BodyLimit,
		ReadTimeout:  cfg.ReadTimeout,
		IdleTimeout:  cfg.IdleTimeout,
		ErrorHandler: s.handleError,
		// No WriteTimeout: fasthttp sets it once per response, and it would
		// cut feeds off.
	})
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.app.Use(fiberrecover.New(fiberrecover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, e any) {
			s.log.Error("panic in handler", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
		},
	}))
	s.app.Use(s.logRequests)
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	v1 := s.app.Group("/api/v1", s.requireAdmin)
	v1.Post("/streams/:stream/events", s.appendEvents)
	v1.Get("/streams/:stream/events", s.readStream)
	v1.Get("/streams", s.listStreams)
	v1.Get("/events/feed", s.feed)
	v1.Get("/events", s.readAll)
	s.adminRoutes(v1)
	s.agentRoutes(v1)
	s.sessionRoutes(v1)
	s.costRoutes(v1)
	s.auditRoutes(v1)
	if s.cfg.WhatIf != nil {
		v1.Post("/whatif", s.whatIf)
	}
	if s.cfg.Metrics != nil {
		s.app.Get("/metrics", s.cfg.Metrics)
	}
	s.llmRoutesSetup()
}

// requireAdmin refuses a request under /api/v1 without the admin token,
// when one is set.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	if s.cfg.AdminToken == "" {
		return c.Next()
	}
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
		what := "no admin token was sent"
		if ok {
			what = "the admin token sent is not this server's"
		}
		return apiErr(fiber.StatusUnauthorized, "unauthorized",
			"%s: the API under /api/v1 needs \"Authorization: Bearer TOKEN\" with the token the server was started with (the switchyard CLI sends $SWITCHYARD_ADMIN_TOKEN)", what)
	}
	return c.Next()
}

func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler set the status before it is logged.
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.UserContext(), level, "http request",
		"method", c.Method(), "path", c.Path(), "status", status,
		"duration", time.Since(start).Round(time.Microsecond))
	return nil
}

// Listen listens on addr (DefaultAddr if empty) and serves until Shutdown.
func (s *Server) Listen(addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ln)
}

// Serve serves on ln until Shutdown. It returns nil after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return errors.New("httpapi: serve after shutdown")
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	s.ready.Store(true)
	s.log.Debug("http api listening", "addr", ln.Addr().String())
	err := s.app.Listener(ln)
	s.ready.Store(false)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil // the listener was closed by Shutdown
	}
	return err
}

// Shutdown stops accepting connections, ends the event feeds and reads in
// flight, and waits until the open requests have finished or ctx is done
// (then it returns ctx's error, leaving those requests to the process's
// exit). It does not close the store: the caller closes it after Shutdown
// returns. Shutdown may be called before, during or without Serve.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	lns := s.lns
	s.mu.Unlock()
	s.ready.Store(false)
	s.cancel()

	err := s.app.ShutdownWithContext(ctx)
	// fasthttp closes the listeners it has started serving; closing them
	// here too covers a Serve that had not got that far.
	for _, ln := range lns {
		ln.Close()
	}
	done := make(chan struct{})
	go func() { s.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.callCancel()
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("shut down http api: %w", err)
	}
	return nil
}

// startCall registers a model call like startStream, but under callBase:
// Shutdown lets it finish.
func (s *Server) startCall() (ctx context.Context, done func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, nil, false
	}
	s.streams.Add(1)
	ctx, cancel := context.WithCancel(s.callBase)
	return ctx, func() { cancel(); s.streams.Done() }, true
}

// startStream registers a long-running response. It returns a context
// that ends with the response or at Shutdown, and false if the server is
// shutting down. The caller calls done when the response has ended.
func (s *Server) startStream() (ctx context.Context, done func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, nil, false
	}
	s.streams.Add(1)
	ctx, cancel := context.WithCancel(s.base)
	return ctx, func() { cancel(); s.streams.Done() }, true
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.ready.Load() {
		return apiErr(fiber.StatusServiceUnavailable, "not_ready", "the server is starting or shutting down: retry in a moment")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	last, err := eventstore.Head(ctx, s.store)
	if err != nil {
		return &apiError{Status: fiber.StatusServiceUnavailable, Code: "not_ready", Message: "the event store does not answer: " + err.Error(), Err: err}
	}
	return c.JSON(fiber.Map{"status": "ready", "last_position": last})
}
