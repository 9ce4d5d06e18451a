package sse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReader(t *testing.T) {
	in := ": comment\n\nevent: message_start\ndata: {\"a\":1}\n\n" +
		"data: line1\ndata: line2\nid: 7\n\n" +
		"data: [DONE]\r\n\r\n"
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one-byte": iotest.OneByteReader(strings.NewReader(in)),
	} {
		t.Run(name, func(t *testing.T) {
			rd := NewReader(r)
			ev, err := rd.Next()
			if err != nil || ev.Name != "message_start" || string(ev.Data) != `{"a":1}` {
				t.Fatalf("first event = %q %q %v", ev.Name, ev.Data, err)
			}
			if string(ev.Raw) != "event: message_start\ndata: {\"a\":1}\n\n" {
				t.Fatalf("raw = %q", ev.Raw)
			}
			ev, err = rd.Next()
			if err != nil || string(ev.Data) != "line1\nline2" || ev.ID != "7" {
				t.Fatalf("second event = %q %q %v", ev.Data, ev.ID, err)
			}
			ev, err = rd.Next()
			if err != nil || string(ev.Data) != "[DONE]" {
				t.Fatalf("third event = %q %v", ev.Data, err)
			}
			if _, err = rd.Next(); err != io.EOF {
				t.Fatalf("end = %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderCutMidEvent(t *testing.T) {
	for _, in := range []string{"data: {\"a\":1}\n", "data: {\"a\""} {
		rd := NewReader(strings.NewReader("data: x\n\n" + in))
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%q: err = %v, want unexpected EOF", in, err)
		}
	}
}

func TestReaderTooLarge(t *testing.T) {
	big := "data: " + strings.Repeat("x", MaxEventSize) + "\n\n"
	if _, err := NewReader(strings.NewReader(big)).Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "delta", []byte("a\nb")); err != nil {
		t.Fatal(err)
	}
	if err := Write(&buf, "", []byte("[DONE]")); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "event: delta\ndata: a\ndata: b\n\ndata: [DONE]\n\n" {
		t.Fatalf("wrote %q", got)
	}
	rd := NewReader(&buf)
	ev, _ := rd.Next()
	if ev.Name != "delta" || string(ev.Data) != "a\nb" {
		t.Fatalf("read back %q %q", ev.Name, ev.Data)
	}
}
