package wasm

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// spin is, by hand,
//
//	(module
//	  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
//	  (func (export "spin") (loop (br 0))))
//
// a module with no global section and a loop that never ends.
var spin = []byte{
	0, 'a', 's', 'm', 1, 0, 0, 0,
	1, 8, 2, 0x60, 0, 1, 0x7f, 0x60, 0, 0, // types: () -> i32, () -> ()
	2, 38, 1, 22, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	11, 's', 'c', 'h', 'e', 'd', '_', 'y', 'i', 'e', 'l', 'd', 0, 0, // import sched_yield: func of type 0
	3, 2, 1, 1, // function 1 has type 1
	7, 8, 1, 4, 's', 'p', 'i', 'n', 0, 1, // export "spin" = func 1
	10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, // code: loop br 0 end end
}

// An endless loop reaches sched_yield, where the host can end it, and the
// garbage collector can stop the world meanwhile (the call is not a
// goroutine the runtime cannot stop).
func TestInstrumentedLoopsYield(t *testing.T) {
	ctx := context.Background()
	mod, err := instrument(spin)
	if err != nil {
		t.Fatal(err)
	}
	var yields atomic.Int64
	var stop atomic.Bool
	rt := wazero.NewRuntime(ctx) // without wazero's own termination checks
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	m, err := rt.InstantiateWithConfig(ctx, mod, wazero.NewModuleConfig().WithOsyield(func() {
		yields.Add(1)
		if stop.Load() {
			panic(errOverrun)
		}
	}))
	if err != nil {
		t.Fatalf("the instrumented module does not instantiate: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.ExportedFunction("spin").Call(ctx); done <- err }()
	time.Sleep(50 * time.Millisecond)
	runtime.GC() // would hang if the spinning call never reached Go code
	if yields.Load() == 0 {
		t.Fatal("the loop never called sched_yield")
	}
	stop.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, errOverrun) {
			t.Fatalf("spin ended with %v, want the host's panic", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the yield did not stop the loop")
	}
}

func TestInstrumentRefusesWhatItCannotRun(t *testing.T) {
	noYield := []byte{
		0, 'a', 's', 'm', 1, 0, 0, 0,
		1, 4, 1, 0x60, 0, 0,
		3, 2, 1, 0,
		10, 9, 1, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b,
	}
	for name, mod := range map[string][]byte{
		"not wasm":  []byte("hello"),
		"truncated": spin[:len(spin)-3],
		"unknown opcode": append(append([]byte(nil), spin[:len(spin)-11]...),
			10, 5, 1, 3, 0, 0x06, 0x0b), // 0x06 (try) is not supported
		"no sched_yield": noYield,
	} {
		if _, err := instrument(mod); err == nil {
			t.Errorf("%s: instrumented without error", name)
		}
	}
}
