package realclients_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/gatewaytest"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/realclients"
)

// A spend cap does not lift by retrying, so a budget refusal must tell
// clients not to retry it: the Stainless SDKs (openai, @anthropic-ai/sdk)
// and Claude Code retry every 429 unless the answer carries
// x-should-retry: false. Without it the SDKs send their default two retries
// to the same refusal, and Claude Code retries ten times with backoff, so a
// session whose budget is spent hangs for minutes before it shows the error
// (with the header it fails in under a second). Codex recognises the
// insufficient_quota code and stops at once.

// budgetRefusals counts the budget.exceeded events of key keyID.
func budgetRefusals(t *testing.T, s *gatewaytest.Stack, keyID string) int {
	t.Helper()
	if err := s.GW.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for e, err := range s.Store.ReadAll(t.Context(), eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		var d event.BudgetExceeded
		if e.Type == "budget.exceeded" && json.Unmarshal(e.Data, &d) == nil && d.KeyID == keyID {
			n++
		}
	}
	return n
}

// brokeKey is a key with a spend cap no call fits.
func brokeKey(t *testing.T, s *gatewaytest.Stack) (id, secret string) {
	t.Helper()
	k, secret, err := s.GW.CreateKey(t.Context(), keys.Spec{Name: "broke " + t.Name(), MaxBudgetUSD: 0.000001}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.ID, secret
}

func TestSpentBudgetIsNotRetriedBySDKs(t *testing.T) {
	t.Parallel()
	realclients.DirOrSkip(t)
	s := newStack(t)
	for _, tc := range []struct{ sdk, class string }{
		{"openai", "RateLimitError"},
		{"anthropic", "RateLimitError"},
	} {
		t.Run(tc.sdk, func(t *testing.T) {
			t.Parallel()
			keyID, key := brokeKey(t, s)
			r := node(t, "retries.cjs", tc.sdk, "BASE_URL="+s.URL, "API_KEY="+key)
			if r["error"] != tc.class || r["status"] != 429.0 || !strings.Contains(r["message"].(string), "budget exceeded") {
				t.Fatalf("got %v, want %s 429 naming the budget", r, tc.class)
			}
			if n := budgetRefusals(t, s, keyID); n != 1 {
				t.Errorf("the SDK sent %d requests in %v ms for a spent budget, want 1: the refusal lacks x-should-retry: false", n, r["ms"])
			}
		})
	}
}

// claudeOnce runs one Claude Code prompt with key and returns its result
// line and how many times it retried, failing the test if it did not end
// within 30 s: normally it takes about a second; retrying with backoff, it
// takes minutes. It exits 1 after an API error, so only a missing result
// line fails.
func claudeOnce(t *testing.T, s *gatewaytest.Stack, key string) (result map[string]any, retries int) {
	t.Helper()
	env := []string{
		"ANTHROPIC_BASE_URL=" + s.URL, "ANTHROPIC_API_KEY=" + key, "CLAUDE_CONFIG_DIR=" + t.TempDir(),
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1", "DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1",
	}
	args := []string{"-p", "Say hello.", "--output-format", "stream-json", "--verbose", "--model", "sim-large"}
	out, err := run(t, 30*time.Second, t.TempDir(), env, filepath.Join(realclients.DirOrSkip(t), "node_modules/.bin/claude"), args...)
	for _, l := range jsonLines(out) {
		switch {
		case l["type"] == "result":
			result = l
		case l["type"] == "system" && l["subtype"] == "api_retry":
			retries++
		}
	}
	if result == nil {
		t.Fatalf("claude did not end with a result within 30 s (%v): it retried %d times", err, retries)
	}
	return result, retries
}

func TestSpentBudgetEndsClaudeCodeAtOnce(t *testing.T) {
	t.Parallel()
	realclients.DirOrSkip(t)
	s := newStack(t)
	keyID, key := brokeKey(t, s)
	result, retries := claudeOnce(t, s, key)
	if result["is_error"] != true || !strings.Contains(str(result, "result"), "budget exceeded") {
		t.Errorf("result %v, want an error that names the budget", result)
	}
	if n := budgetRefusals(t, s, keyID); n != 1 || retries != 0 {
		t.Errorf("%d requests and %d retries for a spent budget, want 1 and 0", n, retries)
	}
}

// Claude Code also retries a 401 from a gateway ten times (a 403 or 404 it
// reports at once), unless the answer says x-should-retry: false; an
// unknown or revoked key then hangs a session for minutes.
func TestBadKeyEndsClaudeCodeAtOnce(t *testing.T) {
	t.Parallel()
	realclients.DirOrSkip(t)
	s := newStack(t)
	result, retries := claudeOnce(t, s, "sy-not-a-key-of-this-gateway")
	if result["is_error"] != true || !strings.Contains(str(result, "result"), "401") || retries != 0 {
		t.Errorf("result %v after %d retries, want a 401 error and no retries", result, retries)
	}
}
