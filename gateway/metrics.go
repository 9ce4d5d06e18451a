package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchyard/switchyard/gateway/proxy"
)

// Metrics are the gateway's Prometheus collectors. Observe is the
// proxy's per-call hook.
type Metrics struct {
	Registry *prometheus.Registry

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	ttft     *prometheus.HistogramVec
	overhead prometheus.Histogram
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

// NewMetrics registers the gateway's collectors, and the Go runtime's, on
// a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_gateway_calls_total", Help: "Model calls finished, by inbound API, provider, model and result (ok or the error kind).",
	}, []string{"api", "provider", "model", "result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchyard_gateway_call_duration_seconds", Help: "Model call latency, request to last byte.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12),
	}, []string{"api", "provider"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchyard_gateway_time_to_first_token_seconds", Help: "Streamed calls: request to first token.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12),
	}, []string{"provider"})
	m.overhead = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "switchyard_gateway_overhead_seconds", Help: "The gateway's own time per call until its answer (or a stream's first byte) goes out, less time waiting on providers and in backoff.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 1.5, 24),
	})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_gateway_tokens_total", Help: "Tokens by provider, model and type (input, output, cache_read, cache_write, reasoning).",
	}, []string{"provider", "model", "type"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_gateway_cost_usd_total", Help: "Priced spend in USD by provider and model.",
	}, []string{"provider", "model"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_gateway_extra_attempts_total", Help: "Attempts beyond the first (retries and fallbacks), by the provider that finally answered or failed.",
	}, []string{"provider"})
	m.Registry.MustRegister(m.requests, m.duration, m.ttft, m.overhead, m.tokens, m.cost, m.retries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records a finished call.
func (m *Metrics) Observe(o proxy.Outcome) {
	m.requests.WithLabelValues(string(o.API), o.Provider, o.Model, o.Result).Inc()
	m.duration.WithLabelValues(string(o.API), o.Provider).Observe(o.Latency.Seconds())
	if o.TTFT > 0 {
		m.ttft.WithLabelValues(o.Provider).Observe(o.TTFT.Seconds())
	}
	if o.Result == "ok" && o.Overhead > 0 {
		m.overhead.Observe(o.Overhead.Seconds())
	}
	u := o.Usage
	for _, t := range [...]struct {
		name string
		n    int
	}{{"input", u.InputTokens}, {"output", u.OutputTokens}, {"cache_read", u.CacheReadTokens}, {"cache_write", u.CacheWriteTokens}, {"reasoning", u.ReasoningTokens}} {
		if t.n > 0 {
			m.tokens.WithLabelValues(o.Provider, o.Model, t.name).Add(float64(t.n))
		}
	}
	if u.CostUSD > 0 {
		m.cost.WithLabelValues(o.Provider, o.Model).Add(u.CostUSD)
	}
	if o.Attempts > 1 {
		m.retries.WithLabelValues(o.Provider).Add(float64(o.Attempts - 1))
	}
}

// RegisterRecorder exports the event writer's counters.
func (m *Metrics) RegisterRecorder(g *Gateway) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchyard_recorder_queued_events", Help: "Events waiting to be written."},
			func() float64 { return float64(g.rec.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchyard_recorder_written_events_total", Help: "Events written to the log."},
			func() float64 { return float64(g.rec.Stats().Written) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchyard_recorder_dropped_events_total", Help: "Events the store refused after retries."},
			func() float64 { return float64(g.rec.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchyard_recorder_stalls_total", Help: "Times a request waited for room in the event queue."},
			func() float64 { return float64(g.rec.Stats().Stalls) }),
	)
}
