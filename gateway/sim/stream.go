package sim

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// Why a stream stopped early.
var (
	errStop  = errors.New("sim: stream ended by a fault")         // end the response cleanly
	errAbort = errors.New("sim: stream cut by a fault")           // drop the connection
	errGone  = errors.New("sim: client gone or server shut down") // stop generating
)

type evKind uint8

const (
	evMeta    evKind = iota // framing: starts, stops, usage
	evContent               // one content chunk: paced, counted, where faults strike
	evFinal                 // the first event after the content: a fault not yet struck strikes here
)

// streamFormat writes one API's events.
type streamFormat interface {
	// run writes the whole answer through st.
	run(st *streamer) error
	// errorEvents appends the API's in-stream error event(s), framed; they
	// take the place of the event pending when the fault strikes.
	errorEvents(dst []byte) []byte
}

// streamer paces and frames a stream's events and injects its faults.
type streamer struct {
	s   *Server
	x   *exchange
	rc  *http.ResponseController
	ctx context.Context
	c   *call
	a   *answer

	format streamFormat

	buf       []byte
	dataStart int    // where the pending event's data begins in buf
	term      string // the blank line ending an event
	array     bool   // Gemini without alt=sse: a JSON array, not events
	events    int    // events written

	fault string // cut, malformed or error_event
	after int
	fired bool

	n     int // content chunks sent
	ttft  time.Duration
	gap   time.Duration
	timer *time.Timer
}

// stream writes a streamed answer.
func (s *Server) stream(x *exchange, c *call, a *answer, m *Model, d *directives) {
	st := &streamer{s: s, x: x, rc: http.NewResponseController(x.w), ctx: x.r.Context(), c: c, a: a,
		buf: x.buf[:0], term: "\n\n", ttft: time.Duration(m.TTFT), after: d.after}
	switch x.fault {
	case "cut", "malformed", "error_event":
		st.fault = x.fault
	}
	if m.TokensPerSecond > 0 {
		st.gap = time.Duration(float64(time.Second) / m.TokensPerSecond)
	}
	var f streamFormat
	switch c.api {
	case llm.APIOpenAIChat:
		f = &chatStream{st: st}
	case llm.APIOpenAIResponses:
		f = &responsesStream{st: st}
	case llm.APIAnthropicMessages:
		f = &messagesStream{st: st}
	case llm.APIGemini:
		f = &geminiStream{st: st}
		// Google ends events with CRLF, and without alt=sse streams a
		// JSON array instead of events.
		st.term = "\r\n\r\n"
		st.array = x.r.URL.Query().Get("alt") != "sse"
	}
	st.format = f

	h := x.w.Header()
	if st.array {
		st.term = ""
		h.Set("Content-Type", contentTypeJSON(c.api))
	} else {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache")
	x.setIDHeader()
	x.writeHeader(http.StatusOK)

	err := f.run(st)
	x.buf = st.buf // hand the grown buffer back for reuse
	if err == nil && st.array {
		err = st.write([]byte("]"))
	}
	if st.timer != nil {
		st.timer.Stop()
	}
	switch {
	case errors.Is(err, errAbort):
		st.rc.Flush()
		panic(http.ErrAbortHandler)
	case errors.Is(err, errGone):
		s.gone(x)
	}
}

// begin starts an event: its "event:" line if name is not empty, and
// "data: ". The caller appends the data to the returned buffer and passes
// it to send.
func (st *streamer) begin(name string) []byte {
	b := st.head(st.buf[:0], name)
	st.dataStart = len(b)
	return b
}

// head appends what comes before an event's data.
func (st *streamer) head(b []byte, name string) []byte {
	if st.array {
		if st.events == 0 {
			return append(b, '[')
		}
		return append(b, ",\r\n"...)
	}
	if name != "" {
		b = append(b, "event: "...)
		b = append(b, name...)
		b = append(b, '\n')
	}
	return append(b, "data: "...)
}

// send ends the event in b and writes it, pacing content chunks and
// striking the fault when its time comes.
func (st *streamer) send(b []byte, kind evKind) error {
	st.buf = b
	if kind == evContent {
		if st.s.chunkHook != nil {
			st.s.chunkHook(st.n)
		}
		d := st.gap
		if st.n == 0 {
			d = st.ttft
		}
		if !st.pause(d) {
			return errGone
		}
	}
	if st.fault != "" && !st.fired && (kind == evContent && st.n >= st.after || kind == evFinal) {
		st.fired = true
		return st.strike()
	}
	st.buf = append(st.buf, st.term...)
	if err := st.write(st.buf); err != nil {
		return err
	}
	if kind == evContent {
		st.n++
	}
	return nil
}

// end strikes a fault still pending once the last event is written, for
// formats whose last content chunk ends the stream (Gemini): a cut drops
// the connection, malformed repeats the last event cut in half, and
// error_event adds the error.
func (st *streamer) end() error {
	if st.fault == "" || st.fired {
		return nil
	}
	st.fired = true
	st.buf = st.buf[:len(st.buf)-len(st.term)]
	return st.strike()
}

// write writes and flushes one event.
func (st *streamer) write(b []byte) error {
	if _, err := st.x.w.Write(b); err != nil {
		return errGone
	}
	st.events++
	if err := st.rc.Flush(); err != nil {
		return errGone
	}
	if st.ctx.Err() != nil {
		return errGone
	}
	return nil
}

// pause waits d, with one reused timer; false if the client went away or
// the server is closing.
func (st *streamer) pause(d time.Duration) bool {
	if d <= 0 {
		return st.ctx.Err() == nil
	}
	if st.timer == nil {
		st.timer = time.NewTimer(d)
	} else {
		st.timer.Reset(d)
	}
	select {
	case <-st.timer.C:
		return true
	case <-st.ctx.Done():
	case <-st.s.done:
	}
	return false
}

// strike injects the stream's fault in place of the pending event.
func (st *streamer) strike() error {
	switch st.fault {
	case "cut":
		return errAbort
	case "malformed":
		data := st.buf[st.dataStart:]
		b := append(st.buf[:st.dataStart:st.dataStart], data[:len(data)/2]...)
		b = append(b, st.term...)
		if err := st.write(b); err != nil {
			return err
		}
	case "error_event":
		if err := st.write(st.format.errorEvents(nil)); err != nil {
			return err
		}
	}
	return errStop
}

// frame appends a complete event to dst.
func (st *streamer) frame(dst []byte, name string, data []byte) []byte {
	dst = st.head(dst, name)
	dst = append(dst, data...)
	return append(dst, st.term...)
}

// encodeBody appends the non-streamed answer in c's API.
func encodeBody(dst []byte, c *call, a *answer) []byte {
	switch c.api {
	case llm.APIOpenAIChat:
		return chatBody(dst, a)
	case llm.APIOpenAIResponses:
		return responsesBody(dst, c, a)
	case llm.APIAnthropicMessages:
		return messagesBody(dst, a)
	}
	return geminiBody(dst, a)
}
