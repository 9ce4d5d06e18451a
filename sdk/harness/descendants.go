//go:build linux

package harness

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A CLI's tools may leave its process group: OpenCode runs its bash
// tool's commands in a group of their own, so a signal to the CLI's
// group misses them. Stopping therefore also signals every descendant,
// found through /proc while the CLI still lives (once it is gone they
// are orphans, and nothing ties them to it).

// proc is a process, known by its pid and start time (in clock ticks
// since boot), so that a pid reused by another process is not signalled.
type proc struct {
	pid   int
	start uint64
}

// procStat reads a process's parent, start time and state ('R', 'S',
// 'Z' for ended but not yet reaped, ...) from /proc/PID/stat.
func procStat(pid int) (ppid int, start uint64, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing one. state is field 3, ppid field 4,
	// starttime field 22.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return ppid, start, f[0][0], true
}

// descendants lists the processes below pid.
func descendants(pid int) []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, start, _, ok := procStat(p); ok {
			children[ppid] = append(children[ppid], proc{p, start})
		}
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

// signal sends sig to each process that is still the one listed, and to
// its process group when it leads one of its own.
func signal(ps []proc, sig syscall.Signal) {
	for _, p := range ps {
		if _, start, _, ok := procStat(p.pid); !ok || start != p.start {
			continue // gone, or the pid now belongs to another process
		}
		if pgid, err := syscall.Getpgid(p.pid); err == nil && pgid == p.pid {
			_ = syscall.Kill(-p.pid, sig)
		}
		_ = syscall.Kill(p.pid, sig)
	}
}

// waitGone waits, up to max, until every process listed has ended (gone,
// a zombie, or its pid taken by another process): a signal is sent when
// Kill returns, but the kernel takes a moment to end the process.
func waitGone(ps []proc, max time.Duration) {
	deadline := time.Now().Add(max)
	for _, p := range ps {
		for {
			_, start, state, ok := procStat(p.pid)
			if !ok || start != p.start || state == 'Z' || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
