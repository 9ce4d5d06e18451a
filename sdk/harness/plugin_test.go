//go:build linux

package harness_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/plugins/process"
	"github.com/switchyard/switchyard/sdk/harness"
)

// startPlugin starts the fake adapter's plugin binary, built with go
// build, under the real go-plugin host.
func startPlugin(t *testing.T) harness.Adapter {
	t.Helper()
	p, err := process.Start(ctxFor(t, 30*time.Second), process.Config{
		Path:     build(t, "fakeplugin"),
		Kind:     harness.PluginKind,
		Env:      []string{"FAKEPLUGIN_GRACE=300ms"},
		Versions: harness.HostVersions(),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	a, err := harness.Dispense(ctxFor(t, 10*time.Second), p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPlugin(t *testing.T) {
	t.Parallel()
	a := startPlugin(t)

	t.Run("describe", func(t *testing.T) {
		info, err := a.Describe(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if want := (harness.Info{Harness: "fake", CLI: "fakecli", Version: "0.1.0"}); info != want {
			t.Errorf("info = %+v, want %+v", info, want)
		}
	})

	t.Run("same events as in process", func(t *testing.T) {
		t.Parallel()
		req := request(t, script(append(slices.Clone(conversation), "garbage", "!stderr bye", "!exit 4")...))
		var in, out recorder
		if err := harness.Start(ctxFor(t, 20*time.Second), adapter(), req, in.emit); err != nil {
			t.Fatal(err)
		}
		if err := harness.Start(ctxFor(t, 20*time.Second), a, req, out.emit); err != nil {
			t.Fatal(err)
		}
		ie, oe := in.all(), out.all()
		if len(ie) != len(oe) {
			t.Fatalf("in process %v, out of process %v", kinds(ie), kinds(oe))
		}
		for i := range ie {
			ie[i].Time, oe[i].Time = time.Time{}, time.Time{}
			if !sameEvent(ie[i], oe[i]) {
				t.Errorf("event %d:\nin process     %+v\nout of process %+v", i, ie[i], oe[i])
			}
		}
		if c := last(t, oe).Completed; c == nil || c.ExitCode != 4 {
			t.Errorf("last event = %+v", last(t, oe))
		}
	})

	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(ctxFor(t, 20*time.Second))
		defer cancel()
		rec, pids := stopOnSpawn(cancel)
		err := harness.Start(ctx, a, request(t, stopScript), rec.emit)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(*pids) != 2 {
			t.Fatalf("pids = %v", *pids)
		}
		// Run returned once the plugin had stopped the CLI, which
		// ignores SIGTERM and needed SIGKILL.
		if alive((*pids)[0]) {
			t.Errorf("the CLI %d outlived Run", (*pids)[0])
		}
		waitGone(t, *pids...)
	})

	t.Run("emit fails", func(t *testing.T) {
		t.Parallel()
		var pids []int
		errFull := errors.New("the event store is full")
		rec := &recorder{on: func(e harness.Event) error {
			if pid, ok := systemPID(e, "spawned"); ok {
				pids = append(pids, pid)
				return errFull
			}
			return nil
		}}
		err := harness.Start(ctxFor(t, 20*time.Second), a, request(t, script(`!init`, `!spawn`, `!sleep 1h`)), rec.emit)
		if !errors.Is(err, errFull) {
			t.Fatalf("err = %v", err)
		}
		waitGone(t, pids...)
	})

	t.Run("limit", func(t *testing.T) {
		t.Parallel()
		req := request(t, script(`!init`, `!sleep 1h`))
		req.Sandbox = &harness.Sandbox{WallClock: 200 * time.Millisecond}
		var rec recorder
		if err := harness.Start(ctxFor(t, 20*time.Second), a, req, rec.emit); err != nil {
			t.Fatal(err)
		}
		if e := last(t, rec.all()); e.Kind != harness.KindError || e.Error.Limit != harness.LimitWallClock {
			t.Errorf("last event = %+v", e)
		}
	})

	t.Run("invalid request", func(t *testing.T) {
		t.Parallel()
		run := harness.NewStart(request(t, "!init"))
		run.Request.Workdir = "relative"
		err := a.Run(ctxFor(t, 10*time.Second), run, (&recorder{}).emit)
		if !errors.Is(err, harness.ErrInvalidRequest) {
			t.Fatalf("err = %v", err)
		}
	})
}

func sameEvent(a, b harness.Event) bool {
	ja, _ := jsonOf(a)
	jb, _ := jsonOf(b)
	return ja == jb
}
