;; The polyphase resampler's inner loop (audio/resample.ts) in wasm SIMD: JS cannot vectorise the dot
;; products, and they are most of what a 44.1 -> 16 kHz conversion costs (374 taps per output sample).
(module
  (import "env" "memory" (memory 1))
  ;; out[m] = sum over k < T of bank[p*T + k] * x[j0 + k] for m in [m0, m1), with num = m*M, i0 = floor(num / L),
  ;; p = num - i0*L, j0 = i0 - K + 1: the exact-phase interior outputs (the caller keeps every j0 >= 0 and
  ;; j0 + T <= the input length). Pointers are byte offsets of float32 arrays; out[m] is at out + 4m.
  ;; Four float32 lanes, two accumulators (8 taps a step), the rest one tap at a time.
  (func $resamplePoly (export "resamplePoly")
    (param $x i32) (param $bank i32) (param $out i32) (param $T i32) (param $K i32)
    (param $L i32) (param $M i32) (param $m0 i32) (param $m1 i32)
    (local $m i32) (local $num i64) (local $i0 i32) (local $p i32)
    (local $b i32) (local $s i32) (local $bEnd8 i32) (local $bEnd i32)
    (local $a0 v128) (local $a1 v128) (local $sum f32)
    (local.set $m (local.get $m0))
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $m) (local.get $m1)))
        (local.set $num (i64.mul (i64.extend_i32_u (local.get $m)) (i64.extend_i32_u (local.get $M))))
        (local.set $i0 (i32.wrap_i64 (i64.div_u (local.get $num) (i64.extend_i32_u (local.get $L)))))
        (local.set $p (i32.wrap_i64 (i64.sub (local.get $num)
          (i64.mul (i64.extend_i32_u (local.get $i0)) (i64.extend_i32_u (local.get $L))))))
        (local.set $b (i32.add (local.get $bank) (i32.shl (i32.mul (local.get $p) (local.get $T)) (i32.const 2))))
        (local.set $s (i32.add (local.get $x)
          (i32.shl (i32.add (i32.sub (local.get $i0) (local.get $K)) (i32.const 1)) (i32.const 2))))
        (local.set $bEnd (i32.add (local.get $b) (i32.shl (local.get $T) (i32.const 2))))
        (local.set $bEnd8 (i32.add (local.get $b) (i32.shl (i32.and (local.get $T) (i32.const -8)) (i32.const 2))))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (block $v_done
          (loop $v
            (br_if $v_done (i32.ge_u (local.get $b) (local.get $bEnd8)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $b)) (v128.load (local.get $s)))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (v128.load offset=16 (local.get $b)) (v128.load offset=16 (local.get $s)))))
            (local.set $b (i32.add (local.get $b) (i32.const 32)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (br $v)))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
        (local.set $sum (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
          (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (block $t_done
          (loop $t
            (br_if $t_done (i32.ge_u (local.get $b) (local.get $bEnd)))
            (local.set $sum (f32.add (local.get $sum) (f32.mul (f32.load (local.get $b)) (f32.load (local.get $s)))))
            (local.set $b (i32.add (local.get $b) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (br $t)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2))) (local.get $sum))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $outer))))
)
