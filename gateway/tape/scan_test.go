package tape

import (
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/internal/jsonscan"
)

// The walk's own string handling says what encoding/json says: where a
// string ends (escaped quotes, backslashes before the closing quote) and
// what it holds (every escape, surrogate pairs, lone surrogates and
// invalid UTF-8 as U+FFFD).
func TestStringsAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		`""`, `"plain"`, `"a \"quoted\" word"`, `"ends in a backslash \\"`, `"two \\\\"`,
		`"tab\tnew\nline\r\b\f \/ \\ \u00e9 \u2028"`, `"pair \ud83d\ude00 end"`, `"lone \ud83d end"`, `"lone \ude00"`,
		`"ünïcödé ✓"`, "\"bad \xff utf8\"", `"\u0000"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, err := appendUnescaped(nil, []byte(raw))
		if err != nil || string(got) != want {
			t.Errorf("%s: unescaped %q (%v), want %q", raw, got, err, want)
		}
		body := `{"k":` + raw + `,"after":[1,{"x":"}"}]}`
		var keys []string
		if err := members([]byte(body), func(k, v []byte) error {
			keys = append(keys, string(k))
			if string(k) == "k" && string(v) != raw {
				t.Errorf("%s: value %s", raw, v)
			}
			return nil
		}); err != nil || len(keys) != 2 {
			t.Errorf("%s: members %v %v", raw, keys, err)
		}
	}
	for _, bad := range []string{`"\x"`, `"\u12"`, `"unterminated`} {
		if _, err := appendUnescaped(nil, []byte(bad)); err == nil {
			if _, err := jsonscan.Skip([]byte(bad), 0); err == nil {
				t.Errorf("%s: taken", bad)
			}
		}
	}
}
