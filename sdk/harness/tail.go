package harness

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// maxTailLine is the longest stderr line kept whole.
const maxTailLine = 2048

// tail keeps the last lines read from a CLI's stderr, and notes whether
// any line says an allocation or a fork failed: a crashing runtime's
// message comes first, before pages of stack traces.
type tail struct {
	n   int
	log *slog.Logger

	mu         sync.Mutex
	lines      []string
	oom, nproc string // the first line about a failed allocation, fork
}

var (
	oomRE   = regexp.MustCompile(`(?i)out of memory|cannot allocate memory|memory exhausted|bad_alloc|allocation failed|failed to reserve`)
	nprocRE = regexp.MustCompile(`(?i)resource temporarily unavailable|fork: retry|EAGAIN`)
)

// read reads r to its end, keeping its last lines and logging each at
// Debug. Overlong lines are cut.
func (t *tail) read(r io.Reader) {
	br := bufio.NewReaderSize(r, maxTailLine)
	for {
		b, err := br.ReadSlice('\n')
		cut := false
		if err == bufio.ErrBufferFull {
			cut = true
			_ = skipLine(br)
			err = nil
		}
		if s := strings.TrimRight(string(b), "\r\n"); s != "" {
			if cut {
				s += "..."
			}
			t.add(s)
		}
		if err != nil {
			return
		}
	}
}

func (t *tail) add(s string) {
	t.log.Debug("cli stderr", "line", s)
	oom, nproc := oomRE.MatchString(s), nprocRE.MatchString(s)
	t.mu.Lock()
	defer t.mu.Unlock()
	if oom && t.oom == "" {
		t.oom = s
	}
	if nproc && t.nproc == "" {
		t.nproc = s
	}
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = append(t.lines[:0], t.lines[len(t.lines)-t.n:]...)
	}
}

func (t *tail) get() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// quoteTail renders the last stderr lines for an error message, on one
// line.
func quoteTail(lines []string) string {
	const n = 5
	lines = lines[max(0, len(lines)-n):]
	if len(lines) == 0 {
		return "(nothing on stderr)"
	}
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return "stderr: " + strings.Join(q, " ")
}
