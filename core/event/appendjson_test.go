package event

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The hand-written encoders say what encoding/json says: for values with
// every field set (so a field added to a type and not to its encoder
// fails here), with none set, and with a random half set, the output
// decodes to the value it came from and to the same members as
// encoding/json's. Strings include what needs escaping.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range []any{ModelCallStarted{}, ModelCallCompleted{}, RoutingDecided{}, AnswerRecorded{}} {
		typ := reflect.TypeOf(v)
		for i := range 300 {
			p := reflect.New(typ)
			switch {
			case i == 0:
				fill(p.Elem(), rng, 1) // every field
			case i == 1: // none
			default:
				fill(p.Elem(), rng, 0.5)
			}
			val := p.Elem().Interface()
			got, err := val.(jsonAppender).appendJSON(nil)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			want, err := json.Marshal(val)
			if err != nil {
				t.Fatal(err)
			}
			back := reflect.New(typ)
			dec := json.NewDecoder(bytes.NewReader(got))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back.Interface()); err != nil {
				t.Fatalf("%s: %v in\n%s", typ, err, got)
			}
			// (Invalid UTF-8 comes back as U+FFFD, from either encoder.)
			if !bytes.Contains(want, []byte(`\ufffd`)) && !reflect.DeepEqual(back.Elem().Interface(), val) {
				t.Fatalf("%s: decodes to\n%+v\nnot\n%+v\nfrom\n%s", typ, back.Elem().Interface(), val, got)
			}
			var gm, wm map[string]any
			if json.Unmarshal(got, &gm) != nil || json.Unmarshal(want, &wm) != nil || !reflect.DeepEqual(gm, wm) {
				t.Fatalf("%s: members differ\n got %s\nwant %s", typ, got, want)
			}
			// Byte for byte, once HTML escaping is set aside.
			if h := htmlUnescape(want); !bytes.Equal(got, h) {
				t.Fatalf("%s: bytes differ\n got %s\nwant %s", typ, got, h)
			}
		}
	}
}

// A number JSON cannot hold is refused, as encoding/json refuses it.
func TestAppendJSONRefusesNaN(t *testing.T) {
	for _, v := range []jsonAppender{
		ModelCallCompleted{LatencyMS: math.NaN()},
		ModelCallStarted{ReservedUSD: math.Inf(1)},
		RoutingDecided{PluginFacts: &PluginFacts{Health: []TargetHealth{{ErrorRate: math.NaN()}}}},
	} {
		if _, err := v.appendJSON(nil); err == nil {
			t.Errorf("%T: no error for a NaN or Inf", v)
		}
		if _, err := New(map[string]string{"ModelCallCompleted": "model.call.completed", "ModelCallStarted": "model.call.started", "RoutingDecided": "routing.decided"}[reflect.TypeOf(v).Name()], v, Metadata{}); err == nil {
			t.Errorf("%T: New took a NaN or Inf", v)
		}
	}
}

func htmlUnescape(b []byte) []byte {
	r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	return []byte(r.Replace(string(b)))
}

var awkward = []string{"", "plain", `quote " and \ backslash`, "<tag> & amp", "line\nbreak\ttab", "\x01ctl", "ünïcödé ✓", "\u2028sep", "bad\xffutf8"}

// fill sets each field of v with probability p to a random non-zero value.
func fill(v reflect.Value, rng *rand.Rand, p float64) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Anonymous {
				fill(v.Field(i), rng, p)
			} else if rng.Float64() < p {
				set(v.Field(i), rng, p)
			}
		}
	default:
		set(v, rng, p)
	}
}

func set(v reflect.Value, rng *rand.Rand, p float64) {
	switch v.Kind() {
	case reflect.String:
		s := awkward[1+rng.IntN(len(awkward)-1)]
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) - 1<<39 | 1)
	case reflect.Uint64:
		v.SetUint(rng.Uint64() | 1)
	case reflect.Float64:
		f := []float64{rng.Float64(), -rng.Float64() * 1e4, 1e-9 * (1 + rng.Float64()), 3e22, 0.1, 123456789.123}[rng.IntN(6)]
		v.SetFloat(f)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + rng.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			set(k, rng, p)
			set(e, rng, p)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1+rng.IntN(3), 3)
		for i := range s.Len() {
			set(s.Index(i), rng, 1)
		}
		v.Set(s)
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		fill(e.Elem(), rng, p)
		v.Set(e)
	case reflect.Struct:
		fill(v, rng, p)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}
