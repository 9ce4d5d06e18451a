package replay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/plugins/js"
)

// Verdict is the replay of one recorded policy verdict.
type Verdict struct {
	Position uint64 `json:"position"`
	EventID  string `json:"event_id"`
	CallID   string `json:"call_id,omitempty"`
	Turn     string `json:"turn,omitempty"`
	Policy   string `json:"policy"`
	Digest   string `json:"digest"`
	Hook     string `json:"hook"`
	// Decision, Reason and Error are the recorded verdict's.
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	Error    string `json:"error,omitempty"`
	// Replayed is false when the verdict could not be re-run; Why says
	// why.
	Replayed   bool       `json:"replayed"`
	Why        string     `json:"why,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
}

// recordedVerdict is a policy.verdict event, decoded.
type recordedVerdict struct {
	position uint64
	id       string
	v        *event.PolicyVerdict
	// newer is the event's schema when this build does not know it.
	newer int
}

func decodeVerdict(e *event.Event) (recordedVerdict, error) {
	d, err := event.Decode(e)
	if err != nil {
		return recordedVerdict{}, fmt.Errorf("policy.verdict at position %d: %w", e.Position, err)
	}
	rv := recordedVerdict{position: e.Position, id: e.ID.String()}
	v, ok := d.(*event.PolicyVerdict)
	if !ok {
		// A schema newer than this build's: listed, not re-run.
		rv.newer, v = e.Metadata.Schema, &event.PolicyVerdict{}
		_ = json.Unmarshal(e.Data, v)
	}
	rv.v = v
	return rv, nil
}

// sessionVerdicts reads the verdicts recorded on session id's own
// stream: its tool calls', its start's and its end's.
func sessionVerdicts(ctx context.Context, r eventstore.Reader, id string) ([]recordedVerdict, error) {
	var out []recordedVerdict
	for e, err := range r.ReadStream(ctx, "session-"+id, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if e.Type != "policy.verdict" {
			continue
		}
		v, err := decodeVerdict(&e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// replayVerdicts re-runs the verdicts of turn want ("" for all) and adds
// them to rep, in log order. turns gives a call's turn when its verdict
// does not record its input (and tags).
func (rp *Replayer) replayVerdicts(ctx context.Context, rep *Report, vs []recordedVerdict, turns map[string]string, want string) error {
	sources, err := policySources(ctx, rp.Store)
	if err != nil {
		return err
	}
	slices.SortFunc(vs, func(a, b recordedVerdict) int { return cmp.Compare(a.position, b.position) })
	for _, rv := range vs {
		turn := turns[rv.v.CallID]
		if rv.v.Input != nil && rv.v.Input.Tags["turn"] != "" {
			turn = rv.v.Input.Tags["turn"]
		}
		if want != "" && turn != want {
			continue
		}
		out := rp.verdict(ctx, sources, rv)
		out.Turn = turn
		if out.Replayed {
			rep.Replayed++
			rep.Mismatches += len(out.Mismatches)
		} else {
			rep.NotReplayable++
		}
		rep.Verdicts = append(rep.Verdicts, out)
	}
	return nil
}

// loadedPolicy is a policy.loaded event and its position.
type loadedPolicy struct {
	position uint64
	l        *event.PolicyLoaded
}

// policySources reads every policy.loaded event, by digest.
func policySources(ctx context.Context, r eventstore.Reader) (map[string][]loadedPolicy, error) {
	out := map[string][]loadedPolicy{}
	for e, err := range r.ReadStream(ctx, event.PoliciesStream, eventstore.ReadOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if e.Type != "policy.loaded" {
			continue
		}
		l := &event.PolicyLoaded{}
		if err := json.Unmarshal(e.Data, l); err != nil {
			return nil, fmt.Errorf("policy.loaded at position %d: %w", e.Position, err)
		}
		out[l.Digest] = append(out[l.Digest], loadedPolicy{e.Position, l})
	}
	return out, nil
}

// source picks the load of digest that made a verdict of policy name at
// position: the last such load before it, else any load of the digest
// (the source is the same; only the name and configuration may differ).
func source(loads []loadedPolicy, name string, position uint64) *event.PolicyLoaded {
	var named, first *event.PolicyLoaded
	for _, lp := range loads {
		if first == nil {
			first = lp.l
		}
		if lp.l.Name == name && lp.position < position {
			named = lp.l
		}
	}
	return cmp.Or(named, first)
}

func (rp *Replayer) verdict(ctx context.Context, sources map[string][]loadedPolicy, rv recordedVerdict) Verdict {
	v := rv.v
	out := Verdict{
		Position: rv.position, EventID: rv.id, CallID: v.CallID, Policy: v.Policy, Digest: v.Digest, Hook: v.Hook,
		Decision: v.Decision, Reason: v.Reason, Error: v.Error,
	}
	if rv.newer != 0 {
		out.Why = fmt.Sprintf("the verdict's schema (%d) is newer than this build's", rv.newer)
		return out
	}
	if v.Input == nil {
		out.Why = "the verdict records no input (written by a gateway that predates recording it)"
		return out
	}
	if js.DidNotRun(v.Error) {
		out.Why = "the policy did not run (" + v.Error + "): there is nothing to re-run"
		return out
	}
	l := source(sources[v.Digest], v.Policy, rv.position)
	if l == nil {
		out.Why = fmt.Sprintf("no policy.loaded event records the source of policy %s (%s)", v.Policy, v.Digest)
		return out
	}
	p, err := rp.policy(l, v)
	if err != nil {
		out.Why = err.Error()
		return out
	}
	in, err := js.InputOf(v)
	if err != nil {
		out.Why = err.Error()
		return out
	}
	got := p.Replay(ctx, in)
	if errors.Is(got.Err, context.Canceled) || errors.Is(got.Err, context.DeadlineExceeded) {
		out.Why = "the replay was cancelled: " + got.Err.Error()
		return out
	}
	replayedErr := ""
	if got.Err != nil {
		replayedErr = got.Err.Error()
	}
	if js.Overran(v.Error) && got.Err == nil {
		out.Why = fmt.Sprintf("the policy overran its time budget live and decides in %s now: a time budget depends on the machine, not on the input", got.Duration.Round(time.Microsecond))
		return out
	}
	out.Replayed = true
	mismatch := func(field, recorded, replayed string) {
		out.Mismatches = append(out.Mismatches, Mismatch{Position: rv.position, EventID: rv.id, Type: "policy.verdict",
			CallID: v.CallID, Policy: v.Policy, Field: field, Recorded: recorded, Replayed: replayed})
	}
	// A failure is compared as a failure, not by its text: the budget
	// and the time it took are in it.
	if (v.Error != "") != (got.Err != nil) {
		mismatch("error", v.Error, replayedErr)
	}
	if string(got.Decision) != v.Decision {
		mismatch("decision", v.Decision, string(got.Decision))
	}
	if got.Reason != v.Reason {
		mismatch("reason", v.Reason, got.Reason)
	}
	if !maps.Equal(got.Annotations, v.Annotations) && len(got.Annotations)+len(v.Annotations) > 0 {
		mismatch("annotations", annotations(v.Annotations), annotations(got.Annotations))
	}
	return out
}

// annotations writes m as JSON, its keys sorted.
func annotations(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// policyKey is what makes two replayed policies the same.
type policyKey struct {
	name, digest, file string
	fresh              bool
	onError            string
}

// policy loads (once) the policy l records the source of, named and
// configured as when it made v: fresh as v records, failing into the
// decision v took if v failed, else into the one l records.
func (rp *Replayer) policy(l *event.PolicyLoaded, v *event.PolicyVerdict) (*js.Policy, error) {
	onError := l.Config.OnError
	if v.Error != "" {
		onError = v.Decision
	}
	k := policyKey{name: v.Policy, digest: v.Digest, file: cmp.Or(l.File, v.Policy), fresh: v.Fresh, onError: onError}
	if p := rp.policies[k]; p != nil {
		return p, nil
	}
	if got := js.Digest([]byte(l.Source)); got != v.Digest {
		return nil, fmt.Errorf("the source recorded for policy %s is %s, not the %s that decided", l.Name, got, v.Digest)
	}
	timeout := cmp.Or(rp.PolicyTimeout, time.Second)
	p, err := js.LoadSource(k.name, k.file, []byte(l.Source), js.Config{
		Runtimes: 1, Fresh: k.fresh, Timeout: timeout, LoadTimeout: timeout, OnError: js.Decision(onError), QuarantineAfter: -1,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("policy %s (%s) does not load: %v", v.Policy, v.Digest, err)
	}
	if rp.policies == nil {
		rp.policies = map[policyKey]*js.Policy{}
	}
	rp.policies[k] = p
	return p, nil
}
