;; The vectorised fast path of the DP noise (see noise-kernel.ts for the contract and noise.ts for
;; the algorithm). Two values per iteration in f64x2 lanes; each value j reads keystream words
;; 2j and 2j+1 at fixed positions, so the lanes are independent. A value whose ziggurat fast path
;; rejects is left untouched and its index recorded: the caller finishes it (about 1 % of them).
;;
;; Memory (bytes): 0 X[0..256] f64 layer edges; 4096 ACCEPT[0..255] f64; 8192 keystream words
;; (8 bytes per value); 73728 the target block (f32); 106496 the indices of rejected values (i32).
;; A block holds at most 8192 values. addNoiseBlock reads the same target block and the noise
;; block (f32) where the keystream words are.
(module
  (memory (export "memory") 3)

  ;; target[j] <- fround((target[j] + fround(std * z_j)) * scale) for j < n where the fast path
  ;; accepts; returns how many indices it wrote to the rejected list, in increasing order.
  (func (export "noiseBlock") (param $n i32) (param $std f64) (param $scale f64) (result i32)
    (local $j i32) (local $wp i32) (local $gp i32) (local $rejected i32)
    (local $la i32) (local $lb i32)
    (local $w v128) (local $u v128) (local $edge v128) (local $accept v128) (local $fast v128)
    (local $noise v128) (local $target v128) (local $result v128)
    (local $stdv v128) (local $scalev v128)
    (local.set $stdv (f64x2.splat (local.get $std)))
    (local.set $scalev (f64x2.splat (local.get $scale)))
    (local.set $wp (i32.const 8192))
    (local.set $gp (i32.const 73728))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        ;; one i64 lane per value: w1·2^32 + w0 (little-endian words 2j, 2j+1)
        (local.set $w (v128.load (local.get $wp)))
        ;; u = (lane >>> 12)·2^-52, a 52-bit uniform in [0, 1): the bits as the mantissa of a
        ;; double in [1, 2), minus 1 (exact)
        (local.set $u
          (f64x2.sub
            (v128.or (i64x2.shr_u (local.get $w) (i32.const 12)) (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000))
            (v128.const f64x2 1 1)))
        ;; the layer is the low 8 bits of w0: byte offsets into the f64 tables
        (local.set $la (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $w)) (i32.const 255)) (i32.const 3)))
        (local.set $lb (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $w)) (i32.const 255)) (i32.const 3)))
        (local.set $edge
          (f64x2.replace_lane 1 (f64x2.splat (f64.load (local.get $la))) (f64.load (local.get $lb))))
        (local.set $accept
          (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=4096 (local.get $la))) (f64.load offset=4096 (local.get $lb))))
        (local.set $fast (f64x2.lt (local.get $u) (local.get $accept)))
        ;; noise = fround(std · (±u·X[layer])), negative when bit 8 of w0 is set: that bit shifted
        ;; to the f64 sign bit
        (local.set $noise
          (f64x2.promote_low_f32x4
            (f32x4.demote_f64x2_zero
              (f64x2.mul (local.get $stdv)
                (v128.xor
                  (f64x2.mul (local.get $u) (local.get $edge))
                  (v128.and (i64x2.shl (local.get $w) (i32.const 55)) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))))))
        (local.set $target (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $gp))))
        (local.set $result
          (f64x2.mul (f64x2.add (local.get $target) (local.get $noise)) (local.get $scalev)))
        ;; rejected lanes keep their target value for the caller to finish (the f32 → f64 → f32
        ;; round trip is exact)
        (v128.store64_lane 0 (local.get $gp)
          (f32x4.demote_f64x2_zero (v128.bitselect (local.get $result) (local.get $target) (local.get $fast))))
        (if (i32.eqz (i64x2.all_true (local.get $fast)))
          (then
            (if (i64.eqz (i64x2.extract_lane 0 (local.get $fast)))
              (then
                (i32.store offset=106496 (i32.shl (local.get $rejected) (i32.const 2)) (local.get $j))
                (local.set $rejected (i32.add (local.get $rejected) (i32.const 1)))))
            (if (i32.and
                  (i64.eqz (i64x2.extract_lane 1 (local.get $fast)))
                  (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
              (then
                (i32.store offset=106496 (i32.shl (local.get $rejected) (i32.const 2)) (i32.add (local.get $j) (i32.const 1)))
                (local.set $rejected (i32.add (local.get $rejected) (i32.const 1)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 8)))
        (br $next)))
    (local.get $rejected))

  ;; target[j] <- fround(std * z_j) for j < n where the fast path accepts, without reading target:
  ;; noiseBlock's values for a zero target and scale 1 (fround((0 + x) * 1) = 0 + x), with the
  ;; target's load and the scale left out, for the prefetcher, which draws noise on its own.
  ;; Rejected lanes hold a value the caller overwrites; their indices are listed as noiseBlock
  ;; lists them.
  (func (export "drawBlock") (param $n i32) (param $std f64) (result i32)
    (local $j i32) (local $wp i32) (local $gp i32) (local $rejected i32)
    (local $la i32) (local $lb i32)
    (local $w v128) (local $u v128) (local $edge v128) (local $accept v128) (local $fast v128)
    (local $stdv v128)
    (local.set $stdv (f64x2.splat (local.get $std)))
    (local.set $wp (i32.const 8192))
    (local.set $gp (i32.const 73728))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        ;; u, layer, edge, accept and sign exactly as in noiseBlock
        (local.set $w (v128.load (local.get $wp)))
        (local.set $u
          (f64x2.sub
            (v128.or (i64x2.shr_u (local.get $w) (i32.const 12)) (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000))
            (v128.const f64x2 1 1)))
        (local.set $la (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $w)) (i32.const 255)) (i32.const 3)))
        (local.set $lb (i32.shl (i32.and (i32x4.extract_lane 2 (local.get $w)) (i32.const 255)) (i32.const 3)))
        (local.set $edge
          (f64x2.replace_lane 1 (f64x2.splat (f64.load (local.get $la))) (f64.load (local.get $lb))))
        (local.set $accept
          (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=4096 (local.get $la))) (f64.load offset=4096 (local.get $lb))))
        (local.set $fast (f64x2.lt (local.get $u) (local.get $accept)))
        ;; + 0 as noiseBlock's 0 + x: a −0 (u = 0 with the sign bit set) becomes +0 there too
        (v128.store64_lane 0 (local.get $gp)
          (f32x4.demote_f64x2_zero
            (f64x2.add (v128.const f64x2 0 0)
              (f64x2.promote_low_f32x4
                (f32x4.demote_f64x2_zero
                  (f64x2.mul (local.get $stdv)
                    (v128.xor
                      (f64x2.mul (local.get $u) (local.get $edge))
                      (v128.and (i64x2.shl (local.get $w) (i32.const 55)) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))))))))
        (if (i32.eqz (i64x2.all_true (local.get $fast)))
          (then
            (if (i64.eqz (i64x2.extract_lane 0 (local.get $fast)))
              (then
                (i32.store offset=106496 (i32.shl (local.get $rejected) (i32.const 2)) (local.get $j))
                (local.set $rejected (i32.add (local.get $rejected) (i32.const 1)))))
            (if (i32.and
                  (i64.eqz (i64x2.extract_lane 1 (local.get $fast)))
                  (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
              (then
                (i32.store offset=106496 (i32.shl (local.get $rejected) (i32.const 2)) (i32.add (local.get $j) (i32.const 1)))
                (local.set $rejected (i32.add (local.get $rejected) (i32.const 1)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (local.set $wp (i32.add (local.get $wp) (i32.const 16)))
        (local.set $gp (i32.add (local.get $gp) (i32.const 8)))
        (br $next)))
    (local.get $rejected))

  ;; target[j] <- fround((target[j] + noise[j]) * scale) for j < n (n a multiple of 4), in
  ;; float64 as the JS expression (t + n) * scale computes it, rounded once: the prefetched noise
  ;; added to a gradient block. Four values per iteration, two f64x2 halves.
  (func (export "addNoiseBlock") (param $n i32) (param $scale f64)
    (local $at i32) (local $end i32) (local $t v128) (local $z v128) (local $scalev v128)
    (local $low v128) (local $high v128)
    (local.set $scalev (f64x2.splat (local.get $scale)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $t (v128.load offset=73728 (local.get $at)))
        (local.set $z (v128.load offset=8192 (local.get $at)))
        (local.set $low
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $t)) (f64x2.promote_low_f32x4 (local.get $z)))
              (local.get $scalev))))
        (local.set $high
          (f32x4.demote_f64x2_zero
            (f64x2.mul
              (f64x2.add
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $z) (local.get $z))))
              (local.get $scalev))))
        (v128.store offset=73728 (local.get $at)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $low) (local.get $high)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next))))
)
