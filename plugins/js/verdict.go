package js

import (
	"errors"
	"maps"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// Decision is what a policy decided about a call.
type Decision string

const (
	// Allow lets the call through.
	Allow Decision = "allow"
	// Deny stops the call; the verdict's reason is shown to the caller.
	Deny Decision = "deny"
	// Annotate lets the call through and records annotations with it.
	Annotate Decision = "annotate"
)

// Why a policy failed to decide. A failed call's verdict carries one of
// these (wrapped, with details) in Err, and takes the policy's OnError
// decision.
var (
	// ErrException: the policy threw (or a built-in it called did).
	ErrException = errors.New("the policy threw")
	// ErrTimeout: the policy overran its time budget and was interrupted.
	ErrTimeout = errors.New("the policy overran its time budget")
	// ErrBadVerdict: the hook function returned something that is not a
	// verdict.
	ErrBadVerdict = errors.New("the policy returned no verdict")
	// ErrPanic: the host's Go code around the policy panicked (a bug in
	// the host, not the policy). The runtime is replaced.
	ErrPanic = errors.New("the policy host panicked")
	// ErrBusy: every runtime of the policy stayed busy for a whole time
	// budget.
	ErrBusy = errors.New("no runtime of the policy became free in time")
	// ErrQuarantined: the policy failed too often lately and is not run.
	ErrQuarantined = errors.New("the policy is quarantined after repeated failures")
	// ErrClosed: the policy was closed.
	ErrClosed = errors.New("the policy is closed")
)

// Verdict is one policy's answer for one hook call. Every verdict is
// recorded as a policy.verdict event (see Event).
type Verdict struct {
	Policy string
	// Digest is the policy source's content digest, "sha256:<hex>".
	Digest string
	Hook   Hook
	// CallID is the model or tool call judged, if the hook is about one.
	CallID string
	// Decision is allow, deny or annotate. When the policy failed (Err is
	// set) it is the policy's OnError.
	Decision Decision
	// Reason is shown to the caller when the decision is deny.
	Reason      string
	Annotations map[string]string
	// Err says why the policy failed to decide; nil when it decided.
	Err error
	// Duration is the time the verdict took, waiting for a runtime
	// included.
	Duration time.Duration
	// Clock and Seed are what the policy's Date and Math.random were
	// given: with the input, they make the verdict reproducible.
	Clock time.Time
	Seed  uint64
	// Fresh is set when the call ran in a new runtime ([Config].Fresh).
	Fresh bool
	// Input is what the policy was called with (nil when Evaluate was
	// given none). Event records it.
	Input Input
}

// Failed reports whether the policy failed to decide and the verdict is
// its OnError decision.
func (v Verdict) Failed() bool { return v.Err != nil }

// Event is the verdict as the data of a policy.verdict event, with its
// input: what a replay needs to call the policy again (see InputOf). The
// input's tags map is shared, not copied: encode the event before the
// input changes.
func (v Verdict) Event() event.PolicyVerdict {
	e := event.PolicyVerdict{
		CallID:      v.CallID,
		Policy:      v.Policy,
		Digest:      v.Digest,
		Hook:        string(v.Hook),
		Decision:    string(v.Decision),
		Reason:      v.Reason,
		Annotations: maps.Clone(v.Annotations),
		DurationMS:  float64(v.Duration) / float64(time.Millisecond),
		ClockUnixMS: v.Clock.UnixMilli(),
		Seed:        v.Seed,
		Fresh:       v.Fresh,
	}
	if v.Input != nil {
		e.Input = v.Input.record()
	}
	if v.Err != nil {
		e.Error = v.Err.Error()
	}
	return e
}
