package process

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// goPluginLogger is the hclog.Logger go-plugin logs its own diagnostics to
// ("starting plugin", "plugin process exited", ...): they go to log at
// Debug, since the supervisor logs what matters itself.
//
// Its level is Off: that is what stops go-plugin from parsing the plugin's
// stderr itself, which it would log at Debug unless a line is JSON. A
// lineWriter does that instead (ClientConfig.Stderr still gets every
// line). The sink receives every message whatever the level.
func goPluginLogger(log *slog.Logger) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off})
	l.RegisterSink(debugSink{log})
	return l
}

type debugSink struct{ log *slog.Logger }

func (s debugSink) Accept(_ string, _ hclog.Level, msg string, args ...any) {
	s.log.Debug("go-plugin: "+msg, args...)
}

// lineWriter logs what a plugin writes to one stream (stderr or stdout),
// line by line. A JSON line with a message (from Logger's slog handler, or
// hclog's) is logged with its level, message and attributes; any other
// line is logged as it is, at Info. Each line also goes to the tail.
//
// One goroutine writes to a lineWriter; the tail is shared.
type lineWriter struct {
	log  *slog.Logger
	tail *tail
	buf  []byte
}

const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine { // log an endless line in pieces
		w.line(w.buf)
		w.buf = nil
	}
	return len(p), nil
}

func (w *lineWriter) line(b []byte) {
	b = bytes.TrimRight(b, "\r")
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	w.tail.add(string(b))
	if level, msg, attrs, ok := parseLogLine(b); ok {
		w.log.LogAttrs(context.Background(), level, msg, attrs...)
		return
	}
	w.log.Info(string(b))
}

// parseLogLine reads a JSON log line from slog's JSONHandler (time, level,
// msg) or hclog (@timestamp, @level, @message). The time is dropped: the
// host's handler stamps its own.
func parseLogLine(b []byte) (slog.Level, string, []slog.Attr, bool) {
	if len(b) == 0 || b[0] != '{' {
		return 0, "", nil, false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return 0, "", nil, false
	}
	msg, ok := m["msg"].(string)
	levelKey, drop := "level", []string{"msg", "level", "time"}
	if !ok {
		if msg, ok = m["@message"].(string); !ok {
			return 0, "", nil, false
		}
		levelKey, drop = "@level", []string{"@message", "@level", "@timestamp", "@module", "@caller"}
	}
	level := slog.LevelInfo
	if s, _ := m[levelKey].(string); s != "" {
		switch strings.ToLower(s) {
		case "trace":
			level = slog.LevelDebug - 4
		case "debug":
			level = slog.LevelDebug
		case "warn", "warning":
			level = slog.LevelWarn
		case "error":
			level = slog.LevelError
		}
	}
	var attrs []slog.Attr
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(drop, k) {
			attrs = append(attrs, slog.Any(k, m[k]))
		}
	}
	return level, msg, attrs, true
}

// tail keeps the last lines a plugin process wrote, for error messages.
// Once a Go panic or fatal error starts, it keeps that line and the top of
// the stack trace instead, which say where.
type tail struct {
	mu        sync.Mutex
	lines     []string
	panicking bool
}

const tailLines = 8

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.panicking:
		if len(t.lines) < tailLines {
			t.lines = append(t.lines, line)
		}
	case strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: "):
		t.lines, t.panicking = append(t.lines[:0], line), true
	default:
		if len(t.lines) == tailLines {
			t.lines = append(t.lines[:0], t.lines[1:]...)
		}
		t.lines = append(t.lines, line)
	}
}

// String quotes the lines for an error message.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return quoteLines(t.lines)
}
