;; A plugin that never answers and has no loop: sy_route calls $fan(60),
;; which calls itself twice until its argument is 0, 2^60 calls in all at
;; a depth of 60. Only a check at function entry can stop it.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (memory (export "memory") 2)
  (func (export "sy_abi_version") (result i32) (i32.const 2))
  (func (export "sy_input") (param $size i32) (result i32) (i32.const 4096))
  (func $fan (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (i32.add
        (call $fan (i32.sub (local.get $n) (i32.const 1)))
        (call $fan (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "sy_route") (param $size i32) (result i32)
    (call $fan (i32.const 60))))
