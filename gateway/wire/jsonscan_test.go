package wire

import (
	"encoding/json"
	"testing"
)

func TestSetString(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"replace", `{"model":"a","messages":[{"x":"}"}],"n":1}`, `{"model":"b","messages":[{"x":"}"}],"n":1}`},
		{"replace last, spaces kept", "{ \"n\" : 1 ,\n \"model\" : \"a\" }", "{ \"n\" : 1 ,\n \"model\" : \"b\" }"},
		{"nested model untouched", `{"m":{"model":"x"},"model":null}`, `{"m":{"model":"x"},"model":"b"}`},
		{"added", `{"n":1}`, `{"model":"b","n":1}`},
		{"added to empty", `{ }`, `{"model":"b" }`},
		{"escaped strings skipped", `{"s":"a\"model\":","model":"a"}`, `{"s":"a\"model\":","model":"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SetString([]byte(tc.in), "model", "b")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("result is not valid JSON: %s", got)
			}
		})
	}
}

func TestTopLevelRejectsMalformed(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `{"a":1}{}`, `{"a":[1,2}`, `{"a":}`} {
		if err := TopLevel([]byte(in), func(string, int, int) bool { return true }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if _, err := SetString([]byte(`{"model":"a","model":"b"}`), "model", "c"); err == nil {
		t.Error("duplicate model member: no error")
	}
}

func FuzzSetString(f *testing.F) {
	f.Add([]byte(`{"model":"a","x":[1,{"y":"z"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		var obj map[string]any
		if json.Unmarshal(in, &obj) != nil {
			return // not an object
		}
		out, err := SetString(in, "model", "m")
		if err != nil {
			t.Fatalf("valid object %q: %v", in, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("result %q invalid: %v", out, err)
		}
		if got["model"] != "m" {
			t.Fatalf("model = %v in %q", got["model"], out)
		}
	})
}
