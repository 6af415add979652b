;; Conv2DBackpropFilter for NHWC float32, stride 1, dilation 1, any kh × kw and explicit pads:
;;   dW[i,j,c,o] = Σ_{b,y,x} x[b, y+i−pt, x+j−pl, c] · dy[b,y,x,o]   (dW in filter layout [kh,kw,Cin,Cout])
;; Direct, no im2col and no packing (XNNPACK re-packs dy on every training step, which cost more than the
;; product). For a filter offset (i,j) and an output row y whose source row exists, the output columns
;; x ∈ [x0,x1) with a source column form one contiguous run of pixels in dy and, shifted, in x; the run adds
;; the rank-n update Σ_run x[p, c] ⊗ dy[p, o] to the [Cin, Cout] slice of dW for (i,j). Register tiles: 4
;; input channels (splat of each x value) × 8 output channels (2 v128 of dy) = 8 accumulators; 1 × 16 for
;; single channels (Cin = 1 on the first layer, Cin % 4 remainders); 4 × 4, 1 × 4 and scalar tiles for
;; Cout remainders. A tile is loaded and stored once per run. Loop order b, y, i, j: the dy row and the kh
;; x rows it meets stay in L1/L2 while all offsets and tiles sweep them.
;; Pointers are byte offsets into the imported memory (tfjs-backend-wasm's heap).
(module
  (import "env" "memory" (memory 1))

  ;; C[4 rows, 8 cols] += Σ_p x[p, 0..3] ⊗ dy[p, 0..7]; $xst / $ost: bytes per pixel of x / dy (= bytes per C row)
  (func $t4x8 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $xst i32) (param $ost i32)
    (local $end i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $c1 (i32.add (local.get $cp) (local.get $ost)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ost)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ost)))
    (local.set $a0 (v128.load (local.get $cp)))
    (local.set $a1 (v128.load offset=16 (local.get $cp)))
    (local.set $a2 (v128.load (local.get $c1)))
    (local.set $a3 (v128.load offset=16 (local.get $c1)))
    (local.set $a4 (v128.load (local.get $c2)))
    (local.set $a5 (v128.load offset=16 (local.get $c2)))
    (local.set $a6 (v128.load (local.get $c3)))
    (local.set $a7 (v128.load offset=16 (local.get $c3)))
    (local.set $end (i32.add (local.get $xs) (i32.mul (local.get $n) (local.get $xst))))
    (loop $l
      (local.set $d0 (v128.load (local.get $ds)))
      (local.set $d1 (v128.load offset=16 (local.get $ds)))
      (local.set $s (v128.load32_splat (local.get $xs)))
      (local.set $a0 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a0)))
      (local.set $a1 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a1)))
      (local.set $s (v128.load32_splat offset=4 (local.get $xs)))
      (local.set $a2 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a2)))
      (local.set $a3 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a3)))
      (local.set $s (v128.load32_splat offset=8 (local.get $xs)))
      (local.set $a4 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a4)))
      (local.set $a5 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a5)))
      (local.set $s (v128.load32_splat offset=12 (local.get $xs)))
      (local.set $a6 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a6)))
      (local.set $a7 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a7)))
      (local.set $ds (i32.add (local.get $ds) (local.get $ost)))
      (local.set $xs (i32.add (local.get $xs) (local.get $xst)))
      (br_if $l (i32.lt_u (local.get $xs) (local.get $end))))
    (v128.store (local.get $cp) (local.get $a0))
    (v128.store offset=16 (local.get $cp) (local.get $a1))
    (v128.store (local.get $c1) (local.get $a2))
    (v128.store offset=16 (local.get $c1) (local.get $a3))
    (v128.store (local.get $c2) (local.get $a4))
    (v128.store offset=16 (local.get $c2) (local.get $a5))
    (v128.store (local.get $c3) (local.get $a6))
    (v128.store offset=16 (local.get $c3) (local.get $a7)))

  ;; C[4 rows, 4 cols] += Σ_p x[p, 0..3] ⊗ dy[p, 0..3]
  (func $t4x4 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $xst i32) (param $ost i32)
    (local $end i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d0 v128)
    (local.set $c1 (i32.add (local.get $cp) (local.get $ost)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ost)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ost)))
    (local.set $a0 (v128.load (local.get $cp)))
    (local.set $a1 (v128.load (local.get $c1)))
    (local.set $a2 (v128.load (local.get $c2)))
    (local.set $a3 (v128.load (local.get $c3)))
    (local.set $end (i32.add (local.get $xs) (i32.mul (local.get $n) (local.get $xst))))
    (loop $l
      (local.set $d0 (v128.load (local.get $ds)))
      (local.set $a0 (f32x4.relaxed_madd (v128.load32_splat (local.get $xs)) (local.get $d0) (local.get $a0)))
      (local.set $a1 (f32x4.relaxed_madd (v128.load32_splat offset=4 (local.get $xs)) (local.get $d0) (local.get $a1)))
      (local.set $a2 (f32x4.relaxed_madd (v128.load32_splat offset=8 (local.get $xs)) (local.get $d0) (local.get $a2)))
      (local.set $a3 (f32x4.relaxed_madd (v128.load32_splat offset=12 (local.get $xs)) (local.get $d0) (local.get $a3)))
      (local.set $ds (i32.add (local.get $ds) (local.get $ost)))
      (local.set $xs (i32.add (local.get $xs) (local.get $xst)))
      (br_if $l (i32.lt_u (local.get $xs) (local.get $end))))
    (v128.store (local.get $cp) (local.get $a0))
    (v128.store (local.get $c1) (local.get $a1))
    (v128.store (local.get $c2) (local.get $a2))
    (v128.store (local.get $c3) (local.get $a3)))

  ;; C[1 row, 16 cols] += Σ_p x[p, 0] · dy[p, 0..15]; two pixels per iteration into separate accumulators
  ;; (8 independent add chains instead of 4: a single-channel tile is otherwise add-latency bound)
  (func $t1x16 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $xst i32) (param $ost i32)
    (local $end i32) (local $s v128) (local $t v128) (local $ds2 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $a0 (v128.load (local.get $cp)))
    (local.set $a1 (v128.load offset=16 (local.get $cp)))
    (local.set $a2 (v128.load offset=32 (local.get $cp)))
    (local.set $a3 (v128.load offset=48 (local.get $cp)))
    (local.set $b0 (v128.const i32x4 0 0 0 0))
    (local.set $b1 (v128.const i32x4 0 0 0 0))
    (local.set $b2 (v128.const i32x4 0 0 0 0))
    (local.set $b3 (v128.const i32x4 0 0 0 0))
    ;; $end: start of the last pixel when n is odd, else the end; pairs run while xs < end
    (local.set $end (i32.add (local.get $xs)
      (i32.mul (i32.and (local.get $n) (i32.const -2)) (local.get $xst))))
    (block $pairs
      (br_if $pairs (i32.ge_u (local.get $xs) (local.get $end)))
      (loop $l
        (local.set $s (v128.load32_splat (local.get $xs)))
        (local.set $t (v128.load32_splat (i32.add (local.get $xs) (local.get $xst))))
        (local.set $ds2 (i32.add (local.get $ds) (local.get $ost)))
        (local.set $a0 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $ds)) (local.get $a0)))
        (local.set $a1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $ds)) (local.get $a1)))
        (local.set $a2 (f32x4.relaxed_madd (local.get $s) (v128.load offset=32 (local.get $ds)) (local.get $a2)))
        (local.set $a3 (f32x4.relaxed_madd (local.get $s) (v128.load offset=48 (local.get $ds)) (local.get $a3)))
        (local.set $b0 (f32x4.relaxed_madd (local.get $t) (v128.load (local.get $ds2)) (local.get $b0)))
        (local.set $b1 (f32x4.relaxed_madd (local.get $t) (v128.load offset=16 (local.get $ds2)) (local.get $b1)))
        (local.set $b2 (f32x4.relaxed_madd (local.get $t) (v128.load offset=32 (local.get $ds2)) (local.get $b2)))
        (local.set $b3 (f32x4.relaxed_madd (local.get $t) (v128.load offset=48 (local.get $ds2)) (local.get $b3)))
        (local.set $ds (i32.add (local.get $ds2) (local.get $ost)))
        (local.set $xs (i32.add (local.get $xs) (i32.shl (local.get $xst) (i32.const 1))))
        (br_if $l (i32.lt_u (local.get $xs) (local.get $end)))))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $s (v128.load32_splat (local.get $xs)))
        (local.set $a0 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $ds)) (local.get $a0)))
        (local.set $a1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $ds)) (local.get $a1)))
        (local.set $a2 (f32x4.relaxed_madd (local.get $s) (v128.load offset=32 (local.get $ds)) (local.get $a2)))
        (local.set $a3 (f32x4.relaxed_madd (local.get $s) (v128.load offset=48 (local.get $ds)) (local.get $a3)))))
    (v128.store (local.get $cp) (f32x4.add (local.get $a0) (local.get $b0)))
    (v128.store offset=16 (local.get $cp) (f32x4.add (local.get $a1) (local.get $b1)))
    (v128.store offset=32 (local.get $cp) (f32x4.add (local.get $a2) (local.get $b2)))
    (v128.store offset=48 (local.get $cp) (f32x4.add (local.get $a3) (local.get $b3))))

  ;; C[1 row, 4 cols] += Σ_p x[p, 0] · dy[p, 0..3]
  (func $t1x4 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $xst i32) (param $ost i32)
    (local $end i32) (local $a0 v128)
    (local.set $a0 (v128.load (local.get $cp)))
    (local.set $end (i32.add (local.get $xs) (i32.mul (local.get $n) (local.get $xst))))
    (loop $l
      (local.set $a0 (f32x4.relaxed_madd (v128.load32_splat (local.get $xs)) (v128.load (local.get $ds)) (local.get $a0)))
      (local.set $ds (i32.add (local.get $ds) (local.get $ost)))
      (local.set $xs (i32.add (local.get $xs) (local.get $xst)))
      (br_if $l (i32.lt_u (local.get $xs) (local.get $end))))
    (v128.store (local.get $cp) (local.get $a0)))

  ;; C[1 row, 1 col] += Σ_p x[p, 0] · dy[p, 0] (Cout % 4 remainders only)
  (func $t1x1 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $xst i32) (param $ost i32)
    (local $end i32) (local $a f32)
    (local.set $a (f32.load (local.get $cp)))
    (local.set $end (i32.add (local.get $xs) (i32.mul (local.get $n) (local.get $xst))))
    (loop $l
      (local.set $a (f32.add (local.get $a) (f32.mul (f32.load (local.get $xs)) (f32.load (local.get $ds)))))
      (local.set $ds (i32.add (local.get $ds) (local.get $ost)))
      (local.set $xs (i32.add (local.get $xs) (local.get $xst)))
      (br_if $l (i32.lt_u (local.get $xs) (local.get $end))))
    (f32.store (local.get $cp) (local.get $a)))

  ;; Cin = 1 only: three filter columns j, j+1, j+2 at once, 8 outputs. C_j[0, 0..7] += Σ_p x[p + k] · dy[p, 0..7]
  ;; for k = 0, 1, 2 (the x pixels of neighbouring offsets are 4 bytes apart); $sl: bytes per dW (i,j) slice.
  ;; Each dy vector serves 3 offsets: a lone 1 × 16 tile is load bound (5 loads per 8 FP ops), this is not.
  (func $g3x8 (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $ost i32) (param $sl i32)
    (local $end i32) (local $c1 i32) (local $c2 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $c1 (i32.add (local.get $cp) (local.get $sl)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $sl)))
    (local.set $a0 (v128.load (local.get $cp)))
    (local.set $a1 (v128.load offset=16 (local.get $cp)))
    (local.set $a2 (v128.load (local.get $c1)))
    (local.set $a3 (v128.load offset=16 (local.get $c1)))
    (local.set $a4 (v128.load (local.get $c2)))
    (local.set $a5 (v128.load offset=16 (local.get $c2)))
    (local.set $end (i32.add (local.get $xs) (i32.shl (local.get $n) (i32.const 2))))
    (loop $l
      (local.set $d0 (v128.load (local.get $ds)))
      (local.set $d1 (v128.load offset=16 (local.get $ds)))
      (local.set $s (v128.load32_splat (local.get $xs)))
      (local.set $a0 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a0)))
      (local.set $a1 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a1)))
      (local.set $s (v128.load32_splat offset=4 (local.get $xs)))
      (local.set $a2 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a2)))
      (local.set $a3 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a3)))
      (local.set $s (v128.load32_splat offset=8 (local.get $xs)))
      (local.set $a4 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a4)))
      (local.set $a5 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a5)))
      (local.set $ds (i32.add (local.get $ds) (local.get $ost)))
      (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $xs) (local.get $end))))
    (v128.store (local.get $cp) (local.get $a0))
    (v128.store offset=16 (local.get $cp) (local.get $a1))
    (v128.store (local.get $c1) (local.get $a2))
    (v128.store offset=16 (local.get $c1) (local.get $a3))
    (v128.store (local.get $c2) (local.get $a4))
    (v128.store offset=16 (local.get $c2) (local.get $a5)))

  ;; C[Cin, Cout] += Σ_{p<n} x[p, :] ⊗ dy[p, :] for one run (n ≥ 1), tiled over (c, o)
  (func $run (param $xs i32) (param $ds i32) (param $cp i32) (param $n i32) (param $cin i32) (param $cout i32)
    (local $xst i32) (local $ost i32) (local $c i32) (local $o i32) (local $r i32) (local $crow i32)
    (local.set $xst (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $ost (i32.shl (local.get $cout) (i32.const 2)))
    ;; groups of 4 input channels
    (block $cdone4
      (loop $cloop4
        (br_if $cdone4 (i32.gt_s (i32.add (local.get $c) (i32.const 4)) (local.get $cin)))
        ;; $crow: byte offset of C row c
        (local.set $crow (i32.add (local.get $cp) (i32.mul (local.get $c) (local.get $ost))))
        (local.set $o (i32.const 0))
        (block $odone8
          (loop $oloop8
            (br_if $odone8 (i32.gt_s (i32.add (local.get $o) (i32.const 8)) (local.get $cout)))
            (call $t4x8
              (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2)))
              (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
              (i32.add (local.get $crow) (i32.shl (local.get $o) (i32.const 2)))
              (local.get $n) (local.get $xst) (local.get $ost))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $oloop8)))
        (if (i32.le_s (i32.add (local.get $o) (i32.const 4)) (local.get $cout))
          (then
            (call $t4x4
              (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2)))
              (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
              (i32.add (local.get $crow) (i32.shl (local.get $o) (i32.const 2)))
              (local.get $n) (local.get $xst) (local.get $ost))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))))
        ;; Cout % 4 remainder: scalar, one (channel, output) pair at a time
        (block $odone1
          (loop $oloop1
            (br_if $odone1 (i32.ge_s (local.get $o) (local.get $cout)))
            (local.set $r (i32.const 0))
            (loop $rloop
              (call $t1x1
                (i32.add (local.get $xs) (i32.shl (i32.add (local.get $c) (local.get $r)) (i32.const 2)))
                (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
                (i32.add (i32.add (local.get $crow) (i32.mul (local.get $r) (local.get $ost)))
                  (i32.shl (local.get $o) (i32.const 2)))
                (local.get $n) (local.get $xst) (local.get $ost))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br_if $rloop (i32.lt_s (local.get $r) (i32.const 4))))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $oloop1)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $cloop4)))
    ;; remaining single input channels (all of them when Cin < 4)
    (block $cdone1
      (loop $cloop1
        (br_if $cdone1 (i32.ge_s (local.get $c) (local.get $cin)))
        (local.set $crow (i32.add (local.get $cp) (i32.mul (local.get $c) (local.get $ost))))
        (local.set $o (i32.const 0))
        (block $odone16
          (loop $oloop16
            (br_if $odone16 (i32.gt_s (i32.add (local.get $o) (i32.const 16)) (local.get $cout)))
            (call $t1x16
              (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2)))
              (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
              (i32.add (local.get $crow) (i32.shl (local.get $o) (i32.const 2)))
              (local.get $n) (local.get $xst) (local.get $ost))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $oloop16)))
        (block $odone4
          (loop $oloop4
            (br_if $odone4 (i32.gt_s (i32.add (local.get $o) (i32.const 4)) (local.get $cout)))
            (call $t1x4
              (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2)))
              (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
              (i32.add (local.get $crow) (i32.shl (local.get $o) (i32.const 2)))
              (local.get $n) (local.get $xst) (local.get $ost))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (br $oloop4)))
        (block $odone
          (loop $oloop
            (br_if $odone (i32.ge_s (local.get $o) (local.get $cout)))
            (call $t1x1
              (i32.add (local.get $xs) (i32.shl (local.get $c) (i32.const 2)))
              (i32.add (local.get $ds) (i32.shl (local.get $o) (i32.const 2)))
              (i32.add (local.get $crow) (i32.shl (local.get $o) (i32.const 2)))
              (local.get $n) (local.get $xst) (local.get $ost))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (br $oloop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop1))))

  ;; dW (every element written: zeroed first) from x [B,H,W,Cin] and dy [B,OH,OW,Cout]
  (func (export "conv2dBackpropFilterS1")
    (param $x i32) (param $dy i32) (param $dw i32)
    (param $B i32) (param $H i32) (param $W i32) (param $cin i32)
    (param $OH i32) (param $OW i32) (param $cout i32)
    (param $kh i32) (param $kw i32) (param $pt i32) (param $pl i32)
    (local $xst i32) (local $ost i32) (local $b i32) (local $y i32) (local $i i32) (local $j i32)
    (local $yy i32) (local $dj i32) (local $x0 i32) (local $x1 i32)
    (local $dyRow i32) (local $xRow i32) (local $cij i32) (local $sliceB i32)
    (local $grp3 i32) (local $gend i32) (local $g0 i32) (local $g1 i32) (local $e0 i32) (local $e1 i32) (local $o i32)
    (local.set $xst (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $ost (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $grp3 (i32.and (i32.eq (local.get $cin) (i32.const 1))
      (i32.eqz (i32.and (local.get $cout) (i32.const 7)))))
    ;; bytes of one (i,j) slice [Cin, Cout] of dW
    (local.set $sliceB (i32.mul (local.get $cin) (local.get $ost)))
    (memory.fill (local.get $dw) (i32.const 0)
      (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $sliceB)))
    (local.set $dyRow (local.get $dy))
    (block $bdone
      (loop $bloop
        (br_if $bdone (i32.ge_s (local.get $b) (local.get $B)))
        (local.set $y (i32.const 0))
        (block $ydone
          (loop $yloop
            (br_if $ydone (i32.ge_s (local.get $y) (local.get $OH)))
            (local.set $i (i32.const 0))
            (block $idone
              (loop $iloop
                (br_if $idone (i32.ge_s (local.get $i) (local.get $kh)))
                (local.set $yy (i32.sub (i32.add (local.get $y) (local.get $i)) (local.get $pt)))
                ;; unsigned compare also rejects yy < 0
                (if (i32.lt_u (local.get $yy) (local.get $H))
                  (then
                    (local.set $xRow (i32.add (local.get $x)
                      (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $yy)) (local.get $W))
                        (local.get $xst))))
                    (local.set $j (i32.const 0))
                    (local.set $gend (i32.const 0))
                    (block $jdone
                      (loop $jloop
                        (br_if $jdone (i32.ge_s (local.get $j) (local.get $kw)))
                        (local.set $dj (i32.sub (local.get $j) (local.get $pl)))
                        ;; output columns whose source column dj + x lies in [0, W)
                        (local.set $x0 (select (i32.sub (i32.const 0) (local.get $dj)) (i32.const 0)
                          (i32.lt_s (local.get $dj) (i32.const 0))))
                        (local.set $x1 (i32.sub (local.get $W) (local.get $dj)))
                        (if (i32.gt_s (local.get $x1) (local.get $OW)) (then (local.set $x1 (local.get $OW))))
                        (local.set $cij (i32.add (local.get $dw)
                          (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $sliceB))))
                        ;; columns [$g0, $g1) of this j were already done by the 3-offset tile; empty at $g0
                        (if (i32.ge_s (local.get $j) (local.get $gend))
                          (then (local.set $g0 (local.get $x0)) (local.set $g1 (local.get $x0))))
                        (if (i32.and (local.get $grp3)
                              (i32.and (i32.eq (local.get $j) (local.get $gend))
                                (i32.lt_s (i32.add (local.get $j) (i32.const 2)) (local.get $kw))))
                          (then
                            ;; Cin = 1, Cout % 8 = 0: offsets j..j+2 together on the columns valid for all
                            ;; three: x0 of j (the largest) to x1 of j+2 (the smallest)
                            (local.set $gend (i32.add (local.get $j) (i32.const 3)))
                            (local.set $g0 (local.get $x0))
                            (local.set $g1 (i32.sub (local.get $W) (i32.add (local.get $dj) (i32.const 2))))
                            (if (i32.gt_s (local.get $g1) (local.get $OW)) (then (local.set $g1 (local.get $OW))))
                            (if (i32.lt_s (local.get $g0) (local.get $g1))
                              (then
                                (local.set $o (i32.const 0))
                                (loop $gloop
                                  (call $g3x8
                                    (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $g0) (local.get $dj)) (i32.const 2)))
                                    (i32.add (local.get $dyRow)
                                      (i32.add (i32.mul (local.get $g0) (local.get $ost)) (i32.shl (local.get $o) (i32.const 2))))
                                    (i32.add (local.get $cij) (i32.shl (local.get $o) (i32.const 2)))
                                    (i32.sub (local.get $g1) (local.get $g0))
                                    (local.get $ost) (local.get $sliceB))
                                  (local.set $o (i32.add (local.get $o) (i32.const 8)))
                                  (br_if $gloop (i32.lt_s (local.get $o) (local.get $cout)))))
                              (else (local.set $g1 (local.get $g0))))))
                        ;; the rest of the run: [x0, min(x1, g0)) and [max(x0, g1), x1)
                        (local.set $e1 (select (local.get $g0) (local.get $x1) (i32.lt_s (local.get $g0) (local.get $x1))))
                        (if (i32.lt_s (local.get $x0) (local.get $e1))
                          (then
                            (call $run
                              (i32.add (local.get $xRow)
                                (i32.mul (i32.add (local.get $x0) (local.get $dj)) (local.get $xst)))
                              (i32.add (local.get $dyRow) (i32.mul (local.get $x0) (local.get $ost)))
                              (local.get $cij)
                              (i32.sub (local.get $e1) (local.get $x0))
                              (local.get $cin) (local.get $cout))))
                        (local.set $e0 (select (local.get $g1) (local.get $x0) (i32.gt_s (local.get $g1) (local.get $x0))))
                        (if (i32.lt_s (local.get $e0) (local.get $x1))
                          (then
                            (call $run
                              (i32.add (local.get $xRow)
                                (i32.mul (i32.add (local.get $e0) (local.get $dj)) (local.get $xst)))
                              (i32.add (local.get $dyRow) (i32.mul (local.get $e0) (local.get $ost)))
                              (local.get $cij)
                              (i32.sub (local.get $x1) (local.get $e0))
                              (local.get $cin) (local.get $cout))))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br $jloop)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $iloop)))
            (local.set $dyRow (i32.add (local.get $dyRow) (i32.mul (local.get $OW) (local.get $ost))))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $yloop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bloop)))
  )
)
