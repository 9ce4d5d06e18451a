package embedded

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// Benchmarks for docs/performance.md. Run them with `go tool task bench`;
// fsync is on in all of them.

// benchEvent returns n events of about 300 bytes each (envelope included).
func benchEvents(n int, seq *atomic.Uint64) []event.Proposed {
	evs := make([]event.Proposed, n)
	for i := range evs {
		data := fmt.Sprintf(`{"model":"claude-sonnet-4-5","provider":"anthropic","input_tokens":%d,"output_tokens":%d,"cost_usd":0.0123,"latency_ms":812.5,"note":"%s"}`,
			seq.Add(1), i, strings.Repeat("x", 60))
		evs[i] = event.Proposed{Type: "model.call.completed", Data: json.RawMessage(data),
			Metadata: event.Metadata{CorrelationID: "01J9ZQ3V7Y1N8K2M4P6R8T0W2Y", Agent: "reviewer", Session: "s-1", Team: "platform", Schema: 1}}
	}
	return evs
}

func benchStore(b *testing.B) *Store {
	s, err := Open(Config{Dir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppendBatched16Writers: 16 goroutines each appending batches of
// 100 events to streams of their own.
func BenchmarkAppendBatched16Writers(b *testing.B) {
	for _, batch := range []int{10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchStore(b)
			var seq, stream atomic.Uint64
			b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				name := fmt.Sprintf("bench-%d", stream.Add(1))
				evs := benchEvents(batch, &seq)
				for pb.Next() {
					for i := range evs {
						evs[i].ID = event.NewID()
					}
					if _, err := s.Append(context.Background(), name, eventstore.Any, evs...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAppendSingleSync: one writer, one event per append, each waiting
// for its fsync. Reports latency percentiles.
func BenchmarkAppendSingleSync(b *testing.B) {
	s := benchStore(b)
	var seq atomic.Uint64
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := benchEvents(1, &seq)
		start := time.Now()
		if _, err := s.Append(context.Background(), "single", eventstore.Any, evs...); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(1), "max_ms")
}

// fill appends n events in batches of 1000 over 100 streams.
func fill(tb testing.TB, s *Store, n int) {
	var seq atomic.Uint64
	evs := benchEvents(1000, &seq)
	for done := 0; done < n; done += len(evs) {
		batch := evs[:min(len(evs), n-done)]
		for i := range batch {
			batch[i].ID = event.NewID()
		}
		if _, err := s.Append(context.Background(), fmt.Sprintf("fill-%d", done/1000%100), eventstore.Any, batch...); err != nil {
			tb.Fatal(err)
		}
	}
}

const readBenchEvents = 1_000_000

// BenchmarkReadAll reads a store of 1M events from the start; one op is one
// full read.
func BenchmarkReadAll(b *testing.B) {
	s := benchStore(b)
	fill(b, s, readBenchEvents)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, err := range s.ReadAll(context.Background(), eventstore.ReadOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != readBenchEvents {
			b.Fatalf("read %d events, want %d", n, readBenchEvents)
		}
	}
	b.ReportMetric(float64(b.N*readBenchEvents)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIdleRSS opens a store of SWITCHYARD_BENCH_RSS_EVENTS events
// (default 1M; `task bench:rss` uses 10M) in a fresh process and reports its
// resident memory once idle. The store is kept in SWITCHYARD_BENCH_DIR if
// set, so the slow fill is done once.
func BenchmarkIdleRSS(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("SWITCHYARD_BENCH_RSS_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("SWITCHYARD_BENCH_RSS_EVENTS=%q: %v", v, err)
		}
	}
	dir := os.Getenv("SWITCHYARD_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	dir = filepath.Join(dir, fmt.Sprintf("rss-%d", n))
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if have := s.lastPos.Load(); have < uint64(n) {
		b.Logf("filling %s with %d events (once)", dir, uint64(n)-have)
		fill(b, s, n-int(have))
	}
	s.Close()
	var rss float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), rssChildEnv+"="+dir)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("rss child: %v", err)
		}
		if rss, err = strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err != nil {
			b.Fatalf("rss child said %q", out)
		}
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(rss, "idle_rss_MB")
}

const rssChildEnv = "SWITCHYARD_RSS_CHILD_DIR"

// rssChild opens the store, lets it settle and prints its VmRSS in MB.
func rssChild(dir string) {
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer s.Close()
	if _, err := s.StreamVersion(context.Background(), "fill-0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	time.Sleep(time.Second) // idle
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 64)
			fmt.Printf("%.1f\n", v/1024)
			os.Exit(0)
		}
	}
	os.Exit(3)
}
