package process

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

func TestBackoff(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, time.Second
	for n, want := range map[int]time.Duration{
		1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 60: time.Second,
	} {
		if got := backoff(n, lo, hi); got != want {
			t.Errorf("backoff after failure %d: %v, want %v", n, got, want)
		}
	}
}

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		ok    bool
		level slog.Level
		msg   string
		attrs string
	}{
		{line: `{"time":"2026-01-02T03:04:05Z","level":"WARN","msg":"disk","free":3,"path":"/x"}`, ok: true,
			level: slog.LevelWarn, msg: "disk", attrs: "[free=3 path=/x]"},
		{line: `{"@level":"debug","@message":"plugin address","@timestamp":"2026-01-02T03:04:05.000000Z","@module":"m","network":"unix"}`, ok: true,
			level: slog.LevelDebug, msg: "plugin address", attrs: "[network=unix]"},
		{line: `{"level":"ERROR","msg":"no attributes"}`, ok: true, level: slog.LevelError, msg: "no attributes", attrs: "[]"},
		{line: `{"level":"INFO","message":"not ours"}`},
		{line: `{not json`},
		{line: `panic: boom`},
	} {
		level, msg, attrs, ok := parseLogLine([]byte(tc.line))
		if ok != tc.ok || ok && (level != tc.level || msg != tc.msg || fmt.Sprint(attrs) != tc.attrs) {
			t.Errorf("%s: got %v %v %q %v", tc.line, ok, level, msg, attrs)
		}
	}
}

func TestLineWriter(t *testing.T) {
	var b strings.Builder
	w := &lineWriter{
		log:  slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: dropTime})),
		tail: &tail{},
	}
	for _, s := range []string{"one\ntw", "o\n", "\n", `{"level":"WARN","msg":"three"}` + "\r\n", strings.Repeat("x", maxLine+1)} {
		w.Write([]byte(s))
	}
	want := "level=INFO msg=one\nlevel=INFO msg=two\nlevel=WARN msg=three\nlevel=INFO msg=" + strings.Repeat("x", maxLine+1) + "\n"
	if b.String() != want {
		t.Errorf("logged\n%.200s\nwant\n%.200s", b.String(), want)
	}
	if got := w.tail.String(); !strings.HasPrefix(got, `"one" "two" "{\"level\":\"WARN\",\"msg\":\"three\"}" "xxx`) {
		t.Errorf("tail %s", got)
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func TestTailKeepsThePanic(t *testing.T) {
	var tl tail
	for i := range 20 {
		tl.add(fmt.Sprint("line ", i))
	}
	if got := tl.String(); !strings.HasPrefix(got, `"line 12" `) || !strings.HasSuffix(got, ` "line 19"`) {
		t.Errorf("tail %s", got)
	}
	tl.add("panic: boom")
	for i := range 20 {
		tl.add(fmt.Sprint("frame ", i))
	}
	if got := tl.String(); !strings.HasPrefix(got, `"panic: boom" "frame 0" `) || !strings.HasSuffix(got, ` "frame 6"`) {
		t.Errorf("tail %s", got)
	}
}

func TestVersionErrorSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		offered, accepted []int
		want              string
	}{
		{[]int{3}, []int{1, 2}, "the plugin is newer than this Switchyard: upgrade Switchyard, or install a release of the plugin built for one of [1 2]"},
		{[]int{1}, []int{2}, "the plugin is older than this Switchyard: install a release of the plugin built for one of [2]"},
		{[]int{1, 4}, []int{2, 3}, ": install a release of the plugin built for one of [2 3]"},
	} {
		err := &VersionError{Plugin: "p", Path: "/bin/switchyard-plugin-p", Kind: "harness", Offered: tc.offered, Accepted: tc.accepted}
		msg := err.Error()
		if !strings.HasPrefix(msg, fmt.Sprintf(`plugin "p" (/bin/switchyard-plugin-p) speaks harness protocol versions %v, this host accepts %v`, tc.offered, tc.accepted)) ||
			!strings.HasSuffix(msg, tc.want) {
			t.Errorf("%v", msg)
		}
	}
}

func TestConfig(t *testing.T) {
	c := Config{Path: "/p/switchyard-plugin-codex"}
	c.setDefaults()
	if c.Name != "codex" || c.MaxFailures != 5 || c.MinBackoff != 200*time.Millisecond {
		t.Errorf("defaults %+v", c)
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{}, "path is required"},
		{Config{Path: "x"}, "no protocol versions"},
		{Config{Path: "x", Versions: map[int]plugin.PluginSet{0: {"a": nil}}}, "versions start at 1"},
		{Config{Path: "x", Versions: map[int]plugin.PluginSet{1: {"a": nil}}, SHA256: "abc"}, "not 64 hex digits"},
		{Config{Path: "x", Versions: map[int]plugin.PluginSet{1: {"a": nil}}, MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "backoff from"},
	} {
		tc.c.setDefaults()
		if err := tc.c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
}
