;; Points its output outside its memory.
(module
  (memory (export "memory") 1)
  ;; "{}" at 0, the metadata at 16
  (data (i32.const 0) "{}")
  (data (i32.const 16) "{\"abi\":3,\"plugin\":\"hostile\",\"version\":\"0\",\"rules\":[{\"id\":\"hostile-oob\",\"title\":\"hostile test guest\",\"severity\":\"low\",\"mode\":\"object\"}]}")
  (func (export "mla_abi_version") (result i32) i32.const 3)
  ;; the input buffer is at 65536; grow the memory to hold it
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
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 135)))
  (func (export "mla_configure") (param i32 i32) (result i64) i64.const 2)
  (func (export "mla_check") (param $rule i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.const 60000) (i64.const 32)) (i64.const 100000))
  )
)
