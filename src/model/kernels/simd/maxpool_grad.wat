;; MaxPoolGrad for NHWC float32, 2x2 window, stride 2, 'valid' padding, C % 4 == 0, 4 channels per v128.
;; Assembled by scripts/build-simd.mjs into module.ts (base64). The memory is imported: it is
;; tfjs-backend-wasm's own heap, so tensors are read and written in place (all pointers are byte offsets).
;;
;; Semantics match the JS fast path in MaxPoolGrad.ts (tfjs cpu): each dy goes to the FIRST maximum of its
;; window in the order (0,0),(0,1),(1,0),(1,1) by strict '>' comparisons; the other three cells get +0.
;; Every cell is written, so dx needs no prior clearing: covered cells get gradient-or-zero and the
;; uncovered last column / row of odd W / H are zero-filled here.
(module
  (import "env" "memory" (memory 1))

  (func (export "maxPoolGrad2x2")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $B i32) (param $H i32) (param $W i32) (param $C i32)
    (local $c4 i32)      ;; bytes per pixel (C * 4)
    (local $rowB i32)    ;; bytes per input row
    (local $imgB i32)    ;; bytes per image
    (local $oh i32)      ;; output rows = H / 2
    (local $covB i32)    ;; bytes of a row covered by windows = (W / 2) * 2 * c4
    (local $o i32)       ;; byte offset into x / dx (same layout) of the current vector
    (local $b i32)
    (local $y i32)
    (local $rowEnd i32)  ;; end of the covered part of the current top row
    (local $pixEnd i32)  ;; end of the left pixel of the current window
    (local $imgEnd i32)
    (local $g i32)       ;; byte pointer into dy (read sequentially)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $pd i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128)
    (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $m23 v128) (local $gv v128)

    (local.set $c4 (i32.shl (local.get $C) (i32.const 2)))
    (local.set $rowB (i32.mul (local.get $W) (local.get $c4)))
    (local.set $imgB (i32.mul (local.get $H) (local.get $rowB)))
    (local.set $oh (i32.shr_u (local.get $H) (i32.const 1)))
    (local.set $covB (i32.mul (i32.shr_u (local.get $W) (i32.const 1)) (i32.shl (local.get $c4) (i32.const 1))))
    (local.set $g (local.get $dy))
    (local.set $o (i32.const 0))

    (block $bdone
      (loop $bloop
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $B)))
        (local.set $imgEnd (i32.add (local.get $o) (local.get $imgB)))
        (local.set $y (i32.const 0))
        (block $ydone
          (loop $yloop
            (br_if $ydone (i32.ge_u (local.get $y) (local.get $oh)))
            ;; $o is at the start of input row 2y
            (local.set $rowEnd (i32.add (local.get $o) (local.get $covB)))
            (block $wdone
              (loop $wloop
                (br_if $wdone (i32.ge_u (local.get $o) (local.get $rowEnd)))
                (local.set $pixEnd (i32.add (local.get $o) (local.get $c4)))
                (loop $cloop
                  ;; the four cells of the window for these 4 channels
                  (local.set $pa (i32.add (local.get $x) (local.get $o)))
                  (local.set $pb (i32.add (local.get $pa) (local.get $c4)))
                  (local.set $pc (i32.add (local.get $pa) (local.get $rowB)))
                  (local.set $pd (i32.add (local.get $pc) (local.get $c4)))
                  (local.set $va (v128.load (local.get $pa)))
                  (local.set $vb (v128.load (local.get $pb)))
                  (local.set $vc (v128.load (local.get $pc)))
                  (local.set $vd (v128.load (local.get $pd)))
                  ;; running max with strict '>': a later cell wins only if strictly greater
                  (local.set $m1 (f32x4.gt (local.get $vb) (local.get $va)))
                  (local.set $va (v128.bitselect (local.get $vb) (local.get $va) (local.get $m1)))
                  (local.set $m2 (f32x4.gt (local.get $vc) (local.get $va)))
                  (local.set $va (v128.bitselect (local.get $vc) (local.get $va) (local.get $m2)))
                  (local.set $m3 (f32x4.gt (local.get $vd) (local.get $va)))
                  (local.set $m23 (v128.or (local.get $m2) (local.get $m3)))
                  (local.set $gv (v128.load (local.get $g)))
                  ;; winner masks: d = m3; c = m2 & !m3; b = m1 & !(m2|m3); a = !(m1|m2|m3)
                  (local.set $pa (i32.add (local.get $dx) (local.get $o)))
                  (local.set $pb (i32.add (local.get $pa) (local.get $c4)))
                  (local.set $pc (i32.add (local.get $pa) (local.get $rowB)))
                  (local.set $pd (i32.add (local.get $pc) (local.get $c4)))
                  (v128.store (local.get $pa)
                    (v128.andnot (local.get $gv) (v128.or (local.get $m1) (local.get $m23))))
                  (v128.store (local.get $pb)
                    (v128.andnot (v128.and (local.get $gv) (local.get $m1)) (local.get $m23)))
                  (v128.store (local.get $pc)
                    (v128.andnot (v128.and (local.get $gv) (local.get $m2)) (local.get $m3)))
                  (v128.store (local.get $pd)
                    (v128.and (local.get $gv) (local.get $m3)))
                  (local.set $g (i32.add (local.get $g) (i32.const 16)))
                  (local.set $o (i32.add (local.get $o) (i32.const 16)))
                  (br_if $cloop (i32.lt_u (local.get $o) (local.get $pixEnd))))
                ;; skip the right pixel of the window (already written)
                (local.set $o (i32.add (local.get $o) (local.get $c4)))
                (br $wloop)))
            ;; odd W: zero the uncovered last pixel of both rows of this window row
            (local.set $rowEnd (i32.add (local.get $o) (i32.sub (local.get $rowB) (local.get $covB))))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $o) (local.get $rowEnd)))
                (local.set $pa (i32.add (local.get $dx) (local.get $o)))
                (v128.store (local.get $pa) (v128.const i32x4 0 0 0 0))
                (v128.store (i32.add (local.get $pa) (local.get $rowB)) (v128.const i32x4 0 0 0 0))
                (local.set $o (i32.add (local.get $o) (i32.const 16)))
                (br $tloop)))
            ;; $o is at the start of row 2y+1: move past it to row 2y+2
            (local.set $o (i32.add (local.get $o) (local.get $rowB)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $yloop)))
        ;; odd H: zero the uncovered last row
        (block $rdone
          (loop $rloop
            (br_if $rdone (i32.ge_u (local.get $o) (local.get $imgEnd)))
            (v128.store (i32.add (local.get $dx) (local.get $o)) (v128.const i32x4 0 0 0 0))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $rloop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $bloop)))
  )
)
