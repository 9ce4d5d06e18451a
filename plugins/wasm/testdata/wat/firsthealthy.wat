;; A routing plugin in WebAssembly text, to show the ABI needs no Go:
;; it answers with the first target that is neither rate limited nor
;; cooling down, or the default route when none is healthy.
;; Build: wat2wasm firsthealthy.wat (Debian's wabt, or the wabt npm package).
;; The layout it reads and writes is in docs/routing-plugins.md.
(module
  ;; The host stops an overrunning call through sched_yield (docs/routing-plugins.md).
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (memory (export "memory") 5)

  ;; The facts go at 4096 (up to 316 KiB); the decision is at 1024, its
  ;; one index at 1088.
  (global $in i32 (i32.const 4096))
  (global $out i32 (i32.const 1024))
  (global $index i32 (i32.const 1088))
  (data (i32.const 512) "first healthy target")   ;; 20 bytes
  (data (i32.const 544) "none healthy: default route") ;; 27 bytes

  (func (export "sy_abi_version") (result i32) (i32.const 2))

  (func (export "sy_input") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 319488)) (then (return (i32.const 0)))) ;; 0: no room
    (global.get $in))

  ;; field reads the address-sized field at offset $off of a struct at $at.
  (func $field (param $at i32) (param $off i32) (result i32)
    (i32.wrap_i64 (i64.load (i32.add (local.get $at) (local.get $off)))))

  ;; answer lays out a decision: the targets list {1088, $n, $n} (the
  ;; index, if any, already stored at 1088), the reason {$reason, $len}
  ;; and no error; it returns the decision's address.
  (func $answer (param $n i64) (param $reason i32) (param $len i32) (result i32)
    (i64.store offset=0 (global.get $out) (i64.extend_i32_u (global.get $index)))
    (i64.store offset=8 (global.get $out) (local.get $n))
    (i64.store offset=16 (global.get $out) (local.get $n))
    (i64.store offset=24 (global.get $out) (i64.extend_i32_u (local.get $reason)))
    (i64.store offset=32 (global.get $out) (i64.extend_i32_u (local.get $len)))
    (i64.store offset=40 (global.get $out) (i64.const 0))
    (i64.store offset=48 (global.get $out) (i64.const 0))
    (global.get $out))

  (func (export "sy_route") (param $size i32) (result i32)
    (local $targets i32) (local $n i32) (local $i i32) (local $t i32) (local $defaults i32)
    (local.set $targets (call $field (global.get $in) (i32.const 192))) ;; Facts.Targets.addr
    (local.set $n (call $field (global.get $in) (i32.const 200)))       ;; Facts.Targets.len
    (block $none (loop $target
      (br_if $none (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $t (i32.add (local.get $targets) (i32.mul (local.get $i) (i32.const 80))))
      ;; RateLimited at 32, CoolingDown at 33: both zero means healthy
      (if (i32.eqz (i32.load16_u offset=32 (local.get $t)))
        (then
          (i64.store (global.get $index) (i64.extend_i32_u (local.get $i)))
          (return (call $answer (i64.const 1) (i32.const 512) (i32.const 20)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $target)))
    ;; none healthy: the default route's first target, if there is one
    (if (i32.eqz (call $field (global.get $in) (i32.const 224)))         ;; Facts.Default.len
      (then (return (call $answer (i64.const 0) (i32.const 544) (i32.const 27)))))
    (local.set $defaults (call $field (global.get $in) (i32.const 216))) ;; Facts.Default.addr
    (i64.store (global.get $index) (i64.load (local.get $defaults)))
    (call $answer (i64.const 1) (i32.const 544) (i32.const 27)))
)
