package tape

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/switchyard/switchyard/core/event"
)

// ReplayTag is the key tag that makes a key a harness replay's: its
// value is the recorded session, and the gateway serves the key's calls
// from that session's recording (its "session" tag is the replay's own
// session). Only a key's own tags count, never a request's.
const ReplayTag = "replay_of"

// LiveFromTag, on a replay key, is the turn from which the key's calls
// go live: a fork of a session at turn N (session fork --at N) replays
// turns 1 to N-1 from the recording, and its calls of turn N and after
// are routed and answered as any other key's. Only a key's own tags
// count.
const LiveFromTag = "live_from"

// Live reports whether a call of turn `turn` with a key of tags keyTags
// goes live rather than to the recording: the key names a LiveFromTag
// turn, and the call's turn is that one or a later one.
func Live(keyTags map[string]string, turn int) bool {
	n, err := strconv.Atoi(keyTags[LiveFromTag])
	return err == nil && n > 0 && turn >= n
}

// Provider is the provider name a replayed call's events carry.
const Provider = "replay"

// Call is one recorded model call.
type Call struct {
	// N numbers the calls of the recording from 1, in the order they
	// were recorded.
	N       int
	CallID  string
	Turn    int
	Request event.RequestPrint
	Answer  *event.Answer
}

// ErrClosed is returned for a call after its replay has ended.
var ErrClosed = errors.New("this harness replay has ended")

// Player serves the recorded calls of a session to its replay. It is
// safe for concurrent use: a CLI may make calls at once (OpenCode names
// its session while it works on the prompt).
type Player struct {
	session, of string
	calls       []Call
	recorded    map[int]int
	onClose     func()

	mu       sync.Mutex
	served   []bool
	byTurn   map[int]int
	seen     int
	diverged *event.ReplayDiverged
	stopped  chan struct{}
	closed   bool
}

// NewPlayer returns a player of calls (the recording of session `of`)
// for replay session `session`. onClose, if set, runs once when it is
// closed.
func NewPlayer(session, of string, calls []Call, onClose func()) *Player {
	p := &Player{session: session, of: of, calls: calls, recorded: map[int]int{}, onClose: onClose,
		served: make([]bool, len(calls)), byTurn: map[int]int{}, stopped: make(chan struct{})}
	for _, c := range calls {
		p.recorded[c.Turn]++
	}
	return p
}

// Session is the replay session; Of the recorded one.
func (p *Player) Session() string { return p.session }

// Of is the recorded session.
func (p *Player) Of() string { return p.of }

// Calls is the number of recorded calls.
func (p *Player) Calls() int { return len(p.calls) }

// Recorded is the number of recorded calls of each turn.
func (p *Player) Recorded() map[int]int { return maps.Clone(p.recorded) }

// Served is the number of calls served so far, by turn.
func (p *Player) Served() map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.byTurn)
}

// Diverged is closed when the replay diverges.
func (p *Player) Diverged() <-chan struct{} { return p.stopped }

// Divergence is how the replay diverged, nil while it has not.
func (p *Player) Divergence() *event.ReplayDiverged {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.diverged
}

// Close ends the replay: calls after it get ErrClosed. It is idempotent.
func (p *Player) Close() {
	p.mu.Lock()
	was := p.closed
	p.closed = true
	p.mu.Unlock()
	if !was && p.onClose != nil {
		p.onClose()
	}
}

// Serve finds the recorded call that a request of turn `turn` (the
// replay's call callID, printed as now) retraces: an unserved recorded
// call of the same turn with the same print, the earliest if several.
// When there is none the replay diverges: Serve returns the divergence
// (held to the unserved call of the turn most like the request, or
// saying the turn had no call left), and returns it again for every
// later call.
func (p *Player) Serve(callID string, turn int, now *event.RequestPrint) (*Call, *event.ReplayDiverged, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, ErrClosed
	}
	if p.diverged != nil {
		return nil, p.diverged, nil
	}
	p.seen++
	best, bestScore := -1, -1
	for i := range p.calls {
		c := &p.calls[i]
		if p.served[i] || c.Turn != turn {
			continue
		}
		if c.Request.Digest == now.Digest {
			p.served[i] = true
			p.byTurn[turn]++
			return c, nil, nil
		}
		if s := likeness(&c.Request, now); s > bestScore {
			best, bestScore = i, s
		}
	}
	d := &event.ReplayDiverged{CallID: callID, Session: p.session, ReplayOf: p.of, Turn: turn, Call: p.seen}
	if best < 0 {
		d.Reason = fmt.Sprintf("%s made a model call the recording does not have: all %d recorded call(s) of the turn were served",
			turnName(turn), p.recorded[turn])
		d.Diffs = []event.FieldDiff{{Field: "call", Recorded: "(none left)", Now: Summary(now)}}
	} else {
		c := &p.calls[best]
		d.RecordedCall, d.RecordedCallID = c.N, c.CallID
		d.Diffs = Diff(&c.Request, now)
		d.Reason = "the request does not match the recording"
		if len(d.Diffs) > 0 {
			d.Reason += ": " + d.Diffs[0].Field + " differs"
		}
	}
	p.diverged = d
	close(p.stopped)
	return nil, d, nil
}

func turnName(turn int) string {
	if turn == 0 {
		return "the session (outside a turn)"
	}
	return "turn " + strconv.Itoa(turn)
}

// likeness scores how alike two prints are: the same model and tools
// first, then how many leading messages agree.
func likeness(rec, now *event.RequestPrint) int {
	s := 0
	if rec.Model == now.Model {
		s += 1 << 20
	}
	if len(rec.Tools) == len(now.Tools) {
		s += 1 << 19
	}
	for i := range min(len(rec.Messages), len(now.Messages)) {
		if rec.Messages[i].Digest != now.Messages[i].Digest {
			break
		}
		s++
	}
	return s
}
