package openai

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSummaryAgreesWithDecode: for every golden answer, the summary has
// the id, model, stop reason and usage the full decode has.
func TestSummaryAgreesWithDecode(t *testing.T) {
	files, _ := filepath.Glob("testdata/outbound_response/*.json")
	if len(files) == 0 {
		t.Fatal("no golden answers")
	}
	extra := map[string]string{
		"escaped keys in content": `{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"say \"finish_reason\":\"length\" and \"tool_calls\":[{}]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}`,
		"tool calls spaced":       `{"id":"x","model":"m","choices":[{"message":{"tool_calls" : [ {"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}]}`,
		"groq usage":              `{"id":"x","model":"m","choices":[{"message":{"content":"hi"},"finish_reason":"length"}],"x_groq":{"usage":{"prompt_tokens":9,"completion_tokens":4}}}`,
	}
	bodies := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(f)] = b
	}
	for name, b := range extra {
		bodies[name] = []byte(b)
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			full, ferr := Chat{}.DecodeResponse(b)
			sum, serr := Chat{}.SummarizeResponse(b)
			if (ferr == nil) != (serr == nil) {
				t.Fatalf("decode err %v, summary err %v", ferr, serr)
			}
			if ferr != nil {
				return
			}
			if sum.ID != full.ID || sum.Model != full.Model || sum.StopReason != full.StopReason || sum.Usage != full.Usage {
				t.Fatalf("summary %+v\nfull    %+v", *sum, *full)
			}
		})
	}
}

func BenchmarkSummarizeResponse(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Simulated answer to the question: lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":24,"total_tokens":36}}`)
	b.Run("summary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Chat{}.SummarizeResponse(body)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Chat{}.DecodeResponse(body)
		}
	})
}
