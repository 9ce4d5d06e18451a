package pricing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// LoadLiteLLM reads a price file in the format of LiteLLM's
// model_prices_and_context_window.json: one JSON object mapping each model
// name ("gpt-5", "gemini/gemini-2.5-pro") to an object of fields. The
// "sample_spec" entry, which documents the format, is skipped, and so are
// fields this package does not use. Numbers may also be written as JSON
// strings ("3e-06"); null counts as absent.
//
// Fields read: input_cost_per_token, output_cost_per_token,
// cache_read_input_token_cost, cache_creation_input_token_cost,
// output_cost_per_reasoning_token, their _above_<N>k_tokens tiers,
// max_input_tokens, max_output_tokens, litellm_provider, mode,
// supports_function_calling, supports_reasoning, supports_prompt_caching
// and supports_vision. Other price variants (_batches, _priority, _flex,
// cache_creation_input_token_cost_above_1hr, per-image, per-audio) are
// ignored: the gateway prices standard text calls.
//
// Errors name the entry and the field that is wrong.
func LoadLiteLLM(r io.Reader) (*Table, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read price file: %w", err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("price file: want a JSON object of model name to prices: %w", err)
	}
	prices := make(map[string]Price, len(entries))
	// Sorted, so that the first error reported does not depend on map order.
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "sample_spec" {
			continue
		}
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("price file: an entry has an empty model name")
		}
		p, err := parseEntry(entries[name])
		if err != nil {
			return nil, fmt.Errorf("price file entry %q: %w", name, err)
		}
		prices[name] = p
	}
	return NewTable(prices), nil
}

// priceFields maps LiteLLM's rate fields to where they go in a Price or Tier.
var priceFields = map[string]func(p *Price, t *Tier, v float64){
	"input_cost_per_token": func(p *Price, t *Tier, v float64) {
		if t != nil {
			t.InputPerToken = v
		} else {
			p.InputPerToken = v
		}
	},
	"output_cost_per_token": func(p *Price, t *Tier, v float64) {
		if t != nil {
			t.OutputPerToken = v
		} else {
			p.OutputPerToken = v
		}
	},
	"cache_read_input_token_cost": func(p *Price, t *Tier, v float64) {
		if t != nil {
			t.CacheReadPerToken = v
		} else {
			p.CacheReadPerToken = v
		}
	},
	"cache_creation_input_token_cost": func(p *Price, t *Tier, v float64) {
		if t != nil {
			t.CacheWritePerToken = v
		} else {
			p.CacheWritePerToken = v
		}
	},
	"output_cost_per_reasoning_token": func(p *Price, t *Tier, v float64) {
		if t != nil {
			t.ReasoningPerToken = v
		} else {
			p.ReasoningPerToken = v
		}
	},
}

func parseEntry(raw json.RawMessage) (Price, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Price{}, fmt.Errorf("want a JSON object of fields, got %s", abbreviate(raw))
	}
	var p Price
	tiers := map[int]*Tier{}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names) // the first error reported must not depend on map order
	for _, name := range names {
		v := fields[name]
		base, above, tiered := tierField(name)
		set, known := priceFields[base]
		if !known {
			continue
		}
		f, ok, err := number(v)
		if err != nil {
			return Price{}, fmt.Errorf("field %q: %w", name, err)
		}
		if !ok {
			continue
		}
		if f < 0 {
			return Price{}, fmt.Errorf("field %q: price %v is negative", name, f)
		}
		if !tiered {
			set(&p, nil, f)
			continue
		}
		t := tiers[above]
		if t == nil {
			t = &Tier{AboveTokens: above}
			tiers[above] = t
		}
		set(nil, t, f)
	}
	for _, t := range tiers {
		p.Tiers = append(p.Tiers, *t)
	}
	sort.Slice(p.Tiers, func(i, j int) bool { return p.Tiers[i].AboveTokens < p.Tiers[j].AboveTokens })

	var err error
	if p.MaxInputTokens, err = intField(fields, "max_input_tokens"); err != nil {
		return Price{}, err
	}
	if p.MaxOutputTokens, err = intField(fields, "max_output_tokens"); err != nil {
		return Price{}, err
	}
	if p.Provider, err = stringField(fields, "litellm_provider"); err != nil {
		return Price{}, err
	}
	if p.Mode, err = stringField(fields, "mode"); err != nil {
		return Price{}, err
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"supports_function_calling", &p.SupportsTools},
		{"supports_prompt_caching", &p.SupportsPromptCaching},
		{"supports_reasoning", &p.SupportsReasoning},
		{"supports_vision", &p.SupportsVision},
	} {
		if *b.dst, err = boolField(fields, b.name); err != nil {
			return Price{}, err
		}
	}
	return p, nil
}

// tierField splits "input_cost_per_token_above_200k_tokens" into
// ("input_cost_per_token", 200000, true). Other names come back unchanged.
func tierField(name string) (string, int, bool) {
	rest, ok := strings.CutSuffix(name, "k_tokens")
	if !ok {
		return name, 0, false
	}
	i := strings.LastIndex(rest, "_above_")
	if i < 0 {
		return name, 0, false
	}
	n, err := strconv.Atoi(rest[i+len("_above_"):])
	if err != nil || n <= 0 || n > math.MaxInt32/1000 {
		return name, 0, false
	}
	return rest[:i], n * 1000, true
}

// number parses a JSON number, a string holding one, or null (ok false).
func number(raw json.RawMessage) (f float64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, false, fmt.Errorf("want a number, got %s", abbreviate(raw))
		}
		text = strings.TrimSpace(text)
	}
	f, err = strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("want a number, got %s", abbreviate(raw))
	}
	return f, true, nil
}

func intField(fields map[string]json.RawMessage, name string) (int, error) {
	f, ok, err := number(fields[name])
	if err != nil {
		return 0, fmt.Errorf("field %q: %w", name, err)
	}
	if !ok {
		return 0, nil
	}
	if f < 0 || f != math.Trunc(f) || f > math.MaxInt32*1024 {
		return 0, fmt.Errorf("field %q: want a whole number of tokens, got %v", name, f)
	}
	return int(f), nil
}

func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw := bytes.TrimSpace(fields[name])
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %q: want a string, got %s", name, abbreviate(raw))
	}
	return s, nil
}

func boolField(fields map[string]json.RawMessage, name string) (bool, error) {
	raw := bytes.TrimSpace(fields[name])
	switch string(raw) {
	case "", "null", "false", `"false"`:
		return false, nil
	case "true", `"true"`:
		return true, nil
	}
	return false, fmt.Errorf("field %q: want true or false, got %s", name, abbreviate(raw))
}

func abbreviate(raw []byte) string {
	const limit = 40
	if len(raw) > limit {
		return string(raw[:limit]) + "..."
	}
	return string(raw)
}
