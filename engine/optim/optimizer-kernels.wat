;; The optimizers' update loops. AdamW runs four parameters per iteration in f32x4 lanes, in
;; float32 like torch.optim.AdamW, each operation rounded (WebAssembly SIMD has no fused
;; multiply-add), so it equals the float32 formula in adamw.ts bit for bit. SGD runs two per
;; iteration in f64x2 lanes, the same float64 operations in the same order as sgd.ts, rounding to
;; float32 where it does: bit-identical to it.
;;
;; Every array is given by its byte address in the imported memory: the optimizer's own state
;; lives there (optimizer-memory.ts), and what lives elsewhere is copied into a scratch block of
;; the memory first (optimizer-kernel.ts). n is a multiple of 4: lanes past a tensor's end are
;; computed and written, so the caller points them at scratch or at an allocation's padding.
(module
  (import "kernel" "memory" (memory 1))

  ;; The DP-SGD gradient as the optimizer reads it: out <- fround((g + noise) * scale) on n values,
  ;; computed in float64 and rounded once, exactly as the noise kernel's addNoiseBlock
  ;; (engine/dp/noise-kernel.wat) computes it in a pass of its own.
  (func (export "noisyGradientBlock") (param $n i32) (param $scale f64) (param $grad i32) (param $noise i32) (param $out i32)
    (local $at i32) (local $end i32) (local $g v128) (local $z v128) (local $scalev v128)
    (local $low v128) (local $high v128)
    (local.set $scalev (f64x2.splat (local.get $scale)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $grad) (local.get $at))))
        (local.set $z (v128.load (i32.add (local.get $noise) (local.get $at))))
        (local.set $low
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $g)) (f64x2.promote_low_f32x4 (local.get $z)))
              (local.get $scalev))))
        (local.set $high
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.add
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z))))
              (local.get $scalev))))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $low) (local.get $high)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; A non-private step's mean as the optimizer reads the gradient: out <- fround(g * scale) on n
  ;; values, the float64 product rounded once, as the JS loop g[i] *= scale stores it.
  (func (export "scaledGradientBlock") (param $n i32) (param $scale f64) (param $grad i32) (param $out i32)
    (local $at i32) (local $end i32) (local $g v128) (local $scalev v128)
    (local.set $scalev (f64x2.splat (local.get $scale)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $grad) (local.get $at))))
        (v128.store (i32.add (local.get $out) (local.get $at))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $g)) (local.get $scalev)))
            (f32x4.demote_f64x2_zero
              (f64x2.mul
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
                (local.get $scalev)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; AdamW on n values, every scalar a float32 and every step rounded to float32:
  ;; m ← β₁m + c₁g, v ← β₂v + (c₂g)g, p ← p·shrink − (stepSize·m) / (√v / bias2Sqrt + ε).
  (func (export "adamwBlock")
    (param $n i32) (param $param i32) (param $grad i32) (param $first i32) (param $second i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32)
    (param $eps f32) (param $shrink f32) (param $stepSize f32) (param $bias2Sqrt f32)
    (local $at i32) (local $end i32)
    (local $g v128) (local $m v128) (local $v v128)
    (local $b1v v128) (local $c1v v128) (local $b2v v128) (local $c2v v128)
    (local $epsv v128) (local $shrinkv v128) (local $stepv v128) (local $bias2v v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $b1v (f32x4.splat (local.get $b1)))
    (local.set $c1v (f32x4.splat (local.get $c1)))
    (local.set $b2v (f32x4.splat (local.get $b2)))
    (local.set $c2v (f32x4.splat (local.get $c2)))
    (local.set $epsv (f32x4.splat (local.get $eps)))
    (local.set $shrinkv (f32x4.splat (local.get $shrink)))
    (local.set $stepv (f32x4.splat (local.get $stepSize)))
    (local.set $bias2v (f32x4.splat (local.get $bias2Sqrt)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g (v128.load (i32.add (local.get $grad) (local.get $at))))
        (local.set $m
          (f32x4.add
            (f32x4.mul (local.get $b1v) (v128.load (i32.add (local.get $first) (local.get $at))))
            (f32x4.mul (local.get $c1v) (local.get $g))))
        (local.set $v
          (f32x4.add
            (f32x4.mul (local.get $b2v) (v128.load (i32.add (local.get $second) (local.get $at))))
            (f32x4.mul (f32x4.mul (local.get $c2v) (local.get $g)) (local.get $g))))
        (v128.store (i32.add (local.get $first) (local.get $at)) (local.get $m))
        (v128.store (i32.add (local.get $second) (local.get $at)) (local.get $v))
        (v128.store (i32.add (local.get $param) (local.get $at))
          (f32x4.sub
            (f32x4.mul (v128.load (i32.add (local.get $param) (local.get $at))) (local.get $shrinkv))
            (f32x4.div
              (f32x4.mul (local.get $stepv) (local.get $m))
              (f32x4.add
                (f32x4.div (f32x4.sqrt (local.get $v)) (local.get $bias2v))
                (local.get $epsv)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))

  ;; SGD on n values, d = g + λp: without momentum p ← fround(p − lr·d) (d unrounded); with it
  ;; d ← fround(d), b ← fround(first ? d : μb + (1−dampening)d) and
  ;; p ← fround(p − lr·(nesterov ? d + μb : b)). Flags are 0 or −1 (all bits set).
  (func (export "sgdBlock")
    (param $n i32) (param $param i32) (param $grad i32) (param $buffer i32) (param $lr f64) (param $wd f64) (param $mu f64) (param $keep f64)
    (param $momentum i32) (param $first i32) (param $nesterov i32)
    (local $at i32) (local $end i32)
    (local $p v128) (local $d v128) (local $b v128) (local $step v128)
    (local $isFirst v128) (local $isNesterov v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $isFirst (i32x4.splat (local.get $first)))
    (local.set $isNesterov (i32x4.splat (local.get $nesterov)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $p (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $param) (local.get $at)))))
        (local.set $d
          (f64x2.add
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $grad) (local.get $at))))
            (f64x2.mul (f64x2.splat (local.get $wd)) (local.get $p))))
        (if (local.get $momentum)
          (then
            (local.set $d (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $d))))
            (local.set $b
              (f64x2.promote_low_f32x4
                (f32x4.demote_f64x2_zero
                  (v128.bitselect
                    (local.get $d)
                    (f64x2.add
                      (f64x2.mul (f64x2.splat (local.get $mu)) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $buffer) (local.get $at)))))
                      (f64x2.mul (f64x2.splat (local.get $keep)) (local.get $d)))
                    (local.get $isFirst)))))
            (v128.store64_lane 0 (i32.add (local.get $buffer) (local.get $at)) (f32x4.demote_f64x2_zero (local.get $b)))
            (local.set $step
              (v128.bitselect
                (f64x2.add (local.get $d) (f64x2.mul (f64x2.splat (local.get $mu)) (local.get $b)))
                (local.get $b)
                (local.get $isNesterov))))
          (else (local.set $step (local.get $d))))
        (v128.store64_lane 0 (i32.add (local.get $param) (local.get $at))
          (f32x4.demote_f64x2_zero
            (f64x2.sub (local.get $p) (f64x2.mul (f64x2.splat (local.get $lr)) (local.get $step)))))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $next))))
)
