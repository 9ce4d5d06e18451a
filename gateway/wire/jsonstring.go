package wire

import (
	"bytes"
	"encoding/json"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// The codecs write JSON by hand on their hot paths (stream events); these
// are the pieces they share.

// Marshal encodes v as compact JSON without HTML escaping (<, > and & are
// everywhere in prompts and tool schemas), as the model APIs themselves do.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// AppendString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped so the output is also valid JavaScript.
func AppendString(b []byte, s string) []byte { return jsonw.AppendString(b, s) }
