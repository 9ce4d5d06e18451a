package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config configures a simulator. The zero value is usable: New fills in
// the defaults of DefaultConfig for every field left empty.
type Config struct {
	// Models are the models the simulator lists and knows the behaviour
	// of. Empty means the default models (see DefaultModels).
	Models []Model `json:"models,omitempty"`
	// StrictModels answers 404 (in the API's shape) for a model not in
	// Models. Otherwise an unknown model behaves like sim-small.
	StrictModels bool `json:"strict_models,omitempty"`
	// APIKeys, if not empty, are the keys a request must present (as
	// Authorization: Bearer, x-api-key, x-goog-api-key or ?key=), or get
	// 401 in the API's shape. Empty accepts any request.
	APIKeys []string `json:"api_keys,omitempty"`
	// MaxBodyBytes bounds a request body; a bigger one gets 413. Default
	// 32 MiB.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
	// RequestLogSize is how many requests GET /sim/requests keeps.
	// Default 1000.
	RequestLogSize int `json:"request_log_size,omitempty"`
	// Clock gives the timestamps written into answers. Default time.Now;
	// tests fix it to get byte-identical answers.
	Clock func() time.Time `json:"-"`
}

// Model is the behaviour of one simulated model.
type Model struct {
	// Name is the model id clients send.
	Name string `json:"name"`
	// Latency is the delay before the response headers.
	Latency Duration `json:"latency,omitempty"`
	// TTFT is the further delay before the first content chunk of a
	// stream (a non-streamed answer waits for it too).
	TTFT Duration `json:"ttft,omitempty"`
	// TokensPerSecond paces the content chunks after the first; 0 sends
	// them at once.
	TokensPerSecond float64 `json:"tokens_per_second,omitempty"`
	// OutputWords is the length of the default answer. Default 24.
	OutputWords int `json:"output_words,omitempty"`
	// CachedFraction is the share of the input reported as read from the
	// prompt cache, from 0 to 1.
	CachedFraction float64 `json:"cached_fraction,omitempty"`
	// ReasoningTokens are reported as reasoning usage; when the request
	// enables thinking, the answer also carries that many words of
	// thinking.
	ReasoningTokens int `json:"reasoning_tokens,omitempty"`
	// Fault is directive text applied to every call of this model before
	// the message's own directives, e.g. "fault=503 times=2"; a bare value
	// such as "429" means fault=429.
	Fault string `json:"fault,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("50ms"); a JSON number is read as nanoseconds.
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration %s: want a string such as \"50ms\" or a number of nanoseconds", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Default answer length, in words.
const defaultOutputWords = 24

// DefaultModels are the models a Config without Models gets: sim-small and
// sim-large answer at once, sim-slow waits 50ms before its headers and
// 50ms more before its first chunk, sim-stream streams 200 tokens a second
// after 20ms, and sim-reasoning reports 64 reasoning tokens and half its
// input as cached.
func DefaultModels() []Model {
	return []Model{
		{Name: "sim-small"},
		{Name: "sim-large"},
		{Name: "sim-slow", Latency: Duration(50 * time.Millisecond), TTFT: Duration(50 * time.Millisecond)},
		{Name: "sim-stream", TTFT: Duration(20 * time.Millisecond), TokensPerSecond: 200},
		{Name: "sim-reasoning", ReasoningTokens: 64, CachedFraction: 0.5},
	}
}

// DefaultConfig is a Config with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if len(c.Models) == 0 {
		c.Models = DefaultModels()
	} else {
		c.Models = append([]Model(nil), c.Models...)
	}
	for i := range c.Models {
		if c.Models[i].OutputWords == 0 {
			c.Models[i].OutputWords = defaultOutputWords
		}
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.RequestLogSize == 0 {
		c.RequestLogSize = 1000
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, m := range c.Models {
		where := fmt.Sprintf("models[%d] %q", i, m.Name)
		switch {
		case strings.TrimSpace(m.Name) == "":
			errs = append(errs, fmt.Errorf("models[%d]: name is empty; give each model a name", i))
		case seen[m.Name]:
			errs = append(errs, fmt.Errorf("%s: name appears twice; model names must be unique", where))
		}
		seen[m.Name] = true
		if m.Latency < 0 || m.TTFT < 0 {
			errs = append(errs, fmt.Errorf("%s: latency and ttft must not be negative", where))
		}
		if m.TokensPerSecond < 0 {
			errs = append(errs, fmt.Errorf("%s: tokens_per_second must not be negative; 0 means instant", where))
		}
		if m.OutputWords < 0 || m.ReasoningTokens < 0 {
			errs = append(errs, fmt.Errorf("%s: output_words and reasoning_tokens must not be negative", where))
		}
		if m.CachedFraction < 0 || m.CachedFraction > 1 {
			errs = append(errs, fmt.Errorf("%s: cached_fraction %v is outside [0, 1]", where, m.CachedFraction))
		}
		if m.Fault != "" {
			if _, err := parseDirectiveBody(modelFault(m.Fault)); err != nil {
				errs = append(errs, fmt.Errorf("%s: fault: %w", where, err))
			}
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("max_body_bytes must not be negative"))
	}
	if c.RequestLogSize < 0 {
		errs = append(errs, errors.New("request_log_size must not be negative"))
	}
	for i, k := range c.APIKeys {
		if k == "" {
			errs = append(errs, fmt.Errorf("api_keys[%d] is empty; remove it", i))
		}
	}
	return errors.Join(errs...)
}

// modelFault turns a Model.Fault shorthand ("429") into directive text.
func modelFault(s string) string {
	if !strings.Contains(s, "=") {
		return "fault=" + strings.TrimSpace(s)
	}
	return s
}
