package jsonscan

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// Skip must end a string where encoding/json does, whatever runs of
// backslashes and quotes it holds.
func TestSkipStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{`\`, `"`, `a`, `\"`, `\\`, "é", "\n", strings.Repeat("x", 70)}
	for range 5000 {
		var sb strings.Builder
		for range rng.IntN(12) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		b, err := json.Marshal(map[string]any{"k": sb.String(), "n": []string{sb.String(), "z"}})
		if err != nil {
			t.Fatal(err)
		}
		if end, err := Skip(b, 0); err != nil || end != len(b) {
			t.Fatalf("Skip(%s) = %d, %v; want %d", b, end, err, len(b))
		}
		q, _ := json.Marshal(sb.String())
		if end, err := Skip(q, 0); err != nil || end != len(q) {
			t.Fatalf("Skip(%s) = %d, %v; want %d", q, end, err, len(q))
		}
	}
	for _, bad := range []string{`"abc`, `"abc\"`, `"\\\"`, `{"a":"b`} {
		if _, err := Skip([]byte(bad), 0); err == nil {
			t.Errorf("Skip(%s) found an end", bad)
		}
	}
}

// BenchmarkSkipLongStrings skips a request of an agent's size: 40-70 KB
// of messages whose text runs to kilobytes, as code (a quote now and
// then) and as JSON held in a string (a quote every few bytes).
func BenchmarkSkipLongStrings(b *testing.B) {
	for name, line := range map[string]string{"code": "func main() { fmt.Println(x) }\n", "json-in-string": `{"a":"b","c":[1,2]}`} {
		b.Run(name, func(b *testing.B) {
			var msgs []map[string]string
			for i := range 20 {
				msgs = append(msgs, map[string]string{"role": "user", "content": strings.Repeat(line, 100+i)})
			}
			body, _ := json.Marshal(map[string]any{"model": "m", "messages": msgs})
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Skip(body, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Float takes JSON numbers and refuses what strconv would take beyond
// them.
func TestFloat(t *testing.T) {
	for v, want := range map[string]float64{"0": 0, "-1.5": -1.5, "1e3": 1000, "2.5E-1": 0.25, "0.000123": 0.000123} {
		var got float64
		if err := Float([]byte(v), &got); err != nil || got != want {
			t.Errorf("Float(%s) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, bad := range []string{"", "+1", ".5", "0x10", "1_000", "Inf", "NaN", "1e", "1.5a", `"1"`} {
		var got float64
		if err := Float([]byte(bad), &got); err == nil {
			t.Errorf("Float(%q) = %v, want an error", bad, got)
		}
	}
}

// BenchmarkFloat decodes a call's cost, as the cost and budget folds do
// for each of millions of calls.
func BenchmarkFloat(b *testing.B) {
	v := []byte("0.004235")
	var f float64
	for b.Loop() {
		if err := Float(v, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// Text gives a string's contents, in place when it can, decodes escapes,
// leaves dst on null and refuses what is not a string.
func TestText(t *testing.T) {
	for v, want := range map[string]string{`"abc"`: "abc", `"a\"b\u00e9"`: "a\"bé", `""`: ""} {
		var got []byte
		if err := Text([]byte(v), &got); err != nil || string(got) != want {
			t.Errorf("Text(%s) = %q, %v; want %q", v, got, err, want)
		}
	}
	got := []byte("kept")
	if err := Text([]byte("null"), &got); err != nil || string(got) != "kept" {
		t.Errorf("Text(null) = %q, %v; want dst left as it was", got, err)
	}
	for _, bad := range []string{"12", "true", `"abc`, "{}"} {
		var got []byte
		if err := Text([]byte(bad), &got); err == nil {
			t.Errorf("Text(%s) = %q, want an error", bad, got)
		}
	}
}
