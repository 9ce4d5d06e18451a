package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// ParseFunc maps one line of a CLI's output, a JSON object, to the
// events it means: none, one or several. It is called for each line in
// order, from one goroutine, so it may keep state (a closure, a method
// value). Drive fills in each event's Raw (the line) and Time when they
// are empty.
//
// The end of the run is Drive's to decide, from how the CLI exits: a
// completed event (say from Claude Code's result line) is held back and
// emitted last, with the exit status; error events pass on in place and
// are made non-fatal. An error from ParseFunc is reported as a non-fatal
// error event holding the line; the run goes on.
type ParseFunc func(Line) ([]Event, error)

// Drive runs cmd to its end and turns its output into events: the body of
// most adapters' Run. It starts cmd, reads its stdout with Lines (up to
// cmd.MaxLineBytes a line), hands each JSON object line to parse and
// emits the events, then emits the run's terminal event:
//
//   - the CLI exited by itself: completed, with its exit status (and
//     before it, for a non-zero status, a non-fatal error quoting the end
//     of stderr);
//   - it hit a sandbox limit, or was killed by a signal: a fatal error,
//     with Limit set for a limit, quoting the end of stderr.
//
// A line that is not a JSON object, or longer than the cap, becomes a
// non-fatal error event (with the line in Raw, as a JSON string if it is
// not JSON); the run goes on.
//
// When ctx is done the CLI is stopped (see Command) and Drive returns an
// error wrapping ctx.Err() once it is gone, with no terminal event. When
// emit fails, Drive stops the CLI the same way and returns emit's error.
// An error starting cmd is returned as is, with no event.
func Drive(ctx context.Context, cmd *Command, parse ParseFunc, emit Emit) error {
	name := filepath.Base(cmd.Path)
	p, err := cmd.Start(ctx)
	if err != nil {
		return err
	}
	var (
		emitErr, readErr error
		completed        *Event
	)
	send := func(e Event) {
		if emitErr != nil {
			return
		}
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		if err := emit(e); err != nil {
			emitErr = err
			p.Stop()
		}
	}
	nonFatal := func(raw Line, format string, args ...any) {
		e := Event{Kind: KindError, Error: &Error{Message: fmt.Sprintf(format, args...)}}
		if raw.Bytes != nil {
			e.Raw = raw.Raw()
		}
		send(e)
	}
	for line, err := range Lines(p.Stdout(), cmd.MaxLineBytes) {
		if emitErr != nil {
			continue // drain, so the CLI is not stuck writing
		}
		var long *LineTooLongError
		switch {
		case errors.As(err, &long):
			nonFatal(Line{}, "%s: %v", name, err)
		case err != nil:
			readErr = err
			p.Stop()
		case !line.Object:
			nonFatal(line, "%s printed a line that is not a JSON object (line %d): %s", name, line.N, abbrev(line.Bytes))
		default:
			events, err := safeParse(parse, line)
			if err != nil {
				nonFatal(line, "%s output line %d: %v", name, line.N, err)
				continue
			}
			for _, e := range events {
				if e.Raw == nil {
					e.Raw = line.Raw()
				}
				switch {
				case e.Kind == KindCompleted:
					completed = &e
					continue
				case e.Kind == KindError && e.Error != nil && e.Error.Fatal:
					cp := *e.Error
					cp.Fatal = false
					e.Error = &cp
				}
				send(e)
			}
		}
	}
	exit := p.Wait()
	switch {
	case emitErr != nil:
		return emitErr
	case exit.Stopped && ctx.Err() != nil:
		return fmt.Errorf("%s stopped: %w", name, ctx.Err())
	case readErr != nil:
		send(fatal("", "%s: %v; %s", name, readErr, quoteTail(exit.Stderr)))
	case exit.Limit != "":
		send(fatal(exit.Limit, "%s %s; %s", name, exit, quoteTail(exit.Stderr)))
	case exit.Code < 0 || exit.Stopped:
		send(fatal("", "%s %s; %s", name, exit, quoteTail(exit.Stderr)))
	default:
		if exit.Code != 0 {
			nonFatal(Line{}, "%s %s; %s", name, exit, quoteTail(exit.Stderr))
		}
		e := Event{Kind: KindCompleted, Completed: &Completed{}}
		if completed != nil {
			e = *completed
			e.Time = time.Time{}
			c := *e.Completed
			e.Completed = &c
		}
		e.Completed.ExitCode = exit.Code
		send(e)
	}
	return emitErr
}

func fatal(l Limit, format string, args ...any) Event {
	return Event{Kind: KindError, Error: &Error{Message: fmt.Sprintf(format, args...), Fatal: true, Limit: l}}
}

// abbrev quotes the start of a line for a message.
func abbrev(b []byte) string {
	const n = 200
	if len(b) > n {
		return fmt.Sprintf("%q... (%d bytes)", b[:n], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// safeParse is parse, with a panic turned into its error: a parser that
// chokes on a line the CLI never printed before costs that line, not
// the run (or the host, when the adapter runs in its process).
func safeParse(parse ParseFunc, l Line) (evs []Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			evs, err = nil, fmt.Errorf("the parser panicked: %v", p)
		}
	}()
	return parse(l)
}
