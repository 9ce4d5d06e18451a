package eventstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/eventstore"
)

func TestExpectedVersion(t *testing.T) {
	tests := []struct {
		in     string
		want   eventstore.ExpectedVersion
		ok     []int64 // actual versions it accepts
		refuse []int64
	}{
		{"any", eventstore.Any, []int64{-1, 0, 7}, nil},
		{"no-stream", eventstore.NoStream, []int64{-1}, []int64{0, 3}},
		{"exists", eventstore.StreamExists, []int64{0, 9}, []int64{-1}},
		{"0", eventstore.Exact(0), []int64{0}, []int64{-1, 1}},
		{"41", eventstore.Exact(41), []int64{41}, []int64{-1, 40, 42}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			x, err := eventstore.ParseExpectedVersion(tc.in)
			if err != nil || x != tc.want || x.String() != tc.in {
				t.Fatalf("ParseExpectedVersion(%q) = %v (%q), %v; want %v", tc.in, x, x.String(), err, tc.want)
			}
			for _, a := range tc.ok {
				if err := x.Check("s", a); err != nil {
					t.Errorf("%s refused actual %d: %v", x, a, err)
				}
			}
			for _, a := range tc.refuse {
				var wev *eventstore.WrongExpectedVersionError
				if err := x.Check("s", a); !errors.As(err, &wev) || wev.Expected != x || wev.Actual != a || wev.Stream != "s" {
					t.Errorf("%s with actual %d = %v, want a WrongExpectedVersionError carrying both", x, a, err)
				}
			}
		})
	}
	for _, bad := range []string{"-1", "latest", "1.5", "99999999999999999999"} {
		if _, err := eventstore.ParseExpectedVersion(bad); err == nil || !strings.Contains(err.Error(), "no-stream") {
			t.Errorf("ParseExpectedVersion(%q) = %v, want an error listing the choices", bad, err)
		}
	}
	if err := eventstore.ExpectedVersion(-3).Check("s", 0); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("Check of an invalid expected version = %v, want ErrInvalid", err)
	}
	msg := (&eventstore.WrongExpectedVersionError{Stream: "s", Expected: eventstore.Exact(2), Actual: eventstore.NoStreamVersion}).Error()
	if !strings.Contains(msg, "expected version 2") || !strings.Contains(msg, "no stream") {
		t.Errorf("conflict message %q does not name both versions", msg)
	}
}
