package responses

import "encoding/json"

// The wire types below are what the codec writes. Field order follows
// OpenAI's own answers, so golden files read like real traffic.

// responseObject is a Response: the body of a non-streamed answer and the
// "response" member of the lifecycle events.
type responseObject struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"`
	CreatedAt          int64              `json:"created_at"`
	Status             string             `json:"status"`
	Background         bool               `json:"background"`
	Error              *responseError     `json:"error"`
	IncompleteDetails  *incompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []any              `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          reasoningConfig    `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        *float64           `json:"temperature"`
	Text               textConfig         `json:"text"`
	ToolChoice         json.RawMessage    `json:"tool_choice"`
	Tools              []json.RawMessage  `json:"tools"`
	TopP               *float64           `json:"top_p"`
	Truncation         string             `json:"truncation"`
	Usage              *usage             `json:"usage"`
	User               *string            `json:"user"`
	Metadata           map[string]string  `json:"metadata"`
}

type responseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type incompleteDetails struct {
	Reason string `json:"reason"`
}

type reasoningConfig struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

type textConfig struct {
	Format json.RawMessage `json:"format"`
}

type usage struct {
	InputTokens         int                 `json:"input_tokens"`
	InputTokensDetails  inputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int                 `json:"output_tokens"`
	OutputTokensDetails outputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int                 `json:"total_tokens"`
}

type inputTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type outputTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// Output items.

type messageItem struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"` // "message"
	Status  string       `json:"status"`
	Content []outputText `json:"content"`
	Role    string       `json:"role"` // "assistant"
}

type outputText struct {
	Type        string `json:"type"` // "output_text"
	Annotations []any  `json:"annotations"`
	Text        string `json:"text"`
}

type functionCallItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"` // "function_call"
	Status    string `json:"status"`
	Arguments string `json:"arguments"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type customToolCallItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"` // "custom_tool_call"
	Status    string `json:"status"`
	CallID    string `json:"call_id"`
	Input     string `json:"input"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type toolSearchCallItem struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"` // "tool_search_call"
	Status    string          `json:"status"`
	CallID    string          `json:"call_id"`
	Execution string          `json:"execution"` // "client"
	Arguments json.RawMessage `json:"arguments"` // an object
}

type reasoningItem struct {
	ID               string        `json:"id"`
	Type             string        `json:"type"` // "reasoning"
	EncryptedContent string        `json:"encrypted_content,omitempty"`
	Summary          []summaryText `json:"summary"`
}

type summaryText struct {
	Type string `json:"type"` // "summary_text"
	Text string `json:"text"`
}

// Stream events. Every event has "type" and "sequence_number" first.

type lifecycleEvent struct {
	Type           string          `json:"type"`
	SequenceNumber int             `json:"sequence_number"`
	Response       *responseObject `json:"response"`
}

type itemEvent struct {
	Type           string `json:"type"`
	SequenceNumber int    `json:"sequence_number"`
	OutputIndex    int    `json:"output_index"`
	Item           any    `json:"item"`
}

type contentPartEvent struct {
	Type           string     `json:"type"`
	SequenceNumber int        `json:"sequence_number"`
	ItemID         string     `json:"item_id"`
	OutputIndex    int        `json:"output_index"`
	ContentIndex   int        `json:"content_index"`
	Part           outputText `json:"part"`
}

type summaryPartEvent struct {
	Type           string      `json:"type"`
	SequenceNumber int         `json:"sequence_number"`
	ItemID         string      `json:"item_id"`
	OutputIndex    int         `json:"output_index"`
	SummaryIndex   int         `json:"summary_index"`
	Part           summaryText `json:"part"`
}

type errorEvent struct {
	Type           string      `json:"type"` // "error"
	SequenceNumber int         `json:"sequence_number"`
	Code           string      `json:"code"`
	Message        string      `json:"message"`
	Param          *string     `json:"param"`
	Error          errorObject `json:"error"`
}

// Request-side types, shared by DecodeRequest (client requests) and
// EncodeRequest (provider requests).

// wireNamespace is a namespace entry of "tools".
type wireNamespace struct {
	Type        string     `json:"type"` // "namespace"
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Tools       []wireTool `json:"tools"`
}

// wireTool is one entry of "tools" (or of a namespace's tools).
type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
}

// Incoming answers and events, as read by the outbound decoders.

type inResponse struct {
	ID                string   `json:"id"`
	Model             string   `json:"model"`
	Status            string   `json:"status"`
	Error             *inError `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output []json.RawMessage `json:"output"`
	Usage  *usage            `json:"usage"`
}

type inError struct {
	Code    string  `json:"code"`
	Type    string  `json:"type"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

// inItem is any output item; which fields are set depends on Type.
type inItem struct {
	Type             string        `json:"type"`
	ID               string        `json:"id"`
	Content          []inContent   `json:"content"`
	CallID           string        `json:"call_id"`
	Name             string        `json:"name"`
	Namespace        string        `json:"namespace"`
	Arguments        string        `json:"arguments"`
	Input            string        `json:"input"`
	Summary          []summaryText `json:"summary"`
	EncryptedContent string        `json:"encrypted_content"`
}

type inContent struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}
