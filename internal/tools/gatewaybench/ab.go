package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	abBin    = flag.String("ab", "", "compare the gateway with this other switchyard binary (B): both run, and the latency load alternates between them in 2 s windows, each beside the direct load, so the VM's drift hits both alike")
	abPlugin = flag.String("ab-plugin", "", "compare the gateway with itself deciding routes through this WASM routing plugin (B), in the same way as --ab; builtin:NAME takes a built-in strategy (builtin:failover keeps the static route)")
)

// abPhase measures added latency for two gateway builds, A (--bin) and B
// (--ab). Separate runs on this shared VM differ by more than most
// changes do, so the two take turns within one run: window by window,
// one of them takes the load while the direct load runs beside it, and
// the windows of each are pooled.
func abPhase(dir string, gwA *proc, gwCfg, simURL, gwURL, key string) error {
	addr := freeAddr()
	binB, cfgB, nameB := *abBin, gwCfg, "B "+filepath.Base(*abBin)
	if *abPlugin != "" {
		binB, cfgB, nameB = *bin, filepath.Join(dir, "gateway-plugin.json"), "B with plugin "+filepath.Base(*abPlugin)
		plugin := *abPlugin
		if !strings.HasPrefix(plugin, "builtin:") {
			abs, err := filepath.Abs(plugin)
			if err != nil {
				return err
			}
			plugin = abs
		}
		if err := withPlugin(gwCfg, cfgB, plugin); err != nil {
			return err
		}
	}
	b, err := startBin(binB, "gateway B", "serve", "--addr", addr, "--data", filepath.Join(dir, "data-b"), "--config", cfgB, "--log-level", "error")
	if err != nil {
		return err
	}
	defer b.stop()
	if err := waitHTTP("http://" + addr + "/readyz"); err != nil {
		return err
	}
	keyB, err := createKey(addr)
	if err != nil {
		return err
	}
	bURL := "http://" + addr
	openLoop(bURL, keyB, "upstream-50ms", false, 200, time.Second)

	const window = 2 * time.Second
	type side struct {
		name, url, key string
		proc           *proc
		direct, via    result
		cpu            time.Duration // the gateway's CPU time during its windows
	}
	sides := []*side{{name: "A " + filepath.Base(*bin), url: gwURL, key: key, proc: gwA}, {name: nameB, url: bURL, key: keyB, proc: b}}
	windows := max(2, int(2**duration/window))
	for w := range windows {
		s := sides[w%2]
		cpu0 := s.proc.cpu()
		var d, v *result
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); d = openLoop(simURL, s.key, "upstream-50ms", false, *rate, window) }()
		go func() {
			defer wg.Done()
			time.Sleep(time.Second / time.Duration(2**rate))
			v = openLoop(s.url, s.key, "upstream-50ms", false, *rate, window)
		}()
		wg.Wait()
		s.cpu += s.proc.cpu() - cpu0
		s.direct.merge(d)
		s.via.merge(v)
	}
	fmt.Printf("A/B: added latency at %d req/s, 50 ms upstream, %d windows of %s alternating\n", *rate, windows, window)
	for _, s := range sides {
		fmt.Printf("   %-28s added p50 %s, p90 %s, p99 %s (n=%d, errors %d); gateway CPU %s a call\n", s.name,
			added(&s.via, &s.direct, 0.5), added(&s.via, &s.direct, 0.9), added(&s.via, &s.direct, 0.99), len(s.via.lat), s.via.errors,
			(s.cpu / time.Duration(max(len(s.via.lat), 1))).Round(time.Microsecond))
	}
	fmt.Println()
	return nil
}

// withPlugin writes to out the gateway config at in with a routing plugin.
func withPlugin(in, out, plugin string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var cfg map[string]map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	if name, ok := strings.CutPrefix(plugin, "builtin:"); ok {
		cfg["gateway"]["routing_plugin"] = map[string]any{"builtin": name}
	} else {
		cfg["gateway"]["routing_plugin"] = map[string]any{"path": plugin}
	}
	b, err = json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// merge adds o's samples to r, keeping lat sorted.
func (r *result) merge(o *result) {
	r.lat = append(r.lat, o.lat...)
	slices.Sort(r.lat)
	r.errors += o.errors
	r.chunks += o.chunks
}
