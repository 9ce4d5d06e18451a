package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/gateway/wire"
)

// replayCall is one model call of a recorded session, in one API.
type replayCall struct {
	name, path string
	api        llm.API
	stream     bool
	// body is the request a CLI working in session `session` sends.
	body func(session, prompt string) string
}

func workspace(session string) string {
	return "You work in /data/sessions/" + session + "/workspace. Today is 2026-12-03."
}

var replayCalls = []replayCall{
	{"messages stream", "/v1/messages", llm.APIAnthropicMessages, true, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small", "max_tokens": 256, "stream": true, "system": workspace(s),
			"tools":    []map[string]any{{"name": "Bash", "input_schema": map[string]any{"type": "object"}}},
			"messages": []map[string]any{{"role": "user", "content": p + ` [[sim tool=Bash cmd="echo hi"]]`}}})
		return string(b)
	}},
	{"messages", "/v1/messages", llm.APIAnthropicMessages, false, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small", "max_tokens": 256, "system": workspace(s),
			"messages": []map[string]any{{"role": "user", "content": p}}})
		return string(b)
	}},
	{"chat stream", "/v1/chat/completions", llm.APIOpenAIChat, true, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small", "stream": true,
			"messages": []map[string]any{{"role": "system", "content": workspace(s)}, {"role": "user", "content": p}}})
		return string(b)
	}},
	{"chat", "/v1/chat/completions", llm.APIOpenAIChat, false, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small",
			"messages": []map[string]any{{"role": "system", "content": workspace(s)}, {"role": "user", "content": p}}})
		return string(b)
	}},
	{"responses stream", "/v1/responses", llm.APIOpenAIResponses, true, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small", "stream": true, "store": false, "instructions": workspace(s),
			"tools": []map[string]any{{"type": "function", "name": "shell", "parameters": map[string]any{"type": "object"}}},
			"input": p + ` [[sim tool=shell cmd="echo hi"]]`})
		return string(b)
	}},
	{"responses", "/v1/responses", llm.APIOpenAIResponses, false, func(s, p string) string {
		b, _ := json.Marshal(map[string]any{"model": "sim-small", "store": false, "instructions": workspace(s), "input": p})
		return string(b)
	}},
}

// answerOf reads an answer as a client would: its parts and stop reason.
func answerOf(t *testing.T, api llm.API, stream bool, body []byte) *llm.Response {
	t.Helper()
	out, _ := wire.OutboundFor(api)
	if !stream {
		r, err := out.DecodeResponse(body)
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return r
	}
	var c tape.Collector
	dec := out.NewStreamDecoder()
	rd := sse.NewReader(strings.NewReader(string(body)))
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		evs, err := dec.Decode(ev, nil)
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, e := range evs {
			c.Add(e)
		}
	}
	if !dec.Done() {
		t.Fatalf("the stream did not end: %s", body)
	}
	return c.Response()
}

// sessionKey makes the key of session id (extra tags added) and
// records the session's creation, naming it.
func sessionKey(t *testing.T, s *gatewaytest.Stack, id string, tags map[string]string) (keys.Key, string) {
	t.Helper()
	ctx := context.Background()
	all := map[string]string{"session": id}
	for k, v := range tags {
		all[k] = v
	}
	k, secret, err := s.GW.CreateKey(ctx, keys.Spec{Name: "session " + id, Tags: all}, "test")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]string{"id": id, "agent": "a", "harness": "h", "key_id": k.ID})
	if _, err := s.Store.Append(ctx, "session-"+id, eventstore.NoStream, event.Proposed{Type: "session.created", Data: data}); err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func simRequests(t *testing.T, s *gatewaytest.Stack) int {
	t.Helper()
	res, err := http.Get(s.Sims["sim"].URL + "/sim/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v struct{ Requests []json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return len(v.Requests)
}

// A session's calls, in every inbound API, streamed or not, are recorded
// with their answers; a replay of the session is served those answers,
// re-encoded in the same API, without a call to the provider, and a
// request that differs stops it with a diff naming what changed.
func TestHarnessReplayServesRecordedAnswers(t *testing.T) {
	t.Parallel()
	s := gatewaytest.New(t, gatewaytest.Config{})
	ctx := context.Background()
	const recorded, replay = "s1111111111111111", "s2222222222222222"
	_, recSecret := sessionKey(t, s, recorded, nil)
	var answers []*llm.Response
	for i, c := range replayCalls {
		r := s.Post(c.path, recSecret, c.body(recorded, fmt.Sprint("prompt ", i)), "x-switchyard-tags", "turn=1")
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
		a := answerOf(t, c.api, c.stream, r.Body)
		answers = append(answers, a)
		evs := s.Events(r.ID())
		if got := gatewaytest.Types(evs); got != "model.call.started routing.decided model.call.completed model.answer.recorded" {
			t.Fatalf("%s: events %s", c.name, got)
		}
		rec := gatewaytest.Find[event.AnswerRecorded](t, evs, "model.answer.recorded")
		ms := rec.Request.Messages
		if rec.Answer == nil || rec.Turn != 1 || rec.Request.API != string(c.api) || rec.Request.Stream != c.stream || len(ms) == 0 ||
			!strings.HasPrefix(ms[len(ms)-1].Parts[0].Excerpt, fmt.Sprint("prompt ", i)) || !strings.Contains(fmt.Sprint(rec.Request), "/data/sessions/<session>/workspace") {
			t.Fatalf("%s: recorded %+v", c.name, rec)
		}
		if got := tape.ToResponse(rec.Answer); !reflect.DeepEqual(got.Parts, a.Parts) || got.StopReason != a.StopReason {
			t.Fatalf("%s: recorded answer %+v, the client got %+v", c.name, got.Parts, a.Parts)
		}
	}
	if !slices.ContainsFunc(answers[0].Parts, func(p llm.Part) bool { return p.Type == llm.PartToolCall }) {
		t.Fatalf("the first answer should call a tool: %+v", answers[0].Parts)
	}

	player, err := s.GW.ArmReplay(ctx, replay, recorded, 0)
	if err != nil {
		t.Fatal(err)
	}
	if player.Calls() != len(replayCalls) || player.Recorded()[1] != len(replayCalls) {
		t.Fatalf("player of %d calls, by turn %v", player.Calls(), player.Recorded())
	}
	before := simRequests(t, s)
	_, replaySecret := sessionKey(t, s, replay, map[string]string{tape.ReplayTag: recorded})
	for i, c := range replayCalls {
		// The replay's CLI works in its own session's workspace.
		r := s.Post(c.path, replaySecret, c.body(replay, fmt.Sprint("prompt ", i)), "x-switchyard-tags", "turn=1")
		if r.Status != 200 || r.Header.Get("x-switchyard-provider") != tape.Provider {
			t.Fatalf("%s: %d %v %s", c.name, r.Status, r.Header, r.Body)
		}
		if got := answerOf(t, c.api, c.stream, r.Body); !reflect.DeepEqual(got.Parts, answers[i].Parts) || got.StopReason != answers[i].StopReason {
			t.Fatalf("%s: replayed %+v, recorded %+v", c.name, got.Parts, answers[i].Parts)
		}
		evs := s.Events(r.ID())
		if got := gatewaytest.Types(evs); got != "model.call.started model.call.completed" {
			t.Fatalf("%s: events of a replayed call: %s", c.name, got)
		}
		if done := gatewaytest.Find[event.ModelCallCompleted](t, evs, "model.call.completed"); done.Provider != tape.Provider || done.CostUSD != 0 {
			t.Fatalf("%s: %+v", c.name, done)
		}
	}
	if after := simRequests(t, s); after != before {
		t.Fatalf("the replay called the provider %d time(s)", after-before)
	}
	if got := player.Served()[1]; got != len(replayCalls) {
		t.Fatalf("served %d", got)
	}

	// The recording is served out: one more call is past its end.
	c := replayCalls[1]
	r := s.Post(c.path, replaySecret, c.body(replay, "prompt 1"), "x-switchyard-tags", "turn=1")
	if r.Status != 400 || !strings.Contains(string(r.Body), "recording does not have") {
		t.Fatalf("past the end: %d %s", r.Status, r.Body)
	}
	d := gatewaytest.Find[event.ReplayDiverged](t, s.Events(r.ID()), "replay.diverged")
	if d.ReplayOf != recorded || d.Session != replay || d.Call != len(replayCalls)+1 || d.Turn != 1 {
		t.Fatalf("divergence %+v", d)
	}
	select {
	case <-player.Diverged():
	default:
		t.Fatal("the player did not say it diverged")
	}
	player.Close()
	r = s.Post(c.path, replaySecret, c.body(replay, "prompt 1"), "x-switchyard-tags", "turn=1")
	if r.Status != 403 || !strings.Contains(string(r.Body), "not running") {
		t.Fatalf("after the replay: %d %s", r.Status, r.Body)
	}
}

// A request that differs from the recorded one stops the replay with a
// diff: which message and part, recorded against now.
func TestHarnessReplayDiverges(t *testing.T) {
	t.Parallel()
	s := gatewaytest.New(t, gatewaytest.Config{})
	ctx := context.Background()
	const recorded, replay = "s3333333333333333", "s4444444444444444"
	_, recSecret := sessionKey(t, s, recorded, nil)
	c := replayCalls[0]
	for _, p := range []string{"Run the tests.", "Now fix them."} {
		if r := s.Post(c.path, recSecret, c.body(recorded, p), "x-switchyard-tags", "turn=1"); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	player, err := s.GW.ArmReplay(ctx, replay, recorded, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	_, replaySecret := sessionKey(t, s, replay, map[string]string{tape.ReplayTag: recorded})
	if r := s.Post(c.path, replaySecret, c.body(replay, "Run the tests."), "x-switchyard-tags", "turn=1"); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	r := s.Post(c.path, replaySecret, c.body(replay, "Now break them."), "x-switchyard-tags", "turn=1")
	if r.Status != 400 || !strings.Contains(string(r.Body), "messages[0] (user) part 0 (text) differs") {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
	}
	evs := s.Events(r.ID())
	if got := gatewaytest.Types(evs); got != "model.call.started replay.diverged model.call.failed" {
		t.Fatalf("events %s", got)
	}
	d := gatewaytest.Find[event.ReplayDiverged](t, evs, "replay.diverged")
	if d.Call != 2 || d.RecordedCall != 2 || len(d.Diffs) != 1 || !strings.Contains(d.Diffs[0].Recorded, "Now fix them.") || !strings.Contains(d.Diffs[0].Now, "Now break them.") {
		t.Fatalf("divergence %+v", d)
	}
	if player.Divergence() == nil || player.Divergence().CallID != r.ID() {
		t.Fatalf("the player's divergence: %+v", player.Divergence())
	}
	// Every call after it is refused too: the replay has stopped.
	if r := s.Post(c.path, replaySecret, c.body(replay, "Now fix them."), "x-switchyard-tags", "turn=1"); r.Status != 400 {
		t.Fatalf("after the divergence: %d %s", r.Status, r.Body)
	}
}

// record_answers: none records nothing, all records every key's calls,
// and an answer over the size bound is recorded as not replayable, which
// a replay refuses to play.
func TestRecordAnswersConfig(t *testing.T) {
	t.Parallel()
	c := replayCalls[2]
	for _, tc := range []struct {
		name       string
		cfg        gateway.Config
		sessionKey bool
		want       string // the last event type of the call, "" for no record
		why        string // the record's not_replayable, if any
	}{
		{"plain key, sessions", gateway.Config{}, false, "", ""},
		{"plain key, all", gateway.Config{RecordAnswers: "all"}, false, "model.answer.recorded", ""},
		{"session key, none", gateway.Config{RecordAnswers: "none"}, true, "", ""},
		{"session key, over the bound", gateway.Config{RecordAnswersMaxBytes: 10}, true, "model.answer.recorded", "over the gateway's record_answers_max_bytes (10)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := gatewaytest.New(t, gatewaytest.Config{Gateway: tc.cfg})
			secret, id := s.Key, "s5555555555555555"
			if tc.sessionKey {
				_, secret = sessionKey(t, s, id, nil)
			}
			r := s.Post(c.path, secret, c.body(id, "hello"))
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			evs := s.Events(r.ID())
			recs := gatewaytest.All[event.AnswerRecorded](t, evs, "model.answer.recorded")
			if (len(recs) == 1) != (tc.want != "") {
				t.Fatalf("events %s", gatewaytest.Types(evs))
			}
			if tc.why == "" {
				return
			}
			if recs[0].Answer != nil || !strings.Contains(recs[0].NotReplayable, tc.why) {
				t.Fatalf("record %+v", recs[0])
			}
			_, err := s.GW.ArmReplay(context.Background(), "s6666666666666666", id, 0)
			if !errors.Is(err, tape.ErrNotReplayable) || !strings.Contains(err.Error(), "not kept whole") {
				t.Fatalf("replay of a session not recorded whole: %v", err)
			}
		})
	}
	if _, err := gateway.Parse([]byte(`{"gateway":{"providers":[],"record_answers":"some"}}`), ".json"); err == nil || !strings.Contains(err.Error(), "use sessions, all or none") {
		t.Fatalf("a bad record_answers: %v", err)
	}
}
