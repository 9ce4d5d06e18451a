package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// call is what the simulator needs of a request, whatever its format.
type call struct {
	api          llm.API
	model        string
	stream       bool
	includeUsage bool // Chat Completions stream_options.include_usage

	// prompt is the text of the last user turn that holds text: the
	// directives come from it.
	prompt string
	// toolResult is the last message's tool result, if it is one.
	toolResult    string
	hasToolResult bool

	tools       []toolDef
	thinking    bool // the answer may carry visible reasoning
	summary     bool // Responses: reasoning.summary asked for
	encrypted   bool // Responses: include reasoning.encrypted_content
	promptBytes int
	maxTokens   int

	echo *responsesEcho // Responses: request fields the response repeats
}

// toolDef is a tool the request offers.
type toolDef struct {
	name   string
	kind   string // function, custom or local_shell
	schema json.RawMessage
}

// flexContent is message content given as a string or as a list of parts.
type flexContent struct {
	str   string
	parts []contentPart
}

// contentPart is one part of any of the formats' content lists; which
// fields are set depends on Type.
type contentPart struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Content  flexContent     `json:"content"` // Anthropic tool_result
	Input    json.RawMessage `json:"input"`   // Anthropic tool_use
}

// UnmarshalJSON reads a string, a list of parts or null.
func (c *flexContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		return json.Unmarshal(b, &c.str)
	}
	if b[0] != '[' {
		return fmt.Errorf("content must be a string or an array of parts, not %s", clip(string(b), 20))
	}
	return json.Unmarshal(b, &c.parts)
}

// text is the content's text, without tool results.
func (c *flexContent) text() string {
	if c.parts == nil {
		return c.str
	}
	var b strings.Builder
	for i := range c.parts {
		p := &c.parts[i]
		switch p.Type {
		case "text", "input_text", "output_text":
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// size is the number of prompt bytes in the content, tool calls and
// results included.
func (c *flexContent) size() int {
	n := len(c.str)
	for i := range c.parts {
		p := &c.parts[i]
		n += len(p.Text) + len(p.Thinking) + len(p.Input) + p.Content.size()
	}
	return n
}

// toolResult returns the text of the content's first tool_result part.
func (c *flexContent) toolResult() (string, bool) {
	for i := range c.parts {
		if c.parts[i].Type == "tool_result" {
			r := &c.parts[i].Content
			if r.parts == nil {
				return r.str, true
			}
			return r.text(), true
		}
	}
	return "", false
}

// badRequest is a 400 for a request body the simulator cannot use.
func badRequest(format string, args ...any) *llm.Error {
	return llm.Errorf(llm.ErrInvalidRequest, format, args...)
}

func decodeBody(body []byte, v any, api llm.API) *llm.Error {
	if err := json.Unmarshal(body, v); err != nil {
		switch api {
		case llm.APIOpenAIChat, llm.APIOpenAIResponses:
			return badRequest("We could not parse the JSON body of your request: %v. The API expects a JSON object.", err)
		case llm.APIGemini:
			return badRequest("Invalid JSON payload received: %v.", err)
		}
		return badRequest("The request body is not valid JSON: %v. Send a JSON object.", err)
	}
	return nil
}

// --- OpenAI Chat Completions ---

type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools               json.RawMessage `json:"tools"`
	MaxTokens           int             `json:"max_tokens"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
}

type chatMessage struct {
	Role      string      `json:"role"`
	Content   flexContent `json:"content"`
	ToolCalls []struct {
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

func decodeChat(body []byte) (*call, *llm.Error) {
	var req chatRequest
	if err := decodeBody(body, &req, llm.APIOpenAIChat); err != nil {
		return nil, err
	}
	if req.Model == "" {
		return nil, badRequest("you must provide a model parameter")
	}
	if len(req.Messages) == 0 {
		e := badRequest("Missing required parameter: 'messages'. Send at least one message.")
		e.Param = "messages"
		return nil, e
	}
	c := &call{api: llm.APIOpenAIChat, model: req.Model, stream: req.Stream, maxTokens: req.MaxCompletionTokens}
	if c.maxTokens == 0 {
		c.maxTokens = req.MaxTokens
	}
	c.includeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	for i := range req.Messages {
		m := &req.Messages[i]
		c.promptBytes += m.Content.size()
		for _, tc := range m.ToolCalls {
			c.promptBytes += len(tc.Function.Name) + len(tc.Function.Arguments)
		}
		if m.Role == "user" {
			if t := m.Content.text(); t != "" {
				c.prompt = t
			}
		}
	}
	if last := &req.Messages[len(req.Messages)-1]; last.Role == "tool" {
		c.toolResult, c.hasToolResult = last.Content.text(), true
	}
	if len(req.Tools) > 0 {
		c.promptBytes += len(req.Tools)
		var tools []chatTool
		if err := json.Unmarshal(req.Tools, &tools); err != nil {
			return nil, badRequest("Invalid 'tools': %v. Each tool is {\"type\":\"function\",\"function\":{...}}.", err)
		}
		for _, t := range tools {
			if t.Type == "function" || t.Type == "" {
				c.tools = append(c.tools, toolDef{name: t.Function.Name, kind: "function", schema: t.Function.Parameters})
			}
		}
	}
	return c, nil
}

// --- OpenAI Responses ---

type responsesRequest struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    string          `json:"instructions"`
	Tools           json.RawMessage `json:"tools"`
	ToolChoice      json.RawMessage `json:"tool_choice"`
	Stream          bool            `json:"stream"`
	MaxOutputTokens int             `json:"max_output_tokens"`
	Reasoning       *struct {
		Effort  string `json:"effort"`
		Summary string `json:"summary"`
	} `json:"reasoning"`
	Include            []string        `json:"include"`
	Store              *bool           `json:"store"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls"`
	PreviousResponseID string          `json:"previous_response_id"`
	Temperature        json.RawMessage `json:"temperature"`
	TopP               json.RawMessage `json:"top_p"`
	Metadata           json.RawMessage `json:"metadata"`
	PromptCacheKey     string          `json:"prompt_cache_key"`
}

// responsesEcho holds the request fields a Responses answer repeats.
type responsesEcho struct {
	instructions       string
	maxOutputTokens    int
	previousResponseID string
	effort, summary    string
	store, parallel    bool
	temperature, topP  json.RawMessage
	toolChoice, tools  json.RawMessage
	metadata           json.RawMessage
	promptCacheKey     string
}

type responsesItem struct {
	Type      string      `json:"type"`
	Role      string      `json:"role"`
	Content   flexContent `json:"content"`
	Output    flexContent `json:"output"`
	Arguments string      `json:"arguments"`
	Input     string      `json:"input"`
	Name      string      `json:"name"`
}

type responsesTool struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Parameters json.RawMessage `json:"parameters"`
}

func decodeResponses(body []byte) (*call, *llm.Error) {
	var req responsesRequest
	if err := decodeBody(body, &req, llm.APIOpenAIResponses); err != nil {
		return nil, err
	}
	if req.Model == "" {
		e := badRequest("Missing required parameter: 'model'.")
		e.Param = "model"
		return nil, e
	}
	in := bytes.TrimSpace(req.Input)
	if len(in) == 0 || string(in) == "null" {
		e := badRequest("Missing required parameter: 'input'. Send a string or a list of input items.")
		e.Param = "input"
		return nil, e
	}
	c := &call{api: llm.APIOpenAIResponses, model: req.Model, stream: req.Stream, maxTokens: req.MaxOutputTokens}
	c.promptBytes = len(req.Instructions)
	if in[0] == '"' {
		if err := json.Unmarshal(in, &c.prompt); err != nil {
			return nil, badRequest("Invalid 'input': %v.", err)
		}
		c.promptBytes += len(c.prompt)
	} else {
		var items []responsesItem
		if err := json.Unmarshal(in, &items); err != nil {
			return nil, badRequest("Invalid 'input': %v. Send a string or a list of input items.", err)
		}
		for i := range items {
			it := &items[i]
			c.promptBytes += it.Content.size() + it.Output.size() + len(it.Arguments) + len(it.Input)
			if (it.Type == "message" || it.Type == "") && it.Role == "user" {
				if t := it.Content.text(); t != "" {
					c.prompt = t
				}
			}
		}
		if n := len(items); n > 0 && strings.HasSuffix(items[n-1].Type, "_call_output") {
			c.toolResult, c.hasToolResult = items[n-1].Output.text(), true
		}
	}
	if len(req.Tools) > 0 {
		c.promptBytes += len(req.Tools)
		var tools []responsesTool
		if err := json.Unmarshal(req.Tools, &tools); err != nil {
			return nil, badRequest("Invalid 'tools': %v.", err)
		}
		for _, t := range tools {
			switch t.Type {
			case "function", "custom":
				c.tools = append(c.tools, toolDef{name: t.Name, kind: t.Type, schema: t.Parameters})
			case "local_shell":
				c.tools = append(c.tools, toolDef{name: "local_shell", kind: "local_shell"})
			}
		}
	}
	e := &responsesEcho{
		instructions: req.Instructions, maxOutputTokens: req.MaxOutputTokens,
		previousResponseID: req.PreviousResponseID, store: true, parallel: true,
		temperature: req.Temperature, topP: req.TopP, toolChoice: req.ToolChoice,
		tools: req.Tools, metadata: req.Metadata, promptCacheKey: req.PromptCacheKey,
	}
	if req.Store != nil {
		e.store = *req.Store
	}
	if req.ParallelToolCalls != nil {
		e.parallel = *req.ParallelToolCalls
	}
	if r := req.Reasoning; r != nil {
		e.effort, e.summary = r.Effort, r.Summary
		c.thinking = r.Effort != "none"
		c.summary = r.Summary != "" && r.Summary != "none"
	}
	for _, inc := range req.Include {
		if inc == "reasoning.encrypted_content" {
			c.encrypted = true
		}
	}
	c.echo = e
	return c, nil
}

// --- Anthropic Messages ---

type messagesRequest struct {
	Model     string          `json:"model"`
	Messages  []anthMessage   `json:"messages"`
	System    flexContent     `json:"system"`
	Tools     json.RawMessage `json:"tools"`
	Stream    bool            `json:"stream"`
	MaxTokens *int            `json:"max_tokens"`
	Thinking  *struct {
		Type string `json:"type"`
	} `json:"thinking"`
}

type anthMessage struct {
	Role    string      `json:"role"`
	Content flexContent `json:"content"`
}

type anthTool struct {
	Name        string          `json:"name"`
	InputSchema json.RawMessage `json:"input_schema"`
}

func decodeMessages(body []byte, countOnly bool) (*call, *llm.Error) {
	var req messagesRequest
	if err := decodeBody(body, &req, llm.APIAnthropicMessages); err != nil {
		return nil, err
	}
	switch {
	case req.Model == "":
		return nil, badRequest("model: Field required")
	case len(req.Messages) == 0:
		return nil, badRequest("messages: Field required; send at least one message")
	case req.MaxTokens == nil && !countOnly:
		return nil, badRequest("max_tokens: Field required")
	}
	c := &call{api: llm.APIAnthropicMessages, model: req.Model, stream: req.Stream}
	if req.MaxTokens != nil {
		c.maxTokens = *req.MaxTokens
	}
	c.promptBytes = req.System.size()
	for i := range req.Messages {
		m := &req.Messages[i]
		c.promptBytes += m.Content.size()
		if m.Role == "user" {
			if t := m.Content.text(); t != "" {
				c.prompt = t
			}
		}
	}
	if last := &req.Messages[len(req.Messages)-1]; last.Role == "user" {
		c.toolResult, c.hasToolResult = last.Content.toolResult()
	}
	if t := req.Thinking; t != nil {
		c.thinking = t.Type == "enabled" || t.Type == "adaptive"
	}
	if len(req.Tools) > 0 {
		c.promptBytes += len(req.Tools)
		var tools []anthTool
		if err := json.Unmarshal(req.Tools, &tools); err != nil {
			return nil, badRequest("tools: %v", err)
		}
		for _, t := range tools {
			c.tools = append(c.tools, toolDef{name: t.Name, kind: "function", schema: t.InputSchema})
		}
	}
	return c, nil
}

// --- Gemini ---

type geminiRequest struct {
	Contents          []geminiContent  `json:"contents"`
	SystemInstruction *geminiContent   `json:"systemInstruction"`
	SystemSnake       *geminiContent   `json:"system_instruction"`
	Tools             json.RawMessage  `json:"tools"`
	GenerationConfig  *geminiGenConfig `json:"generationConfig"`
	GenConfigSnake    *geminiGenConfig `json:"generation_config"`
}

type geminiGenConfig struct {
	MaxOutputTokens int `json:"maxOutputTokens"`
	ThinkingConfig  *struct {
		IncludeThoughts bool `json:"includeThoughts"`
	} `json:"thinkingConfig"`
}

type geminiContent struct {
	Role  string       `json:"role"`
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text                  string          `json:"text"`
	FunctionCall          *geminiCall     `json:"functionCall"`
	FunctionCallSnake     *geminiCall     `json:"function_call"`
	FunctionResponse      *geminiResponse `json:"functionResponse"`
	FunctionResponseSnake *geminiResponse `json:"function_response"`
}

type geminiCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type geminiResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type geminiToolGroup struct {
	FunctionDeclarations      []geminiDecl `json:"functionDeclarations"`
	FunctionDeclarationsSnake []geminiDecl `json:"function_declarations"`
}

type geminiDecl struct {
	Name                 string          `json:"name"`
	Parameters           json.RawMessage `json:"parameters"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
}

func decodeGemini(body []byte, model string, stream bool) (*call, *llm.Error) {
	var req geminiRequest
	if err := decodeBody(body, &req, llm.APIGemini); err != nil {
		return nil, err
	}
	if len(req.Contents) == 0 {
		return nil, badRequest("* GenerateContentRequest.contents: contents is not specified")
	}
	c := &call{api: llm.APIGemini, model: model, stream: stream}
	sys := req.SystemInstruction
	if sys == nil {
		sys = req.SystemSnake
	}
	if sys != nil {
		for _, p := range sys.Parts {
			c.promptBytes += len(p.Text)
		}
	}
	gc := req.GenerationConfig
	if gc == nil {
		gc = req.GenConfigSnake
	}
	if gc != nil {
		c.maxTokens = gc.MaxOutputTokens
		c.thinking = gc.ThinkingConfig != nil && gc.ThinkingConfig.IncludeThoughts
	}
	for i := range req.Contents {
		ct := &req.Contents[i]
		var text strings.Builder
		for _, p := range ct.Parts {
			c.promptBytes += len(p.Text)
			if fc := firstCall(p.FunctionCall, p.FunctionCallSnake); fc != nil {
				c.promptBytes += len(fc.Name) + len(fc.Args)
			}
			if fr := firstResponse(p.FunctionResponse, p.FunctionResponseSnake); fr != nil {
				c.promptBytes += len(fr.Name) + len(fr.Response)
			}
			if p.Text != "" {
				if text.Len() > 0 {
					text.WriteByte('\n')
				}
				text.WriteString(p.Text)
			}
		}
		if ct.Role != "model" && text.Len() > 0 {
			c.prompt = text.String()
		}
	}
	for _, p := range req.Contents[len(req.Contents)-1].Parts {
		if fr := firstResponse(p.FunctionResponse, p.FunctionResponseSnake); fr != nil {
			c.toolResult, c.hasToolResult = geminiResultText(fr.Response), true
			break
		}
	}
	if len(req.Tools) > 0 {
		c.promptBytes += len(req.Tools)
		var groups []geminiToolGroup
		if err := json.Unmarshal(req.Tools, &groups); err != nil {
			return nil, badRequest("Invalid JSON payload received. Invalid value at 'tools': %v.", err)
		}
		for _, g := range groups {
			decls := g.FunctionDeclarations
			if decls == nil {
				decls = g.FunctionDeclarationsSnake
			}
			for _, d := range decls {
				schema := d.Parameters
				if len(schema) == 0 {
					schema = d.ParametersJSONSchema
				}
				c.tools = append(c.tools, toolDef{name: d.Name, kind: "function", schema: schema})
			}
		}
	}
	return c, nil
}

func firstCall(a, b *geminiCall) *geminiCall {
	if a != nil {
		return a
	}
	return b
}

func firstResponse(a, b *geminiResponse) *geminiResponse {
	if a != nil {
		return a
	}
	return b
}

// geminiResultText is the text of a functionResponse.response: its
// "output", "result" or "content" string if it has one, else its JSON.
func geminiResultText(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"output", "result", "content"} {
			var s string
			if v, ok := obj[k]; ok && json.Unmarshal(v, &s) == nil {
				return s
			}
		}
	}
	return string(bytes.TrimSpace(raw))
}

// apiOf guesses which API a request to an unknown path meant, for the
// shape of the 404.
func apiOf(r *http.Request) llm.API {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1beta/"):
		return llm.APIGemini
	case r.Header.Get("anthropic-version") != "" || r.Header.Get("x-api-key") != "":
		return llm.APIAnthropicMessages
	}
	return llm.APIOpenAIChat
}
