package budget

import (
	"encoding/json"
	"testing"
)

// jsonCall is callEvent as encoding/json reads it.
type jsonCall struct {
	CallID       string  `json:"call_id"`
	KeyID        string  `json:"key_id"`
	CostUSD      float64 `json:"cost_usd"`
	InputTokens  int     `json:"gen_ai.usage.input_tokens"`
	OutputTokens int     `json:"gen_ai.usage.output_tokens"`
}

func (c *callEvent) asJSON() jsonCall {
	return jsonCall{CallID: string(c.CallID), KeyID: string(c.KeyID), CostUSD: c.CostUSD, InputTokens: c.InputTokens, OutputTokens: c.OutputTokens}
}

// decode reads what encoding/json reads from the events budgets see, and
// refuses what it refuses.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, data := range []string{
		`{"call_id":"c1","key_id":"k1","api":"openai.chat","gen_ai.usage.input_tokens":1000,"gen_ai.usage.output_tokens":100,"cost_usd":0.0123,"tags":{"a":"b","c":[1,2,{"d":"}"}]}}`,
		`{"cost_usd":1e-3,"call_id":"c\u00e9\"2","key_id":null,"gen_ai.usage.input_tokens":0}`,
		`{ "call_id" : "dup", "call_id" : "last", "cost_usd" : -0.5 , "message":"a, b} c" }`,
		`{"call_id":"ünïcode","gen_ai.usage.output_tokens":-3,"cost_usd":12345678.9E2}`,
		`{}`,
		`{"call_id":"c","key_id":"k","gen_ai.usage.input_tokens":1,"gen_ai.usage.output_tokens":2,"cost_usd":0.5,"input_cost_usd":0.4,"latency_ms":3,"attempts":1}`,
	} {
		var want jsonCall
		var got callEvent
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", data, err)
		}
		if err := got.decode([]byte(data)); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got.asJSON() != want {
			t.Errorf("%s: decoded %+v, encoding/json %+v", data, got.asJSON(), want)
		}
	}
	// Past its five members it reads nothing: a repeat there does not
	// count, and a broken tail is not seen.
	for _, data := range []string{
		`{"call_id":"c","key_id":"k","gen_ai.usage.input_tokens":1,"gen_ai.usage.output_tokens":2,"cost_usd":0.5,"cost_usd":9}`,
		`{"call_id":"c","key_id":"k","gen_ai.usage.input_tokens":1,"gen_ai.usage.output_tokens":2,"cost_usd":0.5,"latency_ms":`,
	} {
		var got callEvent
		if err := got.decode([]byte(data)); err != nil || got.CostUSD != 0.5 || string(got.KeyID) != "k" {
			t.Errorf("%s: decoded %+v, %v; want the first five members read and the rest not", data, got.asJSON(), err)
		}
	}
	for _, data := range []string{
		`{"call_id":"c1","cost_usd":"12"}`,
		`{"cost_usd":0x1p-2}`,
		`{"cost_usd":Inf}`,
		`{"gen_ai.usage.input_tokens":1.5}`,
		`{"gen_ai.usage.input_tokens":99999999999999999999}`,
		`{"call_id":12}`,
		`{"call_id":"c1"`,
		`[]`,
	} {
		var want jsonCall
		var got callEvent
		if json.Unmarshal([]byte(data), &want) == nil {
			t.Fatalf("%s: encoding/json takes it; the case is wrong", data)
		}
		if err := got.decode([]byte(data)); err == nil {
			t.Errorf("%s: decoded %+v, want an error as encoding/json gives", data, got.asJSON())
		}
	}
}
