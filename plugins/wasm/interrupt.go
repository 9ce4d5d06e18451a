package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// abiExports are the functions every routing plugin exports.
var abiExports = []string{"sy_abi_version", "sy_input", "sy_route"}

// fuel is how many loop iterations a guest runs between calls to
// sched_yield: few enough that a call is stopped within microseconds,
// many enough that the call costs nothing measurable.
const fuel = 10000

// instrument rewrites a module so that a call can always be stopped: it
// adds a mutable i32 global, $fuel, and at every function's entry and
// before every branch back to a loop
//
//	global.get $fuel  i32.const 1  i32.sub  global.set $fuel
//	global.get $fuel  i32.eqz
//	if
//	  call $sched_yield  drop
//	  i32.const 10000  global.set $fuel
//	end
//
// where $sched_yield is the module's import of WASI's sched_yield. The
// host's sched_yield checks the call's deadline and panics out of an
// overrunning call. A call that runs forever must branch back to some loop
// or call some function again and again, so it reaches sched_yield within
// 10,000 iterations or calls.
//
// Why a call into the host rather than a flag the guest reads: compiled
// WASM is not Go code, so a goroutine running it cannot be stopped for
// the garbage collector. A guest that never calls out would hold up every
// stop-the-world pause of the gateway, and a watchdog goroutine could
// never run to set the flag: the process would hang. sched_yield is a
// call into Go, where the goroutine can stop. wazero's own way
// (WithCloseOnContextDone) calls out at every loop header and starts a
// goroutine per call, which made a Go plugin's decision 4x slower.
//
// The module must import wasi_snapshot_preview1.sched_yield, () -> i32
// (Go's wasip1 runtime does). Custom sections other than "name" are
// dropped: their code offsets (DWARF) would no longer match.
func instrument(module []byte) ([]byte, error) {
	if len(module) < 8 || string(module[:4]) != "\x00asm" || binary.LittleEndian.Uint32(module[4:8]) != 1 {
		return nil, errors.New("not a WebAssembly 1.0 binary module")
	}
	type section struct {
		id   byte
		body []byte
	}
	var sections []section
	r := reader{b: module[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		sections = append(sections, section{id, body})
	}

	// The new global's index comes after every imported and defined one.
	var importedGlobals, definedGlobals uint32
	var types [][]byte // each function type's encoding
	yield := -1
	for _, s := range sections {
		switch s.id {
		case secType:
			var err error
			if types, err = readTypes(s.body); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		case secImport:
			var err error
			importedGlobals, yield, err = readImports(s.body, types)
			if err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case secGlobal:
			gr := reader{b: s.body}
			definedGlobals = gr.u32()
			if gr.err != nil {
				return nil, fmt.Errorf("global section: %w", gr.err)
			}
		}
	}
	if yield < 0 {
		return nil, errors.New("the module does not import wasi_snapshot_preview1.sched_yield, () -> i32: the host needs it to stop a call that overruns (Go's wasip1 modules import it; see docs/routing-plugins.md)")
	}
	g := binary.AppendUvarint(nil, uint64(importedGlobals+definedGlobals))
	check := append([]byte{opGlobalGet}, g...)
	check = append(check, opI32Const, 1, opI32Sub, opGlobalSet)
	check = append(check, g...)
	check = append(check, opGlobalGet)
	check = append(check, g...)
	check = append(check, opI32Eqz, opIf, blockEmpty, opCall)
	check = binary.AppendUvarint(check, uint64(yield))
	check = append(check, opDrop, opI32Const)
	check = binary.AppendVarint(check, fuel)
	check = append(check, opGlobalSet)
	check = append(check, g...)
	check = append(check, opEnd)

	out := append([]byte(nil), module[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	newGlobal := binary.AppendVarint([]byte{valI32, 1, opI32Const}, fuel) // mutable i32 = fuel
	newGlobal = append(newGlobal, opEnd)
	addedGlobal := false
	for _, s := range sections {
		// Sections come in id order (data count, 12, sits between element
		// and code): a missing global section goes before the first
		// section that must follow it.
		if s.id != secCustom && !addedGlobal && s.id != secGlobal && order(s.id) > order(secGlobal) {
			emit(secGlobal, append([]byte{1}, newGlobal...))
			addedGlobal = true
		}
		switch s.id {
		case secCustom:
			nr := reader{b: s.body}
			if name := nr.bytes(int(nr.u32())); nr.err == nil && string(name) == "name" {
				emit(s.id, s.body)
			}
		case secGlobal:
			emit(s.id, appendToVector(s.body, definedGlobals, newGlobal))
			addedGlobal = true
		case secCode:
			body, err := instrumentCode(s.body, check)
			if err != nil {
				return nil, fmt.Errorf("code section: %w", err)
			}
			emit(s.id, body)
		default:
			emit(s.id, s.body)
		}
	}
	if !addedGlobal {
		emit(secGlobal, append([]byte{1}, newGlobal...))
	}
	return out, nil
}

// checkExports says which of the ABI's functions a module lacks, before
// anything else is said about it.
func checkExports(module []byte) error {
	if len(module) < 8 || string(module[:4]) != "\x00asm" {
		return nil // not WASM at all: instrument says so
	}
	r := reader{b: module[8:]}
	exports := map[string]bool{}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		body := r.bytes(int(r.u32()))
		if id != secExport {
			continue
		}
		er := reader{b: body}
		for n := er.u32(); n > 0 && er.err == nil; n-- {
			name := er.bytes(int(er.u32()))
			if kind := er.byte(); kind == 0 {
				exports[string(name)] = true
			}
			er.u32()
		}
	}
	if r.err != nil {
		return nil
	}
	for _, e := range abiExports {
		if !exports[e] {
			return fmt.Errorf("the module does not export %s: build it against sdk/routing (see docs/routing-plugins.md)", e)
		}
	}
	return nil
}

// readTypes returns the encoding of each function type.
func readTypes(b []byte) ([][]byte, error) {
	r := reader{b: b}
	n := r.u32()
	types := make([][]byte, 0, min(n, 1<<16))
	for range n {
		start := r.b
		if form := r.byte(); form != 0x60 {
			return nil, fmt.Errorf("type of form 0x%02x is not supported by the plugin host", form)
		}
		r.bytes(int(r.u32())) // params
		r.bytes(int(r.u32())) // results
		if r.err != nil {
			return nil, r.err
		}
		types = append(types, start[:len(start)-len(r.b)])
	}
	return types, r.err
}

// yieldType is the encoding of () -> i32.
var yieldType = []byte{0x60, 0, 1, valI32}

// readImports counts the imported globals and finds the function index of
// wasi_snapshot_preview1.sched_yield (-1 if not imported).
func readImports(b []byte, types [][]byte) (globals uint32, yield int, err error) {
	r := reader{b: b}
	yield = -1
	funcs := 0
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		module := r.bytes(int(r.u32()))
		name := r.bytes(int(r.u32()))
		switch kind := r.byte(); kind {
		case 0: // func: type index
			t := r.u32()
			if string(module) == "wasi_snapshot_preview1" && string(name) == "sched_yield" &&
				int(t) < len(types) && string(types[t]) == string(yieldType) {
				yield = funcs
			}
			funcs++
		case 1: // table: reftype, limits
			r.byte()
			r.limits()
		case 2: // memory: limits
			r.limits()
		case 3: // global: valtype, mutability
			r.byte()
			r.byte()
			globals++
		case 4: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			return 0, -1, fmt.Errorf("import of unknown kind %d", kind)
		}
	}
	return globals, yield, r.err
}

const (
	secCustom = 0
	secType   = 1
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10

	valI32     = 0x7f
	blockEmpty = 0x40

	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
	opIf          = 0x04
	opEnd         = 0x0b
	opBr          = 0x0c
	opBrIf        = 0x0d
	opBrTable     = 0x0e
	opCall        = 0x10
	opDrop        = 0x1a
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opI32Const    = 0x41
	opI32Eqz      = 0x45
	opI32Sub      = 0x6b
)

// order places a section id in the binary's required order.
func order(id byte) int {
	switch id {
	case 12: // data count: after element (9), before code (10)
		return 95
	}
	return int(id) * 10
}

// appendToVector adds one encoded element to a vector of n elements.
func appendToVector(vec []byte, n uint32, elem []byte) []byte {
	r := reader{b: vec}
	r.u32()
	out := binary.AppendUvarint(nil, uint64(n+1))
	out = append(out, r.b...)
	return append(out, elem...)
}

// instrumentCode rewrites every function body of a code section.
func instrumentCode(sec []byte, check []byte) ([]byte, error) {
	r := reader{b: sec}
	n := r.u32()
	out := binary.AppendUvarint(make([]byte, 0, len(sec)+len(sec)/8), uint64(n))
	var body []byte
	for i := range n {
		size := r.u32()
		fn := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.err)
		}
		var err error
		body, err = instrumentFunc(body[:0], fn, check)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if len(r.b) != 0 {
		return nil, errors.New("bytes after the last function")
	}
	return out, nil
}

// instrumentFunc puts the check at the function's entry and before every
// branch back to a loop: the two ways code repeats. (Loops are checked
// at their back branches, not their headers: Go's wasm code wraps each
// function body in a loop, and a check at its header would be a second
// one on every call.) Without the entry check a function that calls
// itself twice, 60 levels deep, would run for centuries without looping.
func instrumentFunc(out, fn, check []byte) ([]byte, error) {
	r := reader{b: fn}
	for locals := r.u32(); locals > 0 && r.err == nil; locals-- {
		r.u32()  // count
		r.byte() // type
	}
	if r.err != nil {
		return nil, fmt.Errorf("locals: %w", r.err)
	}
	out = append(out, fn[:len(fn)-len(r.b)]...)
	out = append(out, check...)
	loops := []bool{false} // the control stack: is each open block a loop? (the function's own block is not)
	backward := func(label uint32) bool {
		return int(label) < len(loops) && loops[len(loops)-1-int(label)]
	}
	for len(r.b) > 0 {
		start := r.b
		op := r.byte()
		back := false
		switch op {
		case opBlock, opLoop, opIf:
			loops = append(loops, op == opLoop)
			r.blockType()
		case opEnd:
			if len(loops) == 0 {
				return nil, errors.New("end without a block")
			}
			loops = loops[:len(loops)-1]
		case opBr, opBrIf:
			back = backward(r.u32())
		case opBrTable:
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				back = backward(r.u32()) || back
			}
			back = backward(r.u32()) || back
		default:
			if err := r.skipImmediates(op); err != nil {
				return nil, err
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("opcode 0x%02x: %w", op, r.err)
		}
		if back {
			out = append(out, check...)
		}
		out = append(out, start[:len(start)-len(r.b)]...)
	}
	if len(loops) != 0 {
		return nil, errors.New("the function's blocks are not all closed")
	}
	return out, nil
}

// reader decodes the parts of a module instrument needs; the first error
// sticks.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("unexpected end")

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.err = errShort
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) u32() uint32 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 1<<32-1 {
		r.err = errShort
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return uint32(v)
}

// leb skips a signed or unsigned LEB128 number.
func (r *reader) leb() {
	for i := 0; ; i++ {
		c := r.byte()
		if r.err != nil || c&0x80 == 0 || i > 10 {
			return
		}
	}
}

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.leb() // offset (u64 with memory64)
}

func (r *reader) blockType() {
	if len(r.b) > 0 && (r.b[0] == blockEmpty || r.b[0] >= 0x6f && r.b[0] <= 0x7f) {
		r.byte()
		return
	}
	r.leb() // s33 type index
}

// skipImmediates moves past op's immediates. Opcodes it does not know are
// an error: skipping them wrongly would corrupt the module.
func (r *reader) skipImmediates(op byte) error {
	switch {
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1,
		op >= 0x45 && op <= 0xc4:
	case op == opBlock, op == opLoop, op == opIf:
		r.blockType()
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0x12, op >= 0x20 && op <= 0x26, op == 0xd2:
		r.u32()
	case op == 0x0e: // br_table
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.u32()
		}
		r.u32()
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select t*
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.byte()
		}
	case op >= 0x28 && op <= 0x3e:
		r.memarg()
	case op == 0x3f, op == 0x40:
		r.u32()
	case op == 0x41, op == 0x42:
		r.leb()
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0:
		r.byte()
	case op == 0xfc:
		return r.skipFC()
	case op == 0xfd:
		return r.skipSIMD()
	case op == 0xfe:
		sub := r.u32()
		if sub == 0x03 { // atomic.fence
			r.byte()
		} else {
			r.memarg()
		}
	default:
		return fmt.Errorf("opcode 0x%02x is not supported by the plugin host (exception handling, GC and other proposals are not)", op)
	}
	return nil
}

func (r *reader) skipFC() error {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init
		r.u32()
		r.u32()
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, elem.drop, table.grow/size/fill
		r.u32()
	case sub == 10, sub == 12, sub == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 11: // memory.fill
		r.u32()
	default:
		return fmt.Errorf("opcode 0xfc %d is not supported by the plugin host", sub)
	}
	return nil
}

func (r *reader) skipSIMD() error {
	switch sub := r.u32(); {
	case sub <= 11, sub == 92, sub == 93: // loads, stores, load zero
		r.memarg()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract/replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load/store lane
		r.memarg()
		r.byte()
	case sub <= 0x113:
	default:
		return fmt.Errorf("opcode 0xfd %d is not supported by the plugin host", sub)
	}
	return nil
}
