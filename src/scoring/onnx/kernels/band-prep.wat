;; Band selection + per-pixel unit norm, one fused WebAssembly SIMD pass per chunk.
;; Compiled by scripts/build-kernels.ts into band-prep-wasm.ts; wrapped by band-prep.ts.
;;
;; For each pixel p < pixels, v_j = in[p*bands + lo + j] as float32 (j < count), pixel-major:
;; - norm = 0: out[p*count + j] = v_j
;; - norm = 1: out[p*count + j] = (v_j - mean) / max(sqrt(sum_j (v_j - mean)^2), eps)
;; `in` and `out` are byte addresses in the exported memory; out is float32 [pixels, count].
;;
;; Exports: memory (grown from JS), prep_u16 and prep_f32, both
;;   (in, out, scratch, pixels, bands, lo, count, eps: f32, norm: i32)
;; with `in`, `out` and `scratch` (512 bytes of per-pixel values for a block of 32 pixels) byte
;; addresses in that memory, out float32 [pixels, count]. One call per chunk.
;;
;; Accuracy (see each function): the mean is taken exactly (uint16: integer sums; float32: a
;; float64 sum) and applied in two parts (an integer or f32 part and a small f32 remainder), so
;; the centred values keep their digits even when the mean is large against the spread (raw
;; counts). The sum of squares is the centred one: exact int64 moments for uint16, a second pass
;; over the centred values for float32 (never a float sum(v^2) - (sum v)^2 / C). The output is
;; c_j * (1 / max(n, eps)), within an ulp or two of the division. A pixel of equal values has
;; c_j = 0 exactly, so it comes out all zeros.
;;
;; Loops take 8 values per iteration (one v128 of uint16 or two of float32), then one step of 4,
;; then a scalar tail, so any count works. Pixels go in blocks of 32, one pass over the whole
;; block at a time: the block (14 KiB of FX10 input) stays in L1 between passes, and one
;; pixel's divisions and square root overlap the next pixel's sums instead of stalling them.
(module
  (memory (export "memory") 1)

  ;; Sum of the four float32 lanes of a vector.
  (func $hsum_f32 (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v))))

  ;; Scales out[0..count) (float32, at byte address $d) by $inv in place.
  (func $scale (param $d i32) (param $count i32) (param $inv f32)
    (local $end8 i32) (local $end i32) (local $vinv v128)
    (local.set $end8 (i32.add (local.get $d) (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2))))
    (local.set $end (i32.add (local.get $d) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $vinv (f32x4.splat (local.get $inv)))
    (if (i32.lt_u (local.get $d) (local.get $end8))
      (then
        (loop $l
          (v128.store (local.get $d) (f32x4.mul (v128.load (local.get $d)) (local.get $vinv)))
          (v128.store offset=16 (local.get $d)
            (f32x4.mul (v128.load offset=16 (local.get $d)) (local.get $vinv)))
          (local.set $d (i32.add (local.get $d) (i32.const 32)))
          (br_if $l (i32.lt_u (local.get $d) (local.get $end8))))))
    (if (i32.and (local.get $count) (i32.const 4))
      (then
        (v128.store (local.get $d) (f32x4.mul (v128.load (local.get $d)) (local.get $vinv)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
        (f32.store (local.get $d) (f32.mul (f32.load (local.get $d)) (local.get $inv)))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (br $l))))

  ;; uint16 input. $norm = 0: slice + cast; otherwise unit norm with floor $eps.
  ;; Unit norm takes two passes over a pixel's values, both from the input:
  ;; 1. exact integer moments of w = v - 32768 (an i16): S1 = sum w, S2 = sum w^2, so the centred
  ;;    sum of squares (C*S2 - S1^2) / C is exact (int64) up to its final rounding to float64;
  ;; 2. out = (f32(v - k) - fr) * inv, with k the mean rounded to an integer and fr = f32(mean - k),
  ;;    inv = 1 / max(sqrt(sum of squares), eps). f32(v - k) is exact: the u16 lanes are
  ;;    interleaved with 0x4b00 into the float 2^23 + v, minus the float 2^23 + k.
  ;; Pixels go in blocks of 32: pass 1 for the block (k, fr, inv to $scratch, 512 bytes), then
  ;; pass 2, so the per-pixel divisions and square root of one pixel overlap the next one's sums.
  (func (export "prep_u16")
    (param $in i32) (param $out i32) (param $scratch i32) (param $pixels i32) (param $bands i32)
    (param $lo i32) (param $count i32) (param $eps f32) (param $norm i32)
    (local $src i32) (local $dst i32) (local $p i32) (local $stride i32) (local $bEnd i32)
    (local $prm i32) (local $prmEnd i32) (local $blockSrc i32)
    (local $s i32) (local $d i32) (local $sEnd8 i32) (local $sEnd i32) (local $len8 i32) (local $len i32)
    (local $v v128) (local $w v128) (local $sq v128) (local $s1v v128) (local $s2v v128)
    (local $t i64) (local $s1 i64) (local $s2 i64)
    (local $mean f64) (local $k i32) (local $fr f32) (local $inv f32)
    (local $vk v128) (local $vfr v128) (local $vinv v128) (local $magic v128)
    (local $C f64) (local $rcpC f64) (local $floor f64)
    (local.set $C (f64.convert_i32_u (local.get $count)))
    (local.set $rcpC (f64.div (f64.const 1) (local.get $C)))
    (local.set $floor (f64.mul (local.get $C)
      (f64.mul (f64.promote_f32 (local.get $eps)) (f64.promote_f32 (local.get $eps)))))
    (local.set $magic (v128.const i16x8 0x4b00 0x4b00 0x4b00 0x4b00 0x4b00 0x4b00 0x4b00 0x4b00))
    (local.set $src (i32.add (local.get $in) (i32.shl (local.get $lo) (i32.const 1))))
    (local.set $dst (local.get $out))
    (local.set $stride (i32.shl (local.get $bands) (i32.const 1)))
    (local.set $len8 (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 1)))
    (local.set $len (i32.shl (local.get $count) (i32.const 1)))
    (if (i32.eqz (local.get $norm))
      (then
        ;; Slice + cast only.
        (block $pixels_done
          (loop $pixel
            (br_if $pixels_done (i32.ge_u (local.get $p) (local.get $pixels)))
            (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
            (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
            (local.set $s (local.get $src))
            (local.set $d (local.get $dst))
            (if (i32.lt_u (local.get $s) (local.get $sEnd8))
              (then
                (loop $l
                  (local.set $v (v128.load (local.get $s)))
                  (v128.store (local.get $d)
                    (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_u (local.get $v))))
                  (v128.store offset=16 (local.get $d)
                    (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_u (local.get $v))))
                  (local.set $s (i32.add (local.get $s) (i32.const 16)))
                  (local.set $d (i32.add (local.get $d) (i32.const 32)))
                  (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
            (if (i32.and (local.get $count) (i32.const 4))
              (then
                (v128.store (local.get $d) (f32x4.convert_i32x4_s (v128.load16x4_u (local.get $s))))
                (local.set $s (i32.add (local.get $s) (i32.const 8)))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))))
            (block $tail_done
              (loop $l
                (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
                (f32.store (local.get $d) (f32.convert_i32_s (i32.load16_u (local.get $s))))
                (local.set $s (i32.add (local.get $s) (i32.const 2)))
                (local.set $d (i32.add (local.get $d) (i32.const 4)))
                (br $l)))
            (local.set $src (i32.add (local.get $src) (local.get $stride)))
            (local.set $dst (local.get $d))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pixel)))
        (return)))
    (block $pixels_done
      (loop $block
        (br_if $pixels_done (i32.ge_u (local.get $p) (local.get $pixels)))
        (local.set $bEnd (select (local.get $pixels) (i32.add (local.get $p) (i32.const 32))
          (i32.lt_u (i32.sub (local.get $pixels) (local.get $p)) (i32.const 32))))
        (local.set $prmEnd (i32.add (local.get $scratch)
          (i32.shl (i32.sub (local.get $bEnd) (local.get $p)) (i32.const 4))))
        (local.set $blockSrc (local.get $src))
        ;; Pass 1 over the block. S1 in i32 lanes (|w0 + w1| <= 2^16 per step, count / 8 steps);
        ;; S2 from pairs w0^2 + w1^2 <= 2^31 (unsigned i32), widened to i64 lanes.
        (local.set $prm (local.get $scratch))
        (loop $stats
          (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
          (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
          (local.set $s (local.get $src))
          (local.set $s1v (v128.const i32x4 0 0 0 0))
          (local.set $s2v (v128.const i64x2 0 0))
          (if (i32.lt_u (local.get $s) (local.get $sEnd8))
            (then
              (loop $l
                (local.set $w (v128.xor (v128.load (local.get $s))
                  (v128.const i16x8 -32768 -32768 -32768 -32768 -32768 -32768 -32768 -32768)))
                (local.set $s1v (i32x4.add (local.get $s1v) (i32x4.extadd_pairwise_i16x8_s (local.get $w))))
                (local.set $sq (i32x4.dot_i16x8_s (local.get $w) (local.get $w)))
                (local.set $s2v (i64x2.add (local.get $s2v)
                  (i64x2.add (i64x2.extend_low_i32x4_u (local.get $sq)) (i64x2.extend_high_i32x4_u (local.get $sq)))))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
          (if (i32.and (local.get $count) (i32.const 4))
            (then
              ;; Four values in the low half; the zero high half stays 0 (not flipped).
              (local.set $w (v128.xor (v128.load64_zero (local.get $s))
                (v128.const i16x8 -32768 -32768 -32768 -32768 0 0 0 0)))
              (local.set $s1v (i32x4.add (local.get $s1v) (i32x4.extadd_pairwise_i16x8_s (local.get $w))))
              (local.set $sq (i32x4.dot_i16x8_s (local.get $w) (local.get $w)))
              (local.set $s2v (i64x2.add (local.get $s2v)
                (i64x2.add (i64x2.extend_low_i32x4_u (local.get $sq)) (i64x2.extend_high_i32x4_u (local.get $sq)))))
              (local.set $s (i32.add (local.get $s) (i32.const 8)))))
          (local.set $s1v (i64x2.add (i64x2.extend_low_i32x4_s (local.get $s1v)) (i64x2.extend_high_i32x4_s (local.get $s1v))))
          (local.set $s1 (i64.add (i64x2.extract_lane 0 (local.get $s1v)) (i64x2.extract_lane 1 (local.get $s1v))))
          (local.set $s2 (i64.add (i64x2.extract_lane 0 (local.get $s2v)) (i64x2.extract_lane 1 (local.get $s2v))))
          (block $tail_done
            (loop $l
              (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
              (local.set $t (i64.sub (i64.load16_u (local.get $s)) (i64.const 32768)))
              (local.set $s1 (i64.add (local.get $s1) (local.get $t)))
              (local.set $s2 (i64.add (local.get $s2) (i64.mul (local.get $t) (local.get $t))))
              (local.set $s (i32.add (local.get $s) (i32.const 2)))
              (br $l)))
          ;; mean = 32768 + S1 / C; inv = 1 / max(sqrt((C*S2 - S1^2) / C), eps)
          ;;                             = sqrt(C / max(C*S2 - S1^2, C*eps^2)).
          (local.set $mean (f64.add (f64.const 32768) (f64.mul (f64.convert_i64_s (local.get $s1)) (local.get $rcpC))))
          (local.set $k (i32.trunc_f64_s (f64.nearest (local.get $mean))))
          (i32.store (local.get $prm) (local.get $k))
          (f32.store offset=4 (local.get $prm)
            (f32.demote_f64 (f64.sub (local.get $mean) (f64.convert_i32_s (local.get $k)))))
          (f32.store offset=8 (local.get $prm) (f32.demote_f64 (f64.sqrt (f64.div (local.get $C)
            (f64.max
              (f64.convert_i64_s (i64.sub
                (i64.mul (i64.extend_i32_u (local.get $count)) (local.get $s2))
                (i64.mul (local.get $s1) (local.get $s1))))
              (local.get $floor))))))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $prm (i32.add (local.get $prm) (i32.const 16)))
          (br_if $stats (i32.lt_u (local.get $prm) (local.get $prmEnd))))
        ;; Pass 2 over the block: out = (f32(v - k) - fr) * inv.
        (local.set $src (local.get $blockSrc))
        (local.set $prm (local.get $scratch))
        (loop $emit
          (local.set $k (i32.load (local.get $prm)))
          (local.set $fr (f32.load offset=4 (local.get $prm)))
          (local.set $inv (f32.load offset=8 (local.get $prm)))
          (local.set $vk (f32x4.splat (f32.convert_i32_s (i32.add (local.get $k) (i32.const 0x800000)))))
          (local.set $vfr (f32x4.splat (local.get $fr)))
          (local.set $vinv (f32x4.splat (local.get $inv)))
          (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
          (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
          (local.set $s (local.get $src))
          (local.set $d (local.get $dst))
          (if (i32.lt_u (local.get $s) (local.get $sEnd8))
            (then
              (loop $l
                (local.set $v (v128.load (local.get $s)))
                (v128.store (local.get $d) (f32x4.mul (f32x4.sub (f32x4.sub
                  (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $v) (local.get $magic))
                  (local.get $vk)) (local.get $vfr)) (local.get $vinv)))
                (v128.store offset=16 (local.get $d) (f32x4.mul (f32x4.sub (f32x4.sub
                  (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $v) (local.get $magic))
                  (local.get $vk)) (local.get $vfr)) (local.get $vinv)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $d (i32.add (local.get $d) (i32.const 32)))
                (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
          (if (i32.and (local.get $count) (i32.const 4))
            (then
              (v128.store (local.get $d) (f32x4.mul (f32x4.sub (f32x4.sub
                (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23
                  (v128.load64_zero (local.get $s)) (local.get $magic))
                (local.get $vk)) (local.get $vfr)) (local.get $vinv)))
              (local.set $s (i32.add (local.get $s) (i32.const 8)))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))))
          (block $tail_done
            (loop $l
              (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
              (f32.store (local.get $d) (f32.mul (f32.sub (f32.convert_i32_s
                (i32.sub (i32.load16_u (local.get $s)) (local.get $k)))
                (local.get $fr)) (local.get $inv)))
              (local.set $s (i32.add (local.get $s) (i32.const 2)))
              (local.set $d (i32.add (local.get $d) (i32.const 4)))
              (br $l)))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $dst (local.get $d))
          (local.set $prm (i32.add (local.get $prm) (i32.const 16)))
          (br_if $emit (i32.lt_u (local.get $prm) (local.get $prmEnd))))
        (local.set $p (local.get $bEnd))
        (br $block))))

  ;; float32 input. $norm = 0: slice (copy); otherwise unit norm with floor $eps, in three passes
  ;; over each block of 32 pixels (per-pixel values to $scratch, 512 bytes):
  ;; 1. mean in float64 (two f64x2 accumulators), split into m0 = f32(mean), corr = f32(mean - m0);
  ;; 2. c = (v - m0) - corr written to out, sum of c^2 in eight float32 lanes -> inv;
  ;; 3. out *= inv, in place.
  (func (export "prep_f32")
    (param $in i32) (param $out i32) (param $scratch i32) (param $pixels i32) (param $bands i32)
    (param $lo i32) (param $count i32) (param $eps f32) (param $norm i32)
    (local $src i32) (local $dst i32) (local $p i32) (local $stride i32) (local $rowOut i32)
    (local $bEnd i32) (local $prm i32) (local $prmEnd i32) (local $blockSrc i32) (local $blockDst i32)
    (local $s i32) (local $d i32) (local $sEnd8 i32) (local $sEnd i32) (local $len8 i32) (local $len i32)
    (local $a v128) (local $b v128) (local $dacc0 v128) (local $dacc1 v128) (local $dsum f64)
    (local $mean f64) (local $m0 f32) (local $corr f32) (local $vm0 v128) (local $vcorr v128)
    (local $ss0 v128) (local $ss1 v128) (local $sss f32) (local $c f32) (local $rcpC f64)
    (local.set $src (i32.add (local.get $in) (i32.shl (local.get $lo) (i32.const 2))))
    (local.set $dst (local.get $out))
    (local.set $stride (i32.shl (local.get $bands) (i32.const 2)))
    (local.set $rowOut (i32.shl (local.get $count) (i32.const 2)))
    (local.set $len8 (i32.shl (i32.and (local.get $count) (i32.const -8)) (i32.const 2)))
    (local.set $len (i32.shl (local.get $count) (i32.const 2)))
    (local.set $rcpC (f64.div (f64.const 1) (f64.convert_i32_u (local.get $count))))
    (if (i32.eqz (local.get $norm))
      (then
        ;; Slice only: a copy.
        (block $pixels_done
          (loop $pixel
            (br_if $pixels_done (i32.ge_u (local.get $p) (local.get $pixels)))
            (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
            (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
            (local.set $s (local.get $src))
            (local.set $d (local.get $dst))
            (if (i32.lt_u (local.get $s) (local.get $sEnd8))
              (then
                (loop $l
                  (v128.store (local.get $d) (v128.load (local.get $s)))
                  (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
                  (local.set $s (i32.add (local.get $s) (i32.const 32)))
                  (local.set $d (i32.add (local.get $d) (i32.const 32)))
                  (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
            (if (i32.and (local.get $count) (i32.const 4))
              (then
                (v128.store (local.get $d) (v128.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 16)))
                (local.set $d (i32.add (local.get $d) (i32.const 16)))))
            (block $tail_done
              (loop $l
                (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
                (f32.store (local.get $d) (f32.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (local.set $d (i32.add (local.get $d) (i32.const 4)))
                (br $l)))
            (local.set $src (i32.add (local.get $src) (local.get $stride)))
            (local.set $dst (local.get $d))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $pixel)))
        (return)))
    (block $pixels_done
      (loop $block
        (br_if $pixels_done (i32.ge_u (local.get $p) (local.get $pixels)))
        (local.set $bEnd (select (local.get $pixels) (i32.add (local.get $p) (i32.const 32))
          (i32.lt_u (i32.sub (local.get $pixels) (local.get $p)) (i32.const 32))))
        (local.set $prmEnd (i32.add (local.get $scratch)
          (i32.shl (i32.sub (local.get $bEnd) (local.get $p)) (i32.const 4))))
        (local.set $blockSrc (local.get $src))
        (local.set $blockDst (local.get $dst))
        ;; Pass 1 over the block: the mean, in float64.
        (local.set $prm (local.get $scratch))
        (loop $means
          (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
          (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
          (local.set $s (local.get $src))
          (local.set $dacc0 (v128.const f64x2 0 0))
          (local.set $dacc1 (v128.const f64x2 0 0))
          (if (i32.lt_u (local.get $s) (local.get $sEnd8))
            (then
              (loop $l
                (local.set $a (v128.load (local.get $s)))
                (local.set $b (v128.load offset=16 (local.get $s)))
                (local.set $dacc0 (f64x2.add (local.get $dacc0)
                  (f64x2.add (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b)))))
                (local.set $dacc1 (f64x2.add (local.get $dacc1)
                  (f64x2.add
                    (f64x2.promote_low_f32x4
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $a) (local.get $a)))
                    (f64x2.promote_low_f32x4
                      (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $b) (local.get $b))))))
                (local.set $s (i32.add (local.get $s) (i32.const 32)))
                (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
          (if (i32.and (local.get $count) (i32.const 4))
            (then
              (local.set $a (v128.load (local.get $s)))
              (local.set $dacc0 (f64x2.add (local.get $dacc0) (f64x2.promote_low_f32x4 (local.get $a))))
              (local.set $dacc1 (f64x2.add (local.get $dacc1)
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $a) (local.get $a)))))
              (local.set $s (i32.add (local.get $s) (i32.const 16)))))
          (local.set $dacc0 (f64x2.add (local.get $dacc0) (local.get $dacc1)))
          (local.set $dsum (f64.add (f64x2.extract_lane 0 (local.get $dacc0)) (f64x2.extract_lane 1 (local.get $dacc0))))
          (block $tail_done
            (loop $l
              (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
              (local.set $dsum (f64.add (local.get $dsum) (f64.promote_f32 (f32.load (local.get $s)))))
              (local.set $s (i32.add (local.get $s) (i32.const 4)))
              (br $l)))
          (local.set $mean (f64.mul (local.get $dsum) (local.get $rcpC)))
          (local.set $m0 (f32.demote_f64 (local.get $mean)))
          (f32.store (local.get $prm) (local.get $m0))
          (f32.store offset=4 (local.get $prm)
            (f32.demote_f64 (f64.sub (local.get $mean) (f64.promote_f32 (local.get $m0)))))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $prm (i32.add (local.get $prm) (i32.const 16)))
          (br_if $means (i32.lt_u (local.get $prm) (local.get $prmEnd))))
        ;; Pass 2 over the block: c = (v - m0) - corr to out; inv = 1 / max(sqrt(sum c^2), eps).
        (local.set $src (local.get $blockSrc))
        (local.set $prm (local.get $scratch))
        (loop $centre
          (local.set $m0 (f32.load (local.get $prm)))
          (local.set $corr (f32.load offset=4 (local.get $prm)))
          (local.set $vm0 (f32x4.splat (local.get $m0)))
          (local.set $vcorr (f32x4.splat (local.get $corr)))
          (local.set $sEnd8 (i32.add (local.get $src) (local.get $len8)))
          (local.set $sEnd (i32.add (local.get $src) (local.get $len)))
          (local.set $s (local.get $src))
          (local.set $d (local.get $dst))
          (local.set $ss0 (v128.const f32x4 0 0 0 0))
          (local.set $ss1 (v128.const f32x4 0 0 0 0))
          (local.set $sss (f32.const 0))
          (if (i32.lt_u (local.get $s) (local.get $sEnd8))
            (then
              (loop $l
                (local.set $a (f32x4.sub (f32x4.sub (v128.load (local.get $s)) (local.get $vm0)) (local.get $vcorr)))
                (local.set $b (f32x4.sub (f32x4.sub (v128.load offset=16 (local.get $s)) (local.get $vm0))
                  (local.get $vcorr)))
                (v128.store (local.get $d) (local.get $a))
                (v128.store offset=16 (local.get $d) (local.get $b))
                (local.set $ss0 (f32x4.add (local.get $ss0) (f32x4.mul (local.get $a) (local.get $a))))
                (local.set $ss1 (f32x4.add (local.get $ss1) (f32x4.mul (local.get $b) (local.get $b))))
                (local.set $s (i32.add (local.get $s) (i32.const 32)))
                (local.set $d (i32.add (local.get $d) (i32.const 32)))
                (br_if $l (i32.lt_u (local.get $s) (local.get $sEnd8))))))
          (if (i32.and (local.get $count) (i32.const 4))
            (then
              (local.set $a (f32x4.sub (f32x4.sub (v128.load (local.get $s)) (local.get $vm0)) (local.get $vcorr)))
              (v128.store (local.get $d) (local.get $a))
              (local.set $ss0 (f32x4.add (local.get $ss0) (f32x4.mul (local.get $a) (local.get $a))))
              (local.set $s (i32.add (local.get $s) (i32.const 16)))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))))
          (block $tail_done
            (loop $l
              (br_if $tail_done (i32.ge_u (local.get $s) (local.get $sEnd)))
              (local.set $c (f32.sub (f32.sub (f32.load (local.get $s)) (local.get $m0)) (local.get $corr)))
              (f32.store (local.get $d) (local.get $c))
              (local.set $sss (f32.add (local.get $sss) (f32.mul (local.get $c) (local.get $c))))
              (local.set $s (i32.add (local.get $s) (i32.const 4)))
              (local.set $d (i32.add (local.get $d) (i32.const 4)))
              (br $l)))
          (f32.store offset=8 (local.get $prm) (f32.div (f32.const 1) (f32.max
            (f32.sqrt (f32.add (call $hsum_f32 (f32x4.add (local.get $ss0) (local.get $ss1))) (local.get $sss)))
            (local.get $eps))))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $dst (local.get $d))
          (local.set $prm (i32.add (local.get $prm) (i32.const 16)))
          (br_if $centre (i32.lt_u (local.get $prm) (local.get $prmEnd))))
        ;; Pass 3 over the block: scale in place.
        (local.set $d (local.get $blockDst))
        (local.set $prm (local.get $scratch))
        (loop $scale
          (call $scale (local.get $d) (local.get $count) (f32.load offset=8 (local.get $prm)))
          (local.set $d (i32.add (local.get $d) (local.get $rowOut)))
          (local.set $prm (i32.add (local.get $prm) (i32.const 16)))
          (br_if $scale (i32.lt_u (local.get $prm) (local.get $prmEnd))))
        (local.set $p (local.get $bEnd))
        (br $block)))))
