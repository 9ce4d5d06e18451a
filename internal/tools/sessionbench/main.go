// Command sessionbench runs N sessions of a real harness CLI at once
// through a switchyard server (its own process, on the demo's simulator)
// and checks that nothing was lost: every session's turn ran to its end
// with its tool call and result, every model call it made is in the log
// with its session, and every hash chain verifies. It prints how long the
// sessions took, the time from each session's creation to its first
// model call, and the server's peak memory. `go tool task bench:sessions`
// runs it; the figures go in docs/performance.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	bin      = flag.String("bin", ".bin/switchyard", "switchyard binary")
	clis     = flag.String("harness-bin", "", "directory of the harness CLIs (required)")
	n        = flag.Int("sessions", 20, "sessions to run at once")
	harness  = flag.String("harness", "claude-code", "harness of the agent")
	model    = flag.String("model", "fast", "model of the agent (a demo route)")
	timeout  = flag.Duration("timeout", 5*time.Minute, "give up after this long")
	allowCmd = flag.String("allow", "Bash(echo *)", "the agent's tools.allow, comma-separated (empty: none)")
)

func main() {
	flag.Parse()
	if *clis == "" {
		fail("give --harness-bin DIR (the pinned install: $(bash scripts/install-clients.sh)/node_modules/.bin)")
	}
	if err := run(); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "sessionbench:", msg)
	os.Exit(1)
}

type event struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Stream        string          `json:"stream"`
	StreamVersion uint64          `json:"stream_version"`
	Time          time.Time       `json:"time"`
	Data          json.RawMessage `json:"data"`
	Metadata      struct {
		Session string `json:"session"`
	} `json:"metadata"`
}

func run() error {
	dir, err := os.MkdirTemp("", "sessionbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	data := filepath.Join(dir, "data")
	srv := exec.Command(*bin, "serve", "--demo", "--data", data, "--addr", addr, "--harness-bin", *clis, "--log-level", "warn")
	srv.Stdout, srv.Stderr = nil, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	if err := waitReady(base); err != nil {
		return err
	}
	var allow []string
	if *allowCmd != "" {
		allow = strings.Split(*allowCmd, ",")
	}
	agent := map[string]any{"harness": *harness, "model": *model, "tools": map[string]any{"allow": allow}}
	if err := call("PUT", base+"/api/v1/agents/bench", agent, nil); err != nil {
		return err
	}

	began := time.Now()
	ids := make([]string, *n)
	var wg sync.WaitGroup
	errs := make(chan error, *n)
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct {
				Session struct {
					ID string `json:"id"`
				} `json:"session"`
			}
			prompt := fmt.Sprintf(`Run it. [[sim tool=shell cmd="echo bench-%d"]]`, i)
			if err := call("POST", base+"/api/v1/sessions", map[string]string{"agent": "bench", "prompt": prompt}, &out); err != nil {
				errs <- err
				return
			}
			ids[i] = out.Session.ID
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("start: %w", err)
	}
	started := time.Since(began)
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var peak int64
	for {
		if kb := vmHWM(srv.Process.Pid); kb > peak {
			peak = kb
		}
		var list struct {
			Sessions []struct {
				Status string `json:"status"`
			} `json:"sessions"`
		}
		if err := call("GET", base+"/api/v1/sessions?agent=bench", nil, &list); err != nil {
			return err
		}
		running := 0
		for _, s := range list.Sessions {
			if s.Status == "running" {
				running++
			}
		}
		if running == 0 {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%d sessions still running after %v", running, *timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	total := time.Since(began)

	// Everything in the log, checked session by session.
	var all struct{ Events []event }
	res, err := http.Get(base + "/api/v1/events?from=0")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(res.Body) // JSON lines
	for dec.More() {
		var e event
		if err := dec.Decode(&e); err != nil {
			res.Body.Close()
			return fmt.Errorf("read the log: %w", err)
		}
		all.Events = append(all.Events, e)
	}
	res.Body.Close()
	var durations, firstCall []time.Duration
	problems := 0
	seen := map[string]bool{}
	for _, e := range all.Events {
		if seen[e.ID] {
			problems++
			fmt.Printf("event %s appears twice\n", e.ID)
		}
		seen[e.ID] = true
	}
	for i, id := range ids {
		var created, ended, first time.Time
		var types []string
		calls := 0
		for _, e := range all.Events {
			switch {
			case e.Stream == "session-"+id:
				types = append(types, strings.TrimPrefix(e.Type, "session."))
				switch e.Type {
				case "session.created":
					created = e.Time
				case "session.turn.ended":
					ended = e.Time
					if !bytes.Contains(e.Data, []byte(`"outcome":"completed"`)) {
						problems++
						fmt.Printf("session %s: %s\n", id, e.Data)
					}
				case "session.harness.tool_result":
					if !bytes.Contains(e.Data, []byte(fmt.Sprintf("bench-%d", i))) {
						problems++
						fmt.Printf("session %s: tool result without its echo: %s\n", id, e.Data)
					}
				}
			case e.Metadata.Session == id && e.Type == "model.call.completed":
				calls++
			case e.Metadata.Session == id && e.Type == "model.call.started" && first.IsZero():
				first = e.Time
			}
		}
		for _, want := range []string{"created", "turn.started", "harness.started", "harness.tool_call", "harness.tool_result", "harness.completed", "turn.ended"} {
			if !slices.Contains(types, want) {
				problems++
				fmt.Printf("session %s lacks %s: %v\n", id, want, types)
			}
		}
		if calls < 2 {
			problems++
			fmt.Printf("session %s: %d model calls in the log, want 2 or more\n", id, calls)
		}
		durations = append(durations, ended.Sub(created))
		firstCall = append(firstCall, first.Sub(created))
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	verify, err := exec.Command(*bin, "events", "verify", "--data", data).CombinedOutput()
	if err != nil {
		problems++
		fmt.Printf("verify: %v: %s\n", err, verify)
	}
	slices.Sort(durations)
	slices.Sort(firstCall)
	fmt.Printf("%d %s sessions at once (one turn each: a shell tool call, two model calls)\n", *n, *harness)
	fmt.Printf("  all started (POST /api/v1/sessions) in %v; all ended %v after the first start\n", started.Round(time.Millisecond), total.Round(time.Millisecond))
	fmt.Printf("  session created -> first model call: p50 %v, max %v (the CLI's own start-up, on %d at once)\n",
		firstCall[len(firstCall)/2].Round(time.Millisecond), firstCall[len(firstCall)-1].Round(time.Millisecond), *n)
	fmt.Printf("  session created -> turn ended: p50 %v, max %v\n", durations[len(durations)/2].Round(time.Millisecond), durations[len(durations)-1].Round(time.Millisecond))
	fmt.Printf("  %d events in the log, switchyard peak RSS %d MiB; events verify: %s\n", len(all.Events), peak/1024, strings.TrimSpace(string(verify)))
	if problems > 0 {
		return fmt.Errorf("%d problems: events lost, doubled or wrong", problems)
	}
	fmt.Println("  no event lost or doubled")
	return nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the server at %s did not get ready", base)
}

func call(method, url string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return fmt.Errorf("%s %s: %s: %s", method, url, res.Status, b.String())
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}

// vmHWM is a process's peak resident set, in KiB.
func vmHWM(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb
		}
	}
	return 0
}
