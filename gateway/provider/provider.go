// Package provider declares what the gateway needs of an LLM provider and
// keeps the registry of provider kinds.
//
// A provider here is small on purpose: it knows which wire formats it
// accepts, where to send a request and how to authenticate it. Encoding,
// decoding, retries and accounting are the gateway's, shared by all. A new
// kind is one package that calls Register in init and one blank import in
// gateway/provider/all; nothing else changes.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/switchyard/switchyard/gateway/llm"
)

// Provider is one configured upstream, e.g. "openai" or "groq".
//
// Implementations are safe for concurrent use and do no I/O themselves:
// the gateway sends the request NewRequest builds.
type Provider interface {
	// Name is the configured instance name, unique in a gateway.
	Name() string
	// Kind is the registered kind that built it ("openai", "sim", ...);
	// price tables are keyed by it.
	Kind() string
	// APIs lists the wire formats this provider accepts, preferred first.
	// A request in one of them is forwarded without translation.
	APIs() []llm.API
	// NewRequest builds the upstream HTTP request for r.
	NewRequest(ctx context.Context, r *Request) (*http.Request, error)
}

// BodyAdjuster is implemented by providers whose API differs from the
// common form of its wire format (OpenAI's reasoning models refuse
// max_tokens in Chat Completions, wanting max_completion_tokens). The
// gateway calls AdjustBody only for bodies it encoded itself when
// translating, never for a client's own bytes.
type BodyAdjuster interface {
	AdjustBody(api llm.API, body []byte) ([]byte, error)
}

// Request is one upstream call, already encoded.
type Request struct {
	API    llm.API
	Model  string // the provider's model name
	Stream bool
	Body   []byte
	// Passthrough reports that Body is the client's own request (same
	// API in and out), so client headers that shape the API's behaviour
	// (anthropic-beta, say) may be forwarded. ClientHeader reads them; it
	// is nil when there is no client request.
	Passthrough  bool
	ClientHeader func(name string) string
}

// Config configures one provider instance. Kind-specific settings go in
// Options.
type Config struct {
	// Name is how routes and keys refer to this provider. Default: Kind.
	Name string `json:"name,omitempty"`
	// Kind picks the implementation: openai, anthropic, gemini,
	// openai-compatible, sim.
	Kind string `json:"kind"`
	// BaseURL overrides the kind's default endpoint.
	BaseURL string `json:"base_url,omitempty"`
	// APIKey is the provider credential: "env:NAME" reads the environment
	// variable NAME, anything else is used as is. It never appears in
	// events, logs or errors.
	APIKey Secret `json:"api_key,omitempty"`
	// Headers are added to every upstream request.
	Headers map[string]string `json:"headers,omitempty"`
	// Models lists the models this provider serves. A request for one of
	// them that no route claims goes here.
	Models []string `json:"models,omitempty"`
	// APIs overrides the kind's wire formats (openai-compatible servers
	// differ in what they implement).
	APIs []llm.API `json:"apis,omitempty"`
	// Options holds kind-specific settings.
	Options json.RawMessage `json:"options,omitempty"`
}

// Secret is a credential. Its String and MarshalJSON never show the value.
type Secret string

// Resolve returns the credential, reading the environment for "env:NAME".
func (s Secret) Resolve() (string, error) {
	if name, ok := strings.CutPrefix(string(s), "env:"); ok {
		v, set := os.LookupEnv(name)
		if !set || v == "" {
			return "", fmt.Errorf("environment variable %s is not set; export it or put the key in the config", name)
		}
		return v, nil
	}
	return string(s), nil
}

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(string(s), "env:") {
		return string(s)
	}
	return "[redacted]"
}

// MarshalJSON keeps env references and hides literal secrets.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Kind is a registered provider implementation.
type Kind struct {
	// ID is the kind's name in config ("openai").
	ID string
	// New builds a provider from its config. cfg.Name is set.
	New func(cfg Config) (Provider, error)
}

var (
	mu    sync.RWMutex
	kinds = map[string]Kind{}
)

// Register adds a kind. It panics on an empty or duplicate ID: it is meant
// for init functions.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if k.ID == "" || k.New == nil {
		panic("provider: Register needs an ID and a New function")
	}
	if _, dup := kinds[k.ID]; dup {
		panic(fmt.Sprintf("provider: kind %q registered twice", k.ID))
	}
	kinds[k.ID] = k
}

// Kinds lists the registered kind IDs, sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	ids := make([]string, 0, len(kinds))
	for id := range kinds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ErrUnknownKind is returned by New for a kind nobody registered.
var ErrUnknownKind = errors.New("unknown provider kind")

// New builds a provider from cfg.
func New(cfg Config) (Provider, error) {
	if cfg.Name == "" {
		cfg.Name = cfg.Kind
	}
	mu.RLock()
	k, ok := kinds[cfg.Kind]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("provider %q: %w %q; known kinds: %s", cfg.Name, ErrUnknownKind, cfg.Kind, strings.Join(Kinds(), ", "))
	}
	p, err := k.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("provider %q (kind %s): %w", cfg.Name, cfg.Kind, err)
	}
	return p, nil
}

// Accepts reports whether p takes api without translation.
func Accepts(p Provider, api llm.API) bool { return slices.Contains(p.APIs(), api) }
