;; Direct 2-D convolution, NHWC float32, stride 1, dilation 1 (the forward Conv2D, and Conv2DBackpropInput
;; as a forward convolution of dy with the rotated filter; see Conv2D.ts / Conv2DBackpropInput.ts).
;;
;; The input is first copied into a zero-padded buffer xp [B, HP, WP, C] (conv2dPad), so the product loops
;; have no bounds checks: output pixel (y, x) reads xp rows y..y+kh−1 from column x on, and for one filter
;; row i the kw·C values xp[y+i, x..x+kw−1, 0..C−1] are contiguous, as are the matching filter rows
;; w[i, 0..kw−1, 0..C−1, :]. So out[y, x, o] = Σ_i Σ_{k < kw·C} xp[y+i, x, k] · w[i, k, o].
;;
;; Register tile: 4 output pixels × 8 output channels (8 accumulators); per step 2 filter vectors and
;; 4 broadcast inputs. Output channels must be a multiple of 8 (the wrapper falls back otherwise).
;; f32x4.relaxed_madd is a fused multiply-add where the engine has relaxed SIMD; build-simd.mjs also
;; writes a baseline module with it as mul + add.
(module
  (import "env" "memory" (memory 1))

  ;; xp [B, HP, WP, C] ← x [B, H, W, C] at rows pt.., columns pl..; every other element of xp zeroed
  (func (export "conv2dPad")
    (param $x i32) (param $xp i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32)
    (param $HP i32) (param $WP i32) (param $pt i32) (param $pl i32)
    (local $rowB i32) (local $prowB i32) (local $leftB i32) (local $rightB i32)
    (local $b i32) (local $y i32) (local $dst i32) (local $src i32)
    (local.set $rowB (i32.shl (i32.mul (local.get $W) (local.get $C)) (i32.const 2)))
    (local.set $prowB (i32.shl (i32.mul (local.get $WP) (local.get $C)) (i32.const 2)))
    (local.set $leftB (i32.shl (i32.mul (local.get $pl) (local.get $C)) (i32.const 2)))
    (local.set $rightB (i32.sub (i32.sub (local.get $prowB) (local.get $leftB)) (local.get $rowB)))
    (local.set $src (local.get $x))
    (local.set $dst (local.get $xp))
    (block $bdone
      (loop $bloop
        (br_if $bdone (i32.ge_s (local.get $b) (local.get $B)))
        ;; top padding rows
        (memory.fill (local.get $dst) (i32.const 0) (i32.mul (local.get $pt) (local.get $prowB)))
        (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $pt) (local.get $prowB))))
        (local.set $y (i32.const 0))
        (block $ydone
          (loop $yloop
            (br_if $ydone (i32.ge_s (local.get $y) (local.get $H)))
            (memory.fill (local.get $dst) (i32.const 0) (local.get $leftB))
            (memory.copy (i32.add (local.get $dst) (local.get $leftB)) (local.get $src) (local.get $rowB))
            (memory.fill (i32.add (i32.add (local.get $dst) (local.get $leftB)) (local.get $rowB))
              (i32.const 0) (local.get $rightB))
            (local.set $dst (i32.add (local.get $dst) (local.get $prowB)))
            (local.set $src (i32.add (local.get $src) (local.get $rowB)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $yloop)))
        ;; bottom padding rows
        (memory.fill (local.get $dst) (i32.const 0)
          (i32.mul (i32.sub (i32.sub (local.get $HP) (local.get $pt)) (local.get $H)) (local.get $prowB)))
        (local.set $dst (i32.add (local.get $dst)
          (i32.mul (i32.sub (i32.sub (local.get $HP) (local.get $pt)) (local.get $H)) (local.get $prowB))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bloop))))

  ;; 4 pixels × 8 channels: dst[p, 0..7] = Σ_{i<kh} Σ_{k<krow/4} xp[row i, pixel p, k] · w[i, k, 0..7]
  ;; $p: xp at (row y, pixel x); $q: w at channel o; $cb pixel stride, $ob = O·4, $krow = kw·C·4,
  ;; $prow = WP·C·4 (bytes)
  (func $c4x8 (param $p i32) (param $q i32) (param $dst i32) (param $cb i32) (param $ob i32)
    (param $krow i32) (param $prow i32) (param $kh i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $pe i32) (local $cb2 i32) (local $cb3 i32)
    (local.set $cb2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $cb3 (i32.add (local.get $cb2) (local.get $cb)))
    (loop $rows
      (local.set $pe (i32.add (local.get $p) (local.get $krow)))
      (loop $k
        (local.set $w0 (v128.load (local.get $q)))
        (local.set $w1 (v128.load offset=16 (local.get $q)))
        (local.set $s (v128.load32_splat (local.get $p)))
        (local.set $a0 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a0)))
        (local.set $a1 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a1)))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $cb))))
        (local.set $a2 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a2)))
        (local.set $a3 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a3)))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $cb2))))
        (local.set $a4 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a4)))
        (local.set $a5 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a5)))
        (local.set $s (v128.load32_splat (i32.add (local.get $p) (local.get $cb3))))
        (local.set $a6 (f32x4.relaxed_madd (local.get $s) (local.get $w0) (local.get $a6)))
        (local.set $a7 (f32x4.relaxed_madd (local.get $s) (local.get $w1) (local.get $a7)))
        (local.set $q (i32.add (local.get $q) (local.get $ob)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $k (i32.lt_u (local.get $p) (local.get $pe))))
      ;; the same pixels one input row down
      (local.set $p (i32.add (i32.sub (local.get $pe) (local.get $krow)) (local.get $prow)))
      (local.set $kh (i32.sub (local.get $kh) (i32.const 1)))
      (br_if $rows (local.get $kh)))
    (v128.store (local.get $dst) (local.get $a0))
    (v128.store offset=16 (local.get $dst) (local.get $a1))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (local.get $a2))
    (v128.store offset=16 (local.get $dst) (local.get $a3))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (local.get $a4))
    (v128.store offset=16 (local.get $dst) (local.get $a5))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (local.get $a6))
    (v128.store offset=16 (local.get $dst) (local.get $a7)))

  ;; 1 pixel × 8 channels (the OW % 4 remainder), same arguments as $c4x8
  (func $c1x8 (param $p i32) (param $q i32) (param $dst i32) (param $ob i32)
    (param $krow i32) (param $prow i32) (param $kh i32)
    (local $a0 v128) (local $a1 v128) (local $s v128) (local $pe i32)
    (loop $rows1
      (local.set $pe (i32.add (local.get $p) (local.get $krow)))
      (loop $k1
        (local.set $s (v128.load32_splat (local.get $p)))
        (local.set $a0 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $q)) (local.get $a0)))
        (local.set $a1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $q)) (local.get $a1)))
        (local.set $q (i32.add (local.get $q) (local.get $ob)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $k1 (i32.lt_u (local.get $p) (local.get $pe))))
      (local.set $p (i32.add (i32.sub (local.get $pe) (local.get $krow)) (local.get $prow)))
      (local.set $kh (i32.sub (local.get $kh) (i32.const 1)))
      (br_if $rows1 (local.get $kh)))
    (v128.store (local.get $dst) (local.get $a0))
    (v128.store offset=16 (local.get $dst) (local.get $a1)))

  ;; out [B, OH, OW, O] (every element written) from the padded xp [B, OH+kh−1, WP, C] and
  ;; w [kh, kw, C, O]; WP = OW + kw − 1, O % 8 = 0
  (func (export "conv2dS1")
    (param $xp i32) (param $w i32) (param $out i32)
    (param $B i32) (param $OH i32) (param $OW i32) (param $C i32) (param $O i32)
    (param $kh i32) (param $kw i32) (param $WP i32)
    (local $cb i32) (local $ob i32) (local $krow i32) (local $prow i32)
    (local $row i32) (local $rows i32) (local $in i32) (local $dst i32) (local $o i32) (local $x i32)
    (local $y i32) (local $HP i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $krow (i32.mul (local.get $kw) (local.get $cb)))
    (local.set $prow (i32.mul (local.get $WP) (local.get $cb)))
    (local.set $HP (i32.sub (i32.add (local.get $OH) (local.get $kh)) (i32.const 1)))
    (local.set $rows (i32.mul (local.get $B) (local.get $OH)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_s (local.get $row) (local.get $rows)))
        ;; output row $row = b·OH + y reads padded rows b·HP + y ..
        (local.set $y (i32.rem_u (local.get $row) (local.get $OH)))
        (local.set $in (i32.add (local.get $xp)
          (i32.mul (i32.add (i32.mul (i32.div_u (local.get $row) (local.get $OH)) (local.get $HP)) (local.get $y))
            (local.get $prow))))
        (local.set $dst (i32.add (local.get $out) (i32.mul (i32.mul (local.get $row) (local.get $OW)) (local.get $ob))))
        (local.set $o (i32.const 0))
        (loop $oloop
          (local.set $x (i32.const 0))
          (block $x4done
            (loop $x4loop
              (br_if $x4done (i32.gt_s (i32.add (local.get $x) (i32.const 4)) (local.get $OW)))
              (call $c4x8
                (i32.add (local.get $in) (i32.mul (local.get $x) (local.get $cb)))
                (i32.add (local.get $w) (i32.shl (local.get $o) (i32.const 2)))
                (i32.add (i32.add (local.get $dst) (i32.mul (local.get $x) (local.get $ob))) (i32.shl (local.get $o) (i32.const 2)))
                (local.get $cb) (local.get $ob) (local.get $krow) (local.get $prow) (local.get $kh))
              (local.set $x (i32.add (local.get $x) (i32.const 4)))
              (br $x4loop)))
          (block $x1done
            (loop $x1loop
              (br_if $x1done (i32.ge_s (local.get $x) (local.get $OW)))
              (call $c1x8
                (i32.add (local.get $in) (i32.mul (local.get $x) (local.get $cb)))
                (i32.add (local.get $w) (i32.shl (local.get $o) (i32.const 2)))
                (i32.add (i32.add (local.get $dst) (i32.mul (local.get $x) (local.get $ob))) (i32.shl (local.get $o) (i32.const 2)))
                (local.get $ob) (local.get $krow) (local.get $prow) (local.get $kh))
              (local.set $x (i32.add (local.get $x) (i32.const 1)))
              (br $x1loop)))
          (local.set $o (i32.add (local.get $o) (i32.const 8)))
          (br_if $oloop (i32.lt_s (local.get $o) (local.get $O))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rloop))))
)
