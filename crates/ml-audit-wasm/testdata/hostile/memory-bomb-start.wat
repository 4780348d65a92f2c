;; A start function that grows the memory until it fails: stopped by the
;; memory limit at load.
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{}")
  (data (i32.const 16) "{\"abi\":3,\"plugin\":\"hostile\",\"version\":\"0\",\"rules\":[{\"id\":\"hostile-start\",\"title\":\"hostile test guest\",\"severity\":\"low\",\"mode\":\"object\"}]}")
  (func $start
    (loop $more
      (drop (memory.grow (i32.const 16)))
      (br $more)))
  (start $start)
  (func (export "mla_abi_version") (result i32) i32.const 3)
  (func (export "mla_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "mla_metadata") (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 137)))
  (func (export "mla_configure") (param i32 i32) (result i64) i64.const 2)
  (func (export "mla_check") (param i32 i32) (result i64) i64.const 0)
)
