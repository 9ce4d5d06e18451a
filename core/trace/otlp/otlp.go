package otlp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/core/trace"
)

// Environment variables read by [Endpoint] when no endpoint is given, as
// the OpenTelemetry specification defines them.
const (
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" // the full URL, used as is
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"        // a base URL, /v1/traces appended
)

// DefaultEndpoint is where [Endpoint] points when neither the caller nor
// the environment names an endpoint: a collector on this machine.
const DefaultEndpoint = "http://localhost:4318/v1/traces"

// DefaultTimeout bounds one export, retries included.
const DefaultTimeout = 10 * time.Second

const (
	tracesPath = "/v1/traces"
	scopeName  = "github.com/switchyard/switchyard/core/trace/otlp"
)

// Result says what [Export] sent.
type Result struct {
	// Endpoint is the URL the spans were posted to.
	Endpoint string
	// TraceID is the trace's id, 32 hex digits.
	TraceID string
	// Spans is the number of spans sent: one per node of the tree.
	Spans int
}

// Option changes how [Export] sends.
type Option func(*config)

type config struct {
	timeout time.Duration
	headers map[string]string
}

// WithTimeout bounds the export, retries included (default
// [DefaultTimeout]).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithHeaders adds HTTP headers to the export request, e.g. a collector's
// API key. OTEL_EXPORTER_OTLP_HEADERS is honoured without it.
func WithHeaders(h map[string]string) Option {
	return func(c *config) { c.headers = h }
}

// Endpoint resolves where traces go. A non-empty flag wins: a URL with no
// path ("http://HOST:4318") gets /v1/traces appended, one with a path is
// used as is, and one with no scheme is taken for http. With an empty
// flag, $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, else
// $OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces appended, else
// [DefaultEndpoint]. getenv is os.Getenv or a stand-in for it.
func Endpoint(flag string, getenv func(string) string) (string, error) {
	flag = strings.TrimSpace(flag)
	switch {
	case flag != "":
		return endpointURL(flag, true, false)
	case getenv(EnvTracesEndpoint) != "":
		return endpointURL(getenv(EnvTracesEndpoint), false, false)
	case getenv(EnvEndpoint) != "":
		return endpointURL(getenv(EnvEndpoint), false, true)
	}
	return DefaultEndpoint, nil
}

// endpointURL checks raw and adds /v1/traces when the path is empty
// (ifEmpty) or always (base, for OTEL_EXPORTER_OTLP_ENDPOINT).
func endpointURL(raw string, ifEmpty, base bool) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("OTLP endpoint %q: want http://HOST:PORT (e.g. http://localhost:4318) or a full URL such as https://collector.example.com/v1/traces", raw)
	}
	if base || (ifEmpty && (u.Path == "" || u.Path == "/")) {
		u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
		u.RawPath = ""
	}
	return u.String(), nil
}

// TraceID is the id of the trace of decision id ("SESSION/TURN"): the
// first 16 bytes of SHA-256("switchyard:" + id).
func TraceID(decision string) oteltrace.TraceID {
	sum := sha256.Sum256([]byte("switchyard:" + decision))
	var id oteltrace.TraceID
	copy(id[:], sum[:])
	if !id.IsValid() {
		id[15] = 1
	}
	return id
}

// Export sends the tree n as one trace to the OTLP/HTTP endpoint
// (resolved by [Endpoint] with os.Getenv), in one request of
// protobuf-encoded spans, and waits for the collector's answer. It gives
// up when ctx ends or after the timeout ([DefaultTimeout]). The spans'
// ids are derived from the decision, so exporting it again sends the
// same ids.
func Export(ctx context.Context, endpoint string, n *trace.Node, opts ...Option) (Result, error) {
	if n == nil {
		return Result{}, errors.New("export a trace: the tree is empty")
	}
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	u, err := Endpoint(endpoint, os.Getenv)
	if err != nil {
		return Result{}, err
	}
	res := Result{Endpoint: u, TraceID: TraceID(n.Name).String()}

	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	spans, err := record(ctx, n)
	if err != nil {
		return res, fmt.Errorf("export the trace of %s: %w", n.Name, err)
	}
	eopts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(u), // insecure for http://, TLS for https://
		otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf),
		otlptracehttp.WithTimeout(cfg.timeout),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 250 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: cfg.timeout}),
	}
	if len(cfg.headers) > 0 {
		eopts = append(eopts, otlptracehttp.WithHeaders(cfg.headers))
	}
	exp, err := otlptracehttp.New(ctx, eopts...)
	if err != nil {
		return res, exportError(u, cfg.timeout, err)
	}
	defer func() { _ = exp.Shutdown(context.WithoutCancel(ctx)) }() // closes idle connections; the spans are sent or not by then
	if err := exp.ExportSpans(ctx, spans); err != nil {
		return res, exportError(u, cfg.timeout, err)
	}
	res.Spans = len(spans)
	return res, nil
}

// exportError says what failed and what to check.
func exportError(endpoint string, timeout time.Duration, err error) error {
	var (
		ue *url.Error
		ne net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("could not export the trace to %s: no answer within %s (%w); is a collector listening there?", endpoint, timeout, err)
	case errors.As(err, &ue), errors.As(err, &ne):
		return fmt.Errorf("could not export the trace to %s: %w; is a collector listening there?", endpoint, err)
	}
	return fmt.Errorf("could not export the trace to %s: %w; is it a collector's OTLP/HTTP traces endpoint (usually http://HOST:4318/v1/traces)?", endpoint, err)
}

// record turns the tree into ended SDK spans, without sending them.
func record(ctx context.Context, n *trace.Node) ([]sdktrace.ReadOnlySpan, error) {
	rec := &recorder{}
	r, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attribute.String("service.name", "switchyard")))
	if err != nil {
		return nil, fmt.Errorf("describe the resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(rec),
		sdktrace.WithIDGenerator(idGenerator{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithResource(r),
	)
	b := builder{tracer: tp.Tracer(scopeName), decision: n.Name, traceID: TraceID(n.Name)}
	b.span(ctx, n, "decision", n.Start)
	if err := tp.Shutdown(ctx); err != nil {
		return nil, err
	}
	return rec.spans, nil
}

// recorder is a span processor that keeps the ended spans, for one
// synchronous export: unlike the simple and batch processors, it lets
// Export send them in one request and return the exporter's error.
// Spans are started and ended by one goroutine, so it needs no lock.
type recorder struct{ spans []sdktrace.ReadOnlySpan }

var _ sdktrace.SpanProcessor = (*recorder)(nil)

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan)                   { r.spans = append(r.spans, s) }
func (r *recorder) Shutdown(context.Context) error                  { return nil }
func (r *recorder) ForceFlush(context.Context) error                { return nil }

// idsKey carries the ids of the span being started to idGenerator.
type idsKey struct{}

type ids struct {
	trace oteltrace.TraceID
	span  oteltrace.SpanID
}

// idGenerator hands the SDK the ids the builder derived for the span it
// starts, found in the context given to Start.
type idGenerator struct{}

var _ sdktrace.IDGenerator = idGenerator{}

func (idGenerator) NewIDs(ctx context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return v.trace, v.span
	}
	var t oteltrace.TraceID
	_, _ = rand.Read(t[:])
	return t, randomSpanID()
}

func (idGenerator) NewSpanID(ctx context.Context, _ oteltrace.TraceID) oteltrace.SpanID {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return v.span
	}
	return randomSpanID()
}

func randomSpanID() oteltrace.SpanID {
	var s oteltrace.SpanID
	_, _ = rand.Read(s[:])
	return s
}

// spanID is the first 8 bytes of SHA-256 of the decision and the path.
func spanID(decision, path string) oteltrace.SpanID {
	sum := sha256.Sum256([]byte("switchyard:" + decision + "\x00" + path))
	var id oteltrace.SpanID
	copy(id[:], sum[:])
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

type builder struct {
	tracer   oteltrace.Tracer
	decision string
	traceID  oteltrace.TraceID
}

// span starts n's span under the one in ctx, then its children's, and
// ends it; it returns when it ended. path names n in the tree; a node
// with no start starts with its parent (parentStart).
func (b *builder) span(ctx context.Context, n *trace.Node, path string, parentStart time.Time) time.Time {
	start := n.Start
	if start.IsZero() {
		start = parentStart
	}
	name, kind, op := nameOf(n)
	ctx = context.WithValue(ctx, idsKey{}, ids{trace: b.traceID, span: spanID(b.decision, path)})
	ctx, s := b.tracer.Start(ctx, name, oteltrace.WithSpanKind(kind), oteltrace.WithTimestamp(start), oteltrace.WithAttributes(attributes(n, op)...))

	end := n.End
	last := start
	seen := map[string]bool{}
	for i, c := range n.Children {
		step := c.Kind + "#" + strconv.Itoa(i)
		if len(c.Events) > 0 {
			step = c.Kind + ":" + strconv.FormatUint(c.Events[0], 10)
		}
		if seen[step] {
			step += "#" + strconv.Itoa(i)
		}
		seen[step] = true
		if ce := b.span(ctx, c, path+"/"+step, start); ce.After(last) {
			last = ce
		}
	}
	if end.IsZero() {
		end = last
	}
	if end.Before(start) {
		end = start
	}
	if n.Error != "" {
		s.SetStatus(codes.Error, n.Error)
	}
	s.End(oteltrace.WithTimestamp(end))
	return end
}

// nameOf is the span's name, kind and gen_ai.operation.name, after the
// GenAI semantic conventions.
func nameOf(n *trace.Node) (name string, kind oteltrace.SpanKind, op string) {
	join := func(a, b string) string { return strings.TrimSpace(a + " " + b) }
	switch n.Kind {
	case trace.KindDecision:
		return join("invoke_agent", str(n.Attrs, "gen_ai.agent.name")), oteltrace.SpanKindInternal, "invoke_agent"
	case trace.KindModelCall:
		op = str(n.Attrs, "gen_ai.operation.name")
		if op == "" {
			op = "chat"
		}
		model := str(n.Attrs, "target_model")
		if model == "" {
			model = str(n.Attrs, "gen_ai.request.model")
		}
		return join(op, model), oteltrace.SpanKindClient, op
	case trace.KindToolCall:
		tool := str(n.Attrs, "gen_ai.tool.name")
		if tool == "" {
			tool = n.Name
		}
		return join("execute_tool", tool), oteltrace.SpanKindInternal, "execute_tool"
	case trace.KindRouting:
		return join("route", n.Name), oteltrace.SpanKindInternal, ""
	case trace.KindAttempt:
		return n.Name, oteltrace.SpanKindInternal, ""
	}
	return join(n.Kind, n.Name), oteltrace.SpanKindInternal, ""
}

func str(attrs map[string]any, k string) string {
	s, _ := attrs[k].(string)
	return s
}

// attributes are n's Attrs and facts as span attributes, sorted by key.
func attributes(n *trace.Node, op string) []attribute.KeyValue {
	kv := map[string]attribute.KeyValue{}
	set := func(k string, v attribute.Value) { kv[k] = attribute.KeyValue{Key: attribute.Key(k), Value: v} }
	for k, v := range n.Attrs {
		key := attrKey(k)
		if val, ok := value(key, v); ok {
			set(key, val)
		}
	}
	set("switchyard.kind", attribute.StringValue(n.Kind))
	if n.Summary != "" {
		set("switchyard.summary", attribute.StringValue(n.Summary))
	}
	if op != "" {
		set("gen_ai.operation.name", attribute.StringValue(op))
	}
	if n.Kind == trace.KindDecision {
		if id := str(n.Attrs, "session.id"); id != "" {
			set("gen_ai.conversation.id", attribute.StringValue(id))
		}
	}
	counted := n.Kind == trace.KindDecision || n.Kind == trace.KindModelCall
	if counted || n.InputTokens != 0 || n.OutputTokens != 0 {
		set("gen_ai.usage.input_tokens", attribute.Int64Value(n.InputTokens))
		set("gen_ai.usage.output_tokens", attribute.Int64Value(n.OutputTokens))
	}
	if counted || n.CostUSD != 0 {
		set("switchyard.cost_usd", attribute.Float64Value(n.CostUSD))
	}
	out := make([]attribute.KeyValue, 0, len(kv))
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		out = append(out, kv[k])
	}
	return out
}

// attrKey keeps a namespaced key (gen_ai.request.model, session.id) and
// puts switchyard's own under switchyard.
func attrKey(k string) string {
	if strings.Contains(k, ".") {
		return k
	}
	return "switchyard." + k
}

// fractional are the keys whose numbers stay floats even when whole.
var fractional = map[string]bool{"switchyard.cost_usd": true, "switchyard.latency_ms": true}

// value is v as an attribute value of the right type.
func value(key string, v any) (attribute.Value, bool) {
	switch x := v.(type) {
	case nil:
		return attribute.Value{}, false
	case string:
		return attribute.StringValue(x), true
	case bool:
		return attribute.BoolValue(x), true
	case int:
		return attribute.IntValue(x), true
	case int8:
		return attribute.Int64Value(int64(x)), true
	case int16:
		return attribute.Int64Value(int64(x)), true
	case int32:
		return attribute.Int64Value(int64(x)), true
	case int64:
		return attribute.Int64Value(x), true
	case uint:
		return uintValue(uint64(x)), true
	case uint8:
		return attribute.Int64Value(int64(x)), true
	case uint16:
		return attribute.Int64Value(int64(x)), true
	case uint32:
		return attribute.Int64Value(int64(x)), true
	case uint64:
		return uintValue(x), true
	case float32:
		return number(key, float64(x)), true
	case float64:
		return number(key, x), true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return number(key, f), true
		}
		return attribute.StringValue(x.String()), true
	case []string:
		return attribute.StringSliceValue(x), true
	case []bool:
		return attribute.BoolSliceValue(x), true
	case []int:
		return attribute.IntSliceValue(x), true
	case []int64:
		return attribute.Int64SliceValue(x), true
	case []float64:
		return attribute.Float64SliceValue(x), true
	case []any:
		if val, ok := slice(key, x); ok {
			return val, true
		}
	case time.Time:
		return attribute.StringValue(x.Format(time.RFC3339Nano)), true
	case time.Duration:
		return attribute.StringValue(x.String()), true
	case fmt.Stringer:
		return attribute.StringValue(x.String()), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return attribute.StringValue(fmt.Sprint(v)), true
	}
	return attribute.StringValue(string(b)), true
}

func uintValue(u uint64) attribute.Value {
	if u > math.MaxInt64 {
		return attribute.StringValue(strconv.FormatUint(u, 10))
	}
	return attribute.Int64Value(int64(u))
}

// number is an int64 when f is whole (a count read back from JSON) unless
// key is one of the fractional ones.
func number(key string, f float64) attribute.Value {
	if !fractional[key] && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return attribute.Int64Value(int64(f))
	}
	return attribute.Float64Value(f)
}

// slice types a slice read back from JSON: all strings, all bools or all
// numbers; anything else is left to JSON.
func slice(key string, xs []any) (attribute.Value, bool) {
	var (
		ss     []string
		bs     []bool
		fs     []float64
		whole  = true
		others int
	)
	for _, x := range xs {
		switch v := x.(type) {
		case string:
			ss = append(ss, v)
		case bool:
			bs = append(bs, v)
		case float64:
			fs = append(fs, v)
			whole = whole && v == math.Trunc(v) && math.Abs(v) < 1<<53
		default:
			others++
		}
	}
	switch {
	case others > 0:
		return attribute.Value{}, false
	case len(ss) == len(xs):
		return attribute.StringSliceValue(ss), true
	case len(bs) == len(xs):
		return attribute.BoolSliceValue(bs), true
	case len(fs) == len(xs) && whole && !fractional[key]:
		is := make([]int64, len(fs))
		for i, f := range fs {
			is[i] = int64(f)
		}
		return attribute.Int64SliceValue(is), true
	case len(fs) == len(xs):
		return attribute.Float64SliceValue(fs), true
	}
	return attribute.Value{}, false
}
