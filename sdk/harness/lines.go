package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
)

// DefaultMaxLineBytes is the longest line Lines takes when given no cap.
// The CLIs print a whole tool result (a file read, say) on one line.
const DefaultMaxLineBytes = 64 << 20

// Line is one line of a CLI's output.
type Line struct {
	// N is the line's number, from 1.
	N int
	// Bytes is the line without its line ending: a copy the caller may
	// keep.
	Bytes []byte
	// Object says whether the line is a JSON object, as the CLIs print.
	Object bool
}

// Raw returns the line as an Event.Raw: itself when it is JSON, a JSON
// string holding it when it is not.
func (l Line) Raw() json.RawMessage {
	if json.Valid(l.Bytes) {
		return l.Bytes
	}
	b, _ := json.Marshal(string(l.Bytes)) // invalid UTF-8 becomes U+FFFD
	return b
}

// LineTooLongError is a line longer than the cap: it is skipped, and the
// lines after it are read.
type LineTooLongError struct {
	N   int // its line number
	Max int // the cap
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("output line %d is longer than %d bytes: skipped (raise the adapter's line cap if the CLI prints such lines)", e.N, e.Max)
}

// Lines reads the line-delimited JSON a CLI prints on r, a line at a
// time, until r ends. Each line comes whole, whatever its length up to max
// bytes (max <= 0 is DefaultMaxLineBytes), with whether it is a JSON
// object; a line that is not is handed over all the same, for the caller
// to report. Blank lines are skipped, and "\r\n" endings accepted. A
// longer line yields a *LineTooLongError and is skipped without being
// held in memory; reading goes on. A read error ends the sequence with
// that error.
func Lines(r io.Reader, max int) iter.Seq2[Line, error] {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	return func(yield func(Line, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var buf []byte
		n := 0
		for {
			chunk, err := br.ReadSlice('\n')
			tooLong := len(buf)+len(chunk) > max+2 // room for "\r\n"
			if !tooLong {
				buf = append(buf, chunk...)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				if tooLong {
					n++
					if !yield(Line{}, &LineTooLongError{N: n, Max: max}) {
						return
					}
					buf = buf[:0]
					if err := skipLine(br); err != nil {
						if err != io.EOF {
							yield(Line{}, fmt.Errorf("read output: %w", err))
						}
						return
					}
				}
				continue
			}
			if len(buf) > 0 || tooLong {
				n++
				line := bytes.TrimRight(buf, "\r\n")
				switch {
				case tooLong || len(line) > max:
					if !yield(Line{}, &LineTooLongError{N: n, Max: max}) {
						return
					}
				case len(bytes.TrimSpace(line)) == 0: // blank
				default:
					l := Line{N: n, Bytes: bytes.Clone(line)}
					l.Object = isObject(l.Bytes)
					if !yield(l, nil) {
						return
					}
				}
				buf = buf[:0]
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Line{}, fmt.Errorf("read output: %w", err))
				return
			}
		}
	}
}

// skipLine reads up to and including the next '\n'.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
