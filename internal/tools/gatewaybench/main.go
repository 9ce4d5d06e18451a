// Command gatewaybench measures the gateway against the simulator, each in
// its own process, on this machine: the latency the gateway adds at a fixed
// request rate, its throughput with an instant upstream, the time to first
// token it adds to streams, and its memory under load. `go tool task
// bench:gateway` runs it; the figures go in docs/performance.md.
//
// Load is open-loop (requests start on a fixed schedule, and latency is
// measured from the scheduled start), so a slow gateway cannot hide its
// queueing by slowing the load down.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	bin            = flag.String("bin", ".bin/switchyard", "switchyard binary")
	duration       = flag.Duration("duration", 10*time.Second, "length of each phase")
	rate           = flag.Int("rate", 1000, "requests per second for the latency phases")
	workers        = flag.Int("workers", 64, "concurrent clients for the throughput phase")
	quick          = flag.Bool("quick", false, "short phases (2s), for a smoke run")
	only           = flag.String("only", "", "run one phase: latency, throughput or stream")
	linger         = flag.Duration("linger", 0, "the gateway's event writer linger (recorder.linger); 0 keeps the default")
	profile        = flag.String("cpuprofile", "", "write the gateway's CPU profile during the throughput phase to this file")
	withPluginFlag = flag.String("plugin", "", "run the gateway with this routing plugin (a .wasm path, or builtin:NAME) in every phase, e.g. to profile it with --cpuprofile")
	baseline       = flag.String("baseline-proxy", "", "also measure this reverse proxy (a binary run as BIN LISTEN_ADDR UPSTREAM_URL) in the latency phase, as the floor of what any proxy adds here")
)

func main() {
	flag.Parse()
	if *quick {
		*duration = 2 * time.Second
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

type proc struct {
	cmd  *exec.Cmd
	addr string
}

// cpu returns the CPU time the process has used (user and system), from
// /proc; 0 where there is none.
func (p *proc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces, in parens):
	// utime and stime are the 12th and 13th, in clock ticks (100 a second
	// on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
	}
}

// recorderJSON tunes the gateway's event writer from --linger.
func recorderJSON() string {
	if *linger == 0 {
		return ""
	}
	return fmt.Sprintf(`,"recorder":{"linger":%q}`, linger.String())
}

// handedOut are the addresses freeAddr gave: a port it closes is free
// again until its server binds it, and the kernel may offer it twice.
var handedOut = map[string]bool{}

// freeAddr returns a free loopback address it has not returned before.
func freeAddr() string {
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr
		}
	}
}

func start(name string, args ...string) (*proc, error) { return startBin(*bin, name, args...) }

func startBin(binary, name string, args ...string) (*proc, error) {
	cmd := exec.Command(binary, args...)
	cmd.Stderr = io.Discard
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &proc{cmd: cmd}, nil
}

func waitHTTP(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up", url)
}

func run() error {
	dir, err := os.MkdirTemp("", "gatewaybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	simAddr, gwAddr := freeAddr(), freeAddr()
	simCfg := filepath.Join(dir, "sim.json")
	os.WriteFile(simCfg, []byte(`{"models":[
		{"name":"instant","output_words":24},
		{"name":"upstream-50ms","latency":"50ms","output_words":24},
		{"name":"stream-20ms","ttft":"20ms","tokens_per_second":400,"output_words":24}]}`), 0o644)
	sim, err := start("sim", "sim", "--addr", simAddr, "--config", simCfg, "--log-level", "error")
	if err != nil {
		return err
	}
	defer sim.stop()
	gwCfg := filepath.Join(dir, "gateway.json")
	os.WriteFile(gwCfg, []byte(fmt.Sprintf(`{"gateway":{
		"providers":[{"name":"sim","kind":"sim","base_url":"http://%s","models":["instant","upstream-50ms","stream-20ms"]}],
		"budgets":[{"scope":"team:bench","spend_usd":1000000,"period":"month"}],
		"prices_file":"prices.json"%s}}`, simAddr, recorderJSON())), 0o644)
	// Price the bench models like sim-small, so pricing runs on every call.
	os.WriteFile(filepath.Join(dir, "prices.json"), []byte(`{
		"sim/instant":{"input_cost_per_token":5e-7,"output_cost_per_token":1.5e-6,"litellm_provider":"sim"},
		"sim/upstream-50ms":{"input_cost_per_token":5e-7,"output_cost_per_token":1.5e-6,"litellm_provider":"sim"},
		"sim/stream-20ms":{"input_cost_per_token":5e-7,"output_cost_per_token":1.5e-6,"litellm_provider":"sim"}}`), 0o644)
	if *withPluginFlag != "" {
		if err := withPlugin(gwCfg, gwCfg, *withPluginFlag); err != nil {
			return err
		}
	}
	pprofAddr := ""
	if *profile != "" {
		pprofAddr = freeAddr()
		os.Setenv("SWITCHYARD_PPROF", pprofAddr)
	}
	gw, err := start("gateway", "serve", "--addr", gwAddr, "--data", filepath.Join(dir, "data"), "--config", gwCfg, "--log-level", "error")
	if err != nil {
		return err
	}
	defer gw.stop()
	if err := waitHTTP("http://" + simAddr + "/sim/healthz"); err != nil {
		return err
	}
	if err := waitHTTP("http://" + gwAddr + "/readyz"); err != nil {
		return err
	}
	key, err := createKey(gwAddr)
	if err != nil {
		return err
	}

	simURL, gwURL := "http://"+simAddr, "http://"+gwAddr
	fmt.Printf("gatewaybench: %s per phase, open-loop at %d req/s for latency, %d workers for throughput\n", *duration, *rate, *workers)
	fmt.Printf("machine: %d CPUs; the simulator, the gateway and this load generator share them\n\n", numCPU())

	// Warm up connections and code paths.
	openLoop(gwURL, key, "upstream-50ms", false, 200, time.Second)
	openLoop(simURL, key, "upstream-50ms", false, 200, time.Second)

	if *abBin != "" || *abPlugin != "" {
		return abPhase(dir, gw, gwCfg, simURL, gwURL, key)
	}
	if *only == "" || *only == "latency" {
		latencyPhase(gw, simURL, gwURL, key)
		if *baseline != "" {
			addr := freeAddr()
			cmd := exec.Command(*baseline, addr, simURL)
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("baseline proxy: %w", err)
			}
			bp := &proc{cmd: cmd}
			time.Sleep(300 * time.Millisecond)
			openLoop("http://"+addr, key, "upstream-50ms", false, 200, time.Second)
			var direct, via *result
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); direct = openLoop(simURL, key, "upstream-50ms", false, *rate, *duration) }()
			go func() {
				defer wg.Done()
				time.Sleep(time.Second / time.Duration(2**rate))
				via = openLoop("http://"+addr, key, "upstream-50ms", false, *rate, *duration)
			}()
			wg.Wait()
			bp.stop()
			fmt.Printf("   baseline: %s adds p50 %s, p90 %s, p99 %s\n\n", filepath.Base(*baseline), added(via, direct, 0.5), added(via, direct, 0.9), added(via, direct, 0.99))
		}
	}
	if *only == "" || *only == "throughput" {
		throughputPhase(gw, sim, simURL, gwURL, key, pprofAddr)
	}
	if *only == "" || *only == "stream" {
		streamPhase(simURL, gwURL, key)
	}
	return nil
}

func latencyPhase(gw *proc, simURL, gwURL, key string) {
	// Both loads run at once, interleaved, so whatever else the machine
	// does at the time hits both alike.
	var peakRSS atomic.Int64
	stopRSS := sampleRSS(gw.cmd.Process.Pid, &peakRSS)
	before := overheadBuckets(gwURL)
	var direct, through *result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); direct = openLoop(simURL, key, "upstream-50ms", false, *rate, *duration) }()
	go func() {
		defer wg.Done()
		time.Sleep(time.Second / time.Duration(2**rate))
		through = openLoop(gwURL, key, "upstream-50ms", false, *rate, *duration)
	}()
	wg.Wait()
	after := overheadBuckets(gwURL)
	stopRSS()
	fmt.Printf("1. Added latency, non-streaming, %d req/s through the gateway and %d req/s direct, interleaved; upstream 50 ms\n   (events, pricing, budgets on)\n", *rate, *rate)
	printLat("   direct to sim ", direct)
	printLat("   through gateway", through)
	fmt.Printf("   added: p50 %s, p90 %s, p99 %s\n", added(through, direct, 0.50), added(through, direct, 0.90), added(through, direct, 0.99))
	fmt.Printf("   the gateway's own time per call (switchyard_gateway_overhead_seconds): p50 %s, p90 %s, p99 %s\n",
		bucketPct(before, after, 0.5), bucketPct(before, after, 0.9), bucketPct(before, after, 0.99))
	fmt.Printf("   gateway RSS peak during the phase: %.1f MB\n\n", float64(peakRSS.Load())/(1<<20))
}

func throughputPhase(gw, sim *proc, simURL, gwURL, key, pprofAddr string) {
	fmt.Printf("2. Throughput, non-streaming, instant upstream, %d concurrent clients\n", *workers)
	ds := closedLoop(simURL, key, "instant", *workers, *duration)
	gwCPU0, simCPU0, selfCPU0 := cpuTime(gw.cmd.Process.Pid), cpuTime(sim.cmd.Process.Pid), cpuTime(os.Getpid())
	var prof chan error
	if pprofAddr != "" {
		prof = make(chan error, 1)
		go func() { prof <- fetchProfile(pprofAddr, *duration-time.Second) }()
	}
	gs := closedLoop(gwURL, key, "instant", *workers, *duration)
	if prof != nil {
		if err := <-prof; err != nil {
			fmt.Println("   profile:", err)
		}
	}
	gwCPU, simCPU, selfCPU := cpuTime(gw.cmd.Process.Pid)-gwCPU0, cpuTime(sim.cmd.Process.Pid)-simCPU0, cpuTime(os.Getpid())-selfCPU0
	n := float64(len(gs.lat))
	fmt.Printf("   direct to sim:    %8.0f req/s (%d errors)\n", ds.rps, ds.errors)
	fmt.Printf("   through gateway:  %8.0f req/s (%d errors), p50 %s p99 %s\n", gs.rps, gs.errors, fmtDur(pct(gs.lat, 0.5)), fmtDur(pct(gs.lat, 0.99)))
	fmt.Printf("   CPU per call: gateway %.0f µs, simulator %.0f µs, load generator %.0f µs\n\n",
		gwCPU.Seconds()*1e6/n, simCPU.Seconds()*1e6/n, selfCPU.Seconds()*1e6/n)
}

func streamPhase(simURL, gwURL, key string) {
	streamRate := min(*rate, 200)
	fmt.Printf("3. Streaming, time to first token, %d req/s, upstream TTFT 20 ms then 400 tokens/s\n", streamRate)
	before := overheadBuckets(gwURL)
	var sd, sg *result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); sd = openLoop(simURL, key, "stream-20ms", true, streamRate, *duration) }()
	go func() {
		defer wg.Done()
		time.Sleep(time.Second / time.Duration(2*streamRate))
		sg = openLoop(gwURL, key, "stream-20ms", true, streamRate, *duration)
	}()
	wg.Wait()
	after := overheadBuckets(gwURL)
	printLat("   direct TTFT    ", sd)
	printLat("   gateway TTFT   ", sg)
	fmt.Printf("   added TTFT: p50 %s, p99 %s; chunks per stream: direct %.1f, gateway %.1f (passed one by one)\n",
		added(sg, sd, 0.5), added(sg, sd, 0.99), sd.chunksPerReq(), sg.chunksPerReq())
	fmt.Printf("   the gateway's own share of TTFT: p50 %s, p90 %s, p99 %s\n",
		bucketPct(before, after, 0.5), bucketPct(before, after, 0.9), bucketPct(before, after, 0.99))
}

func fetchProfile(addr string, d time.Duration) error {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(*profile)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(b, []byte("processor\t:"))
}

func createKey(addr string) (string, error) {
	res, err := http.Post("http://"+addr+"/api/v1/keys", "application/json", strings.NewReader(`{"name":"bench","team":"bench"}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Secret string `json:"secret"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Secret == "" {
		return "", fmt.Errorf("create key: %v (status %s)", err, res.Status)
	}
	return out.Secret, nil
}

var client = &http.Client{Transport: &http.Transport{
	MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute, DisableCompression: true,
}}

func body(model string, stream bool) []byte {
	return []byte(fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"Summarise the plan for the release in two sentences."}]}`, model, stream))
}

type result struct {
	lat    []time.Duration // sorted; TTFT for streams
	errors int
	chunks int
	rps    float64
}

func (r *result) chunksPerReq() float64 {
	if len(r.lat) == 0 {
		return 0
	}
	return float64(r.chunks) / float64(len(r.lat))
}

// one sends a request and returns its latency (or time to first content
// chunk, for streams) measured from t0, and the chunks read.
func one(url, key, model string, stream bool, t0 time.Time) (time.Duration, int, error) {
	req, _ := http.NewRequest("POST", url+"/v1/chat/completions", bytes.NewReader(body(model, stream)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return 0, 0, fmt.Errorf("status %d", res.StatusCode)
	}
	if !stream {
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return 0, 0, err
		}
		return time.Since(t0), 0, nil
	}
	br := bufio.NewReader(res.Body)
	var ttft time.Duration
	chunks := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, 0, err
		}
		if bytes.HasPrefix(line, []byte("data: {")) && bytes.Contains(line, []byte(`"content":"`)) && !bytes.Contains(line, []byte(`"content":""`)) {
			chunks++
			if ttft == 0 {
				ttft = time.Since(t0)
			}
		}
	}
	if ttft == 0 {
		return 0, 0, errors.New("no content chunk")
	}
	return ttft, chunks, nil
}

func openLoop(url, key, model string, stream bool, rps int, d time.Duration) *result {
	n := int(float64(rps) * d.Seconds())
	interval := time.Second / time.Duration(rps)
	lat := make([]time.Duration, n)
	var errs, chunks atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, c, err := one(url, key, model, stream, at)
			if err != nil {
				errs.Add(1)
				lat[i] = -1
				return
			}
			lat[i] = l
			chunks.Add(int64(c))
		}()
	}
	wg.Wait()
	r := &result{errors: int(errs.Load()), chunks: int(chunks.Load())}
	for _, l := range lat {
		if l >= 0 {
			r.lat = append(r.lat, l)
		}
	}
	slices.Sort(r.lat)
	return r
}

func closedLoop(url, key, model string, workers int, d time.Duration) *result {
	var mu sync.Mutex
	r := &result{}
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				l, _, err := one(url, key, model, false, t0)
				if err != nil {
					errs++
					continue
				}
				mine = append(mine, l)
			}
			mu.Lock()
			r.lat = append(r.lat, mine...)
			r.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.rps = float64(len(r.lat)) / time.Since(start).Seconds()
	slices.Sort(r.lat)
	return r
}

func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

func added(g, d *result, p float64) string {
	return fmtDur(pct(g.lat, p) - pct(d.lat, p))
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond && d > -time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

func printLat(label string, r *result) {
	fmt.Printf("%s: n=%d errors=%d p50 %s p90 %s p99 %s max %s\n", label, len(r.lat), r.errors,
		fmtDur(pct(r.lat, 0.5)), fmtDur(pct(r.lat, 0.9)), fmtDur(pct(r.lat, 0.99)), fmtDur(pct(r.lat, 1)))
}

// cpuTime is the user+system CPU time pid has used.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) start after ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// sampleRSS records the peak resident memory of pid until stopped.
func sampleRSS(pid int, peak *atomic.Int64) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss := readRSS(pid); rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func readRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// overheadBuckets reads the cumulative buckets of the gateway's overhead
// histogram from /metrics: upper bound → count.
func overheadBuckets(gwURL string) map[float64]float64 {
	res, err := http.Get(gwURL + "/metrics")
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	out := map[float64]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `switchyard_gateway_overhead_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		ub, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(count, 64)
		if err1 == nil && err2 == nil {
			out[ub] = n
		}
	}
	return out
}

// bucketPct is the p-quantile of the observations between two readings of
// a cumulative histogram, interpolated within its bucket.
func bucketPct(before, after map[float64]float64, p float64) string {
	var ubs []float64
	for ub := range after {
		ubs = append(ubs, ub)
	}
	slices.Sort(ubs)
	if len(ubs) == 0 {
		return "n/a"
	}
	total := after[ubs[len(ubs)-1]] - before[ubs[len(ubs)-1]]
	if total <= 0 {
		return "n/a"
	}
	want := p * total
	prevUB, prevN := 0.0, 0.0
	for _, ub := range ubs {
		n := after[ub] - before[ub]
		if n >= want {
			if ub > 1e300 { // +Inf
				return ">" + fmtDur(time.Duration(prevUB*1e9))
			}
			frac := (want - prevN) / max(n-prevN, 1)
			return fmtDur(time.Duration((prevUB + frac*(ub-prevUB)) * 1e9))
		}
		prevUB, prevN = ub, n
	}
	return "n/a"
}
