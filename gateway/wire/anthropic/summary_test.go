package anthropic

import (
	"os"
	"path/filepath"
	"testing"
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
