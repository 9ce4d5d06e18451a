package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Typ describes one registered event type.
type Typ struct {
	// Name is the dotted type name, e.g. "session.started".
	Name string
	// Schema is the newest schema version of the data this build knows.
	Schema int
	// Doc says in one line when the event is written.
	Doc string
	// goType is the struct the data decodes into.
	goType reflect.Type
}

var (
	catMu     sync.RWMutex
	catalogue = map[string]Typ{}
)

// Register adds type name with data struct T to the catalogue. It is meant
// for init and panics on an invalid or duplicate name.
func Register[T any](name string, schema int, doc string) {
	if err := ValidateType(name); err != nil {
		panic(err)
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("event type %q: data must be a struct, not %s", name, t))
	}
	catMu.Lock()
	defer catMu.Unlock()
	if _, dup := catalogue[name]; dup {
		panic(fmt.Sprintf("event type %q registered twice", name))
	}
	catalogue[name] = Typ{Name: name, Schema: max(schema, 1), Doc: doc, goType: t}
}

// Lookup returns the registered type called name.
func Lookup(name string) (Typ, bool) {
	catMu.RLock()
	defer catMu.RUnlock()
	t, ok := catalogue[name]
	return t, ok
}

// Types lists the catalogue sorted by name.
func Types() []Typ {
	catMu.RLock()
	out := make([]Typ, 0, len(catalogue))
	for _, t := range catalogue {
		out = append(out, t)
	}
	catMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Raw is the decoded form of an event whose type the catalogue does not
// know, or whose schema is newer than this build knows. It is kept as is.
type Raw struct {
	Type   string
	Schema int
	Data   json.RawMessage
}

// Decode returns the data of e as a pointer to its registered struct, or as
// *Raw when the type is unknown or its schema is newer than this build.
// Decoding is strict about field types but not about unknown fields, so
// additive schema changes decode.
func Decode(e *Event) (any, error) {
	t, ok := Lookup(e.Type)
	if !ok || max(e.Metadata.Schema, 1) > t.Schema {
		return &Raw{Type: e.Type, Schema: e.Metadata.Schema, Data: bytes.Clone(e.Data)}, nil
	}
	v := reflect.New(t.goType).Interface()
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("decode %s event %s (stream %q version %d): %w", e.Type, e.ID, e.Stream, e.StreamVersion, err)
	}
	return v, nil
}

// New builds a Proposed event of a registered type from its data struct,
// stamping the schema version.
func New(name string, data any, md Metadata) (Proposed, error) {
	t, ok := Lookup(name)
	if !ok {
		return Proposed{}, fmt.Errorf("event type %q is not in the catalogue", name)
	}
	if reflect.TypeOf(data) != t.goType && reflect.TypeOf(data) != reflect.PointerTo(t.goType) {
		return Proposed{}, fmt.Errorf("event type %q carries %s, not %T", name, t.goType, data)
	}
	var b []byte
	var err error
	if a, ok := data.(jsonAppender); ok && !isNilPointer(data) {
		b, err = a.appendJSON(make([]byte, 0, 1024))
	} else {
		b, err = json.Marshal(data)
	}
	if err != nil {
		return Proposed{}, fmt.Errorf("encode %s data: %w", name, err)
	}
	md.Schema = t.Schema
	return Proposed{ID: NewID(), Type: name, Data: b, Metadata: md, encoded: b}, nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
