package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/gateway/llm"
	"github.com/switchyard/switchyard/gateway/sse"
)

func addRequestSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "inbound_request", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(wrap(`[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"u"}}]}]`)))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document"}]}],"tools":[{"type":"web_search_20250305"}]}`))
}

// FuzzDecodeRequest: DecodeRequest never panics, fails only with an
// invalid_request *llm.Error, and what it accepts EncodeRequest encodes
// (unless nothing but empty text is left) into a body DecodeRequest reads
// back. Peek never panics either.
func FuzzDecodeRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		c := Codec{}
		_, _ = c.Peek(body)
		req, err := c.DecodeRequest(body)
		if err != nil {
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.ErrInvalidRequest {
				t.Fatalf("error %T %v is not an invalid_request *llm.Error", err, err)
			}
			return
		}
		out, err := c.EncodeRequest(req)
		if err != nil {
			// Only a conversation left empty once empty text is dropped
			// (the API refuses it too) may fail to encode.
			var le *llm.Error
			if !errors.As(err, &le) || le.Param != "messages" {
				t.Fatalf("decoded request does not encode: %v", err)
			}
			return
		}
		if _, err := c.DecodeRequest(out); err != nil {
			t.Fatalf("encoded request does not decode: %v\n%s", err, out)
		}
	})
}

// FuzzStreamDecoder: the decoder never panics on arbitrary event data.
func FuzzStreamDecoder(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "outbound_stream", "*.sse"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, ev := range bytes.Split(data, []byte("\n\n")) {
			if _, d, ok := bytes.Cut(ev, []byte("data: ")); ok {
				f.Add(d)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := Codec{}.NewStreamDecoder()
		start := []byte(`{"type":"message_start","message":{"id":"m","model":"x","usage":{}}}`)
		block := []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		for _, d := range [][]byte{start, block, data, data} {
			if _, err := dec.Decode(sse.Event{Data: d}, nil); err != nil {
				return
			}
		}
	})
}

// FuzzAppendString: the stream encoder's string writer agrees with
// encoding/json.
func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\n\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got := appendString(nil, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
	})
}

// treeValue rebuilds the value of node n as encoding/json would decode it
// into an any with UseNumber.
func treeValue(t *jtree, n int32) any {
	switch t.nodes[n].kind {
	case jNull:
		return nil
	case jBool:
		return t.src[t.nodes[n].start] == 't'
	case jNumber:
		return json.Number(t.raw(n))
	case jString:
		return t.str(n)
	case jArray:
		a := []any{}
		t.each(n, func(c int32) { a = append(a, treeValue(t, c)) })
		return a
	}
	m := map[string]any{}
	t.each(n, func(c int32) { m[t.key(c)] = treeValue(t, c) })
	return m
}

// FuzzJSONTree: parseTree accepts exactly what encoding/json accepts and
// reads the same values from it.
func FuzzJSONTree(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,false,null,"x\u00e9\ud83d\ude00\n"]}`, `"\ud800"`, `"\ud800\u0041"`, "\"\xff\"", `[01]`, `{"a":1,"a":2}`, `1.`, `-`, `"\u12"`, ` [ ] `} {
		f.Add([]byte(s))
	}
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := parseTree(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid = %v, parseTree error = %v", valid, err)
		}
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		got := treeValue(tree, 0)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Fatalf("parseTree read %s, encoding/json %s", g, w)
		}
	})
}
