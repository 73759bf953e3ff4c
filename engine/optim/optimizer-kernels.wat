;; The optimizers' update loops, two parameters per iteration in f64x2 lanes. Each performs the
;; same float64 operations, in the same order, as the scalar formulas in adamw.ts and sgd.ts
;; (WebAssembly SIMD has no fused multiply-add), rounding to float32 where they do, so the
;; results are bit-identical to them.
;;
;; Memory (bytes): 0 params, 16384 gradients, 32768 first slot (exp_avg or momentum_buffer),
;; 49152 second slot (exp_avg_sq), each a block of at most 4096 f32. The caller pads a block to
;; an even length; padded lanes compute on whatever is there and are not read back.
(module
  (memory (export "memory") 1)

  ;; AdamW on n values: m ← fround(β₁m + (1−β₁)g), v ← fround(β₂v + (1−β₂)g·g),
  ;; p ← fround(p·shrink − (stepSize·m) / (√v / bias2Sqrt + ε)).
  (func (export "adamwBlock")
    (param $n i32) (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64)
    (param $eps f64) (param $shrink f64) (param $stepSize f64) (param $bias2Sqrt f64)
    (local $at i32) (local $end i32)
    (local $g v128) (local $m32 v128) (local $v32 v128) (local $m v128) (local $v v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $g (f64x2.promote_low_f32x4 (v128.load64_zero offset=16384 (local.get $at))))
        (local.set $m32
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul (f64x2.splat (local.get $b1)) (f64x2.promote_low_f32x4 (v128.load64_zero offset=32768 (local.get $at))))
              (f64x2.mul (f64x2.splat (local.get $c1)) (local.get $g)))))
        (local.set $v32
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul (f64x2.splat (local.get $b2)) (f64x2.promote_low_f32x4 (v128.load64_zero offset=49152 (local.get $at))))
              (f64x2.mul (f64x2.mul (f64x2.splat (local.get $c2)) (local.get $g)) (local.get $g)))))
        (v128.store64_lane offset=32768 0 (local.get $at) (local.get $m32))
        (v128.store64_lane offset=49152 0 (local.get $at) (local.get $v32))
        (local.set $m (f64x2.promote_low_f32x4 (local.get $m32)))
        (local.set $v (f64x2.promote_low_f32x4 (local.get $v32)))
        (v128.store64_lane 0 (local.get $at)
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))) (f64x2.splat (local.get $shrink)))
              (f64x2.div
                (f64x2.mul (f64x2.splat (local.get $stepSize)) (local.get $m))
                (f64x2.add
                  (f64x2.div (f64x2.sqrt (local.get $v)) (f64x2.splat (local.get $bias2Sqrt)))
                  (f64x2.splat (local.get $eps)))))))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $next))))

  ;; SGD on n values, d = g + λp: without momentum p ← fround(p − lr·d) (d unrounded); with it
  ;; d ← fround(d), b ← fround(first ? d : μb + (1−dampening)d) and
  ;; p ← fround(p − lr·(nesterov ? d + μb : b)). Flags are 0 or −1 (all bits set).
  (func (export "sgdBlock")
    (param $n i32) (param $lr f64) (param $wd f64) (param $mu f64) (param $keep f64)
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
        (local.set $p (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $at))))
        (local.set $d
          (f64x2.add
            (f64x2.promote_low_f32x4 (v128.load64_zero offset=16384 (local.get $at)))
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
                      (f64x2.mul (f64x2.splat (local.get $mu)) (f64x2.promote_low_f32x4 (v128.load64_zero offset=32768 (local.get $at))))
                      (f64x2.mul (f64x2.splat (local.get $keep)) (local.get $d)))
                    (local.get $isFirst)))))
            (v128.store64_lane offset=32768 0 (local.get $at) (f32x4.demote_f64x2_zero (local.get $b)))
            (local.set $step
              (v128.bitselect
                (f64x2.add (local.get $d) (f64x2.mul (f64x2.splat (local.get $mu)) (local.get $b)))
                (local.get $b)
                (local.get $isNesterov))))
          (else (local.set $step (local.get $d))))
        (v128.store64_lane 0 (local.get $at)
          (f32x4.demote_f64x2_zero
            (f64x2.sub (local.get $p) (f64x2.mul (f64x2.splat (local.get $lr)) (local.get $step)))))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $next))))
)
