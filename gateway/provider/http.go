package provider

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// HTTP is the common implementation most kinds are: a base URL, a path per
// wire format, and an authentication header. Kinds build one in their New.
type HTTP struct {
	name, kind string
	base       *url.URL
	apis       []llm.API
	headers    http.Header
	// Paths maps a wire format to its path under the base URL. A path may
	// hold {model}, replaced by the escaped model name, and {action},
	// replaced by Action(stream).
	paths map[llm.API]string
	// action picks Gemini's generateContent or streamGenerateContent.
	action func(stream bool) (string, string)
	// forward lists client headers passed through on passthrough calls.
	forward []string
	adjust  func(api llm.API, body []byte) ([]byte, error)
}

// HTTPConfig configures an HTTP provider.
type HTTPConfig struct {
	Config      Config
	DefaultBase string
	DefaultAPIs []llm.API
	Paths       map[llm.API]string
	// Auth sets the credential on the headers: Bearer, x-api-key, ...
	Auth func(h http.Header, key string)
	// KeyOptional allows an empty APIKey (local servers).
	KeyOptional bool
	// StaticHeaders are set before the configured Headers.
	StaticHeaders map[string]string
	// Forward lists client headers to pass through on passthrough calls.
	Forward []string
	// Action, if set, gives the {action} path segment and extra query for
	// a streaming or non-streaming call (Gemini).
	Action func(stream bool) (action, query string)
	// Adjust, if set, changes bodies the gateway translated (see
	// BodyAdjuster).
	Adjust func(api llm.API, body []byte) ([]byte, error)
}

// NewHTTP builds an HTTP provider. It resolves the credential now, so a
// missing environment variable fails at start-up, not on the first call.
func NewHTTP(hc HTTPConfig) (*HTTP, error) {
	cfg := hc.Config
	base := cfg.BaseURL
	if base == "" {
		base = hc.DefaultBase
	}
	if base == "" {
		return nil, fmt.Errorf("base_url is required for this kind")
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q must be an absolute http(s) URL", base)
	}
	key, err := cfg.APIKey.Resolve()
	if err != nil {
		return nil, fmt.Errorf("api_key: %w", err)
	}
	if key == "" && !hc.KeyOptional {
		return nil, fmt.Errorf("api_key is required (use \"env:NAME\" to read it from the environment)")
	}
	h := http.Header{}
	for k, v := range hc.StaticHeaders {
		h.Set(k, v)
	}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	if key != "" && hc.Auth != nil {
		hc.Auth(h, key)
	}
	apis := cfg.APIs
	if len(apis) == 0 {
		apis = hc.DefaultAPIs
	}
	for _, a := range apis {
		if _, ok := hc.Paths[a]; !ok {
			return nil, fmt.Errorf("api %q is not supported by kind %s", a, cfg.Kind)
		}
	}
	return &HTTP{
		name: cfg.Name, kind: cfg.Kind, base: u, apis: apis, headers: h,
		paths: hc.Paths, action: hc.Action, forward: hc.Forward, adjust: hc.Adjust,
	}, nil
}

// Name implements Provider.
func (p *HTTP) Name() string { return p.name }

// Kind implements Provider.
func (p *HTTP) Kind() string { return p.kind }

// APIs implements Provider.
func (p *HTTP) APIs() []llm.API { return p.apis }

// NewRequest implements Provider.
func (p *HTTP) NewRequest(ctx context.Context, r *Request) (*http.Request, error) {
	path, ok := p.paths[r.API]
	if !ok {
		return nil, fmt.Errorf("provider %s does not speak %s", p.name, r.API)
	}
	query := ""
	if strings.Contains(path, "{model}") {
		path = strings.Replace(path, "{model}", r.Model, 1)
	}
	if p.action != nil && strings.Contains(path, "{action}") {
		var action string
		action, query = p.action(r.Stream)
		path = strings.Replace(path, "{action}", action, 1)
	}
	u := *p.base
	u.Path += path
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header = p.headers.Clone()
	req.Header.Set("Content-Type", "application/json")
	if r.Stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if r.Passthrough && r.ClientHeader != nil {
		for _, name := range p.forward {
			if v := r.ClientHeader(name); v != "" {
				req.Header.Set(name, v)
			}
		}
	}
	return req, nil
}

// AdjustBody implements BodyAdjuster.
func (p *HTTP) AdjustBody(api llm.API, body []byte) ([]byte, error) {
	if p.adjust == nil {
		return body, nil
	}
	return p.adjust(api, body)
}

// Bearer sets "Authorization: Bearer key".
func Bearer(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) }
