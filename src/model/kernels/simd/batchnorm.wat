;; Batch normalisation in training mode (SerBatchNormTrain / SerBatchNormTrainGrad) on row-major [n, m]
;; float32 data with m % 4 == 0 (NHWC tensors viewed as [pixels, channels]): two per-channel reductions
;; and two per-channel affine passes, four channels per v128. The per-channel constants between them
;; (mean, variance, scale, ...) are computed in JS in float64; they are C values only.
;;
;; Every pass walks the rows in blocks of 128 and, inside a block, the columns in groups of 16 floats
;; (one cache line of each row) with the group's constants and accumulators in locals, then single
;; groups of 4. Sums are float32 within a block (the error grows with 128, not n) and float64 across
;; blocks: each block's sums are added into a float64 [2, m] output, so n does not limit accuracy.
;; Pointers are byte offsets into the imported heap (tfjs-backend-wasm's memory), as in channel_ops.wat.
(module
  (import "env" "memory" (memory 1))

  ;; f64 p[0..3] += the four f32 lanes of v.
  (func $bnAcc64 (param $p i32) (param $v v128)
    (v128.store (local.get $p)
      (f64x2.add (v128.load (local.get $p)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $p)
      (f64x2.add (v128.load offset=16 (local.get $p))
                 (f64x2.promote_low_f32x4
                   (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; Forward statistics around a per-channel shift k (near the mean, so E[d²] − E[d]² does not cancel):
  ;; out[j] = Σ_i (x[i,j] − k[j]), out[m + j] = Σ_i (x[i,j] − k[j])², out float64 [2, m] (8-aligned).
  (func (export "bnSums") (param $x i32) (param $k i32) (param $out i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $i i32) (local $cnt i32) (local $p i32) (local $j i32) (local $q i32)
    (local $r i32) (local $o i32)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $rowB) (i32.const 2)))
    (local.set $p (local.get $x))
    (local.set $i (i32.const 0))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $cnt (i32.sub (local.get $n) (local.get $i)))
        (if (i32.gt_u (local.get $cnt) (i32.const 128)) (then (local.set $cnt (i32.const 128))))
        (local.set $j (i32.const 0))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $rowB)))
            (local.set $k0 (v128.load (i32.add (local.get $k) (local.get $j))))
            (local.set $k1 (v128.load offset=16 (i32.add (local.get $k) (local.get $j))))
            (local.set $k2 (v128.load offset=32 (i32.add (local.get $k) (local.get $j))))
            (local.set $k3 (v128.load offset=48 (i32.add (local.get $k) (local.get $j))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $s2 (v128.const i32x4 0 0 0 0))
            (local.set $s3 (v128.const i32x4 0 0 0 0))
            (local.set $q (i32.add (local.get $p) (local.get $j)))
            (local.set $r (local.get $cnt))
            (loop $wrows
              (local.set $d0 (f32x4.sub (v128.load (local.get $q)) (local.get $k0)))
              (local.set $d1 (f32x4.sub (v128.load offset=16 (local.get $q)) (local.get $k1)))
              (local.set $d2 (f32x4.sub (v128.load offset=32 (local.get $q)) (local.get $k2)))
              (local.set $d3 (f32x4.sub (v128.load offset=48 (local.get $q)) (local.get $k3)))
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $d0)))
              (local.set $a1 (f32x4.add (local.get $a1) (local.get $d1)))
              (local.set $a2 (f32x4.add (local.get $a2) (local.get $d2)))
              (local.set $a3 (f32x4.add (local.get $a3) (local.get $d3)))
              (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $d0) (local.get $d0))))
              (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $d1) (local.get $d1))))
              (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $d2) (local.get $d2))))
              (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $d3) (local.get $d3))))
              (local.set $q (i32.add (local.get $q) (local.get $rowB)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $wrows (local.get $r)))
            ;; float64 channel ch lives at out + 8·ch = out + 2j; the second row at + 8m = + 2·rowB
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $a0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 32)) (local.get $a1))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 64)) (local.get $a2))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 96)) (local.get $a3))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowB) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $s0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 32)) (local.get $s1))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 64)) (local.get $s2))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 96)) (local.get $s3))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $wide)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.ge_u (local.get $j) (local.get $rowB)))
            (local.set $k0 (v128.load (i32.add (local.get $k) (local.get $j))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $q (i32.add (local.get $p) (local.get $j)))
            (local.set $r (local.get $cnt))
            (loop $nrows
              (local.set $d0 (f32x4.sub (v128.load (local.get $q)) (local.get $k0)))
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $d0)))
              (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $d0) (local.get $d0))))
              (local.set $q (i32.add (local.get $q) (local.get $rowB)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $nrows (local.get $r)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $a0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $s0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $narrow)))
        (local.set $p (i32.add (local.get $p) (i32.mul (local.get $cnt) (local.get $rowB))))
        (local.set $i (i32.add (local.get $i) (local.get $cnt)))
        (br $blocks))))

  ;; Gradient statistics: out[j] = Σ_i dy[i,j], out[m + j] = Σ_i dy[i,j]·(x[i,j] − k[j]) (k = the batch
  ;; mean), out float64 [2, m] (8-aligned).
  (func (export "bnDotSums") (param $dy i32) (param $x i32) (param $k i32) (param $out i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $i i32) (local $cnt i32) (local $off i32) (local $j i32) (local $qg i32)
    (local $qx i32) (local $r i32) (local $o i32)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $rowB) (i32.const 2)))
    (local.set $off (i32.const 0))
    (local.set $i (i32.const 0))
    (block $gdone
      (loop $gblocks
        (br_if $gdone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $cnt (i32.sub (local.get $n) (local.get $i)))
        (if (i32.gt_u (local.get $cnt) (i32.const 128)) (then (local.set $cnt (i32.const 128))))
        (local.set $j (i32.const 0))
        (block $gwide_done
          (loop $gwide
            (br_if $gwide_done (i32.gt_u (i32.add (local.get $j) (i32.const 64)) (local.get $rowB)))
            (local.set $k0 (v128.load (i32.add (local.get $k) (local.get $j))))
            (local.set $k1 (v128.load offset=16 (i32.add (local.get $k) (local.get $j))))
            (local.set $k2 (v128.load offset=32 (i32.add (local.get $k) (local.get $j))))
            (local.set $k3 (v128.load offset=48 (i32.add (local.get $k) (local.get $j))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $s2 (v128.const i32x4 0 0 0 0))
            (local.set $s3 (v128.const i32x4 0 0 0 0))
            (local.set $qg (i32.add (local.get $dy) (i32.add (local.get $off) (local.get $j))))
            (local.set $qx (i32.add (local.get $x) (i32.add (local.get $off) (local.get $j))))
            (local.set $r (local.get $cnt))
            (loop $gwrows
              (local.set $g0 (v128.load (local.get $qg)))
              (local.set $g1 (v128.load offset=16 (local.get $qg)))
              (local.set $g2 (v128.load offset=32 (local.get $qg)))
              (local.set $g3 (v128.load offset=48 (local.get $qg)))
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $g0)))
              (local.set $a1 (f32x4.add (local.get $a1) (local.get $g1)))
              (local.set $a2 (f32x4.add (local.get $a2) (local.get $g2)))
              (local.set $a3 (f32x4.add (local.get $a3) (local.get $g3)))
              (local.set $s0 (f32x4.add (local.get $s0)
                (f32x4.mul (local.get $g0) (f32x4.sub (v128.load (local.get $qx)) (local.get $k0)))))
              (local.set $s1 (f32x4.add (local.get $s1)
                (f32x4.mul (local.get $g1) (f32x4.sub (v128.load offset=16 (local.get $qx)) (local.get $k1)))))
              (local.set $s2 (f32x4.add (local.get $s2)
                (f32x4.mul (local.get $g2) (f32x4.sub (v128.load offset=32 (local.get $qx)) (local.get $k2)))))
              (local.set $s3 (f32x4.add (local.get $s3)
                (f32x4.mul (local.get $g3) (f32x4.sub (v128.load offset=48 (local.get $qx)) (local.get $k3)))))
              (local.set $qg (i32.add (local.get $qg) (local.get $rowB)))
              (local.set $qx (i32.add (local.get $qx) (local.get $rowB)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $gwrows (local.get $r)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $a0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 32)) (local.get $a1))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 64)) (local.get $a2))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 96)) (local.get $a3))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowB) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $s0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 32)) (local.get $s1))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 64)) (local.get $s2))
            (call $bnAcc64 (i32.add (local.get $o) (i32.const 96)) (local.get $s3))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $gwide)))
        (block $gnarrow_done
          (loop $gnarrow
            (br_if $gnarrow_done (i32.ge_u (local.get $j) (local.get $rowB)))
            (local.set $k0 (v128.load (i32.add (local.get $k) (local.get $j))))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $qg (i32.add (local.get $dy) (i32.add (local.get $off) (local.get $j))))
            (local.set $qx (i32.add (local.get $x) (i32.add (local.get $off) (local.get $j))))
            (local.set $r (local.get $cnt))
            (loop $gnrows
              (local.set $g0 (v128.load (local.get $qg)))
              (local.set $a0 (f32x4.add (local.get $a0) (local.get $g0)))
              (local.set $s0 (f32x4.add (local.get $s0)
                (f32x4.mul (local.get $g0) (f32x4.sub (v128.load (local.get $qx)) (local.get $k0)))))
              (local.set $qg (i32.add (local.get $qg) (local.get $rowB)))
              (local.set $qx (i32.add (local.get $qx) (local.get $rowB)))
              (local.set $r (i32.sub (local.get $r) (i32.const 1)))
              (br_if $gnrows (local.get $r)))
            (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 1))))
            (call $bnAcc64 (local.get $o) (local.get $a0))
            (call $bnAcc64 (i32.add (local.get $o) (i32.shl (local.get $rowB) (i32.const 1))) (local.get $s0))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $gnarrow)))
        (local.set $off (i32.add (local.get $off) (i32.mul (local.get $cnt) (local.get $rowB))))
        (local.set $i (i32.add (local.get $i) (local.get $cnt)))
        (br $gblocks))))

  ;; y[i,j] = x[i,j]·a[j] + b[j] (the forward output; y may be x). A streaming pass needs no row blocks:
  ;; rows outer, the m/4 vectors of a row inner, constants re-loaded from L1.
  (func (export "bnApply") (param $x i32) (param $a i32) (param $b i32) (param $y i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $end i32) (local $p i32) (local $q i32) (local $j i32)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $rowB))))
    (local.set $p (local.get $x))
    (local.set $q (local.get $y))
    (block $adone
      (loop $arows
        (br_if $adone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $j (i32.const 0))
        (loop $acols
          (v128.store (i32.add (local.get $q) (local.get $j))
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $j)))
                         (v128.load (i32.add (local.get $a) (local.get $j))))
              (v128.load (i32.add (local.get $b) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $acols (i32.lt_u (local.get $j) (local.get $rowB))))
        (local.set $p (i32.add (local.get $p) (local.get $rowB)))
        (local.set $q (i32.add (local.get $q) (local.get $rowB)))
        (br $arows))))

  ;; out[i,j] = u[i,j]·a[j] + v[i,j]·b[j] + d[j] (dx = A·dy + B·x + D; out may be u or v).
  (func (export "bnApply2") (param $u i32) (param $v i32) (param $a i32) (param $b i32) (param $d i32)
    (param $out i32) (param $n i32) (param $m i32)
    (local $rowB i32) (local $off i32) (local $total i32) (local $j i32)
    (local.set $rowB (i32.shl (local.get $m) (i32.const 2)))
    (local.set $total (i32.mul (local.get $n) (local.get $rowB)))
    (local.set $off (i32.const 0))
    (block $bdone
      (loop $brows
        (br_if $bdone (i32.ge_u (local.get $off) (local.get $total)))
        (local.set $j (i32.const 0))
        (loop $bcols
          (v128.store (i32.add (local.get $out) (i32.add (local.get $off) (local.get $j)))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $u) (i32.add (local.get $off) (local.get $j))))
                           (v128.load (i32.add (local.get $a) (local.get $j))))
                (f32x4.mul (v128.load (i32.add (local.get $v) (i32.add (local.get $off) (local.get $j))))
                           (v128.load (i32.add (local.get $b) (local.get $j)))))
              (v128.load (i32.add (local.get $d) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $bcols (i32.lt_u (local.get $j) (local.get $rowB))))
        (local.set $off (i32.add (local.get $off) (local.get $rowB)))
        (br $brows))))
)
