package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// interruptExport names the global instrument adds: the watchdog sets it
// to 1 and the guest traps at its next loop header.
const interruptExport = "sy_interrupt"

// instrument rewrites a module so that a call can be stopped cheaply: it
// adds a mutable i32 global, exported as sy_interrupt, and at the head of
// every loop the instructions
//
//	global.get $sy_interrupt
//	if
//	  unreachable
//	end
//
// A call that runs forever must go round some loop (recursion without
// one ends when the stack does), so setting the global from the watchdog
// traps it within one iteration. wazero's own way (WithCloseOnContextDone)
// calls out to Go at every loop header and starts a goroutine per call,
// which made a Go plugin's decision 4x slower.
//
// Custom sections other than "name" are dropped: their code offsets (DWARF)
// would no longer match.
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

	// The new global's index: after every imported and defined global.
	var importedGlobals, definedGlobals uint32
	for _, s := range sections {
		switch s.id {
		case secImport:
			n, err := countImportedGlobals(s.body)
			if err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			importedGlobals = n
		case secGlobal:
			gr := reader{b: s.body}
			definedGlobals = gr.u32()
			if gr.err != nil {
				return nil, fmt.Errorf("global section: %w", gr.err)
			}
		}
	}
	index := importedGlobals + definedGlobals
	check := binary.AppendUvarint([]byte{opGlobalGet}, uint64(index))
	check = append(check, opIf, blockEmpty, opUnreachable, opEnd)

	out := append([]byte(nil), module[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	newGlobal := []byte{valI32, 1, opI32Const, 0, opEnd} // mutable i32 = 0
	newExport := binary.AppendUvarint(nil, uint64(len(interruptExport)))
	newExport = append(newExport, interruptExport...)
	newExport = append(newExport, exportGlobal)
	newExport = binary.AppendUvarint(newExport, uint64(index))
	addedGlobal, addedExport := false, false
	for _, s := range sections {
		if s.id != secCustom {
			// Sections come in id order (data count, 12, sits between
			// element and code): a missing global or export section goes
			// before the first section that must follow it.
			if !addedGlobal && s.id != secGlobal && order(s.id) > order(secGlobal) {
				emit(secGlobal, append([]byte{1}, newGlobal...))
				addedGlobal = true
			}
			if !addedExport && s.id != secExport && order(s.id) > order(secExport) {
				emit(secExport, append([]byte{1}, newExport...))
				addedExport = true
			}
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
		case secExport:
			er := reader{b: s.body}
			n := er.u32()
			if er.err != nil {
				return nil, fmt.Errorf("export section: %w", er.err)
			}
			emit(s.id, appendToVector(s.body, n, newExport))
			addedExport = true
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
	if !addedExport {
		emit(secExport, append([]byte{1}, newExport...))
	}
	return out, nil
}

const (
	secCustom = 0
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10

	exportGlobal = 3
	valI32       = 0x7f
	blockEmpty   = 0x40

	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
	opIf          = 0x04
	opEnd         = 0x0b
	opGlobalGet   = 0x23
	opI32Const    = 0x41
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

func countImportedGlobals(b []byte) (uint32, error) {
	r := reader{b: b}
	var globals uint32
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.bytes(int(r.u32())) // module
		r.bytes(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // func: type index
			r.u32()
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
			return 0, fmt.Errorf("import of unknown kind %d", kind)
		}
	}
	return globals, r.err
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
	for len(r.b) > 0 {
		start := r.b
		op := r.byte()
		if err := r.skipImmediates(op); err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, fmt.Errorf("opcode 0x%02x: %w", op, r.err)
		}
		out = append(out, start[:len(start)-len(r.b)]...)
		if op == opLoop {
			out = append(out, check...)
		}
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
