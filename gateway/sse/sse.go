// Package sse reads and writes Server-Sent Events as the model APIs use
// them: "event:" and "data:" lines, a blank line ending each event.
//
// The Reader keeps each event's raw bytes, so the gateway can forward an
// upstream event to its client unchanged while it decodes the same event
// for accounting.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxEventSize bounds one event (all its lines). A provider that sends a
// bigger one is treated as broken rather than buffered without end.
const MaxEventSize = 16 << 20

// Event is one server-sent event.
type Event struct {
	// Name is the "event:" field, empty if absent.
	Name string
	// Data is the "data:" lines joined with "\n".
	Data []byte
	// ID is the "id:" field, empty if absent.
	ID string
	// Raw is the event exactly as read, including the blank line ending it.
	Raw []byte
}

// Reader reads events from a stream. The slices of an Event are valid only
// until the next call to Next.
type Reader struct {
	br   *bufio.Reader
	raw  []byte
	data []byte
}

// NewReader reads events from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 16<<10)}
}

// ErrTooLarge is returned for an event bigger than MaxEventSize.
var ErrTooLarge = errors.New("sse: event too large")

// Next returns the next event. At a clean end of stream (after a complete
// event, or of an empty stream) it returns io.EOF; a stream that ends in
// the middle of an event returns io.ErrUnexpectedEOF. Comment lines and
// events with no fields are skipped.
func (r *Reader) Next() (Event, error) {
	r.raw = r.raw[:0]
	r.data = r.data[:0]
	var ev Event
	fields := 0
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && len(r.raw) > 0 {
				if fields == 0 {
					return Event{}, io.EOF
				}
				return Event{}, io.ErrUnexpectedEOF
			}
			return Event{}, err
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			if fields == 0 {
				r.raw = r.raw[:0]
				continue
			}
			ev.Data = r.data
			ev.Raw = r.raw
			return ev, nil
		}
		if trimmed[0] == ':' {
			continue
		}
		name, value, _ := bytes.Cut(trimmed, []byte(":"))
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(name) {
		case "event":
			ev.Name = string(value)
			fields++
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
			fields++
		case "id":
			ev.ID = string(value)
			fields++
		case "retry":
			fields++
		}
	}
}

// readLine reads one line, appending it to r.raw, and returns it.
func (r *Reader) readLine() ([]byte, error) {
	start := len(r.raw)
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.raw = append(r.raw, chunk...)
		if len(r.raw) > MaxEventSize {
			return nil, ErrTooLarge
		}
		switch {
		case err == nil:
			return r.raw[start:], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(r.raw) > start:
			// A last line without its newline still ends the stream
			// mid-event.
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Write writes one event: an "event:" line if name is not empty, one
// "data:" line per line of data, and the blank line. data must not hold
// "\r".
func Write(w io.Writer, name string, data []byte) error {
	var buf []byte
	if name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, name...)
		buf = append(buf, '\n')
	}
	for {
		line, rest, more := bytes.Cut(data, []byte("\n"))
		buf = append(buf, "data: "...)
		buf = append(buf, line...)
		buf = append(buf, '\n')
		if !more {
			break
		}
		data = rest
	}
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write event %q: %w", name, err)
	}
	return nil
}
