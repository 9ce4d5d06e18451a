package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// wireBlock is a content block of an answer (DecodeResponse, and
// content_block_start events).
type wireBlock struct {
	Type      *string         `json:"type"`
	Text      *string         `json:"text"`
	ID        *string         `json:"id"`
	Name      *string         `json:"name"`
	Input     json.RawMessage `json:"input"`
	Thinking  *string         `json:"thinking"`
	Signature *string         `json:"signature"`
	Data      *string         `json:"data"`
}

// Content block types. translatableBlocks lists those with a canonical
// form; untranslatableBlocks those the API knows that have none.
const translatableBlocks = "text, image, tool_use, tool_result, thinking, redacted_thinking"

var untranslatableBlocks = map[string]bool{
	"document":                               true,
	"search_result":                          true,
	"server_tool_use":                        true,
	"web_search_tool_result":                 true,
	"web_fetch_tool_result":                  true,
	"code_execution_tool_result":             true,
	"bash_code_execution_tool_result":        true,
	"text_editor_code_execution_tool_result": true,
	"tool_search_tool_result":                true,
	"mcp_tool_use":                           true,
	"mcp_tool_result":                        true,
	"container_upload":                       true,
	"tool_reference":                         true,
}

// none marks an absent member in the node indices below.
const none int32 = -1

// decoder reads a parsed request; every error names its JSON path.
type decoder struct{ t *jtree }

// DecodeRequest implements wire.Inbound. It validates what the API
// validates (model, max_tokens >= 1, a non-empty messages array, roles,
// content shapes, block types) and refuses blocks and tools that have no
// canonical form; see the package doc.
//
// BenchmarkDecodeRequest: about 1 ms and 0.6 MB allocated for a 200 KB
// Claude Code body (amd64), one validating pass over the body plus the
// strings it keeps; decoding level by level with encoding/json took 6 ms.
func (Codec) DecodeRequest(body []byte) (*llm.Request, error) {
	t, err := parseTree(body)
	if err != nil {
		return nil, invalidf("", "request body is not valid JSON: %v", err)
	}
	d := decoder{t}
	if err := d.want(0, "", jObject); err != nil {
		return nil, err
	}
	model, maxTokens, messages, system, tools := none, none, none, none, none
	toolChoice, thinking, temperature, topP, stop, stream, metadata := none, none, none, none, none, none, none
	d.members(0, func(k []byte, v int32) {
		switch string(k) {
		case "model":
			model = v
		case "max_tokens":
			maxTokens = v
		case "messages":
			messages = v
		case "system":
			system = v
		case "tools":
			tools = v
		case "tool_choice":
			toolChoice = v
		case "thinking":
			thinking = v
		case "temperature":
			temperature = v
		case "top_p":
			topP = v
		case "stop_sequences":
			stop = v
		case "stream":
			stream = v
		case "metadata":
			metadata = v
		}
	})

	req := &llm.Request{}
	if d.null(model) {
		return nil, invalidf("model", "model: field required; name the model to call")
	}
	if req.Model, err = d.str(model, "model"); err != nil {
		return nil, err
	}
	if req.Model == "" {
		return nil, invalidf("model", "model: must not be empty; name the model to call")
	}
	if d.null(maxTokens) {
		return nil, invalidf("max_tokens", "max_tokens: field required; give the most tokens the answer may use")
	}
	if req.MaxTokens, err = d.int(maxTokens, "max_tokens"); err != nil {
		return nil, err
	}
	if req.MaxTokens < 1 {
		return nil, invalidf("max_tokens", "max_tokens: must be at least 1, got %d", req.MaxTokens)
	}

	if d.null(messages) {
		return nil, invalidf("messages", "messages: field required; send at least one message")
	}
	if err := d.want(messages, "messages", jArray); err != nil {
		return nil, err
	}
	i := 0
	d.t.each(messages, func(c int32) {
		if err != nil {
			return
		}
		var m llm.Message
		m, err = d.message(c, "messages."+strconv.Itoa(i))
		req.Messages = append(req.Messages, m)
		i++
	})
	if err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, invalidf("messages", "messages: at least one message is required")
	}

	if req.System, err = d.system(system); err != nil {
		return nil, err
	}
	if !d.null(tools) {
		if err := d.want(tools, "tools", jArray); err != nil {
			return nil, err
		}
		i := 0
		d.t.each(tools, func(c int32) {
			if err != nil {
				return
			}
			var tool llm.Tool
			tool, err = d.tool(c, "tools."+strconv.Itoa(i))
			req.Tools = append(req.Tools, tool)
			i++
		})
		if err != nil {
			return nil, err
		}
	}
	if req.ToolChoice, err = d.toolChoice(toolChoice); err != nil {
		return nil, err
	}
	if req.Thinking, err = d.thinking(thinking); err != nil {
		return nil, err
	}
	if req.Temperature, err = d.float(temperature, "temperature"); err != nil {
		return nil, err
	}
	if req.TopP, err = d.float(topP, "top_p"); err != nil {
		return nil, err
	}
	if !d.null(stop) {
		if err := d.want(stop, "stop_sequences", jArray); err != nil {
			return nil, err
		}
		req.Stop = []string{}
		i := 0
		d.t.each(stop, func(c int32) {
			if err != nil {
				return
			}
			var s string
			s, err = d.str(c, "stop_sequences."+strconv.Itoa(i))
			req.Stop = append(req.Stop, s)
			i++
		})
		if err != nil {
			return nil, err
		}
	}
	if !d.null(stream) {
		if req.Stream, err = d.bool(stream, "stream"); err != nil {
			return nil, err
		}
	}
	if !d.null(metadata) {
		if err := d.want(metadata, "metadata", jObject); err != nil {
			return nil, err
		}
		userID := d.member(metadata, "user_id")
		if !d.null(userID) {
			if req.User, err = d.str(userID, "metadata.user_id"); err != nil {
				return nil, err
			}
		}
	}
	return req, nil
}

func (d decoder) message(n int32, path string) (llm.Message, error) {
	if err := d.want(n, path, jObject); err != nil {
		return llm.Message{}, err
	}
	role, content := none, none
	d.members(n, func(k []byte, v int32) {
		switch string(k) {
		case "role":
			role = v
		case "content":
			content = v
		}
	})
	if d.null(role) {
		return llm.Message{}, invalidf(path+".role", "%s.role: field required; use user or assistant", path)
	}
	r, err := d.str(role, path+".role")
	if err != nil {
		return llm.Message{}, err
	}
	m := llm.Message{}
	switch r {
	case "user":
		m.Role = llm.RoleUser
	case "assistant":
		m.Role = llm.RoleAssistant
	default:
		return llm.Message{}, invalidf(path+".role", "%s.role: unknown role %q; expected user or assistant (system text goes in the top-level system field)", path, r)
	}
	if d.null(content) {
		return llm.Message{}, invalidf(path+".content", "%s.content: field required; send a string or an array of content blocks", path)
	}
	if m.Parts, err = d.content(content, path+".content", false); err != nil {
		return llm.Message{}, err
	}
	return m, nil
}

// content decodes a string or an array of blocks. inToolResult restricts
// the blocks to those a tool_result may hold.
func (d decoder) content(n int32, path string, inToolResult bool) ([]llm.Part, error) {
	switch d.t.nodes[n].kind {
	case jString:
		return []llm.Part{{Type: llm.PartText, Text: d.t.str(n)}}, nil
	case jArray:
		parts := []llm.Part{}
		var err error
		j := 0
		d.t.each(n, func(c int32) {
			if err != nil {
				return
			}
			var p llm.Part
			p, err = d.block(c, path+"."+strconv.Itoa(j), inToolResult)
			parts = append(parts, p)
			j++
		})
		return parts, err
	}
	return nil, invalidf(path, "%s: expected a string or an array of content blocks, got %s", path, kindName(d.t.nodes[n].kind))
}

// blockMembers are the members of the block types this codec translates.
type blockMembers struct {
	typ, text, source, id, name, input, toolUseID, content, isError, thinking, signature, data, cacheControl int32
}

func (d decoder) block(n int32, path string, inToolResult bool) (llm.Part, error) {
	if err := d.want(n, path, jObject); err != nil {
		return llm.Part{}, err
	}
	b := blockMembers{none, none, none, none, none, none, none, none, none, none, none, none, none}
	d.members(n, func(k []byte, v int32) {
		switch string(k) {
		case "type":
			b.typ = v
		case "text":
			b.text = v
		case "source":
			b.source = v
		case "id":
			b.id = v
		case "name":
			b.name = v
		case "input":
			b.input = v
		case "tool_use_id":
			b.toolUseID = v
		case "content":
			b.content = v
		case "is_error":
			b.isError = v
		case "thinking":
			b.thinking = v
		case "signature":
			b.signature = v
		case "data":
			b.data = v
		case "cache_control":
			b.cacheControl = v
		}
	})
	if d.null(b.typ) {
		return llm.Part{}, invalidf(path+".type", "%s.type: field required; expected one of %s", path, translatableBlocks)
	}
	typ, err := d.str(b.typ, path+".type")
	if err != nil {
		return llm.Part{}, err
	}
	if inToolResult {
		switch typ {
		case "text", "image":
		case "document", "search_result", "tool_reference":
			return llm.Part{}, untranslatable(path, "content block type", typ)
		default:
			return llm.Part{}, invalidf(path+".type", "%s.type: content block type %q is not allowed in tool_result content; expected text or image", path, typ)
		}
	} else if untranslatableBlocks[typ] {
		return llm.Part{}, untranslatable(path, "content block type", typ)
	}
	p := llm.Part{}
	if p.CacheControl, err = d.object(b.cacheControl, path+".cache_control"); err != nil {
		return llm.Part{}, err
	}
	switch typ {
	case "text":
		if d.null(b.text) {
			return llm.Part{}, invalidf(path+".text", "%s.text: field required in a text block", path)
		}
		p.Type = llm.PartText
		if p.Text, err = d.str(b.text, path+".text"); err != nil {
			return llm.Part{}, err
		}
	case "image":
		if err := d.image(b.source, path+".source", &p); err != nil {
			return llm.Part{}, err
		}
	case "tool_use":
		p.Type = llm.PartToolCall
		if p.ToolCallID, err = d.required(b.id, path+".id", "a tool_use block"); err != nil {
			return llm.Part{}, err
		}
		if p.ToolName, err = d.required(b.name, path+".name", "a tool_use block"); err != nil {
			return llm.Part{}, err
		}
		if d.null(b.input) {
			return llm.Part{}, invalidf(path+".input", "%s.input: field required in a tool_use block; send {} for no arguments", path)
		}
		if err := d.want(b.input, path+".input", jObject); err != nil {
			return llm.Part{}, err
		}
		p.Arguments = string(compact(d.t.raw(b.input)))
	case "tool_result":
		p.Type = llm.PartToolResult
		if p.ToolCallID, err = d.required(b.toolUseID, path+".tool_use_id", "a tool_result block"); err != nil {
			return llm.Part{}, err
		}
		if !d.null(b.isError) {
			if p.IsError, err = d.bool(b.isError, path+".is_error"); err != nil {
				return llm.Part{}, err
			}
		}
		if !d.null(b.content) {
			res, err := d.content(b.content, path+".content", true)
			if err != nil {
				return llm.Part{}, err
			}
			if len(res) > 0 && (len(res) > 1 || res[0].Type != llm.PartText || res[0].Text != "" || len(res[0].CacheControl) > 0) {
				p.Result = res
			}
		}
	case "thinking":
		p.Type = llm.PartThinking
		if d.null(b.thinking) {
			return llm.Part{}, invalidf(path+".thinking", "%s.thinking: field required in a thinking block", path)
		}
		if p.Text, err = d.str(b.thinking, path+".thinking"); err != nil {
			return llm.Part{}, err
		}
		if !d.null(b.signature) {
			if p.Signature, err = d.str(b.signature, path+".signature"); err != nil {
				return llm.Part{}, err
			}
		}
	case "redacted_thinking":
		p.Type = llm.PartRedactedThinking
		if d.null(b.data) {
			return llm.Part{}, invalidf(path+".data", "%s.data: field required in a redacted_thinking block", path)
		}
		if p.Data, err = d.str(b.data, path+".data"); err != nil {
			return llm.Part{}, err
		}
	default:
		return llm.Part{}, invalidf(path+".type", "%s.type: unknown content block type %q; expected one of %s", path, typ, translatableBlocks)
	}
	return p, nil
}

func (d decoder) image(n int32, path string, p *llm.Part) error {
	if d.null(n) {
		return invalidf(path, "%s: field required in an image block", path)
	}
	if err := d.want(n, path, jObject); err != nil {
		return err
	}
	typ, mediaType, data, url := none, none, none, none
	d.members(n, func(k []byte, v int32) {
		switch string(k) {
		case "type":
			typ = v
		case "media_type":
			mediaType = v
		case "data":
			data = v
		case "url":
			url = v
		}
	})
	if d.null(typ) {
		return invalidf(path+".type", "%s.type: field required; expected base64 or url", path)
	}
	st, err := d.str(typ, path+".type")
	if err != nil {
		return err
	}
	p.Type = llm.PartImage
	switch st {
	case "base64":
		if p.MediaType, err = d.required(mediaType, path+".media_type", "a base64 image"); err != nil {
			return err
		}
		if p.Data, err = d.required(data, path+".data", "a base64 image"); err != nil {
			return err
		}
	case "url":
		if p.URL, err = d.required(url, path+".url", "a url image"); err != nil {
			return err
		}
	case "file":
		return untranslatable(path, "image source type", "file")
	default:
		return invalidf(path+".type", "%s.type: unknown image source type %q; expected base64 or url", path, st)
	}
	return nil
}

func (d decoder) system(n int32) ([]llm.Part, error) {
	if d.null(n) {
		return nil, nil
	}
	switch d.t.nodes[n].kind {
	case jString:
		if s := d.t.str(n); s != "" {
			return []llm.Part{{Type: llm.PartText, Text: s}}, nil
		}
		return nil, nil
	case jArray:
		var parts []llm.Part
		var err error
		i := 0
		d.t.each(n, func(c int32) {
			if err != nil {
				return
			}
			path := "system." + strconv.Itoa(i)
			i++
			if err = d.want(c, path, jObject); err != nil {
				return
			}
			typ, text, cc := none, none, none
			d.members(c, func(k []byte, v int32) {
				switch string(k) {
				case "type":
					typ = v
				case "text":
					text = v
				case "cache_control":
					cc = v
				}
			})
			got := "none"
			if !d.null(typ) {
				var tt string
				if tt, err = d.str(typ, path+".type"); err != nil {
					return
				}
				got = strconv.Quote(tt)
			}
			if got != `"text"` {
				err = invalidf(path+".type", "%s.type: system blocks must be of type text, got %s", path, got)
				return
			}
			p := llm.Part{Type: llm.PartText}
			if d.null(text) {
				err = invalidf(path+".text", "%s.text: field required in a text block", path)
				return
			}
			if p.Text, err = d.str(text, path+".text"); err != nil {
				return
			}
			if p.CacheControl, err = d.object(cc, path+".cache_control"); err != nil {
				return
			}
			parts = append(parts, p)
		})
		return parts, err
	}
	return nil, invalidf("system", "system: expected a string or an array of text blocks, got %s", kindName(d.t.nodes[n].kind))
}

func (d decoder) tool(n int32, path string) (llm.Tool, error) {
	if err := d.want(n, path, jObject); err != nil {
		return llm.Tool{}, err
	}
	typ, name, desc, schema, cc := none, none, none, none, none
	d.members(n, func(k []byte, v int32) {
		switch string(k) {
		case "type":
			typ = v
		case "name":
			name = v
		case "description":
			desc = v
		case "input_schema":
			schema = v
		case "cache_control":
			cc = v
		}
	})
	if !d.null(typ) {
		tt, err := d.str(typ, path+".type")
		if err != nil {
			return llm.Tool{}, err
		}
		if tt != "custom" {
			return llm.Tool{}, untranslatable(path, "tool type", tt)
		}
	}
	var t llm.Tool
	var err error
	if t.Name, err = d.required(name, path+".name", "a tool"); err != nil {
		return llm.Tool{}, err
	}
	if !d.null(desc) {
		if t.Description, err = d.str(desc, path+".description"); err != nil {
			return llm.Tool{}, err
		}
	}
	if d.null(schema) {
		return llm.Tool{}, invalidf(path+".input_schema", "%s.input_schema: field required; give the JSON Schema of the tool's input", path)
	}
	if t.Parameters, err = d.object(schema, path+".input_schema"); err != nil {
		return llm.Tool{}, err
	}
	if t.CacheControl, err = d.object(cc, path+".cache_control"); err != nil {
		return llm.Tool{}, err
	}
	return t, nil
}

func (d decoder) toolChoice(n int32) (*llm.ToolChoice, error) {
	if d.null(n) {
		return nil, nil
	}
	if err := d.want(n, "tool_choice", jObject); err != nil {
		return nil, err
	}
	typ, name, parallel := d.member(n, "type"), d.member(n, "name"), d.member(n, "disable_parallel_tool_use")
	if d.null(typ) {
		return nil, invalidf("tool_choice.type", "tool_choice.type: field required; expected auto, any, tool or none")
	}
	tt, err := d.str(typ, "tool_choice.type")
	if err != nil {
		return nil, err
	}
	tc := &llm.ToolChoice{}
	switch tt {
	case "auto":
		tc.Mode = llm.ToolChoiceAuto
	case "any":
		tc.Mode = llm.ToolChoiceRequired
	case "none":
		tc.Mode = llm.ToolChoiceNone
	case "tool":
		tc.Mode = llm.ToolChoiceTool
		if tc.Name, err = d.required(name, "tool_choice.name", "tool_choice when type is tool"); err != nil {
			return nil, err
		}
	default:
		return nil, invalidf("tool_choice.type", "tool_choice.type: unknown type %q; expected auto, any, tool or none", tt)
	}
	if !d.null(parallel) {
		if tc.DisableParallel, err = d.bool(parallel, "tool_choice.disable_parallel_tool_use"); err != nil {
			return nil, err
		}
	}
	return tc, nil
}

func (d decoder) thinking(n int32) (*llm.Thinking, error) {
	if d.null(n) {
		return nil, nil
	}
	if err := d.want(n, "thinking", jObject); err != nil {
		return nil, err
	}
	typ, budget := d.member(n, "type"), d.member(n, "budget_tokens")
	if d.null(typ) {
		return nil, invalidf("thinking.type", "thinking.type: field required; expected enabled, adaptive or disabled")
	}
	tt, err := d.str(typ, "thinking.type")
	if err != nil {
		return nil, err
	}
	switch tt {
	case "enabled":
		if d.null(budget) {
			return nil, invalidf("thinking.budget_tokens", "thinking.budget_tokens: field required when thinking is enabled")
		}
		b, err := d.int(budget, "thinking.budget_tokens")
		if err != nil {
			return nil, err
		}
		if b < 1 {
			return nil, invalidf("thinking.budget_tokens", "thinking.budget_tokens: must be at least 1, got %d", b)
		}
		return &llm.Thinking{BudgetTokens: b}, nil
	case "adaptive":
		return &llm.Thinking{}, nil
	case "disabled":
		return nil, nil
	}
	return nil, invalidf("thinking.type", "thinking.type: unknown type %q; expected enabled, adaptive or disabled", tt)
}

func untranslatable(path, what, typ string) *llm.Error {
	return invalidf(path, "%s: %s %q cannot be translated to another provider's format; send this request to an Anthropic model, which receives it unchanged, or remove it", path, what, typ)
}

// members calls fn with the raw key (unescaped when it had escapes) and
// value of each member of object n, in order: a later duplicate overwrites
// what fn stored for an earlier one.
func (d decoder) members(n int32, fn func(k []byte, v int32)) {
	d.t.each(n, func(c int32) {
		nd := &d.t.nodes[c]
		k := d.t.src[nd.keyStart+1 : nd.keyEnd-1]
		if bytes.IndexByte(k, '\\') >= 0 {
			k = []byte(d.t.key(c))
		}
		fn(k, c)
	})
}

// member returns the last member key of object n, or none.
func (d decoder) member(n int32, key string) int32 {
	v := none
	d.members(n, func(k []byte, c int32) {
		if string(k) == key {
			v = c
		}
	})
	return v
}

// null reports an absent member or a JSON null, which the API treats alike.
func (d decoder) null(n int32) bool {
	return n == none || d.t.nodes[n].kind == jNull
}

func (d decoder) want(n int32, path string, k jkind) error {
	if got := d.t.nodes[n].kind; got != k {
		return invalidf(path, "%s: expected %s, got %s", label(path), kindName(k), kindName(got))
	}
	return nil
}

func (d decoder) str(n int32, path string) (string, error) {
	if err := d.want(n, path, jString); err != nil {
		return "", err
	}
	return d.t.str(n), nil
}

// required reads a string member that must be present and not empty.
func (d decoder) required(n int32, path, in string) (string, error) {
	if d.null(n) {
		return "", invalidf(path, "%s: field required in %s", path, in)
	}
	s, err := d.str(n, path)
	if err == nil && s == "" {
		return "", invalidf(path, "%s: must not be empty in %s", path, in)
	}
	return s, err
}

func (d decoder) bool(n int32, path string) (bool, error) {
	if err := d.want(n, path, jBool); err != nil {
		return false, err
	}
	return d.t.src[d.t.nodes[n].start] == 't', nil
}

func (d decoder) int(n int32, path string) (int, error) {
	if d.t.nodes[n].kind != jNumber {
		return 0, invalidf(path, "%s: expected an integer, got %s", path, kindName(d.t.nodes[n].kind))
	}
	s := string(d.t.raw(n))
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		if strings.ContainsAny(s, ".eE") {
			return 0, invalidf(path, "%s: expected an integer, got %s", path, s)
		}
		return 0, invalidf(path, "%s: %s is out of range", path, s)
	}
	return int(v), nil
}

func (d decoder) float(n int32, path string) (*float64, error) {
	if d.null(n) {
		return nil, nil
	}
	if err := d.want(n, path, jNumber); err != nil {
		return nil, err
	}
	v, err := strconv.ParseFloat(string(d.t.raw(n)), 64)
	if err != nil {
		return nil, invalidf(path, "%s: %s is out of range", path, d.t.raw(n))
	}
	return &v, nil
}

// object returns a compacted copy of an optional object member.
func (d decoder) object(n int32, path string) (json.RawMessage, error) {
	if d.null(n) {
		return nil, nil
	}
	if err := d.want(n, path, jObject); err != nil {
		return nil, err
	}
	return compact(d.t.raw(n)), nil
}

// compact returns a copy of the valid JSON raw without insignificant space.
func compact(raw []byte) json.RawMessage {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if json.Compact(&buf, raw) != nil {
		return bytes.Clone(raw)
	}
	return buf.Bytes()
}

func kindName(k jkind) string {
	switch k {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jArray:
		return "an array"
	}
	return "an object"
}

func label(path string) string {
	if path == "" {
		return "request body"
	}
	return path
}

// jsonError turns an encoding/json error into an ErrInvalidRequest naming
// the JSON path: prefix, then the member path the error reports.
func jsonError(prefix string, err error) *llm.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := prefix
		if te.Field != "" {
			if path != "" {
				path += "."
			}
			path += te.Field
		}
		return invalidf(path, "%s: expected %s, got %s", label(path), typeName(te.Type), valueName(te.Value))
	}
	return invalidf(prefix, "%s: %v", label(prefix), err)
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

func valueName(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case v == "array":
		return "an array"
	case v == "object":
		return "an object"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return v
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func rawOrNil(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	return raw
}
