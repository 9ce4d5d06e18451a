package js

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchyard/switchyard/core/event"
)

// A verdict records its input (core/event.PolicyInput) under the names
// the policy read it by, and InputOf rebuilds it: with the recorded
// clock and seed, the policy is called again exactly as it was. The
// record shares the input's tags map: it is for encoding at once.

func (in *ModelCall) record() *event.PolicyInput {
	return &event.PolicyInput{
		CallID: in.CallID, Model: in.Model, API: in.API, Agent: in.Agent, Session: in.Session, Team: in.Team,
		User: in.User, KeyID: in.KeyID, Tags: in.Tags, TaskType: in.TaskType, EstimatedTokens: in.EstimatedTokens,
		HasTools: in.HasTools, Stream: in.Stream, BudgetLeftUSD: in.BudgetLeftUSD,
	}
}

func (in *ToolCall) record() *event.PolicyInput {
	return &event.PolicyInput{
		CallID: in.CallID, Tool: in.Tool, Server: in.Server, InputJSON: string(in.Input), Agent: in.Agent,
		Session: in.Session, Team: in.Team, User: in.User, Tags: in.Tags,
	}
}

func (in *SessionStarting) record() *event.PolicyInput {
	return &event.PolicyInput{
		Session: in.Session, Agent: in.Agent, Harness: in.Harness, Team: in.Team, User: in.User, Tags: in.Tags, Prompt: in.Prompt,
	}
}

func (in *SessionEnded) record() *event.PolicyInput {
	return &event.PolicyInput{
		Session: in.Session, Agent: in.Agent, Harness: in.Harness, Team: in.Team, User: in.User, Tags: in.Tags,
		Status: in.Status, Error: in.Error, Turns: in.Turns, CostUSD: in.CostUSD, DurationMS: durationMS(in.Duration),
	}
}

// durationMS is d as the policy reads duration_ms.
func durationMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ErrNoInput is InputOf's error for a verdict recorded without its input
// (by a host that predates recording it, schema 1).
var ErrNoInput = errors.New("the verdict records no input (schema 1: recorded before inputs were)")

// DidNotRun reports whether err, a recorded verdict's error, says that
// the policy did not run at all: it was quarantined or closed, or no
// runtime became free. Such a verdict has nothing to re-run.
func DidNotRun(err string) bool {
	for _, e := range []error{ErrQuarantined, ErrBusy, ErrClosed} {
		if strings.HasPrefix(err, e.Error()) {
			return true
		}
	}
	return strings.HasPrefix(err, waitingForRuntime)
}

// Overran reports whether err, a recorded verdict's error, says that the
// policy overran its time budget.
func Overran(err string) bool { return strings.HasPrefix(err, ErrTimeout.Error()) }

// InputOf rebuilds the input of a recorded verdict: the hook's input with
// the fields the policy read, and the clock and seed it was given. A
// policy evaluating it sees what it saw then.
func InputOf(v *event.PolicyVerdict) (Input, error) {
	if v.Input == nil {
		return nil, ErrNoInput
	}
	r := v.Input
	now, seed := time.UnixMilli(v.ClockUnixMS), v.Seed
	switch Hook(v.Hook) {
	case BeforeModelCall:
		return &ModelCall{
			CallID: r.CallID, Model: r.Model, API: r.API, Agent: r.Agent, Session: r.Session, Team: r.Team,
			User: r.User, KeyID: r.KeyID, Tags: r.Tags, TaskType: r.TaskType, EstimatedTokens: r.EstimatedTokens,
			HasTools: r.HasTools, Stream: r.Stream, BudgetLeftUSD: r.BudgetLeftUSD, Now: now, Seed: seed,
		}, nil
	case BeforeToolCall:
		var raw json.RawMessage
		if r.InputJSON != "" {
			raw = json.RawMessage(r.InputJSON)
		}
		return &ToolCall{
			CallID: r.CallID, Tool: r.Tool, Server: r.Server, Input: raw, Agent: r.Agent, Session: r.Session,
			Team: r.Team, User: r.User, Tags: r.Tags, Now: now, Seed: seed,
		}, nil
	case SessionStart:
		return &SessionStarting{
			Session: r.Session, Agent: r.Agent, Harness: r.Harness, Team: r.Team, User: r.User, Tags: r.Tags,
			Prompt: r.Prompt, Now: now, Seed: seed,
		}, nil
	case SessionEnd:
		return &SessionEnded{
			Session: r.Session, Agent: r.Agent, Harness: r.Harness, Team: r.Team, User: r.User, Tags: r.Tags,
			Status: r.Status, Error: r.Error, Turns: r.Turns, CostUSD: r.CostUSD,
			// The duration the policy read back in nanoseconds: it reads
			// it again as the same number of milliseconds.
			Duration: time.Duration(math.Round(r.DurationMS * float64(time.Millisecond))),
			Now:      now, Seed: seed,
		}, nil
	}
	return nil, fmt.Errorf("the verdict's hook %q is none of %s, %s, %s or %s", v.Hook, hookList[0], hookList[1], hookList[2], hookList[3])
}
