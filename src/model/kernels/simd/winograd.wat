;; Winograd F(2×2, 3×3) convolution, NHWC float32, stride 1, 3×3 filter (the forward Conv2D and
;; Conv2DBackpropInput of the 3×3 layers with ≥ 8 input channels; see Conv2D.ts), and below, its transpose
;; F(3×3, 2×2) for the filter gradient (Conv2DBackpropFilter.ts, wgFilterGrad). Every 2×2 block of output
;; pixels (a tile) is computed from the 4×4 input patch under it with 16 multiply-adds per (input, output)
;; channel pair instead of 36:
;;
;;   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      summed over the input channels, per output channel
;;
;;   Bᵀ = | 1  0 −1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
;;        | 0  1  1  0 |        | ½    ½    ½  |         | 0  1 −1 −1 |
;;        | 0 −1  1  0 |        | ½   −½    ½  |
;;        | 0  1  0 −1 |        | 0    0    1  |
;;
;; The sum over input channels of the elementwise products is, for each of the 16 positions ξ of the 4×4
;; transformed tile, a matrix product M_ξ [tiles × O] = V_ξ [tiles × C] · U_ξ [C × O]. The filter is
;; transformed once per call (wgFilter: U [16, C, O]); the input, already zero-padded by conv2dPad
;; (conv2d.wat) to [B, HP, WP, C] with HP = 2·⌈OH/2⌉ + 2, WP = 2·⌈OW/2⌉ + 2 (so edge tiles read zeros and
;; need no bounds checks), is processed in blocks of up to TB tiles of one tile row: transform the block
;; (V), 16 products (M), transform back into the output, writing only the pixels inside it (an odd OH or OW
;; leaves half-tiles at the bottom / right edge). A block's V and M stay in cache.
;;
;; Needs C % 4 == 0 (input transform in 4-channel vectors) and O % 8 == 0 (4 tiles × 8 channels register
;; tile in the products). f32x4.relaxed_madd is a fused multiply-add where the engine has relaxed SIMD;
;; build-simd.mjs also writes a baseline module with it as mul + add.
(module
  (import "env" "memory" (memory 1))

  ;; U [16, C, O] ← G g Gᵀ for every (c, o) of the filter w [3, 3, C, O] (O % 4 == 0)
  (func (export "wgFilter") (param $w i32) (param $u i32) (param $C i32) (param $O i32)
    (local $ob i32) (local $tap i32) (local $us i32) (local $p i32) (local $pe i32) (local $q i32)
    (local $half v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128)
    (local $t00 v128) (local $t01 v128) (local $t02 v128)
    (local $t10 v128) (local $t11 v128) (local $t12 v128)
    (local $t20 v128) (local $t21 v128) (local $t22 v128)
    (local $t30 v128) (local $t31 v128) (local $t32 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    ;; filter tap (i, j) is C·O floats after tap (i, j−1); U_ξ is C·O floats after U_{ξ−1}
    (local.set $tap (i32.mul (local.get $C) (local.get $ob)))
    (local.set $us (local.get $tap))
    (local.set $p (local.get $w))
    (local.set $q (local.get $u))
    (local.set $pe (i32.add (local.get $w) (local.get $tap)))
    (loop $co
      ;; column j of g (rows 0..2) → rows 0..3 of t = G g, column j
      (local.set $g0 (v128.load (local.get $p)))
      (local.set $g1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $tap) (i32.const 3)))))
      (local.set $g2 (v128.load (i32.add (local.get $p) (i32.mul (local.get $tap) (i32.const 6)))))
      (local.set $t00 (local.get $g0))
      (local.set $t10 (f32x4.mul (f32x4.add (f32x4.add (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t20 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t30 (local.get $g2))
      (local.set $g0 (v128.load (i32.add (local.get $p) (local.get $tap))))
      (local.set $g1 (v128.load (i32.add (local.get $p) (i32.shl (local.get $tap) (i32.const 2)))))
      (local.set $g2 (v128.load (i32.add (local.get $p) (i32.mul (local.get $tap) (i32.const 7)))))
      (local.set $t01 (local.get $g0))
      (local.set $t11 (f32x4.mul (f32x4.add (f32x4.add (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t21 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t31 (local.get $g2))
      (local.set $g0 (v128.load (i32.add (local.get $p) (i32.shl (local.get $tap) (i32.const 1)))))
      (local.set $g1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $tap) (i32.const 5)))))
      (local.set $g2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $tap) (i32.const 3)))))
      (local.set $t02 (local.get $g0))
      (local.set $t12 (f32x4.mul (f32x4.add (f32x4.add (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t22 (f32x4.mul (f32x4.add (f32x4.sub (local.get $g0) (local.get $g1)) (local.get $g2)) (local.get $half)))
      (local.set $t32 (local.get $g2))
      ;; each row r of t (3 columns) → U_{4r..4r+3} = t Gᵀ
      (call $wgFilterRow (local.get $q) (local.get $us) (local.get $t00) (local.get $t01) (local.get $t02) (local.get $half))
      (call $wgFilterRow (i32.add (local.get $q) (i32.shl (local.get $us) (i32.const 2)))
        (local.get $us) (local.get $t10) (local.get $t11) (local.get $t12) (local.get $half))
      (call $wgFilterRow (i32.add (local.get $q) (i32.shl (local.get $us) (i32.const 3)))
        (local.get $us) (local.get $t20) (local.get $t21) (local.get $t22) (local.get $half))
      (call $wgFilterRow (i32.add (local.get $q) (i32.mul (local.get $us) (i32.const 12)))
        (local.get $us) (local.get $t30) (local.get $t31) (local.get $t32) (local.get $half))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (br_if $co (i32.lt_u (local.get $p) (local.get $pe)))))

  ;; one row of G g Gᵀ: dst + k·us ← (a, (a+b+c)/2, (a−b+c)/2, c)[k]
  (func $wgFilterRow (param $dst i32) (param $us i32) (param $a v128) (param $b v128) (param $c v128) (param $half v128)
    (v128.store (local.get $dst) (local.get $a))
    (local.set $dst (i32.add (local.get $dst) (local.get $us)))
    (v128.store (local.get $dst)
      (f32x4.mul (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (local.get $c)) (local.get $half)))
    (local.set $dst (i32.add (local.get $dst) (local.get $us)))
    (v128.store (local.get $dst)
      (f32x4.mul (f32x4.add (f32x4.sub (local.get $a) (local.get $b)) (local.get $c)) (local.get $half)))
    (local.set $dst (i32.add (local.get $dst) (local.get $us)))
    (v128.store (local.get $dst) (local.get $c)))

  ;; V [16, n, C] ← Bᵀ d B for the n tiles whose 4×4 patches start at $p, $p + 2·cb, …
  ;; ($cb = C·4 bytes per pixel, $prow bytes per padded row, $vs = n·C·4 bytes between V_ξ and V_ξ+1)
  (func $wgIn (param $p i32) (param $v i32) (param $n i32) (param $cb i32) (param $prow i32) (param $vs i32)
    (local $t i32) (local $c i32) (local $q i32) (local $dst i32) (local $cb2 i32) (local $cb3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $r00 v128) (local $r01 v128) (local $r02 v128) (local $r03 v128)
    (local $r10 v128) (local $r11 v128) (local $r12 v128) (local $r13 v128)
    (local $r20 v128) (local $r21 v128) (local $r22 v128) (local $r23 v128)
    (local.set $cb2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $cb3 (i32.add (local.get $cb2) (local.get $cb)))
    (loop $tiles
      (local.set $c (i32.const 0))
      (loop $chans
        (local.set $q (i32.add (local.get $p) (local.get $c)))
        (local.set $dst (i32.add (local.get $v) (local.get $c)))
        ;; row 0 of d B
        (local.set $a0 (v128.load (local.get $q)))
        (local.set $a1 (v128.load (i32.add (local.get $q) (local.get $cb))))
        (local.set $a2 (v128.load (i32.add (local.get $q) (local.get $cb2))))
        (local.set $a3 (v128.load (i32.add (local.get $q) (local.get $cb3))))
        (local.set $r00 (f32x4.sub (local.get $a0) (local.get $a2)))
        (local.set $r01 (f32x4.add (local.get $a1) (local.get $a2)))
        (local.set $r02 (f32x4.sub (local.get $a2) (local.get $a1)))
        (local.set $r03 (f32x4.sub (local.get $a1) (local.get $a3)))
        ;; row 1
        (local.set $q (i32.add (local.get $q) (local.get $prow)))
        (local.set $a0 (v128.load (local.get $q)))
        (local.set $a1 (v128.load (i32.add (local.get $q) (local.get $cb))))
        (local.set $a2 (v128.load (i32.add (local.get $q) (local.get $cb2))))
        (local.set $a3 (v128.load (i32.add (local.get $q) (local.get $cb3))))
        (local.set $r10 (f32x4.sub (local.get $a0) (local.get $a2)))
        (local.set $r11 (f32x4.add (local.get $a1) (local.get $a2)))
        (local.set $r12 (f32x4.sub (local.get $a2) (local.get $a1)))
        (local.set $r13 (f32x4.sub (local.get $a1) (local.get $a3)))
        ;; row 2
        (local.set $q (i32.add (local.get $q) (local.get $prow)))
        (local.set $a0 (v128.load (local.get $q)))
        (local.set $a1 (v128.load (i32.add (local.get $q) (local.get $cb))))
        (local.set $a2 (v128.load (i32.add (local.get $q) (local.get $cb2))))
        (local.set $a3 (v128.load (i32.add (local.get $q) (local.get $cb3))))
        (local.set $r20 (f32x4.sub (local.get $a0) (local.get $a2)))
        (local.set $r21 (f32x4.add (local.get $a1) (local.get $a2)))
        (local.set $r22 (f32x4.sub (local.get $a2) (local.get $a1)))
        (local.set $r23 (f32x4.sub (local.get $a1) (local.get $a3)))
        ;; Bᵀ rows 0..2: V_0.. = r0 − r2, V_4.. = r1 + r2, V_8.. = r2 − r1
        (v128.store (local.get $dst) (f32x4.sub (local.get $r00) (local.get $r20)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r01) (local.get $r21)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r02) (local.get $r22)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r03) (local.get $r23)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.add (local.get $r10) (local.get $r20)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.add (local.get $r11) (local.get $r21)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.add (local.get $r12) (local.get $r22)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.add (local.get $r13) (local.get $r23)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r20) (local.get $r10)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r21) (local.get $r11)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r22) (local.get $r12)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r23) (local.get $r13)))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        ;; row 3, then Bᵀ row 3: V_12.. = r1 − r3 (r3 into the r2 locals)
        (local.set $q (i32.add (local.get $q) (local.get $prow)))
        (local.set $a0 (v128.load (local.get $q)))
        (local.set $a1 (v128.load (i32.add (local.get $q) (local.get $cb))))
        (local.set $a2 (v128.load (i32.add (local.get $q) (local.get $cb2))))
        (local.set $a3 (v128.load (i32.add (local.get $q) (local.get $cb3))))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r10) (f32x4.sub (local.get $a0) (local.get $a2))))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r11) (f32x4.add (local.get $a1) (local.get $a2))))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r12) (f32x4.sub (local.get $a2) (local.get $a1))))
        (local.set $dst (i32.add (local.get $dst) (local.get $vs)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $r13) (f32x4.sub (local.get $a1) (local.get $a3))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $chans (i32.lt_u (local.get $c) (local.get $cb))))
      ;; next tile: 2 pixels right in the input, one tile row in V_ξ
      (local.set $p (i32.add (local.get $p) (local.get $cb2)))
      (local.set $v (i32.add (local.get $v) (local.get $cb)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $tiles (local.get $n))))

  ;; 4 tiles × 8 channels of one product M_ξ = V_ξ · U_ξ: dst[t, 0..7] = Σ_c v[t, c] · u[c, 0..7]
  ;; ($cb = C·4 bytes: the V row stride and the length of the sum; $ob = O·4: the U and M row strides)
  (func $wg4x8 (param $p i32) (param $q i32) (param $dst i32) (param $cb i32) (param $ob i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $pe i32) (local $cb2 i32) (local $cb3 i32)
    (local.set $cb2 (i32.shl (local.get $cb) (i32.const 1)))
    (local.set $cb3 (i32.add (local.get $cb2) (local.get $cb)))
    (local.set $pe (i32.add (local.get $p) (local.get $cb)))
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

  ;; 1 tile × 8 channels (the n % 4 remainder), same arguments as $wg4x8
  (func $wg1x8 (param $p i32) (param $q i32) (param $dst i32) (param $cb i32) (param $ob i32)
    (local $a0 v128) (local $a1 v128) (local $s v128) (local $pe i32)
    (local.set $pe (i32.add (local.get $p) (local.get $cb)))
    (loop $k1
      (local.set $s (v128.load32_splat (local.get $p)))
      (local.set $a0 (f32x4.relaxed_madd (local.get $s) (v128.load (local.get $q)) (local.get $a0)))
      (local.set $a1 (f32x4.relaxed_madd (local.get $s) (v128.load offset=16 (local.get $q)) (local.get $a1)))
      (local.set $q (i32.add (local.get $q) (local.get $ob)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $k1 (i32.lt_u (local.get $p) (local.get $pe))))
    (v128.store (local.get $dst) (local.get $a0))
    (v128.store offset=16 (local.get $dst) (local.get $a1)))

  ;; M_ξ [n, O] = V_ξ [n, C] · U_ξ [C, O] ($cb = C·4, $ob = O·4 bytes; O % 8 == 0)
  (func $wgGemm (param $v i32) (param $u i32) (param $m i32) (param $n i32) (param $cb i32) (param $ob i32)
    (local $o i32) (local $t i32) (local $n4 i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (loop $oloop
      (local.set $t (i32.const 0))
      (block $t4done
        (loop $t4loop
          (br_if $t4done (i32.ge_u (local.get $t) (local.get $n4)))
          (call $wg4x8
            (i32.add (local.get $v) (i32.mul (local.get $t) (local.get $cb)))
            (i32.add (local.get $u) (local.get $o))
            (i32.add (i32.add (local.get $m) (i32.mul (local.get $t) (local.get $ob))) (local.get $o))
            (local.get $cb) (local.get $ob))
          (local.set $t (i32.add (local.get $t) (i32.const 4)))
          (br $t4loop)))
      (block $t1done
        (loop $t1loop
          (br_if $t1done (i32.ge_u (local.get $t) (local.get $n)))
          (call $wg1x8
            (i32.add (local.get $v) (i32.mul (local.get $t) (local.get $cb)))
            (i32.add (local.get $u) (local.get $o))
            (i32.add (i32.add (local.get $m) (i32.mul (local.get $t) (local.get $ob))) (local.get $o))
            (local.get $cb) (local.get $ob))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $t1loop)))
      (local.set $o (i32.add (local.get $o) (i32.const 32)))
      (br_if $oloop (i32.lt_u (local.get $o) (local.get $ob)))))

  ;; out ← Aᵀ M A for the n tiles of a block: tile t's 2×2 pixels at $dst + 2t·ob (row 0) and
  ;; + $orow (row 1, only when $row1); the right column only where 2t + 1 < $cols (an odd width's last tile)
  ;; ($ob = O·4 bytes per pixel, $ms = n·O·4 bytes between M_ξ and M_ξ+1)
  (func $wgOut (param $m i32) (param $dst i32) (param $n i32) (param $ob i32) (param $ms i32)
    (param $orow i32) (param $cols i32) (param $row1 i32)
    (local $t i32) (local $o i32) (local $q i32) (local $d i32) (local $right i32)
    (local $x v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (loop $tiles
      (local.set $right (i32.lt_s (i32.add (i32.shl (local.get $t) (i32.const 1)) (i32.const 1)) (local.get $cols)))
      (local.set $o (i32.const 0))
      (loop $chans
        (local.set $q (i32.add (local.get $m) (local.get $o)))
        ;; s = Aᵀ M (2 × 4): s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of M, 4 vectors each)
        (local.set $s00 (v128.load (local.get $q)))
        (local.set $s01 (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $s02 (v128.load (local.get $q)))
        (local.set $s03 (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $s10 (v128.load (local.get $q)))
        (local.set $s11 (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $s12 (v128.load (local.get $q)))
        (local.set $s13 (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $s00 (f32x4.add (local.get $s00) (local.get $s10)))
        (local.set $s01 (f32x4.add (local.get $s01) (local.get $s11)))
        (local.set $s02 (f32x4.add (local.get $s02) (local.get $s12)))
        (local.set $s03 (f32x4.add (local.get $s03) (local.get $s13)))
        ;; row 2 of M
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $x (v128.load (local.get $q)))
        (local.set $s00 (f32x4.add (local.get $s00) (local.get $x)))
        (local.set $s10 (f32x4.sub (local.get $s10) (local.get $x)))
        (local.set $x (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $s01 (f32x4.add (local.get $s01) (local.get $x)))
        (local.set $s11 (f32x4.sub (local.get $s11) (local.get $x)))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $x (v128.load (local.get $q)))
        (local.set $s02 (f32x4.add (local.get $s02) (local.get $x)))
        (local.set $s12 (f32x4.sub (local.get $s12) (local.get $x)))
        (local.set $x (v128.load (i32.add (local.get $q) (local.get $ms))))
        (local.set $s03 (f32x4.add (local.get $s03) (local.get $x)))
        (local.set $s13 (f32x4.sub (local.get $s13) (local.get $x)))
        ;; row 3 of M
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $s10 (f32x4.sub (local.get $s10) (v128.load (local.get $q))))
        (local.set $s11 (f32x4.sub (local.get $s11) (v128.load (i32.add (local.get $q) (local.get $ms)))))
        (local.set $q (i32.add (local.get $q) (i32.shl (local.get $ms) (i32.const 1))))
        (local.set $s12 (f32x4.sub (local.get $s12) (v128.load (local.get $q))))
        (local.set $s13 (f32x4.sub (local.get $s13) (v128.load (i32.add (local.get $q) (local.get $ms)))))
        ;; Y = s A: y_r0 = s_r0 + s_r1 + s_r2, y_r1 = s_r1 − s_r2 − s_r3
        (local.set $d (i32.add (i32.add (local.get $dst) (i32.mul (i32.shl (local.get $t) (i32.const 1)) (local.get $ob))) (local.get $o)))
        (v128.store (local.get $d)
          (f32x4.add (f32x4.add (local.get $s00) (local.get $s01)) (local.get $s02)))
        (if (local.get $right)
          (then
            (v128.store (i32.add (local.get $d) (local.get $ob))
              (f32x4.sub (f32x4.sub (local.get $s01) (local.get $s02)) (local.get $s03)))))
        (if (local.get $row1)
          (then
            (local.set $d (i32.add (local.get $d) (local.get $orow)))
            (v128.store (local.get $d)
              (f32x4.add (f32x4.add (local.get $s10) (local.get $s11)) (local.get $s12)))
            (if (local.get $right)
              (then
                (v128.store (i32.add (local.get $d) (local.get $ob))
                  (f32x4.sub (f32x4.sub (local.get $s11) (local.get $s12)) (local.get $s13)))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $chans (i32.lt_u (local.get $o) (local.get $ob))))
      (local.set $m (i32.add (local.get $m) (local.get $ob)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $tiles (i32.lt_u (local.get $t) (local.get $n)))))

  ;; out [B, OH, OW, O] (every element written) from the padded xp [B, HP, WP, C] (HP ≥ 2·⌈OH/2⌉ + 2,
  ;; WP ≥ 2·⌈OW/2⌉ + 2) and U [16, C, O] (wgFilter); $scr: 16·TB·(C + O) floats of scratch
  (func (export "wgConv")
    (param $xp i32) (param $u i32) (param $out i32) (param $scr i32)
    (param $B i32) (param $OH i32) (param $OW i32) (param $C i32) (param $O i32)
    (param $HP i32) (param $WP i32) (param $TB i32)
    (local $cb i32) (local $ob i32) (local $prow i32) (local $orow i32) (local $th i32) (local $tw i32)
    (local $vbuf i32) (local $mbuf i32) (local $uxi i32)
    (local $b i32) (local $ty i32) (local $tx i32) (local $n i32) (local $xi i32)
    (local $inRow i32) (local $outRow i32) (local $vs i32) (local $ms i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $prow (i32.mul (local.get $WP) (local.get $cb)))
    (local.set $orow (i32.mul (local.get $OW) (local.get $ob)))
    (local.set $th (i32.shr_u (i32.add (local.get $OH) (i32.const 1)) (i32.const 1)))
    (local.set $tw (i32.shr_u (i32.add (local.get $OW) (i32.const 1)) (i32.const 1)))
    (local.set $uxi (i32.mul (local.get $C) (local.get $ob)))
    (local.set $vbuf (local.get $scr))
    (local.set $mbuf (i32.add (local.get $scr) (i32.shl (i32.mul (local.get $TB) (local.get $cb)) (i32.const 4))))
    (loop $bloop
      (local.set $ty (i32.const 0))
      (loop $yloop
        (local.set $inRow (i32.add (local.get $xp)
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $HP)) (i32.shl (local.get $ty) (i32.const 1))) (local.get $prow))))
        (local.set $outRow (i32.add (local.get $out)
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $OH)) (i32.shl (local.get $ty) (i32.const 1))) (local.get $orow))))
        (local.set $tx (i32.const 0))
        (loop $xloop
          (local.set $n (i32.sub (local.get $tw) (local.get $tx)))
          (if (i32.gt_s (local.get $n) (local.get $TB)) (then (local.set $n (local.get $TB))))
          (local.set $vs (i32.mul (local.get $n) (local.get $cb)))
          (local.set $ms (i32.mul (local.get $n) (local.get $ob)))
          (call $wgIn (i32.add (local.get $inRow) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $cb)))
            (local.get $vbuf) (local.get $n) (local.get $cb) (local.get $prow) (local.get $vs))
          (local.set $xi (i32.const 0))
          (loop $xiloop
            (call $wgGemm
              (i32.add (local.get $vbuf) (i32.mul (local.get $xi) (local.get $vs)))
              (i32.add (local.get $u) (i32.mul (local.get $xi) (local.get $uxi)))
              (i32.add (local.get $mbuf) (i32.mul (local.get $xi) (local.get $ms)))
              (local.get $n) (local.get $cb) (local.get $ob))
            (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
            (br_if $xiloop (i32.lt_u (local.get $xi) (i32.const 16))))
          (call $wgOut (local.get $mbuf)
            (i32.add (local.get $outRow) (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $ob)))
            (local.get $n) (local.get $ob) (local.get $ms) (local.get $orow)
            (i32.sub (local.get $OW) (i32.shl (local.get $tx) (i32.const 1)))
            (i32.lt_s (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $OH)))
          (local.set $tx (i32.add (local.get $tx) (local.get $n)))
          (br_if $xloop (i32.lt_u (local.get $tx) (local.get $tw))))
        (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
        (br_if $yloop (i32.lt_u (local.get $ty) (local.get $th))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $bloop (i32.lt_u (local.get $b) (local.get $B)))))
;; ---- Conv2DBackpropFilter: F(3×3, 2×2) over the same tiles ----------------------------------------------
;;
;; The filter gradient dW[i,j,c,o] = Σ_{b,y,x} xp[b, y+i, x+j, c] · dy[b, y, x, o] (xp: x zero-padded, pads
;; pt / pl in front) is, per 2×2 block of dy pixels (a tile) and the 4×4 xp patch under it, the transpose of
;; the forward product (Σ_tile dy ⊙ Y is linear in g; its gradient by g):
;;
;;   dW_tile = Gᵀ [ (Bᵀ d B) ⊙ (A δ Aᵀ) ] G      (d the 4×4 xp patch, δ the 2×2 dy tile; B, G, A as above)
;;
;; so the 16 transformed products, summed over tiles (and batch), are M_ξ [C, O] = Σ_t V_ξ[t, :]ᵀ ⊗ D_ξ[t, :]
;; with V = Bᵀ d B ($wgIn, as in the forward) and D = A δ Aᵀ, and Gᵀ M G is applied once at the end: 16
;; instead of 36 multiply-adds per tile and channel pair. Without the minus sign of A's last row (D row 3
;; and column 3 are +δ's, so M's row and column 3 change sign), the output transform is
;;
;;   dW = Ĝᵀ M Ĝ,  Ĝᵀ = | 1  ½  ½  0 |
;;                      | 0  ½ −½  0 |
;;                      | 0  ½  ½ −1 |
;;
;; The tiles, in (b, tile row, tile column) order, are taken TB at a time (a block, crossing tile rows):
;; transform the block's x patches (V [16, TB, C]) and dy tiles (D [16, TB, O]), then for each ξ add
;; V_ξᵀ D_ξ to M_ξ, 4 input × 8 output channels per register tile, summed in fresh registers over the
;; block's tiles and only then added to M (float32 sums of TB terms, then of ⌈tiles / TB⌉ block sums:
;; closer to the exact sum than one running sum over every pixel, which the direct kernel keeps).
;; xp [B, 2·TH + 2, 2·TW + 2, C] (zero-padded by the caller to whole tiles) needs no bounds checks; the dy
;; tiles at an odd bottom / right edge are half tiles, read as zeros outside dy. Needs C % 4 == 0, O % 8 == 0.

  ;; D [16, n, O] ← Â δ Âᵀ (Â = A with row 3 = (0, 1)) for the n dy tiles starting at $p, $p + 2·ob, …
  ;; ($ob = O·4 bytes per pixel, $grow bytes per dy row, $ds bytes between D_ξ and D_ξ+1). Half tiles at an
  ;; odd edge read zeros for the pixels outside dy: the second row when $row1 is 0, the second column of the
  ;; last tile when $col1 is 0.
  (func $wgDy (param $p i32) (param $d i32) (param $n i32) (param $ob i32) (param $grow i32) (param $ds i32)
    (param $row1 i32) (param $col1 i32)
    (local $o i32) (local $q i32) (local $dst i32) (local $right i32)
    (local $t00 v128) (local $t01 v128) (local $t10 v128) (local $t11 v128)
    (local $t20 v128) (local $t21 v128) (local $t30 v128) (local $t31 v128)
    (loop $tiles
      (local.set $right (i32.or (local.get $col1) (i32.ne (local.get $n) (i32.const 1))))
      (local.set $o (i32.const 0))
      (loop $chans
        (local.set $q (i32.add (local.get $p) (local.get $o)))
        (local.set $dst (i32.add (local.get $d) (local.get $o)))
        ;; t = Â δ (4 × 2): rows δ0, δ0 + δ1, δ0 − δ1, δ1
        (local.set $t00 (v128.load (local.get $q)))
        (local.set $t01 (v128.const i32x4 0 0 0 0))
        (local.set $t30 (v128.const i32x4 0 0 0 0))
        (local.set $t31 (v128.const i32x4 0 0 0 0))
        (if (local.get $right) (then (local.set $t01 (v128.load (i32.add (local.get $q) (local.get $ob))))))
        (if (local.get $row1)
          (then
            (local.set $q (i32.add (local.get $q) (local.get $grow)))
            (local.set $t30 (v128.load (local.get $q)))
            (if (local.get $right) (then (local.set $t31 (v128.load (i32.add (local.get $q) (local.get $ob))))))))
        (local.set $t10 (f32x4.add (local.get $t00) (local.get $t30)))
        (local.set $t11 (f32x4.add (local.get $t01) (local.get $t31)))
        (local.set $t20 (f32x4.sub (local.get $t00) (local.get $t30)))
        (local.set $t21 (f32x4.sub (local.get $t01) (local.get $t31)))
        ;; D row r = (t_r0, t_r0 + t_r1, t_r0 − t_r1, t_r1): D_4r .. D_4r+3
        (v128.store (local.get $dst) (local.get $t00))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.add (local.get $t00) (local.get $t01)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $t00) (local.get $t01)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t01))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t10))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.add (local.get $t10) (local.get $t11)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $t10) (local.get $t11)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t11))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t20))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.add (local.get $t20) (local.get $t21)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $t20) (local.get $t21)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t21))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t30))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.add (local.get $t30) (local.get $t31)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (f32x4.sub (local.get $t30) (local.get $t31)))
        (local.set $dst (i32.add (local.get $dst) (local.get $ds)))
        (v128.store (local.get $dst) (local.get $t31))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br_if $chans (i32.lt_u (local.get $o) (local.get $ob))))
      ;; next tile: 2 pixels right in dy, one tile row in D_ξ
      (local.set $p (i32.add (local.get $p) (i32.shl (local.get $ob) (i32.const 1))))
      (local.set $d (i32.add (local.get $d) (local.get $ob)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $tiles (local.get $n))))

  ;; M[4 rows, 8 cols] += Σ_{t<n} v[t, 0..3] ⊗ d[t, 0..7], summed in registers from zero
  ;; ($cb = C·4: the V row stride; $ob = O·4: the D and M row strides)
  (func $wgAcc4x8 (param $p i32) (param $q i32) (param $dst i32) (param $n i32) (param $cb i32) (param $ob i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (loop $k
      (local.set $d0 (v128.load (local.get $q)))
      (local.set $d1 (v128.load offset=16 (local.get $q)))
      (local.set $s (v128.load32_splat (local.get $p)))
      (local.set $a0 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a0)))
      (local.set $a1 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a1)))
      (local.set $s (v128.load32_splat offset=4 (local.get $p)))
      (local.set $a2 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a2)))
      (local.set $a3 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a3)))
      (local.set $s (v128.load32_splat offset=8 (local.get $p)))
      (local.set $a4 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a4)))
      (local.set $a5 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a5)))
      (local.set $s (v128.load32_splat offset=12 (local.get $p)))
      (local.set $a6 (f32x4.relaxed_madd (local.get $s) (local.get $d0) (local.get $a6)))
      (local.set $a7 (f32x4.relaxed_madd (local.get $s) (local.get $d1) (local.get $a7)))
      (local.set $q (i32.add (local.get $q) (local.get $ob)))
      (local.set $p (i32.add (local.get $p) (local.get $cb)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $k (local.get $n)))
    (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (local.get $a0)))
    (v128.store offset=16 (local.get $dst) (f32x4.add (v128.load offset=16 (local.get $dst)) (local.get $a1)))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (local.get $a2)))
    (v128.store offset=16 (local.get $dst) (f32x4.add (v128.load offset=16 (local.get $dst)) (local.get $a3)))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (local.get $a4)))
    (v128.store offset=16 (local.get $dst) (f32x4.add (v128.load offset=16 (local.get $dst)) (local.get $a5)))
    (local.set $dst (i32.add (local.get $dst) (local.get $ob)))
    (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (local.get $a6)))
    (v128.store offset=16 (local.get $dst) (f32x4.add (v128.load offset=16 (local.get $dst)) (local.get $a7))))

  ;; M_ξ [C, O] += V_ξ [n, C]ᵀ · D_ξ [n, O] for ξ = 0..15 ($vs, $ds: bytes between V_ξ / D_ξ slices)
  (func $wgAccBlock (param $v i32) (param $d i32) (param $m i32) (param $n i32) (param $cb i32) (param $ob i32)
    (param $vs i32) (param $ds i32)
    (local $xi i32) (local $c i32) (local $o i32) (local $mrow i32) (local $ms i32)
    (local.set $ms (i32.mul (local.get $cb) (local.get $ob)))
    (local.set $ms (i32.shr_u (local.get $ms) (i32.const 2)))
    (loop $xiloop
      (local.set $c (i32.const 0))
      (loop $cloop
        ;; M_ξ row c: c·O·4 bytes = (c·4)·O
        (local.set $mrow (i32.add (local.get $m) (i32.mul (local.get $c) (i32.shr_u (local.get $ob) (i32.const 2)))))
        (local.set $o (i32.const 0))
        (loop $oloop
          (call $wgAcc4x8 (i32.add (local.get $v) (local.get $c)) (i32.add (local.get $d) (local.get $o))
            (i32.add (local.get $mrow) (local.get $o)) (local.get $n) (local.get $cb) (local.get $ob))
          (local.set $o (i32.add (local.get $o) (i32.const 32)))
          (br_if $oloop (i32.lt_u (local.get $o) (local.get $ob))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $cloop (i32.lt_u (local.get $c) (local.get $cb))))
      (local.set $v (i32.add (local.get $v) (local.get $vs)))
      (local.set $d (i32.add (local.get $d) (local.get $ds)))
      (local.set $m (i32.add (local.get $m) (local.get $ms)))
      (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
      (br_if $xiloop (i32.lt_u (local.get $xi) (i32.const 16)))))

  ;; dW [3, 3, C, O] ← Ĝᵀ M Ĝ for every (c, o), 4 output channels at a time ($cob = C·O·4 bytes: the
  ;; distance between M_ξ and M_ξ+1 and between dW taps)
  (func $wgFilterOut (param $m i32) (param $dw i32) (param $cob i32)
    (local $k i32) (local $q i32) (local $r i32) (local $half v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $s00 v128) (local $s01 v128) (local $s02 v128) (local $s03 v128)
    (local $s10 v128) (local $s11 v128) (local $s12 v128) (local $s13 v128)
    (local $s20 v128) (local $s21 v128) (local $s22 v128) (local $s23 v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    ;; M row ξ = 4r + η: rows r of the 4×4 transformed tile are 4·cob bytes apart
    (local.set $r (i32.shl (local.get $cob) (i32.const 2)))
    (loop $kloop
      ;; s = Ĝᵀ M (3 × 4), column η: s0 = m0 + ½(m1 + m2), s1 = ½(m1 − m2), s2 = ½(m1 + m2) − m3
      (local.set $q (i32.add (local.get $m) (local.get $k)))
      (local.set $m0 (v128.load (local.get $q)))
      (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $r))))
      (local.set $m2 (v128.load (i32.add (local.get $q) (i32.shl (local.get $r) (i32.const 1)))))
      (local.set $m3 (v128.load (i32.add (local.get $q) (i32.mul (local.get $r) (i32.const 3)))))
      (local.set $s10 (f32x4.mul (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $m1 (f32x4.mul (f32x4.add (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $s00 (f32x4.add (local.get $m0) (local.get $m1)))
      (local.set $s20 (f32x4.sub (local.get $m1) (local.get $m3)))
      (local.set $q (i32.add (local.get $q) (local.get $cob)))
      (local.set $m0 (v128.load (local.get $q)))
      (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $r))))
      (local.set $m2 (v128.load (i32.add (local.get $q) (i32.shl (local.get $r) (i32.const 1)))))
      (local.set $m3 (v128.load (i32.add (local.get $q) (i32.mul (local.get $r) (i32.const 3)))))
      (local.set $s11 (f32x4.mul (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $m1 (f32x4.mul (f32x4.add (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $s01 (f32x4.add (local.get $m0) (local.get $m1)))
      (local.set $s21 (f32x4.sub (local.get $m1) (local.get $m3)))
      (local.set $q (i32.add (local.get $q) (local.get $cob)))
      (local.set $m0 (v128.load (local.get $q)))
      (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $r))))
      (local.set $m2 (v128.load (i32.add (local.get $q) (i32.shl (local.get $r) (i32.const 1)))))
      (local.set $m3 (v128.load (i32.add (local.get $q) (i32.mul (local.get $r) (i32.const 3)))))
      (local.set $s12 (f32x4.mul (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $m1 (f32x4.mul (f32x4.add (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $s02 (f32x4.add (local.get $m0) (local.get $m1)))
      (local.set $s22 (f32x4.sub (local.get $m1) (local.get $m3)))
      (local.set $q (i32.add (local.get $q) (local.get $cob)))
      (local.set $m0 (v128.load (local.get $q)))
      (local.set $m1 (v128.load (i32.add (local.get $q) (local.get $r))))
      (local.set $m2 (v128.load (i32.add (local.get $q) (i32.shl (local.get $r) (i32.const 1)))))
      (local.set $m3 (v128.load (i32.add (local.get $q) (i32.mul (local.get $r) (i32.const 3)))))
      (local.set $s13 (f32x4.mul (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $m1 (f32x4.mul (f32x4.add (local.get $m1) (local.get $m2)) (local.get $half)))
      (local.set $s03 (f32x4.add (local.get $m0) (local.get $m1)))
      (local.set $s23 (f32x4.sub (local.get $m1) (local.get $m3)))
      ;; dW row i = s_i Ĝ: (s_i0 + ½(s_i1 + s_i2), ½(s_i1 − s_i2), ½(s_i1 + s_i2) − s_i3)
      (local.set $q (i32.add (local.get $dw) (local.get $k)))
      (call $wgFilterRowOut (local.get $q) (local.get $cob) (local.get $half)
        (local.get $s00) (local.get $s01) (local.get $s02) (local.get $s03))
      (call $wgFilterRowOut (i32.add (local.get $q) (i32.mul (local.get $cob) (i32.const 3))) (local.get $cob) (local.get $half)
        (local.get $s10) (local.get $s11) (local.get $s12) (local.get $s13))
      (call $wgFilterRowOut (i32.add (local.get $q) (i32.mul (local.get $cob) (i32.const 6))) (local.get $cob) (local.get $half)
        (local.get $s20) (local.get $s21) (local.get $s22) (local.get $s23))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br_if $kloop (i32.lt_u (local.get $k) (local.get $cob)))))

  ;; one row of dW: dst + j·cob ← (a + ½(b + c), ½(b − c), ½(b + c) − d)[j]
  (func $wgFilterRowOut (param $dst i32) (param $cob i32) (param $half v128)
    (param $a v128) (param $b v128) (param $c v128) (param $d v128)
    (local $e v128)
    (local.set $e (f32x4.mul (f32x4.add (local.get $b) (local.get $c)) (local.get $half)))
    (v128.store (local.get $dst) (f32x4.add (local.get $a) (local.get $e)))
    (local.set $dst (i32.add (local.get $dst) (local.get $cob)))
    (v128.store (local.get $dst) (f32x4.mul (f32x4.sub (local.get $b) (local.get $c)) (local.get $half)))
    (local.set $dst (i32.add (local.get $dst) (local.get $cob)))
    (v128.store (local.get $dst) (f32x4.sub (local.get $e) (local.get $d))))

;; Small taps, directly. The transforms mix each tap with its pair's other taps (and with the products at
;; offsets −1 and 3 that cancel), so a tap's rounding error scales with the whole 4×4 × 2×2 tile, not with
;; its own products: a tap whose every product x · dy is zero (the supports of a sparse ReLU input channel
;; and of a sparse gradient channel never meet at that offset) comes out as noise of a few float32 ulps of
;; its neighbours (measured ≤ 3e-7 of the pair's largest tap) instead of the exact 0 of the direct sum and
;; of PyTorch, and Adam, dividing by √v + 1e-8, turns a gradient of 1e-11 instead of 0 into a visible
;; weight update (this failed test/train/torch-parity.test.ts). So every tap within 2⁻¹⁶ of the
;; largest |tap| of its (c, o) pair is recomputed as the direct sum over the pixels where both x and dy are
;; non-zero, found with bit rows of the two channels (built on first use, 4 channels at a time; none for a
;; channel that is all zero): exactly 0 when there are none,
;; and a tiny sum with its own rounding, not its neighbours'. Few taps are that small unless channels are
;; sparse, and then the sums are short.

  ;; any[k] (i32) ← 1 if channel k of t [n, K] (at $t, $kb = K·4 bytes per pixel) has a non-zero value, else 0
  ;; (4 channels at a time: OR of the magnitudes' bits; K % 4 == 0)
  (func $wgAny (param $t i32) (param $any i32) (param $n i32) (param $kb i32)
    (local $k i32) (local $q i32) (local $e i32) (local $acc v128)
    (local.set $e (i32.add (local.get $t) (i32.mul (local.get $n) (local.get $kb))))
    (loop $kloop
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $q (i32.add (local.get $t) (local.get $k)))
      (loop $ploop
        (local.set $acc (v128.or (local.get $acc) (v128.load (local.get $q))))
        (local.set $q (i32.add (local.get $q) (local.get $kb)))
        (br_if $ploop (i32.lt_u (local.get $q) (local.get $e))))
      ;; −0 is 0: ignore the sign bits
      (v128.store (i32.add (local.get $any) (local.get $k))
        (v128.and (i32x4.ne (v128.and (local.get $acc) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
          (v128.const i32x4 0 0 0 0)) (v128.const i32x4 1 1 1 1)))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (br_if $kloop (i32.lt_u (local.get $k) (local.get $kb)))))

  ;; bit rows of 4 channels: bits + k·$cs [rows, ww] (u64 words): bit x of row r ← t[r, x, k] ≠ 0 for the
  ;; channels k = 0..3 at $t of t [rows, Wd, K] ($kb = K·4 bytes per pixel); 32 pixels per 32-bit lane
  (func $wgBits4 (param $t i32) (param $bits i32) (param $cs i32) (param $rows i32) (param $Wd i32) (param $kb i32) (param $ww i32)
    (local $r i32) (local $x i32) (local $p i32) (local $rowb i32) (local $dst i32) (local $acc v128) (local $bit v128)
    (local.set $rowb (i32.shl (local.get $ww) (i32.const 3)))
    (memory.fill (local.get $bits) (i32.const 0) (i32.shl (local.get $cs) (i32.const 2)))
    (loop $rloop
      (local.set $x (i32.const 0))
      (loop $xloop
        ;; pixels x .. x + 31 of the row: bit p of lane k ← pixel x + p of channel k
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $bit (v128.const i32x4 1 1 1 1))
        (local.set $p (i32.const 0))
        (loop $ploop
          (local.set $acc (v128.or (local.get $acc)
            (v128.and (f32x4.ne (v128.load (local.get $t)) (v128.const i32x4 0 0 0 0)) (local.get $bit))))
          (local.set $bit (i32x4.shl (local.get $bit) (i32.const 1)))
          (local.set $t (i32.add (local.get $t) (local.get $kb)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $ploop (i32.and (i32.lt_u (local.get $p) (i32.const 32))
            (i32.lt_u (i32.add (local.get $x) (local.get $p)) (local.get $Wd)))))
        ;; the 32-bit half-word x / 32 of row r (little-endian: the u64 words' low and high halves)
        (local.set $dst (i32.add (i32.add (local.get $bits) (i32.mul (local.get $r) (local.get $rowb)))
          (i32.shr_u (local.get $x) (i32.const 3))))
        (i32.store (local.get $dst) (i32x4.extract_lane 0 (local.get $acc)))
        (i32.store (i32.add (local.get $dst) (local.get $cs)) (i32x4.extract_lane 1 (local.get $acc)))
        (i32.store (i32.add (local.get $dst) (i32.shl (local.get $cs) (i32.const 1))) (i32x4.extract_lane 2 (local.get $acc)))
        (i32.store (i32.add (local.get $dst) (i32.mul (local.get $cs) (i32.const 3))) (i32x4.extract_lane 3 (local.get $acc)))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (br_if $xloop (i32.lt_u (local.get $x) (local.get $Wd))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rloop (i32.lt_u (local.get $r) (local.get $rows)))))

  ;; Σ x[b, y + i, x + j] · dy[b, y, x] over the pixels where both are non-zero, in (b, y, x) order, from the
  ;; masks $xb [B·HP, ww] and $db [B·GH, ww] (set bits of the AND of a dy word with the x bits it meets);
  ;; $xc, $gc: x channel c of xp [B, HP, WP, C] and dy channel o of [B, GH, GW, O]; 0 when none meet
  (func $wgDirect (param $xb i32) (param $db i32) (param $xc i32) (param $gc i32) (param $B i32) (param $HP i32)
    (param $GH i32) (param $WP i32) (param $GW i32) (param $cb i32) (param $ob i32) (param $ww i32)
    (param $i i32) (param $j i32) (result f32)
    (local $b i32) (local $y i32) (local $w i32) (local $xr i32) (local $v i64) (local $dv i64) (local $jl i64) (local $jr i64)
    (local $col i32) (local $sum f32) (local $xrow i32) (local $grow i32)
    (local.set $jl (i64.extend_i32_u (local.get $j)))
    (local.set $jr (i64.sub (i64.const 64) (local.get $jl)))
    (loop $bloop
      ;; mask row b·HP + i of x; the dy rows of image b follow one another from $db on
      (local.set $xr (i32.add (local.get $xb)
        (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $HP)) (local.get $i)) (local.get $ww)) (i32.const 3))))
      (local.set $y (i32.const 0))
      (loop $yloop
        (local.set $w (i32.const 0))
        (loop $wloop
          (local.set $dv (i64.load (local.get $db)))
          ;; sparse channels: most dy words are 0
          (if (i64.ne (local.get $dv) (i64.const 0))
            (then
              ;; x bits x + j for the dy bits x of word w
              (local.set $v (i64.shr_u (i64.load (local.get $xr)) (local.get $jl)))
              (if (i32.and (i32.ne (local.get $j) (i32.const 0)) (i32.lt_u (i32.add (local.get $w) (i32.const 1)) (local.get $ww)))
                (then (local.set $v (i64.or (local.get $v) (i64.shl (i64.load offset=8 (local.get $xr)) (local.get $jr))))))
              (local.set $v (i64.and (local.get $v) (local.get $dv)))
              (if (i64.ne (local.get $v) (i64.const 0))
                (then
                  ;; pixel rows of xp (b, y + i) and dy (b, y)
                  (local.set $xrow (i32.add (local.get $xc) (i32.mul (i32.mul
                    (i32.add (i32.add (i32.mul (local.get $b) (local.get $HP)) (local.get $y)) (local.get $i)) (local.get $WP)) (local.get $cb))))
                  (local.set $grow (i32.add (local.get $gc) (i32.mul (i32.mul
                    (i32.add (i32.mul (local.get $b) (local.get $GH)) (local.get $y)) (local.get $GW)) (local.get $ob))))
                  (loop $bitloop
                    (local.set $col (i32.add (i32.shl (local.get $w) (i32.const 6)) (i32.wrap_i64 (i64.ctz (local.get $v)))))
                    (local.set $sum (f32.add (local.get $sum) (f32.mul
                      (f32.load (i32.add (local.get $xrow) (i32.mul (i32.add (local.get $col) (local.get $j)) (local.get $cb))))
                      (f32.load (i32.add (local.get $grow) (i32.mul (local.get $col) (local.get $ob)))))))
                    (local.set $v (i64.and (local.get $v) (i64.sub (local.get $v) (i64.const 1))))
                    (br_if $bitloop (i64.ne (local.get $v) (i64.const 0))))))))
          (local.set $xr (i32.add (local.get $xr) (i32.const 8)))
          (local.set $db (i32.add (local.get $db) (i32.const 8)))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (br_if $wloop (i32.lt_u (local.get $w) (local.get $ww))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $yloop (i32.lt_u (local.get $y) (local.get $GH))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $bloop (i32.lt_u (local.get $b) (local.get $B))))
    (local.get $sum))

  ;; dW taps within 2⁻¹⁶ of their pair's largest |tap| ← their direct sums (see above), for xp [B, HP, WP, C]
  ;; (HP = 2·TH + 2, WP = 2·TW + 2) and dy [B, GH, GW, O] (GH ≤ 2·TH, GW ≤ 2·TW); $zs: scratch of
  ;; C·B·HP·ww + O·B·GH·ww u64 words (bit rows) and 2·(C + O) i32 flags (ww = ⌈WP / 64⌉)
  (func $wgZeros (param $xp i32) (param $g i32) (param $dw i32) (param $zs i32)
    (param $B i32) (param $TH i32) (param $TW i32) (param $GH i32) (param $GW i32) (param $C i32) (param $O i32)
    (local $HP i32) (local $WP i32) (local $ww i32) (local $xsz i32) (local $dsz i32)
    (local $dbits i32) (local $anyX i32) (local $anyD i32) (local $built i32) (local $cob i32)
    (local $c i32) (local $o i32) (local $k i32) (local $e i32) (local $live i32)
    (local $mx f32) (local $th f32) (local $v f32)
    (local.set $HP (i32.add (i32.shl (local.get $TH) (i32.const 1)) (i32.const 2)))
    (local.set $WP (i32.add (i32.shl (local.get $TW) (i32.const 1)) (i32.const 2)))
    (local.set $ww (i32.shr_u (i32.add (local.get $WP) (i32.const 63)) (i32.const 6)))
    (local.set $xsz (i32.shl (i32.mul (i32.mul (local.get $B) (local.get $HP)) (local.get $ww)) (i32.const 3)))
    (local.set $dsz (i32.shl (i32.mul (i32.mul (local.get $B) (local.get $GH)) (local.get $ww)) (i32.const 3)))
    (local.set $dbits (i32.add (local.get $zs) (i32.mul (local.get $C) (local.get $xsz))))
    ;; flags: any x channel c non-zero [C], any dy channel o [O], bit rows built per 4 channels [C + O]
    (local.set $anyX (i32.add (local.get $dbits) (i32.mul (local.get $O) (local.get $dsz))))
    (local.set $anyD (i32.add (local.get $anyX) (i32.shl (local.get $C) (i32.const 2))))
    (local.set $built (i32.add (local.get $anyD) (i32.shl (local.get $O) (i32.const 2))))
    (local.set $cob (i32.shl (i32.mul (local.get $C) (local.get $O)) (i32.const 2)))
    (loop $cloop
      (local.set $o (i32.const 0))
      (loop $oloop
        (local.set $e (i32.add (local.get $dw) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $O)) (local.get $o)) (i32.const 2))))
        (local.set $mx (f32.const 0))
        (local.set $k (i32.const 0))
        (loop $mloop
          (local.set $mx (f32.max (local.get $mx) (f32.abs (f32.load (i32.add (local.get $e) (i32.mul (local.get $k) (local.get $cob)))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $mloop (i32.lt_u (local.get $k) (i32.const 9))))
        (local.set $th (f32.mul (local.get $mx) (f32.const 0x1p-16)))
        (local.set $k (i32.const 0))
        (loop $kloop
          (local.set $v (f32.abs (f32.load (i32.add (local.get $e) (i32.mul (local.get $k) (local.get $cob))))))
          ;; (0 included: transformed sums can cancel to exactly 0 where the tap's own sum is tiny)
          (if (f32.le (local.get $v) (local.get $th))
            (then
              ;; which channels are all zero (a dead ReLU unit: no product at all), on first use
              (if (i32.eqz (local.get $live))
                (then
                  (call $wgAny (local.get $xp) (local.get $anyX) (i32.mul (i32.mul (local.get $B) (local.get $HP)) (local.get $WP))
                    (i32.shl (local.get $C) (i32.const 2)))
                  (call $wgAny (local.get $g) (local.get $anyD) (i32.mul (i32.mul (local.get $B) (local.get $GH)) (local.get $GW))
                    (i32.shl (local.get $O) (i32.const 2)))
                  (memory.fill (local.get $built) (i32.const 0) (i32.shl (i32.add (local.get $C) (local.get $O)) (i32.const 2)))
                  (local.set $live (i32.const 1))))
              (f32.store (i32.add (local.get $e) (i32.mul (local.get $k) (local.get $cob)))
                (if (result f32) (i32.and
                      (i32.load (i32.add (local.get $anyX) (i32.shl (local.get $c) (i32.const 2))))
                      (i32.load (i32.add (local.get $anyD) (i32.shl (local.get $o) (i32.const 2)))))
                  (then
                    ;; bit rows of the 4 x channels around c and the 4 dy channels around o, on first use
                    (if (i32.eqz (i32.load (i32.add (local.get $built) (i32.shl (local.get $c) (i32.const 2)))))
                      (then
                        (call $wgBits4 (i32.add (local.get $xp) (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
                          (i32.add (local.get $zs) (i32.mul (i32.and (local.get $c) (i32.const -4)) (local.get $xsz))) (local.get $xsz)
                          (i32.mul (local.get $B) (local.get $HP)) (local.get $WP) (i32.shl (local.get $C) (i32.const 2)) (local.get $ww))
                        (v128.store (i32.add (local.get $built) (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2)))
                          (v128.const i32x4 1 1 1 1))))
                    (if (i32.eqz (i32.load (i32.add (local.get $built) (i32.shl (i32.add (local.get $C) (local.get $o)) (i32.const 2)))))
                      (then
                        (call $wgBits4 (i32.add (local.get $g) (i32.shl (i32.and (local.get $o) (i32.const -4)) (i32.const 2)))
                          (i32.add (local.get $dbits) (i32.mul (i32.and (local.get $o) (i32.const -4)) (local.get $dsz))) (local.get $dsz)
                          (i32.mul (local.get $B) (local.get $GH)) (local.get $GW) (i32.shl (local.get $O) (i32.const 2)) (local.get $ww))
                        (v128.store (i32.add (local.get $built) (i32.shl (i32.add (local.get $C) (i32.and (local.get $o) (i32.const -4))) (i32.const 2)))
                          (v128.const i32x4 1 1 1 1))))
                    (call $wgDirect
                      (i32.add (local.get $zs) (i32.mul (local.get $c) (local.get $xsz)))
                      (i32.add (local.get $dbits) (i32.mul (local.get $o) (local.get $dsz)))
                      (i32.add (local.get $xp) (i32.shl (local.get $c) (i32.const 2)))
                      (i32.add (local.get $g) (i32.shl (local.get $o) (i32.const 2)))
                      (local.get $B) (local.get $HP) (local.get $GH) (local.get $WP) (local.get $GW)
                      (i32.shl (local.get $C) (i32.const 2)) (i32.shl (local.get $O) (i32.const 2)) (local.get $ww)
                      (i32.div_u (local.get $k) (i32.const 3)) (i32.rem_u (local.get $k) (i32.const 3))))
                  (else (f32.const 0))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $kloop (i32.lt_u (local.get $k) (i32.const 9))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br_if $oloop (i32.lt_u (local.get $o) (local.get $O))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br_if $cloop (i32.lt_u (local.get $c) (local.get $C)))))

  ;; dW [3, 3, C, O] (every element written) from xp [B, 2·TH + 2, 2·TW + 2, C] (x zero-padded, conv2dPad)
  ;; and dy [B, OH, OW, O] (TH = ⌈OH / 2⌉, TW = ⌈OW / 2⌉); $scr: 16·(C·O + TB·(C + O) + 32) floats of
  ;; scratch (M, then one block's V and D); $zs: the scratch of $wgZeros
  (func (export "wgFilterGrad")
    (param $xp i32) (param $g i32) (param $dw i32) (param $scr i32) (param $zs i32)
    (param $B i32) (param $OH i32) (param $OW i32) (param $C i32) (param $O i32) (param $TB i32)
    (local $TH i32) (local $TW i32)
    (local $cb i32) (local $ob i32) (local $cob i32) (local $prow i32) (local $grow i32)
    (local $vbuf i32) (local $dbuf i32) (local $vs i32) (local $ds i32)
    (local $b i32) (local $ty i32) (local $tx i32) (local $n i32) (local $seg i32)
    (local.set $TH (i32.shr_u (i32.add (local.get $OH) (i32.const 1)) (i32.const 1)))
    (local.set $TW (i32.shr_u (i32.add (local.get $OW) (i32.const 1)) (i32.const 1)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ob (i32.shl (local.get $O) (i32.const 2)))
    (local.set $cob (i32.mul (local.get $C) (local.get $ob)))
    (local.set $prow (i32.mul (i32.add (i32.shl (local.get $TW) (i32.const 1)) (i32.const 2)) (local.get $cb)))
    (local.set $grow (i32.mul (local.get $OW) (local.get $ob)))
    ;; slices one cache line longer than TB tiles: strides of a multiple of 4 KB would put the 16 stores of a
    ;; tile's transform into one L1 set
    (local.set $vs (i32.add (i32.mul (local.get $TB) (local.get $cb)) (i32.const 64)))
    (local.set $ds (i32.add (i32.mul (local.get $TB) (local.get $ob)) (i32.const 64)))
    (local.set $vbuf (i32.add (local.get $scr) (i32.shl (local.get $cob) (i32.const 4))))
    (local.set $dbuf (i32.add (local.get $vbuf) (i32.shl (local.get $vs) (i32.const 4))))
    ;; M ← 0
    (memory.fill (local.get $scr) (i32.const 0) (i32.shl (local.get $cob) (i32.const 4)))
    (loop $blocks
      ;; fill a block with up to TB tiles: runs of one tile row at a time
      (local.set $n (i32.const 0))
      (loop $fill
        (local.set $seg (i32.sub (local.get $TW) (local.get $tx)))
        (if (i32.gt_s (local.get $seg) (i32.sub (local.get $TB) (local.get $n)))
          (then (local.set $seg (i32.sub (local.get $TB) (local.get $n)))))
        ;; xp row 2·ty of image b, column 2·tx; dy likewise (image rows 2·TH + 2 and 2·TH)
        (call $wgIn
          (i32.add (local.get $xp)
            (i32.add
              (i32.mul (i32.add (i32.mul (local.get $b) (i32.add (i32.shl (local.get $TH) (i32.const 1)) (i32.const 2)))
                (i32.shl (local.get $ty) (i32.const 1))) (local.get $prow))
              (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $cb))))
          (i32.add (local.get $vbuf) (i32.mul (local.get $n) (local.get $cb)))
          (local.get $seg) (local.get $cb) (local.get $prow) (local.get $vs))
        ;; dy row 2·ty of image b, column 2·tx; an odd OH / OW leaves half tiles at the bottom / right edge
        (call $wgDy
          (i32.add (local.get $g)
            (i32.add
              (i32.mul (i32.add (i32.mul (local.get $b) (local.get $OH))
                (i32.shl (local.get $ty) (i32.const 1))) (local.get $grow))
              (i32.mul (i32.shl (local.get $tx) (i32.const 1)) (local.get $ob))))
          (i32.add (local.get $dbuf) (i32.mul (local.get $n) (local.get $ob)))
          (local.get $seg) (local.get $ob) (local.get $grow) (local.get $ds)
          (i32.lt_u (i32.add (i32.shl (local.get $ty) (i32.const 1)) (i32.const 1)) (local.get $OH))
          (i32.lt_u (i32.add (i32.shl (i32.add (local.get $tx) (local.get $seg)) (i32.const 1)) (i32.const -1)) (local.get $OW)))
        (local.set $n (i32.add (local.get $n) (local.get $seg)))
        (local.set $tx (i32.add (local.get $tx) (local.get $seg)))
        (if (i32.ge_u (local.get $tx) (local.get $TW))
          (then
            (local.set $tx (i32.const 0))
            (local.set $ty (i32.add (local.get $ty) (i32.const 1)))
            (if (i32.ge_u (local.get $ty) (local.get $TH))
              (then
                (local.set $ty (i32.const 0))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))))))
        (br_if $fill (i32.and (i32.lt_u (local.get $n) (local.get $TB)) (i32.lt_u (local.get $b) (local.get $B)))))
      (call $wgAccBlock (local.get $vbuf) (local.get $dbuf) (local.get $scr) (local.get $n)
        (local.get $cb) (local.get $ob) (local.get $vs) (local.get $ds))
      (br_if $blocks (i32.lt_u (local.get $b) (local.get $B))))
    (call $wgFilterOut (local.get $scr) (local.get $dw) (local.get $cob))
    (call $wgZeros (local.get $xp) (local.get $g) (local.get $dw) (local.get $zs)
      (local.get $B) (local.get $TH) (local.get $TW) (local.get $OH) (local.get $OW) (local.get $C) (local.get $O)))
)
