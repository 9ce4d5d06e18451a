package anthropic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
)

func TestSummaryAgreesWithDecode(t *testing.T) {
	files, _ := filepath.Glob("testdata/outbound_response/*.json")
	if len(files) == 0 {
		t.Fatal("no golden answers")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			full, ferr := Codec{}.DecodeResponse(b)
			sum, serr := Codec{}.SummarizeResponse(b)
			if (ferr == nil) != (serr == nil) {
				t.Fatalf("decode err %v, summary err %v", ferr, serr)
			}
			if ferr != nil {
				return
			}
			if sum.ID != full.ID || sum.Model != full.Model || sum.StopReason != full.StopReason || sum.StopSequence != full.StopSequence || sum.Usage != full.Usage {
				t.Fatalf("summary %+v\nfull    %+v", *sum, *full)
			}
		})
	}
}

// A signature on a text part (Gemini signs those) has no place in a
// Messages stream: only thinking blocks carry one.
func TestStreamDropsSignaturesOutsideThinking(t *testing.T) {
	var buf bytes.Buffer
	enc := Codec{}.NewStreamEncoder(&buf)
	for _, ev := range []llm.StreamEvent{
		{Type: llm.EventStart, ID: "msg_1", Model: "m"},
		{Type: llm.EventPartStart, Index: 0, Part: &llm.Part{Type: llm.PartText}},
		{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaText, Delta: "hi"},
		{Type: llm.EventDelta, Index: 0, Kind: llm.DeltaSignature, Delta: "c2ln"},
		{Type: llm.EventPartStop, Index: 0},
		{Type: llm.EventPartStart, Index: 1, Part: &llm.Part{Type: llm.PartThinking}},
		{Type: llm.EventDelta, Index: 1, Kind: llm.DeltaThinking, Delta: "hmm"},
		{Type: llm.EventDelta, Index: 1, Kind: llm.DeltaSignature, Delta: "dGhpbms="},
		{Type: llm.EventPartStop, Index: 1},
		{Type: llm.EventStop, StopReason: llm.StopEndTurn},
	} {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if strings.Contains(out, "c2ln") || !strings.Contains(out, `"signature":"dGhpbms="`) {
		t.Fatalf("signatures: %s", out)
	}
}
