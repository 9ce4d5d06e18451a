package tape_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
	"github.com/switchyard/switchyard/gateway/tape"
	"github.com/switchyard/switchyard/gateway/wire"

	_ "github.com/switchyard/switchyard/gateway/wire/anthropic"
	_ "github.com/switchyard/switchyard/gateway/wire/openai"
	_ "github.com/switchyard/switchyard/gateway/wire/responses"
)

func TestNormaliser(t *testing.T) {
	t.Parallel()
	n := tape.NewNormaliser("s0123456789abcdef", "ses_dc3830e20ffebSmHUfkq0u3u3g")
	for _, tc := range []struct{ in, want string }{
		{"plain text stays", "plain text stays"},
		{"cwd /data/sessions/s0123456789abcdef/workspace ok", "cwd /data/sessions/<session>/workspace ok"},
		{"-data-sessions-s0123456789abcdef-workspace", "-data-sessions-<session>-workspace"},
		{"id ses_dc3830e20ffebSmHUfkq0u3u3g.", "id <client-session>."},
		{"Today's date is 2026-12-03.", "Today's date is <date>."},
		{"at 2026-12-03T17:04:05.123Z, then", "at <date>, then"},
		{"at 2026-12-03 17:04:05+01:00.", "at <date>."},
		{"<current_date>2026-12-03</current_date>", "<current_date><date></current_date>"},
		{"Today's date: Thu Dec 03 2026", "Today's date: <date>"},
		{"session 371ab831-e56f-4a51-9f72-d45fa29dd851 here", "session <uuid> here"},
		{"ABCDEF01-2345-6789-abcd-ef0123456789", "<uuid>"},
		// Not dates or UUIDs: parts of longer words and numbers.
		{"v12026-12-031", "v12026-12-031"},
		{"x371ab831-e56f-4a51-9f72-d45fa29dd851", "x371ab831-e56f-4a51-9f72-d45fa29dd851"},
		{"Thu Dec 03 20266", "Thu Dec 03 20266"},
		{"2026-12", "2026-12"},
		{"ünïcödé 2026-01-02 ✓", "ünïcödé <date> ✓"},
		{"Chunk ID: 1c98d7\nWall time: 0.0123 seconds\nOutput:\nhi", "Chunk ID: <n>\nWall time: <n> seconds\nOutput:\nhi"},
	} {
		if got := n.String(tc.in); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := tape.NewNormaliser("", "").String("no s0123456789abcdef here"); got != "no s0123456789abcdef here" {
		t.Errorf("a normaliser of no session rewrote %q", got)
	}
}

// conversation is a request of a coding agent's shape: a system prompt
// naming its workspace and the date, a tool call and its result.
func conversation(session, date, prompt string) *llm.Request {
	return &llm.Request{Model: "m", MaxTokens: 1000,
		System: []llm.Part{{Type: llm.PartText, Text: "You are a coding agent."}, {Type: llm.PartText, Text: "Workspace: /data/sessions/" + session + "/workspace. Today is " + date + "."}},
		Tools:  []llm.Tool{{Name: "Bash"}, {Name: "Read"}},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Run the tests."}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "Running them."}, {Type: llm.PartToolCall, ToolCallID: "toolu_1", ToolName: "Bash", Arguments: `{"command": "go test ./..."}`}}},
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartToolResult, ToolCallID: "toolu_1", Result: []llm.Part{{Type: llm.PartText, Text: "ok"}}}, {Type: llm.PartText, Text: prompt}}},
		}}
}

// body is req as api's wire format.
func body(tb testing.TB, api llm.API, req *llm.Request) []byte {
	tb.Helper()
	out, _ := wire.OutboundFor(api)
	b, err := out.EncodeRequest(req)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// printReq prints req, sent as api, for a CLI of session `session`.
func printReq(tb testing.TB, api llm.API, req *llm.Request, session string, recent int) event.RequestPrint {
	tb.Helper()
	p, err := tape.Print(api, body(tb, api, req), req.Model, true, tape.NewNormaliser(session, ""), recent)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func printOf(tb testing.TB, session, date, prompt string) event.RequestPrint {
	return printReq(tb, llm.APIAnthropicMessages, conversation(session, date, prompt), session, tape.RecentMessages)
}

// Two honest runs of one session print the same; a changed prompt does
// not, and the diff names the message and part, recorded against now.
func TestPrintAndDiff(t *testing.T) {
	t.Parallel()
	rec := printOf(t, "s1111111111111111", "2026-12-03", "Now fix it.")
	again := printOf(t, "s2222222222222222", "2026-12-04", "Now fix it.")
	if rec.Digest != again.Digest {
		t.Fatalf("two runs of one session differ:\n%v", tape.Diff(&rec, &again))
	}
	// So in each API: its tool calls and results are parts of their
	// own, and a changed prompt shows.
	for _, api := range []llm.API{llm.APIAnthropicMessages, llm.APIOpenAIChat, llm.APIOpenAIResponses} {
		a := printReq(t, api, conversation("s1111111111111111", "2026-12-03", "Now fix it."), "s1111111111111111", tape.AllMessages)
		b := printReq(t, api, conversation("s2222222222222222", "2026-12-04", "Now fix it."), "s2222222222222222", tape.AllMessages)
		c := printReq(t, api, conversation("s2222222222222222", "2026-12-04", "Now break it."), "s2222222222222222", tape.AllMessages)
		if a.Digest != b.Digest {
			t.Errorf("%s: two runs differ: %+v", api, tape.Diff(&a, &b))
		}
		d := tape.Diff(&a, &c)
		if len(d) != 1 || !strings.Contains(d[0].Recorded, `"Now fix it."`) || !strings.Contains(d[0].Now, `"Now break it."`) {
			t.Errorf("%s: a changed prompt: %+v", api, d)
		}
		var types []string
		for _, m := range a.Messages {
			for _, p := range m.Parts {
				types = append(types, p.Type)
			}
		}
		if got := strings.Join(types, ","); !strings.Contains(got, "tool_call Bash") || !strings.Contains(got, "tool_result toolu_1") {
			t.Errorf("%s: parts %s", api, got)
		}
	}

	now := printOf(t, "s2222222222222222", "2026-12-04", "Now break it.")
	if now.Digest == rec.Digest {
		t.Fatal("a changed prompt prints the same")
	}
	d := tape.Diff(&rec, &now)
	if len(d) != 1 || d[0].Field != "messages[2] (user) part 1 (text)" ||
		!strings.Contains(d[0].Recorded, `"Now fix it."`) || !strings.Contains(d[0].Now, `"Now break it."`) {
		t.Fatalf("diff %+v", d)
	}

	for name, change := range map[string]func(r *llm.Request) (string, string){
		"model": func(r *llm.Request) (string, string) { r.Model = "other"; return "model", `"other"` },
		"tools": func(r *llm.Request) (string, string) { r.Tools = r.Tools[:1]; return "tools", "2 tools, only Read" },
		"system": func(r *llm.Request) (string, string) {
			r.System[0].Text = "You are a poet."
			return "system[0]", "You are a poet."
		},
		"messages": func(r *llm.Request) (string, string) {
			r.Messages = r.Messages[:2]
			return "messages", "3 messages"
		},
	} {
		r := conversation("s1111111111111111", "2026-12-03", "Now fix it.")
		field, shows := change(r)
		p := printReq(t, llm.APIAnthropicMessages, r, "s1111111111111111", tape.AllMessages)
		d := tape.Diff(&rec, &p)
		if len(d) == 0 || !strings.HasPrefix(d[0].Field, field) || !strings.Contains(d[0].Recorded+d[0].Now, shows) {
			t.Errorf("%s: diff %+v", name, d)
		}
	}
}

// Older messages keep no excerpt in a recording, so the print stays
// bounded however long the conversation.
func TestPrintIsBounded(t *testing.T) {
	t.Parallel()
	r := &llm.Request{Model: "m"}
	for i := range 200 {
		r.Messages = append(r.Messages, llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: strings.Repeat(fmt.Sprint(i), 5000)}}})
	}
	p := printReq(t, llm.APIOpenAIChat, r, "", tape.RecentMessages)
	kept := 0
	for _, m := range p.Messages {
		if m.Parts != nil {
			kept++
			if len(m.Parts[0].Excerpt) > tape.ExcerptBytes {
				t.Fatalf("an excerpt of %d bytes", len(m.Parts[0].Excerpt))
			}
		}
	}
	if kept != tape.RecentMessages || p.Messages[0].Bytes < 5000 {
		t.Fatalf("%d messages keep parts, the first is %d bytes", kept, p.Messages[0].Bytes)
	}
}

// An answer served again in each API's stream reads back, by that API's
// own decoder, as the answer recorded; so does the whole answer.
func TestStreamEventsRoundTrip(t *testing.T) {
	t.Parallel()
	answer := &llm.Response{ID: "msg_1", Model: "m", StopReason: llm.StopToolUse,
		Usage: llm.Usage{InputTokens: 120, OutputTokens: 30, CacheReadTokens: 100},
		Parts: []llm.Part{
			{Type: llm.PartText, Text: "I will run it. \"Quoted\" and ünïcödé."},
			{Type: llm.PartToolCall, ToolCallID: "call_1", ToolName: "shell", Arguments: `{"command":["echo","hi"]}`},
		}}
	for _, api := range []llm.API{llm.APIAnthropicMessages, llm.APIOpenAIChat, llm.APIOpenAIResponses} {
		t.Run(string(api), func(t *testing.T) {
			in, _ := wire.InboundFor(api)
			out, _ := wire.OutboundFor(api)
			var buf bytes.Buffer
			enc := in.NewStreamEncoder(&buf)
			for _, ev := range tape.StreamEvents(answer) {
				if err := enc.Encode(ev); err != nil {
					t.Fatal(err)
				}
			}
			var c tape.Collector
			dec := out.NewStreamDecoder()
			rd := sse.NewReader(&buf)
			for {
				ev, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				evs, err := dec.Decode(ev, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range evs {
					c.Add(e)
				}
			}
			if !dec.Done() {
				t.Fatalf("the stream did not end:\n%s", buf.Bytes())
			}
			got := c.Response()
			if !reflect.DeepEqual(got.Parts, answer.Parts) || got.StopReason != answer.StopReason || got.Usage.OutputTokens != answer.Usage.OutputTokens {
				t.Fatalf("read back as\n%+v\nnot\n%+v\nfrom\n%s", got, answer, buf.Bytes())
			}

			body, err := in.EncodeResponse(answer)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := out.DecodeResponse(body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(whole.Parts, answer.Parts) {
				t.Fatalf("the whole answer reads back as %+v from %s", whole.Parts, body)
			}
		})
	}
}

// A recorded answer comes back as it went in.
func TestAnswerRoundTrip(t *testing.T) {
	t.Parallel()
	r := &llm.Response{ID: "id", Model: "m", StopReason: llm.StopEndTurn, StopSequence: "", Usage: llm.Usage{InputTokens: 1, OutputTokens: 2, ReasoningTokens: 3},
		Parts: []llm.Part{{Type: llm.PartThinking, Text: "hmm", Signature: "sig"}, {Type: llm.PartRedactedThinking, Data: "opaque"}, {Type: llm.PartText, Text: "hi"}}}
	a, why := tape.FromResponse(r)
	if why != "" || !reflect.DeepEqual(tape.ToResponse(a), r) {
		t.Fatalf("%q: %+v", why, tape.ToResponse(a))
	}
	if _, why := tape.FromResponse(&llm.Response{Parts: []llm.Part{{Type: llm.PartImage, Data: "x"}}}); why == "" {
		t.Fatal("an image answer was taken")
	}
}

func calls(tb testing.TB) []tape.Call {
	mk := func(n, turn int, prompt string) tape.Call {
		p := printOf(tb, "s1111111111111111", "2026-12-03", prompt)
		return tape.Call{N: n, CallID: fmt.Sprint("c", n), Turn: turn, Request: p, Answer: &event.Answer{Parts: []event.AnswerPart{{Type: "text", Text: prompt}}}}
	}
	return []tape.Call{mk(1, 1, "title"), mk(2, 1, "work"), mk(3, 2, "more")}
}

// Calls of a turn are served in any order (a CLI may make two at once);
// a call the turn does not have, or one past its end, stops the replay
// for good.
func TestPlayer(t *testing.T) {
	t.Parallel()
	now := func(prompt string) *event.RequestPrint {
		p := printOf(t, "s2222222222222222", "2026-12-04", prompt)
		return &p
	}
	closed := false
	p := tape.NewPlayer("s2222222222222222", "s1111111111111111", calls(t), func() { closed = true })
	if c, d, err := p.Serve("r1", 1, now("work")); err != nil || d != nil || c.N != 2 {
		t.Fatalf("work: %+v %+v %v", c, d, err)
	}
	if c, d, err := p.Serve("r2", 1, now("title")); err != nil || d != nil || c.N != 1 {
		t.Fatalf("title: %+v %+v %v", c, d, err)
	}
	if got := p.Served(); got[1] != 2 || p.Recorded()[2] != 1 {
		t.Fatalf("served %v, recorded %v", got, p.Recorded())
	}
	// Turn 1 has no call left.
	_, d, _ := p.Serve("r3", 1, now("work"))
	if d == nil || d.Call != 3 || d.Turn != 1 || !strings.Contains(d.Reason, "all 2 recorded call(s) of the turn were served") || d.CallID != "r3" {
		t.Fatalf("past the end: %+v", d)
	}
	select {
	case <-p.Diverged():
	default:
		t.Fatal("Diverged not closed")
	}
	if _, again, _ := p.Serve("r4", 2, now("more")); again != d {
		t.Fatalf("after a divergence: %+v", again)
	}
	p.Close()
	p.Close()
	if _, _, err := p.Serve("r5", 2, now("more")); !errors.Is(err, tape.ErrClosed) || !closed {
		t.Fatalf("after Close: %v (onClose ran: %v)", err, closed)
	}

	// A changed request is held to the most alike call of its turn.
	p = tape.NewPlayer("s2", "s1", calls(t), nil)
	_, d, _ = p.Serve("r1", 2, now("less"))
	if d == nil || d.RecordedCall != 3 || d.RecordedCallID != "c3" || len(d.Diffs) == 0 || !strings.Contains(d.String(), `now:      text "less"`) {
		t.Fatalf("changed: %+v\n%s", d, d)
	}
}

// Many calls at once: each recorded call is served once, and the
// counts add up.
func TestPlayerHammer(t *testing.T) {
	t.Parallel()
	var cs []tape.Call
	for i := range 200 {
		p := printOf(t, "s1111111111111111", "2026-12-03", fmt.Sprint("prompt ", i%50))
		cs = append(cs, tape.Call{N: i + 1, CallID: fmt.Sprint(i), Turn: 1 + i%4, Request: p, Answer: &event.Answer{}})
	}
	p := tape.NewPlayer("s2", "s1", cs, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]bool{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			now := cs[i].Request
			c, d, err := p.Serve(fmt.Sprint("r", i), cs[i].Turn, &now)
			if err != nil || d != nil {
				t.Errorf("call %d: %+v %v", i, d, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[c.N] {
				t.Errorf("recorded call %d served twice", c.N)
			}
			seen[c.N] = true
		}()
		go p.Served()
	}
	wg.Wait()
	total := 0
	for _, n := range p.Served() {
		total += n
	}
	if total != 200 || len(seen) != 200 {
		t.Fatalf("served %d, distinct %d", total, len(seen))
	}
}

// BenchmarkPrint is the fingerprint of a coding agent's request of
// about 45 KB (a 10 KB system prompt, 24 messages), as recorded.
func BenchmarkPrint(b *testing.B) {
	r := conversation("s1111111111111111", "2026-12-03", "Now fix it.")
	r.System[1].Text = strings.Repeat("You are a coding agent working in /data/sessions/s1111111111111111/workspace on 2026-12-03. ", 110)
	for i := range 11 {
		id := fmt.Sprintf("toolu_%02d", i)
		r.Messages = append(r.Messages,
			llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{{Type: llm.PartText, Text: "Let me look at the files involved and run the tests again."},
				{Type: llm.PartToolCall, ToolCallID: id, ToolName: "Bash", Arguments: `{"command":"go test ./parser/..."}`}}},
			llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartToolResult, ToolCallID: id,
				Result: []llm.Part{{Type: llm.PartText, Text: strings.Repeat("ok  \tgithub.com/example/parser\t0.012s\n", 60)}}}}})
	}
	n := tape.NewNormaliser("s1111111111111111", "0e4b7d7e-8d0e-4c57-9d1e-1c5f6b2a9e11")
	raw := body(b, llm.APIAnthropicMessages, r)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tape.Print(llm.APIAnthropicMessages, raw, "m", true, n, tape.RecentMessages); err != nil {
			b.Fatal(err)
		}
	}
}
