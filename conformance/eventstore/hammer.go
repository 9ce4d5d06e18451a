package eventstoretest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

func testHammer(t *testing.T, su *suite) {
	s := su.newStore(t)

	t.Run("SameStream", func(t *testing.T) {
		t.Parallel()
		// Every worker appends its batches to one stream with the exact
		// version it last saw, and retries with the actual version on a
		// conflict. Half its appends it also retries once, as a caller
		// unsure of the outcome would.
		ctx := testContext(t)
		stream := su.stream(t)
		workers, per := 16, short(20, 5)
		type win struct {
			worker   int
			expected int64
			props    []event.Proposed
			res      eventstore.AppendResult
		}
		var (
			mu   sync.Mutex
			wins []win
			wg   sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				seen := eventstore.NoStreamVersion
				for k := range per {
					props := proposals(1+(w+k)%3, fmt.Sprintf("w%d-%d", w, k))
					for attempt := 0; ; attempt++ {
						if attempt == 10_000 {
							t.Errorf("worker %d: append %d still conflicting after %d attempts", w, k, attempt)
							return
						}
						expected := eventstore.NoStream
						if seen != eventstore.NoStreamVersion {
							expected = eventstore.Exact(uint64(seen))
						}
						res, err := s.Append(ctx, stream, expected, props...)
						var wev *eventstore.WrongExpectedVersionError
						if errors.As(err, &wev) {
							if wev.Actual == seen || wev.Actual < seen {
								t.Errorf("worker %d: conflict at expected %s says the stream is at %d: it was at least at %d", w, expected, wev.Actual, seen)
								return
							}
							seen = wev.Actual
							continue
						}
						if err != nil {
							t.Errorf("worker %d: append %d: %v", w, k, err)
							return
						}
						mu.Lock()
						wins = append(wins, win{w, seen, props, res})
						mu.Unlock()
						seen = int64(res.LastVersion)
						if k%2 == 0 {
							again, err := s.Append(ctx, stream, eventstore.NoStream, props...)
							if err != nil || !again.Duplicate || again.FirstVersion != res.FirstVersion || !slices.Equal(again.Positions, res.Positions) {
								t.Errorf("worker %d: retry of append %d: got %+v, %v; want %+v with Duplicate set", w, k, again, err, res)
							}
						}
						break
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}

		// Versions are dense, each successful append's events sit where it
		// said, in order, once, and nothing else is there.
		got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
		n := 0
		for _, w := range wins {
			n += len(w.props)
		}
		if !checkDense(t, "the stream", got, n) {
			return
		}
		checkChain(t, stream, got)
		owner := make([]int, n)
		for i, w := range wins {
			if w.res.FirstVersion != uint64(w.expected+1) {
				t.Errorf("worker %d appended with expected version %s but its events landed at %d..%d: a racing append got in between",
					w.worker, holding(int(w.expected+1)), w.res.FirstVersion, w.res.LastVersion)
				continue
			}
			sameEvents(t, fmt.Sprintf("worker %d's append at versions %d..%d", w.worker, w.res.FirstVersion, w.res.LastVersion),
				got[w.res.FirstVersion:w.res.LastVersion+1], expect(stream, w.res, w.props...))
			for v := w.res.FirstVersion; v <= w.res.LastVersion; v++ {
				if owner[v] != 0 {
					t.Errorf("version %d claimed by two successful appends", v)
				}
				owner[v] = i + 1
			}
		}
		checkVersion(t, ctx, s, stream, int64(n)-1)
		ids := map[uuid.UUID]bool{}
		for _, e := range got {
			if ids[e.ID] {
				t.Errorf("event id %s appears twice", e.ID)
			}
			ids[e.ID] = true
		}
	})

	t.Run("DifferentStreams", func(t *testing.T) {
		t.Parallel()
		// Every worker appends batches to a stream of its own: no append
		// conflicts. A reader checks meanwhile that batches become
		// visible whole.
		ctx := testContext(t)
		workers, per, batch := 16, short(30, 8), 3
		streams := make([]string, workers)
		for w := range streams {
			streams[w] = su.stream(t)
		}
		results := make([][]eventstore.AppendResult, workers)
		props := make([][]event.Proposed, workers)
		var wg sync.WaitGroup
		done := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				for k := range per {
					p := proposals(batch, fmt.Sprintf("w%d-%d", w, k))
					res, err := s.Append(ctx, streams[w], holding(k*batch), p...)
					if err != nil {
						t.Errorf("worker %d: append %d to its own stream: %v", w, k, err)
						return
					}
					results[w] = append(results[w], res)
					props[w] = append(props[w], p...)
				}
			})
		}
		var readerWG sync.WaitGroup
		readerWG.Go(func() {
			for {
				for _, stream := range streams {
					select {
					case <-done:
						return
					default:
					}
					n, notFound, err := 0, false, error(nil)
					for _, e := range s.ReadStream(ctx, stream, eventstore.ReadOptions{}) {
						if e != nil {
							notFound, err = errors.Is(e, eventstore.ErrStreamNotFound), e
							break
						}
						n++
					}
					if notFound {
						continue
					}
					if err != nil {
						t.Errorf("reader: ReadStream(%q): %v", stream, err)
						return
					}
					if n%batch != 0 {
						t.Errorf("reader: ReadStream(%q) saw %d events: batches of %d must become visible whole", stream, n, batch)
						return
					}
				}
			}
		})
		wg.Wait()
		close(done)
		readerWG.Wait()
		if t.Failed() {
			return
		}

		var positions []uint64
		for w, stream := range streams {
			got := mustReadStream(t, ctx, s, stream, eventstore.ReadOptions{})
			if !checkDense(t, fmt.Sprintf("stream of worker %d", w), got, per*batch) {
				continue
			}
			for k, res := range results[w] {
				sameEvents(t, fmt.Sprintf("worker %d's append %d", w, k), got[k*batch:(k+1)*batch], expect(stream, res, props[w][k*batch:(k+1)*batch]...))
				positions = append(positions, res.Positions...)
			}
		}
		all := ofStream(mustReadAll(t, ctx, s, eventstore.ReadOptions{}), streams...)
		slices.Sort(positions)
		if len(all) != workers*per*batch || !slices.Equal(positionsOf(all), positions) {
			t.Errorf("ReadAll has %d events of the workers' streams at positions %v; want %d at %v", len(all), positionsOf(all), workers*per*batch, positions)
		}
	})
}
