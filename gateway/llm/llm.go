package llm

import (
	"encoding/json"
)

// API names a wire format, inbound or outbound.
type API string

// The wire formats the gateway speaks.
const (
	APIOpenAIChat        API = "openai.chat"        // POST /v1/chat/completions
	APIOpenAIResponses   API = "openai.responses"   // POST /v1/responses
	APIAnthropicMessages API = "anthropic.messages" // POST /v1/messages
	APIGemini            API = "gemini"             // POST /v1beta/models/{model}:generateContent
)

// Role is who authored a message.
type Role string

// Message roles. System text normally lives in Request.System; RoleSystem
// appears in Messages only for system/developer messages that came after
// the conversation started (OpenAI allows them anywhere).
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
)

// PartType says what a Part holds.
type PartType string

// Part types.
const (
	PartText             PartType = "text"
	PartImage            PartType = "image"
	PartThinking         PartType = "thinking"          // Text is the reasoning, Signature verifies it
	PartRedactedThinking PartType = "redacted_thinking" // Data is opaque encrypted reasoning
	PartToolCall         PartType = "tool_call"         // in assistant messages
	PartToolResult       PartType = "tool_result"       // in user messages
)

// Part is one piece of message content. Which fields are set depends on
// Type; the others are zero.
type Part struct {
	Type PartType `json:"type"`

	// Text is the text of a text part, the reasoning of a thinking part.
	Text string `json:"text,omitempty"`

	// MediaType and Data (base64) or URL carry an image. Data also carries
	// the opaque payload of redacted thinking and of encrypted reasoning.
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`

	// Signature authenticates a thinking part (Anthropic) or carries the
	// encrypted reasoning of an OpenAI reasoning item.
	Signature string `json:"signature,omitempty"`

	// ToolCallID links a tool call and its result. ToolName and Arguments
	// (a JSON object, as text) describe the call.
	ToolCallID string `json:"tool_call_id,omitempty"`
	ToolName   string `json:"tool_name,omitempty"`
	Arguments  string `json:"arguments,omitempty"`

	// Result is the content of a tool result; IsError marks a failed call.
	Result  []Part `json:"result,omitempty"`
	IsError bool   `json:"is_error,omitempty"`

	// CacheControl is Anthropic's prompt-cache marker, kept so that an
	// Anthropic-to-Anthropic translation does not lose it.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// Message is one turn of the conversation.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts"`
}

// Tool is a function the model may call.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON Schema of the arguments object.
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// CacheControl: see Part.CacheControl.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// ToolChoiceMode says whether and which tools the model must call.
type ToolChoiceMode string

// Tool choice modes.
const (
	ToolChoiceAuto     ToolChoiceMode = "auto"
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required" // any tool
	ToolChoiceTool     ToolChoiceMode = "tool"     // the one named
)

// ToolChoice constrains tool use.
type ToolChoice struct {
	Mode ToolChoiceMode `json:"mode"`
	Name string         `json:"name,omitempty"`
	// DisableParallel forbids more than one tool call per turn.
	DisableParallel bool `json:"disable_parallel,omitempty"`
}

// Thinking asks for extended reasoning.
type Thinking struct {
	// BudgetTokens is Anthropic's and Gemini's reasoning budget; 0 means
	// the provider's default.
	BudgetTokens int `json:"budget_tokens,omitempty"`
	// Effort is OpenAI's reasoning effort: minimal, low, medium, high.
	Effort string `json:"effort,omitempty"`
	// Summary is OpenAI's reasoning summary setting (auto, concise, detailed).
	Summary string `json:"summary,omitempty"`
}

// Request is a model call in canonical form.
type Request struct {
	Model    string    `json:"model"`
	System   []Part    `json:"system,omitempty"` // text parts
	Messages []Message `json:"messages"`
	Tools    []Tool    `json:"tools,omitempty"`

	ToolChoice  *ToolChoice `json:"tool_choice,omitempty"`
	Thinking    *Thinking   `json:"thinking,omitempty"`
	MaxTokens   int         `json:"max_tokens,omitempty"` // 0: provider default
	Temperature *float64    `json:"temperature,omitempty"`
	TopP        *float64    `json:"top_p,omitempty"`
	Stop        []string    `json:"stop,omitempty"`
	Stream      bool        `json:"stream,omitempty"`

	// ResponseFormat is OpenAI's response_format / text.format object,
	// kept as given; providers that cannot honour it ignore it.
	ResponseFormat json.RawMessage `json:"response_format,omitempty"`
	// User is the end-user identifier the client sent, if any (OpenAI
	// "user", Anthropic metadata.user_id).
	User string `json:"user,omitempty"`
}

// StopReason says why generation stopped.
type StopReason string

// Stop reasons, in Anthropic's vocabulary.
const (
	StopEndTurn       StopReason = "end_turn"
	StopMaxTokens     StopReason = "max_tokens"
	StopToolUse       StopReason = "tool_use"
	StopSequence      StopReason = "stop_sequence"
	StopContentFilter StopReason = "content_filter"
	StopRefusal       StopReason = "refusal"
)

// Usage counts tokens. See the package doc for what each field includes.
type Usage struct {
	InputTokens      int `json:"input_tokens"`
	OutputTokens     int `json:"output_tokens"`
	CacheReadTokens  int `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int `json:"reasoning_tokens,omitempty"`
}

// TotalInput is every prompt token, cached or not.
func (u Usage) TotalInput() int { return u.InputTokens + u.CacheReadTokens + u.CacheWriteTokens }

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.InputTokens += o.InputTokens
	u.OutputTokens += o.OutputTokens
	u.CacheReadTokens += o.CacheReadTokens
	u.CacheWriteTokens += o.CacheWriteTokens
	u.ReasoningTokens += o.ReasoningTokens
}

// Response is a complete (non-streamed) answer.
type Response struct {
	ID           string     `json:"id"`
	Model        string     `json:"model"`
	Parts        []Part     `json:"parts"` // the assistant's content
	StopReason   StopReason `json:"stop_reason"`
	StopSequence string     `json:"stop_sequence,omitempty"`
	Usage        Usage      `json:"usage"`
}
