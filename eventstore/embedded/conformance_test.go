package embedded

import (
	"testing"

	eventstoretest "github.com/switchyard/switchyard/conformance/eventstore"
	"github.com/switchyard/switchyard/eventstore"
)

func TestConformance(t *testing.T) {
	open := func(t *testing.T, dir string) eventstore.Store {
		s, err := Open(Config{Dir: dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	eventstoretest.Run(t, eventstoretest.Features{
		StreamMetadata: true,
		DeleteStream:   true,
		Reopen: func(t *testing.T, s eventstore.Store) eventstore.Store {
			s.Close()
			return open(t, s.(*Store).Dir())
		},
	}, func(t *testing.T) eventstore.Store { return open(t, t.TempDir()) })
}
