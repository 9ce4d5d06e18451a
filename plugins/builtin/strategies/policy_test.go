package main

import (
	"strings"
	"testing"
)

// The configuration errors say what is wrong and what to write instead.
// (Natively: the parser is plain Go; builtin_test.go loads one bad
// configuration through the host.)
func TestBadConfigs(t *testing.T) {
	for config, want := range map[string]string{
		`{"strategy": "smartest"}`:             `strategy "smartest" is unknown`,
		`{"rules": [{"when": {"task": "x"}}]}`: "rules[0]: give prefer",
		`{"rules": [{"pick": "random"}]}`:      `pick "random" is unknown`,
		`{"strategy": "weighted"}`:             "needs weights",
		`{"weights": {"openai": -1}}`:          "finite number, 0 or more",
		`{"rule": []}`:                         `unknown field "rule"`,
		`{"rules": [{"when": {"min_tokens": 9, "max_tokens": 2}, "pick": "default"}]}`: "max_tokens 2 is below min_tokens 9",
		`{"rules": [{"prefer": ["/x"]}]}`:                                              `"/x" is not "provider" or "provider/model"`,
		`not json`:                                                                     "config: invalid character",
	} {
		if _, err := parse([]byte(config)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %s: error %v, want one saying %q", config, err, want)
		}
	}
	for _, config := range []string{"", "{}", `{"strategy": "fastest"}`, `{"strategy": "weighted", "weights": {"a": 1}}`} {
		if _, err := parse([]byte(config)); err != nil {
			t.Errorf("config %q: %v", config, err)
		}
	}
}
