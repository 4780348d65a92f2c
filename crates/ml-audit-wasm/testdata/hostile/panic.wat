;; A guest that panics in `mla_check` (a trap), after storing its panic
;; message for `mla_panic_message`, as the SDK does; the message holds an
;; escape sequence, which the host must not pass on raw.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{}")
  (data (i32.const 16) "{\"abi\":3,\"plugin\":\"hostile\",\"version\":\"0\",\"rules\":[{\"id\":\"hostile-panic\",\"title\":\"hostile test guest\",\"severity\":\"low\",\"mode\":\"object\"}]}")
  (data (i32.const 1024) "no team label on Pod root-pod\1b]52;c;bad\07 (at src/lib.rs:12)")
  (func (export "mla_abi_version") (result i32) i32.const 3)
  (func (export "mla_alloc") (param $len i32) (result i32)
    (local $pages i32)
    (local.set $pages
      (i32.sub
        (i32.shr_u (i32.add (i32.add (local.get $len) (i32.const 65536)) (i32.const 65535)) (i32.const 16))
        (memory.size)))
    (if (i32.gt_s (local.get $pages) (i32.const 0))
      (then (drop (memory.grow (local.get $pages)))))
    i32.const 65536)
  (func (export "mla_metadata") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 137)))
  (func (export "mla_configure") (param i32 i32) (result i64) i64.const 2)
  (func (export "mla_check") (param i32 i32) (result i64) unreachable)
  (func (export "mla_panic_message") (result i64)
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 59)))
)
