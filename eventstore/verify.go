package eventstore

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/core/event"
)

// VerifyReport summarises a successful VerifyAll.
type VerifyReport struct {
	Events  uint64 `json:"events"`
	Streams uint64 `json:"streams"`
	// LastPosition is the position of the last event checked.
	LastPosition uint64 `json:"last_position"`
}

// VerifyAll reads the whole log in position order and checks every stream's
// hash chain and version sequence, and that positions strictly increase. It
// returns an *event.ChainError naming the first broken link it meets. It keeps
// one hash per stream in memory.
func VerifyAll(ctx context.Context, r Reader) (VerifyReport, error) {
	var rep VerifyReport
	chains := map[string]*event.ChainVerifier{}
	for e, err := range r.ReadAll(ctx, ReadOptions{}) {
		if err != nil {
			return rep, fmt.Errorf("verify: read after position %d: %w", rep.LastPosition, err)
		}
		if e.Position <= rep.LastPosition {
			return rep, fmt.Errorf("verify: position %d (stream %q version %d) follows position %d: positions must increase",
				e.Position, e.Stream, e.StreamVersion, rep.LastPosition)
		}
		v, ok := chains[e.Stream]
		if !ok {
			v = event.NewChainVerifier(e.Stream)
			chains[e.Stream] = v
			if e.StreamVersion != 0 {
				return rep, &event.ChainError{Stream: e.Stream, Version: e.StreamVersion, ID: e.ID.String(),
					Reason: "the stream's first event in the log is not version 0"}
			}
		}
		if err := v.Next(&e); err != nil {
			return rep, err
		}
		rep.Events++
		rep.LastPosition = e.Position
	}
	rep.Streams = uint64(len(chains))
	return rep, nil
}
