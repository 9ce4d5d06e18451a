package openai

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

func init() {
	wire.RegisterInbound(Chat{})
	wire.RegisterOutbound(Chat{})
}

var (
	_ wire.Inbound       = Chat{}
	_ wire.Outbound      = Chat{}
	_ wire.StreamEncoder = (*StreamEncoder)(nil)
	_ wire.StreamDecoder = (*StreamDecoder)(nil)
)

// Chat is the Chat Completions codec. The zero value is ready to use and
// is what init registers; it is stateless and safe for concurrent use.
type Chat struct {
	// Now is the clock for the "created" field of answers. Nil means
	// time.Now; tests set it for deterministic output.
	Now func() time.Time
}

// API implements wire.Inbound and wire.Outbound.
func (Chat) API() llm.API { return llm.APIOpenAIChat }

func (c Chat) created() int64 {
	if c.Now != nil {
		return c.Now().Unix()
	}
	return time.Now().Unix()
}

// completionID returns id as a Chat Completions ID: as is if it already
// starts with "chatcmpl-", else prefixed. An empty id gets a random one.
func completionID(id string) string {
	if strings.HasPrefix(id, "chatcmpl-") {
		return id
	}
	if id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return "chatcmpl-" + id
}

// finishReason maps a canonical stop reason to OpenAI's finish_reason.
func finishReason(r llm.StopReason) string {
	switch r {
	case llm.StopMaxTokens:
		return "length"
	case llm.StopToolUse:
		return "tool_calls"
	case llm.StopContentFilter, llm.StopRefusal:
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, unknown
}

// stopReason maps OpenAI's (or a compatible server's) finish_reason to a
// canonical stop reason. toolCalls reports that the answer holds tool
// calls, refusal that it holds a refusal.
func stopReason(finish string, toolCalls, refusal bool) llm.StopReason {
	switch finish {
	case "length", "max_tokens":
		return llm.StopMaxTokens
	case "tool_calls", "function_call":
		return llm.StopToolUse
	case "content_filter":
		return llm.StopContentFilter
	}
	switch {
	case toolCalls:
		// Ollama and some others say "stop" after tool calls.
		return llm.StopToolUse
	case refusal:
		return llm.StopRefusal
	}
	return llm.StopEndTurn
}
