package otlp_test

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/core/trace"
	"github.com/switchyard/switchyard/core/trace/otlp"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// decision is a turn with a model call that retried, a tool call, a model
// call that failed and is still open, a denial and an interruption.
// Positions of the session stream and of the call stream overlap on
// purpose (3 is both the tool call's and the first call's first event).
func decision() *trace.Node {
	return &trace.Node{
		Kind: trace.KindDecision, Name: "s0123456789abcdef/2", Start: at(0), End: at(10 * time.Second),
		Summary: "2 model call(s), 1 tool call(s), $0.030000", CostUSD: 0.03, InputTokens: 1500, OutputTokens: 120,
		Attrs: map[string]any{"session.id": "s0123456789abcdef", "turn": 2, "gen_ai.agent.name": "tracer", "harness": "claude-code",
			"prompt": "Run it.", "mode": "start", "outcome": "failed"},
		Error:  "the harness stopped",
		Events: []uint64{1, 2, 3, 4, 5, 6},
		Children: []*trace.Node{
			{
				Kind: trace.KindModelCall, Name: "call_a", Start: at(1 * time.Second), End: at(3 * time.Second),
				CostUSD: 0.02, InputTokens: 1000, OutputTokens: 80, Events: []uint64{3, 4, 5, 6, 7},
				Summary: "anthropic/claude-sonnet-4-5, 1000 in / 80 out tokens, $0.020000, 2000 ms, 2 attempts",
				Attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "fast", "target_model": "claude-sonnet-4-5",
					"gen_ai.provider.name": "anthropic", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 80,
					"cost_usd": 0.02, "latency_ms": 2000.0, "attempts": 2, "stream": true, "api": "anthropic.messages",
					"gen_ai.response.finish_reasons": []string{"end_turn"}},
				Children: []*trace.Node{
					{Kind: trace.KindRouting, Name: "static", Start: at(1 * time.Second), Events: []uint64{4}, Summary: "route fast",
						Attrs: map[string]any{"router": "static", "targets": []string{"anthropic/claude-sonnet-4-5", "openai/gpt-5"}}},
					{Kind: trace.KindPolicy, Name: "budget", Start: at(1100 * time.Millisecond), Events: []uint64{5}, Summary: "allow",
						Attrs: map[string]any{"hook": "pre", "decision": "allow"}},
					{Kind: trace.KindAttempt, Name: "attempt 1", Start: at(1200 * time.Millisecond), End: at(1500 * time.Millisecond), Events: []uint64{6},
						Error: "rate_limited (429): slow down", Attrs: map[string]any{"gen_ai.provider.name": "anthropic", "status": 429, "next": "retry"}},
					{Kind: trace.KindAttempt, Name: "attempt 2", Start: at(1600 * time.Millisecond), End: at(3 * time.Second), Events: []uint64{7},
						Attrs: map[string]any{"gen_ai.provider.name": "anthropic", "outcome": "ok"}},
				},
			},
			{
				Kind: trace.KindToolCall, Name: "Bash", Start: at(4 * time.Second), End: at(5 * time.Second), Events: []uint64{3, 4},
				Summary: `{"command":"echo traced"}`,
				Attrs:   map[string]any{"gen_ai.tool.name": "Bash", "gen_ai.tool.call.id": "toolu_1", "exit_code": 0, "output": "traced"},
			},
			{
				Kind: trace.KindModelCall, Name: "call_b", Start: at(6 * time.Second), Events: []uint64{8, 9},
				Error: "upstream_error (502): bad gateway",
				Attrs: map[string]any{"gen_ai.operation.name": "chat", "gen_ai.request.model": "smart"},
				Children: []*trace.Node{
					{Kind: trace.KindAttempt, Name: "attempt 1 of call_b", Start: at(6 * time.Second), End: at(7 * time.Second), Events: []uint64{9},
						Error: "bad gateway"},
				},
			},
			{Kind: trace.KindDenial, Name: "Write", Start: at(8 * time.Second), Events: []uint64{5}, Summary: "not allowed",
				Attrs: map[string]any{"gen_ai.tool.name": "Write"}},
			{Kind: trace.KindHarnessErr, Name: "interrupted", Start: at(9 * time.Second), Events: []uint64{6}, Error: "killed"},
		},
	}
}

// want is each node's span: name, parent's name, kind, times.
var want = map[string]struct {
	parent     string
	kind       tracepb.Span_SpanKind
	start, end time.Time
	err        string
}{
	"invoke_agent tracer":     {"", tracepb.Span_SPAN_KIND_INTERNAL, at(0), at(10 * time.Second), "the harness stopped"},
	"chat claude-sonnet-4-5":  {"invoke_agent tracer", tracepb.Span_SPAN_KIND_CLIENT, at(time.Second), at(3 * time.Second), ""},
	"route static":            {"chat claude-sonnet-4-5", tracepb.Span_SPAN_KIND_INTERNAL, at(time.Second), at(time.Second), ""},
	"policy budget":           {"chat claude-sonnet-4-5", tracepb.Span_SPAN_KIND_INTERNAL, at(1100 * time.Millisecond), at(1100 * time.Millisecond), ""},
	"attempt 1":               {"chat claude-sonnet-4-5", tracepb.Span_SPAN_KIND_INTERNAL, at(1200 * time.Millisecond), at(1500 * time.Millisecond), "rate_limited (429): slow down"},
	"attempt 2":               {"chat claude-sonnet-4-5", tracepb.Span_SPAN_KIND_INTERNAL, at(1600 * time.Millisecond), at(3 * time.Second), ""},
	"execute_tool Bash":       {"invoke_agent tracer", tracepb.Span_SPAN_KIND_INTERNAL, at(4 * time.Second), at(5 * time.Second), ""},
	"chat smart":              {"invoke_agent tracer", tracepb.Span_SPAN_KIND_CLIENT, at(6 * time.Second), at(7 * time.Second), "upstream_error (502): bad gateway"},
	"attempt 1 of call_b":     {"chat smart", tracepb.Span_SPAN_KIND_INTERNAL, at(6 * time.Second), at(7 * time.Second), "bad gateway"},
	"permission_denied Write": {"invoke_agent tracer", tracepb.Span_SPAN_KIND_INTERNAL, at(8 * time.Second), at(8 * time.Second), ""},
	"error interrupted":       {"invoke_agent tracer", tracepb.Span_SPAN_KIND_INTERNAL, at(9 * time.Second), at(9 * time.Second), "killed"},
}

func countNodes(n *trace.Node) int {
	c := 1
	for _, ch := range n.Children {
		c += countNodes(ch)
	}
	return c
}

// collector is an OTLP/HTTP receiver on 127.0.0.1 that hands over each
// request it decodes.
type collector struct {
	*httptest.Server
	got chan *coltracepb.ExportTraceServiceRequest
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{got: make(chan *coltracepb.ExportTraceServiceRequest, 4)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("%s %s (%s): want POST /v1/traces (application/x-protobuf)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			http.Error(w, "not OTLP/HTTP protobuf", http.StatusBadRequest)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" { // OTEL_EXPORTER_OTLP_COMPRESSION=gzip in the environment
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := &coltracepb.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			t.Errorf("decode the export request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.got <- req
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

// export sends n to c and returns the result and the spans c received,
// with the request's resource.
func (c *collector) export(t *testing.T, endpoint string, n *trace.Node) (otlp.Result, []*tracepb.Span, map[string]*commonpb.AnyValue) {
	t.Helper()
	res, err := otlp.Export(context.Background(), endpoint, n, otlp.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var req *coltracepb.ExportTraceServiceRequest
	select {
	case req = <-c.got:
	default:
		t.Fatal("Export returned but the collector got no request")
	}
	var spans []*tracepb.Span
	resource := map[string]*commonpb.AnyValue{}
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			resource[a.Key] = a.Value
		}
		for _, ss := range rs.ScopeSpans {
			spans = append(spans, ss.Spans...)
		}
	}
	return res, spans, resource
}

func byName(t *testing.T, spans []*tracepb.Span) map[string]*tracepb.Span {
	t.Helper()
	m := map[string]*tracepb.Span{}
	for _, s := range spans {
		if m[s.Name] != nil {
			t.Fatalf("two spans named %q", s.Name)
		}
		m[s.Name] = s
	}
	return m
}

func attrs(s *tracepb.Span) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, a := range s.Attributes {
		m[a.Key] = a.Value
	}
	return m
}

func TestExportSendsTheTreeAsOneTrace(t *testing.T) {
	t.Parallel()
	c := newCollector(t)
	n := decision()
	res, spans, resource := c.export(t, c.URL, n)

	if len(spans) != countNodes(n) || res.Spans != len(spans) {
		t.Fatalf("%d spans received, result says %d, for %d nodes", len(spans), res.Spans, countNodes(n))
	}
	if res.Endpoint != c.URL+"/v1/traces" {
		t.Errorf("endpoint %q, want %q", res.Endpoint, c.URL+"/v1/traces")
	}
	if got := resource["service.name"].GetStringValue(); got != "switchyard" {
		t.Errorf("resource service.name %q", got)
	}
	sum := sha256.Sum256([]byte("switchyard:s0123456789abcdef/2"))
	traceID := hex.EncodeToString(sum[:16])
	if res.TraceID != traceID {
		t.Errorf("result trace id %s, want %s", res.TraceID, traceID)
	}

	m := byName(t, spans)
	for name, w := range want {
		s := m[name]
		if s == nil {
			t.Errorf("no span %q; got %v", name, names(spans))
			continue
		}
		if hex.EncodeToString(s.TraceId) != traceID {
			t.Errorf("%s: trace id %x, want %s", name, s.TraceId, traceID)
		}
		if w.parent == "" {
			if len(s.ParentSpanId) != 0 {
				t.Errorf("%s: the root has parent %x", name, s.ParentSpanId)
			}
		} else if p := m[w.parent]; p == nil || string(s.ParentSpanId) != string(p.SpanId) {
			t.Errorf("%s: parent %x, want %q's span", name, s.ParentSpanId, w.parent)
		}
		if s.Kind != w.kind {
			t.Errorf("%s: kind %v, want %v", name, s.Kind, w.kind)
		}
		if s.StartTimeUnixNano != uint64(w.start.UnixNano()) || s.EndTimeUnixNano != uint64(w.end.UnixNano()) {
			t.Errorf("%s: %v → %v, want %v → %v", name, time.Unix(0, int64(s.StartTimeUnixNano)).UTC(), time.Unix(0, int64(s.EndTimeUnixNano)).UTC(), w.start, w.end)
		}
		if w.err != "" {
			if s.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || s.Status.GetMessage() != w.err {
				t.Errorf("%s: status %v, want error %q", name, s.Status, w.err)
			}
		} else if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("%s: status %v, want no error", name, s.Status)
		}
	}
	if len(m) != len(want) {
		t.Errorf("spans %v, want %d", names(spans), len(want))
	}
	checkAttrs(t, m)
}

func names(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// checkAttrs checks the attributes and their types, which must survive a
// trip through JSON (what `switchyard trace` reads from the server).
func checkAttrs(t *testing.T, m map[string]*tracepb.Span) {
	t.Helper()
	type check struct {
		span, key string
		ok        func(*commonpb.AnyValue) bool
		want      string
	}
	str := func(s string) func(*commonpb.AnyValue) bool {
		return func(v *commonpb.AnyValue) bool {
			_, ok := v.GetValue().(*commonpb.AnyValue_StringValue)
			return ok && v.GetStringValue() == s
		}
	}
	integer := func(i int64) func(*commonpb.AnyValue) bool {
		return func(v *commonpb.AnyValue) bool {
			_, ok := v.GetValue().(*commonpb.AnyValue_IntValue)
			return ok && v.GetIntValue() == i
		}
	}
	double := func(f float64) func(*commonpb.AnyValue) bool {
		return func(v *commonpb.AnyValue) bool {
			_, ok := v.GetValue().(*commonpb.AnyValue_DoubleValue)
			return ok && v.GetDoubleValue() == f
		}
	}
	boolean := func(b bool) func(*commonpb.AnyValue) bool {
		return func(v *commonpb.AnyValue) bool {
			_, ok := v.GetValue().(*commonpb.AnyValue_BoolValue)
			return ok && v.GetBoolValue() == b
		}
	}
	strs := func(ss ...string) func(*commonpb.AnyValue) bool {
		return func(v *commonpb.AnyValue) bool {
			vs := v.GetArrayValue().GetValues()
			if len(vs) != len(ss) {
				return false
			}
			for i, s := range ss {
				if vs[i].GetStringValue() != s {
					return false
				}
			}
			return true
		}
	}
	for _, c := range []check{
		{"invoke_agent tracer", "gen_ai.operation.name", str("invoke_agent"), "invoke_agent"},
		{"invoke_agent tracer", "gen_ai.agent.name", str("tracer"), "tracer"},
		{"invoke_agent tracer", "gen_ai.conversation.id", str("s0123456789abcdef"), "the session"},
		{"invoke_agent tracer", "session.id", str("s0123456789abcdef"), "the session"},
		{"invoke_agent tracer", "switchyard.turn", integer(2), "int 2"},
		{"invoke_agent tracer", "switchyard.outcome", str("failed"), "failed"},
		{"invoke_agent tracer", "gen_ai.usage.input_tokens", integer(1500), "int 1500"},
		{"invoke_agent tracer", "gen_ai.usage.output_tokens", integer(120), "int 120"},
		{"invoke_agent tracer", "switchyard.cost_usd", double(0.03), "double 0.03"},
		{"invoke_agent tracer", "switchyard.kind", str("decision"), "decision"},
		{"chat claude-sonnet-4-5", "gen_ai.operation.name", str("chat"), "chat"},
		{"chat claude-sonnet-4-5", "gen_ai.request.model", str("fast"), "fast"},
		{"chat claude-sonnet-4-5", "gen_ai.provider.name", str("anthropic"), "anthropic"},
		{"chat claude-sonnet-4-5", "switchyard.target_model", str("claude-sonnet-4-5"), "claude-sonnet-4-5"},
		{"chat claude-sonnet-4-5", "gen_ai.usage.input_tokens", integer(1000), "int 1000"},
		{"chat claude-sonnet-4-5", "gen_ai.usage.output_tokens", integer(80), "int 80"},
		{"chat claude-sonnet-4-5", "switchyard.cost_usd", double(0.02), "double 0.02"},
		{"chat claude-sonnet-4-5", "switchyard.latency_ms", double(2000), "double 2000"},
		{"chat claude-sonnet-4-5", "switchyard.attempts", integer(2), "int 2"},
		{"chat claude-sonnet-4-5", "switchyard.stream", boolean(true), "true"},
		{"chat claude-sonnet-4-5", "gen_ai.response.finish_reasons", strs("end_turn"), "[end_turn]"},
		{"chat claude-sonnet-4-5", "switchyard.summary", str("anthropic/claude-sonnet-4-5, 1000 in / 80 out tokens, $0.020000, 2000 ms, 2 attempts"), "the summary"},
		{"chat smart", "gen_ai.request.model", str("smart"), "smart"},
		{"chat smart", "switchyard.cost_usd", double(0), "double 0"},
		{"route static", "switchyard.targets", strs("anthropic/claude-sonnet-4-5", "openai/gpt-5"), "the targets"},
		{"attempt 1", "switchyard.status", integer(429), "int 429"},
		{"execute_tool Bash", "gen_ai.operation.name", str("execute_tool"), "execute_tool"},
		{"execute_tool Bash", "gen_ai.tool.name", str("Bash"), "Bash"},
		{"execute_tool Bash", "gen_ai.tool.call.id", str("toolu_1"), "toolu_1"},
		{"execute_tool Bash", "switchyard.exit_code", integer(0), "int 0"},
	} {
		s := m[c.span]
		if s == nil {
			continue // reported by the caller
		}
		if v := attrs(s)[c.key]; v == nil || !c.ok(v) {
			t.Errorf("%s: %s = %v, want %s", c.span, c.key, v, c.want)
		}
	}
	if _, ok := attrs(m["execute_tool Bash"])["switchyard.cost_usd"]; ok {
		t.Error("execute_tool Bash: a cost on a tool call")
	}
}

// TestExportAfterJSON exports the tree as `switchyard trace` has it, read
// back from the server's JSON, and gets the same trace: same ids, and
// counts that are still integers.
func TestExportAfterJSON(t *testing.T) {
	t.Parallel()
	c := newCollector(t)
	b, err := json.Marshal(decision())
	if err != nil {
		t.Fatal(err)
	}
	var n trace.Node
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	_, fromJSON, _ := c.export(t, c.URL, &n)
	_, direct, _ := c.export(t, c.URL, decision())
	m := byName(t, fromJSON)
	checkAttrs(t, m)
	for _, s := range direct {
		j := m[s.Name]
		if j == nil || string(j.TraceId) != string(s.TraceId) || string(j.SpanId) != string(s.SpanId) || string(j.ParentSpanId) != string(s.ParentSpanId) {
			t.Errorf("%s: ids differ after JSON: %v vs %v", s.Name, j, s)
		}
	}
}

func TestExportTwiceGivesTheSameIDs(t *testing.T) {
	t.Parallel()
	c := newCollector(t)
	ids := func() map[string]string {
		_, spans, _ := c.export(t, c.URL+"/v1/traces", decision())
		m := map[string]string{}
		seen := map[string]bool{}
		for _, s := range spans {
			m[s.Name] = hex.EncodeToString(s.TraceId) + "/" + hex.EncodeToString(s.SpanId) + "/" + hex.EncodeToString(s.ParentSpanId)
			if seen[string(s.SpanId)] {
				t.Errorf("span id %x twice", s.SpanId)
			}
			seen[string(s.SpanId)] = true
		}
		return m
	}
	first, second := ids(), ids()
	if len(first) != len(want) {
		t.Fatalf("%d spans, want %d", len(first), len(want))
	}
	for name, id := range first {
		if second[name] != id {
			t.Errorf("%s: %s, then %s", name, id, second[name])
		}
	}

	// Another decision is another trace.
	other := decision()
	other.Name = "s0123456789abcdef/3"
	_, spans, _ := c.export(t, c.URL, other)
	if strings.HasPrefix(first["invoke_agent tracer"], hex.EncodeToString(spans[0].TraceId)) {
		t.Errorf("turn 3 has turn 2's trace id %x", spans[0].TraceId)
	}
	if got, want := otlp.TraceID(other.Name).String(), hex.EncodeToString(spans[0].TraceId); got != want {
		t.Errorf("TraceID %s, exported %s", got, want)
	}
}

func TestExportRunningDecision(t *testing.T) {
	t.Parallel()
	c := newCollector(t)
	// A turn still running, whose tool call has no result yet: the turn
	// ends with its last child, the tool call where it started.
	n := &trace.Node{Kind: trace.KindDecision, Name: "s1/1", Start: at(0), Events: []uint64{1},
		Children: []*trace.Node{
			{Kind: trace.KindModelCall, Name: "c", Start: at(time.Second), End: at(4 * time.Second), Events: []uint64{1},
				Attrs: map[string]any{"gen_ai.request.model": "fast"}},
			{Kind: trace.KindToolCall, Name: "Read", Start: at(5 * time.Second), Events: []uint64{2}},
			{Kind: trace.KindToolCall, Name: "Grep", Start: at(2 * time.Second), End: at(3 * time.Second)}, // no events
		}}
	_, spans, _ := c.export(t, c.URL, n)
	m := byName(t, spans)
	for name, w := range map[string][2]time.Time{
		"invoke_agent":      {at(0), at(5 * time.Second)},
		"chat fast":         {at(time.Second), at(4 * time.Second)},
		"execute_tool Read": {at(5 * time.Second), at(5 * time.Second)},
		"execute_tool Grep": {at(2 * time.Second), at(3 * time.Second)},
	} {
		s := m[name]
		if s == nil {
			t.Errorf("no span %q in %v", name, names(spans))
			continue
		}
		if s.StartTimeUnixNano != uint64(w[0].UnixNano()) || s.EndTimeUnixNano != uint64(w[1].UnixNano()) {
			t.Errorf("%s: %d → %d, want %v → %v", name, s.StartTimeUnixNano, s.EndTimeUnixNano, w[0], w[1])
		}
	}
}

func TestExportErrors(t *testing.T) {
	t.Parallel()
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)

	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(release) })

	for _, tc := range []struct {
		name, endpoint string
		timeout        time.Duration
		want           []string
	}{
		{"nobody listening", closed, 5 * time.Second, []string{"could not export the trace to " + closed + "/v1/traces: ", "connection refused", "is a collector listening there?"}},
		{"not a collector", notFound.URL + "/nope", 5 * time.Second, []string{"could not export the trace to " + notFound.URL + "/nope: ", "404", "OTLP/HTTP traces endpoint"}},
		{"no answer", silent.URL, 200 * time.Millisecond, []string{"could not export the trace to " + silent.URL + "/v1/traces: ", "no answer within 200ms", "is a collector listening there?"}},
		{"bad endpoint", "ftp://example.com", time.Second, []string{`OTLP endpoint "ftp://example.com"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := otlp.Export(context.Background(), tc.endpoint, decision(), otlp.WithTimeout(tc.timeout))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		want, err  string
	}{
		{name: "base URL", flag: "http://localhost:4318", want: "http://localhost:4318/v1/traces"},
		{name: "base URL with slash", flag: "http://localhost:4318/", want: "http://localhost:4318/v1/traces"},
		{name: "full URL", flag: "https://otel.example.com/api/traces", want: "https://otel.example.com/api/traces"},
		{name: "no scheme", flag: "collector:4318", want: "http://collector:4318/v1/traces"},
		{name: "flag wins", flag: "http://a:4318", env: map[string]string{otlp.EnvEndpoint: "http://b:4318"}, want: "http://a:4318/v1/traces"},
		{name: "traces env as is", env: map[string]string{otlp.EnvTracesEndpoint: "http://t:4318/custom", otlp.EnvEndpoint: "http://b:4318"}, want: "http://t:4318/custom"},
		{name: "base env", env: map[string]string{otlp.EnvEndpoint: "http://b:4318/otlp/"}, want: "http://b:4318/otlp/v1/traces"},
		{name: "default", want: otlp.DefaultEndpoint},
		{name: "bad scheme", flag: "grpc://x:4317", err: "want http://HOST:PORT"},
		{name: "no host", flag: "http://", err: "want http://HOST:PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := otlp.Endpoint(tc.flag, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want an error saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
