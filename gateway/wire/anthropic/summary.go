package anthropic

import (
	"bytes"
	"encoding/json"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/wire"
)

var _ wire.ResponseSummarizer = Codec{}

// SummarizeResponse implements wire.ResponseSummarizer: the id, model,
// stop reason and usage of a message, read without decoding its content
// blocks. Anything but a plain message (an error object) is decoded in
// full.
func (c Codec) SummarizeResponse(body []byte) (*llm.Response, error) {
	var id, model, typ, stop, stopSeq, usage []byte
	err := wire.TopLevelRaw(body, func(k []byte, s, e int) bool {
		switch string(k) {
		case "id":
			id = body[s:e]
		case "model":
			model = body[s:e]
		case "type":
			typ = body[s:e]
		case "stop_reason":
			stop = body[s:e]
		case "stop_sequence":
			stopSeq = body[s:e]
		case "usage":
			usage = body[s:e]
		}
		return true
	})
	if err != nil || !bytes.Equal(typ, []byte(`"message"`)) {
		return c.DecodeResponse(body)
	}
	resp := &llm.Response{}
	for _, f := range []struct {
		raw []byte
		dst *string
	}{{id, &resp.ID}, {model, &resp.Model}, {stopSeq, &resp.StopSequence}} {
		if len(f.raw) > 0 && f.raw[0] == '"' {
			_ = json.Unmarshal(f.raw, f.dst)
		}
	}
	if len(stop) > 0 && stop[0] == '"' {
		var s string
		_ = json.Unmarshal(stop, &s)
		resp.StopReason = stopReasonIn(s)
	}
	if len(usage) > 0 && usage[0] == '{' {
		var u wireUsage
		if err := json.Unmarshal(usage, &u); err != nil {
			return nil, upstreamf("anthropic response usage: %v", err)
		}
		u.apply(&resp.Usage)
	}
	return resp, nil
}
