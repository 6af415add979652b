;; Per-channel operations on row-major [n, m] float32 data with m % 4 == 0 (NHWC tensors viewed as
;; [pixels, channels]): the bias gradient (sum over rows) and the bias add (a row broadcast over rows).
;; tfjs-wasm runs both through generic paths (a transposing matrix product for the sum, an indexing
;; broadcast for the add), ~5× slower than one streaming pass. Pointers are byte offsets into the
;; imported heap (tfjs-backend-wasm's memory), as in maxpool_grad.wat.
(module
  (import "env" "memory" (memory 1))

  ;; out[j] = sum_i x[i*m + j]. Columns in groups of 16 floats (one 64-byte cache line of each row per
  ;; pass, 4 accumulators), then single groups of 4. Rows are summed in blocks of 512 in float32 and the
  ;; block sums added into a second set of accumulators, so the error grows with 512 + n/512, not n.
  (func (export "sumRows") (param $x i32) (param $out i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $j i32) (local $p i32) (local $i i32) (local $bend i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $rowB)))
        (local.set $t0 (v128.const i32x4 0 0 0 0))
        (local.set $t1 (v128.const i32x4 0 0 0 0))
        (local.set $t2 (v128.const i32x4 0 0 0 0))
        (local.set $t3 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $i (i32.const 0))
        (block $blocks_done
          (loop $blocks
            (br_if $blocks_done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $bend (i32.add (local.get $i) (i32.const 512)))
            (if (i32.gt_u (local.get $bend) (local.get $n)) (then (local.set $bend (local.get $n))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (loop $rows
              (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
              (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $p))))
              (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $p))))
              (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $p))))
              (local.set $p (i32.add (local.get $p) (local.get $rowB)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $rows (i32.lt_u (local.get $i) (local.get $bend))))
            (local.set $t0 (f32x4.add (local.get $t0) (local.get $a0)))
            (local.set $t1 (f32x4.add (local.get $t1) (local.get $a1)))
            (local.set $t2 (f32x4.add (local.get $t2) (local.get $a2)))
            (local.set $t3 (f32x4.add (local.get $t3) (local.get $a3)))
            (br $blocks)))
        (v128.store (i32.add (local.get $out) (local.get $j)) (local.get $t0))
        (v128.store offset=16 (i32.add (local.get $out) (local.get $j)) (local.get $t1))
        (v128.store offset=32 (i32.add (local.get $out) (local.get $j)) (local.get $t2))
        (v128.store offset=48 (i32.add (local.get $out) (local.get $j)) (local.get $t3))
        (local.set $j (i32.add (local.get $j) (i32.const 64)))
        (br $wide)))
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.ge_u (local.get $j) (local.get $rowB)))
        (local.set $t0 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (local.get $j)))
        (local.set $i (i32.const 0))
        (block $nblocks_done
          (loop $nblocks
            (br_if $nblocks_done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $bend (i32.add (local.get $i) (i32.const 512)))
            (if (i32.gt_u (local.get $bend) (local.get $n)) (then (local.set $bend (local.get $n))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (loop $nrows
              (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
              (local.set $p (i32.add (local.get $p) (local.get $rowB)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $nrows (i32.lt_u (local.get $i) (local.get $bend))))
            (local.set $t0 (f32x4.add (local.get $t0) (local.get $a0)))
            (br $nblocks)))
        (v128.store (i32.add (local.get $out) (local.get $j)) (local.get $t0))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $narrow))))

  ;; out[i*m + j] = x[i*m + j] + b[j] (out may be x).
  (func (export "addRow") (param $x i32) (param $b i32) (param $out i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $end i32) (local $p i32) (local $q i32) (local $j i32)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $rowB))))
    (local.set $p (local.get $x))
    (local.set $q (local.get $out))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $j (i32.const 0))
        (loop $cols
          (v128.store (i32.add (local.get $q) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $p) (local.get $j)))
                       (v128.load (i32.add (local.get $b) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $rowB))))
        (local.set $p (i32.add (local.get $p) (local.get $rowB)))
        (local.set $q (i32.add (local.get $q) (local.get $rowB)))
        (br $rows))))
)
