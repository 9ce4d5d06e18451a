// Package wire declares the codecs that translate between a model API's
// wire format and the canonical types of package llm, and a registry of
// them keyed by API. Each format is one package (wire/openai,
// wire/anthropic, wire/gemini) that registers its codecs in init; the
// gateway looks them up by API and never switches on a format.
//
// An Inbound codec serves clients: it decodes their requests and encodes
// answers and errors in their API's shape. An Outbound codec talks to
// providers: it encodes requests in the provider's format and decodes its
// answers. A format may be both.
package wire

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

// Peek is what the gateway needs of a request before deciding anything:
// read cheaply, without decoding the whole body.
type Peek struct {
	Model  string
	Stream bool
	// User is the client-declared end user (OpenAI "user", Anthropic
	// metadata.user_id), empty if none.
	User string
	// HasTools reports a non-empty tools list.
	HasTools bool
}

// Inbound is a client-facing API.
//
// Implementations are stateless and safe for concurrent use. Errors from
// DecodeRequest and Peek are *llm.Error of kind ErrInvalidRequest whose
// message says which field is wrong and what was expected.
type Inbound interface {
	API() llm.API
	// Peek reads the model and stream flag.
	Peek(body []byte) (Peek, error)
	// DecodeRequest decodes a full request into canonical form.
	DecodeRequest(body []byte) (*llm.Request, error)
	// EncodeResponse encodes a complete answer as this API's response body.
	EncodeResponse(resp *llm.Response) ([]byte, error)
	// NewStreamEncoder returns an encoder that writes the canonical events
	// of one answer to w as this API's server-sent events.
	NewStreamEncoder(w io.Writer) StreamEncoder
	// EncodeError encodes e as this API's error body; e.Status is the
	// status to send with it.
	EncodeError(e *llm.Error) []byte
	// RewriteModel returns body with its model field set to model, for
	// forwarding a request unchanged to a provider that speaks this API.
	// The body is otherwise kept byte for byte where possible.
	RewriteModel(body []byte, model string) ([]byte, error)
}

// StreamEncoder writes one answer's canonical events as server-sent
// events. It is not safe for concurrent use.
type StreamEncoder interface {
	// Encode writes the events that ev maps to (possibly none). After an
	// EventStop it writes the stream's terminator, if the API has one
	// ("data: [DONE]"). After an EventError it writes the API's error
	// event and no terminator: a client must never read a failed stream
	// as a complete one.
	Encode(ev llm.StreamEvent) error
}

// Outbound is a provider-facing format.
//
// Implementations are stateless and safe for concurrent use.
type Outbound interface {
	API() llm.API
	// EncodeRequest encodes req for a provider. req.Model is already the
	// provider's model name.
	EncodeRequest(req *llm.Request) ([]byte, error)
	// DecodeResponse decodes a complete (non-streamed) answer.
	DecodeResponse(body []byte) (*llm.Response, error)
	// NewStreamDecoder returns a decoder for one streamed answer.
	NewStreamDecoder() StreamDecoder
	// DecodeError turns an upstream error answer into an *llm.Error with
	// the provider's message; Kind comes from the status and, where the
	// body says more (Anthropic's overloaded_error), from the body.
	DecodeError(status int, body []byte) *llm.Error
}

// StreamDecoder turns a provider's server-sent events into canonical
// events. It is not safe for concurrent use.
type StreamDecoder interface {
	// Decode appends the canonical events that ev maps to onto out and
	// returns it. An event that announces an error in the stream is
	// returned as an EventError with the provider's message. Done
	// reports whether the provider has signalled the end of the answer.
	Decode(ev sse.Event, out []llm.StreamEvent) ([]llm.StreamEvent, error)
	// Done reports whether the stream has reached its normal end (a stop
	// event was produced). A stream whose connection ends before Done is
	// cut.
	Done() bool
}

var (
	mu       sync.RWMutex
	inbound  = map[llm.API]Inbound{}
	outbound = map[llm.API]Outbound{}
)

// RegisterInbound registers c under c.API(). It panics on a duplicate: it
// is meant for init functions.
func RegisterInbound(c Inbound) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := inbound[c.API()]; dup {
		panic(fmt.Sprintf("wire: inbound codec %q registered twice", c.API()))
	}
	inbound[c.API()] = c
}

// RegisterOutbound registers c under c.API(). It panics on a duplicate.
func RegisterOutbound(c Outbound) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := outbound[c.API()]; dup {
		panic(fmt.Sprintf("wire: outbound codec %q registered twice", c.API()))
	}
	outbound[c.API()] = c
}

// InboundFor returns the inbound codec of api.
func InboundFor(api llm.API) (Inbound, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := inbound[api]
	return c, ok
}

// OutboundFor returns the outbound codec of api.
func OutboundFor(api llm.API) (Outbound, bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok := outbound[api]
	return c, ok
}

// OutboundAPIs lists the registered outbound formats, sorted.
func OutboundAPIs() []llm.API {
	mu.RLock()
	defer mu.RUnlock()
	apis := make([]llm.API, 0, len(outbound))
	for a := range outbound {
		apis = append(apis, a)
	}
	sort.Slice(apis, func(i, j int) bool { return apis[i] < apis[j] })
	return apis
}

// StreamFinisher is implemented by stream decoders that can complete a
// stream whose connection ended without the format's end marker but after
// its finish signal (OpenAI-compatible servers that omit "data: [DONE]").
// The gateway calls Finish when the upstream body ends before Done; if
// Done is true afterwards, the stream is complete, otherwise it was cut.
type StreamFinisher interface {
	Finish(out []llm.StreamEvent) []llm.StreamEvent
}

// RequestStreamEncoder is implemented by inbound codecs whose stream
// depends on the request (OpenAI Chat sends its usage chunk only when the
// client asked with stream_options.include_usage).
type RequestStreamEncoder interface {
	NewStreamEncoderFor(w io.Writer, body []byte) StreamEncoder
}

// RequestBinder is implemented by inbound codecs whose answers depend on
// the decoded request (the Responses API answers a call to a custom tool
// as a custom_tool_call, which only the request's tool list can tell). The
// gateway encodes a translated answer with ForRequest(req).
type RequestBinder interface {
	ForRequest(req *llm.Request) Inbound
}

// ResponseSummarizer is implemented by outbound codecs that can read a
// complete answer's id, model, stop reason and usage without decoding its
// content. The gateway uses it for answers it forwards unchanged, where it
// needs only the accounting. The returned Response has no Parts.
type ResponseSummarizer interface {
	SummarizeResponse(body []byte) (*llm.Response, error)
}
