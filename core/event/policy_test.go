package event

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// policy.verdict's encoder says what encoding/json says, as the others
// in appendjson.go do (see TestAppendJSONMatchesEncodingJSON).
func TestPolicyVerdictAppendJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		var v PolicyVerdict
		switch {
		case i == 0:
			fill(reflect.ValueOf(&v).Elem(), rng, 1)
		case i == 1:
		default:
			fill(reflect.ValueOf(&v).Elem(), rng, 0.5)
		}
		got, err := v.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back PolicyVerdict
		dec := json.NewDecoder(bytes.NewReader(got))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("%v in\n%s", err, got)
		}
		if !bytes.Contains(want, []byte(`\ufffd`)) && !reflect.DeepEqual(back, v) {
			t.Fatalf("decodes to\n%+v\nnot\n%+v\nfrom\n%s", back, v, got)
		}
		if h := htmlUnescape(want); !bytes.Equal(got, h) {
			t.Fatalf("bytes differ\n got %s\nwant %s", got, h)
		}
	}
	if _, err := New("policy.verdict", PolicyVerdict{Input: &PolicyInput{CostUSD: math.NaN()}}, Metadata{}); err == nil {
		t.Error("New took a NaN")
	}
}

// A verdict of schema 1 (no input) still decodes; one of a schema newer
// than this build's is kept raw.
func TestPolicyVerdictSchemas(t *testing.T) {
	v1 := &Event{Type: "policy.verdict", Data: json.RawMessage(`{"policy":"p","digest":"sha256:ab","hook":"before_model_call","decision":"allow","duration_ms":0.1}`), Metadata: Metadata{Schema: 1}}
	d, err := Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if pv, ok := d.(*PolicyVerdict); !ok || pv.Policy != "p" || pv.Input != nil {
		t.Fatalf("schema 1 decodes to %#v", d)
	}
	p, err := New("policy.verdict", PolicyVerdict{Policy: "p", Input: &PolicyInput{Model: "m"}}, Metadata{})
	if err != nil || p.Metadata.Schema != 2 {
		t.Fatalf("New: schema %d, %v", p.Metadata.Schema, err)
	}
	v3 := &Event{Type: "policy.verdict", Data: json.RawMessage(`{}`), Metadata: Metadata{Schema: 3}}
	if d, err := Decode(v3); err != nil {
		t.Fatal(err)
	} else if _, raw := d.(*Raw); !raw {
		t.Fatalf("schema 3 decodes to %T, not Raw", d)
	}
}
