;; ReLU gradient, float32: dx[i] = x[i] > 0 ? dy[i] : 0, four lanes per step (compare + and), scalar tail.
;; Replaces tfjs's dy · step(x) (two full passes and a temporary) in every ReLU layer's backward pass.
;; Pointers are byte offsets into the imported heap (tfjs-backend-wasm's memory), as in maxpool_grad.wat.
(module
  (import "env" "memory" (memory 1))

  (func (export "reluGrad") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (local $o i32) (local $end4 i32) (local $end i32)
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $o) (local.get $end4)))
        (v128.store (i32.add (local.get $dx) (local.get $o))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $o)))
            (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $o))) (v128.const i32x4 0 0 0 0))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $v)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $o) (local.get $end)))
        (f32.store (i32.add (local.get $dx) (local.get $o))
          (select
            (f32.load (i32.add (local.get $dy) (local.get $o)))
            (f32.const 0)
            (f32.gt (f32.load (i32.add (local.get $x) (local.get $o))) (f32.const 0))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $s))))
)
