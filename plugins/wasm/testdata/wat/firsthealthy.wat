;; A routing plugin in WebAssembly text, to show the ABI needs no Go:
;; it answers with the first target that is neither rate limited nor
;; cooling down, or the default route when none is healthy.
;; Build: wat2wasm firsthealthy.wat (Debian's wabt, or the wabt npm package).
(module
  ;; The host stops an overrunning call through sched_yield (docs/routing-plugins.md).
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (memory (export "memory") 2)

  ;; The facts go at 4096 (up to 124 KiB), the decision at 1024.
  (global $in i32 (i32.const 4096))
  (global $out i32 (i32.const 1024))
  (global $pos (mut i32) (i32.const 0))
  (data (i32.const 512) "first healthy target")   ;; 20 bytes
  (data (i32.const 544) "none healthy: default route") ;; 27 bytes

  (func (export "sy_abi_version") (result i32) (i32.const 1))

  (func (export "sy_input") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 126976)) (then (return (i32.const 0)))) ;; 0: no room
    (global.get $in))

  ;; uvarint reads an unsigned LEB128 number at $pos.
  (func $uvarint (result i32)
    (local $v i32) (local $shift i32) (local $b i32)
    (loop $more
      (local.set $b (i32.load8_u (global.get $pos)))
      (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
      (local.set $v (i32.or (local.get $v)
        (i32.shl (i32.and (local.get $b) (i32.const 0x7f)) (local.get $shift))))
      (local.set $shift (i32.add (local.get $shift) (i32.const 7)))
      (br_if $more (i32.and (local.get $b) (i32.const 0x80))))
    (local.get $v))

  ;; skip moves $pos past n bytes; skipString past a length-prefixed string.
  (func $skip (param $n i32) (global.set $pos (i32.add (global.get $pos) (local.get $n))))
  (func $skipString (call $skip (call $uvarint)))

  ;; answer writes a decision naming target $idx (or the default route's
  ;; first target, $idx = -1 means none) with the reason at $reason.
  (func $answer (param $idx i32) (param $reason i32) (param $len i32) (result i64)
    (local $p i32)
    (local.set $p (global.get $out))
    (i32.store8 (local.get $p) (i32.const 1))                      ;; version
    (i32.store8 (i32.add (local.get $p) (i32.const 1)) (i32.const 0)) ;; status ok
    (i32.store8 (i32.add (local.get $p) (i32.const 2)) (i32.const 1)) ;; one target
    (i32.store8 (i32.add (local.get $p) (i32.const 3)) (local.get $idx)) ;; (indexes < 128 here)
    (i32.store8 (i32.add (local.get $p) (i32.const 4)) (local.get $len))
    (memory.copy (i32.add (local.get $p) (i32.const 5)) (local.get $reason) (local.get $len))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32))
      (i64.extend_i32_u (i32.add (local.get $len) (i32.const 5)))))

  (func (export "sy_route") (param $size i32) (result i64)
    (local $n i32) (local $i i32) (local $flags i32) (local $defaults i32)
    (global.set $pos (i32.add (global.get $in) (i32.const 17))) ;; version, clock, seed
    (call $skipString) (call $skipString)                       ;; model, api
    (drop (call $uvarint))                                      ;; estimated tokens
    (call $skip (i32.const 1))                                  ;; flags
    (call $skipString) (call $skipString) (call $skipString)    ;; call, key, agent
    (call $skipString) (call $skipString) (call $skipString)    ;; team, user, task type
    (local.set $n (call $uvarint))                              ;; tags
    (block $done (loop $tag
      (br_if $done (i32.eqz (local.get $n)))
      (call $skipString) (call $skipString)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $tag)))
    (call $skip (i32.const 8))                                  ;; budget left
    (local.set $n (call $uvarint))                              ;; targets
    (block $found (loop $target
      (br_if $found (i32.ge_u (local.get $i) (local.get $n)))
      (call $skipString) (call $skipString)                     ;; provider, model
      (local.set $flags (i32.load8_u (global.get $pos)))
      (call $skip (i32.const 33))                               ;; flags, four f64
      (drop (call $uvarint))                                    ;; context window
      (if (i32.eqz (i32.and (local.get $flags) (i32.const 3)))  ;; not rate limited, not cooling
        (then (return (call $answer (local.get $i) (i32.const 512) (i32.const 20)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $target)))
    ;; none healthy: the default route's first target, if there is one
    (local.set $defaults (call $uvarint))
    (if (i32.eqz (local.get $defaults))
      (then ;; no route: zero targets
        (i32.store8 (global.get $out) (i32.const 1))
        (i32.store8 (i32.add (global.get $out) (i32.const 1)) (i32.const 0))
        (i32.store8 (i32.add (global.get $out) (i32.const 2)) (i32.const 0))
        (i32.store8 (i32.add (global.get $out) (i32.const 3)) (i32.const 0))
        (return (i64.or (i64.shl (i64.extend_i32_u (global.get $out)) (i64.const 32)) (i64.const 4)))))
    (call $answer (call $uvarint) (i32.const 544) (i32.const 27)))
)
