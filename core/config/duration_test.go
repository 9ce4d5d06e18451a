package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	var v struct {
		D Duration `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"1m30s"}`), &v); err != nil || v.D.D() != 90*time.Second {
		t.Fatalf("%v %v", v.D, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"1m30s"}` {
		t.Fatalf("marshal %s", b)
	}
	for in, want := range map[string]string{`{"d":30}`: "string with a unit", `{"d":"30"}`: "missing unit", `{"d":"soon"}`: "invalid duration"} {
		if err := json.Unmarshal([]byte(in), &v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}
