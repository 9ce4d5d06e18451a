package wasm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// spin is (module (func (export "spin") (loop (br 0)))), by hand: a
// module with no global section and a loop that never ends.
var spin = []byte{
	0, 'a', 's', 'm', 1, 0, 0, 0,
	1, 4, 1, 0x60, 0, 0, // type: func () -> ()
	3, 2, 1, 0, // function 0 has type 0
	7, 8, 1, 4, 's', 'p', 'i', 'n', 0, 0, // export "spin" = func 0
	10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, // code: loop br 0 end end
}

func TestInstrumentStopsAnEndlessLoop(t *testing.T) {
	ctx := context.Background()
	mod, err := instrument(spin)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx) // without wazero's own termination checks
	defer rt.Close(ctx)
	m, err := rt.Instantiate(ctx, mod)
	if err != nil {
		t.Fatalf("the instrumented module does not instantiate: %v", err)
	}
	g, ok := m.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok {
		t.Fatal("no mutable sy_interrupt global exported")
	}
	done := make(chan error, 1)
	go func() { _, err := m.ExportedFunction("spin").Call(ctx); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("spin returned before the interrupt: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	g.Set(1)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("spin ended with %v, want the unreachable trap", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupt did not stop the loop")
	}
}

func TestInstrumentRefusesWhatItCannotParse(t *testing.T) {
	for name, mod := range map[string][]byte{
		"not wasm":  []byte("hello"),
		"truncated": spin[:len(spin)-3],
		"unknown opcode": append(append([]byte(nil), spin[:len(spin)-11]...),
			10, 5, 1, 3, 0, 0x06, 0x0b), // 0x06 (try) is not supported
	} {
		if _, err := instrument(mod); err == nil {
			t.Errorf("%s: instrumented without error", name)
		}
	}
}
