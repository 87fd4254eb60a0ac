(module
  (memory (export "memory") 1)
  ;; One bilinear letterbox into a float NCHW tensor. Per output row: the two source rows are
  ;; blended down (16 bytes a step, as floats) into $tmp, then each output pixel blends two
  ;; $tmp pixels across, scales and offsets its three channels at once and writes them to the
  ;; three planes. Tables (16 bytes an entry): x: tmp byte offsets p0, p1, weights w0, w1;
  ;; y: src byte offsets r0, r1, weights w0, w1. $a/$c are in the source's channel order;
  ;; $bgr swaps channels 0 and 2 on the way out.
  (func (export "letterbox")
    (param $src i32) (param $tmp i32) (param $xtab i32) (param $ytab i32)
    (param $nw i32) (param $nh i32) (param $rowBytes i32) (param $out i32)
    (param $W i32) (param $padX i32) (param $padY i32) (param $plane i32) (param $bgr i32)
    (param $a0 f32) (param $a1 f32) (param $a2 f32) (param $c0 f32) (param $c1 f32) (param $c2 f32)
    (local $y i32) (local $yt i32) (local $r0 i32) (local $r1 i32) (local $i i32) (local $p i32)
    (local $o i32) (local $x i32) (local $xe i32) (local $plane4 i32) (local $plane8 i32)
    (local $wy0 v128) (local $wy1 v128) (local $va v128) (local $vb v128) (local $av v128) (local $cv v128) (local $r v128)
    (local.set $av (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat (local.get $a0)) (local.get $a1)) (local.get $a2)))
    (local.set $cv (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat (local.get $c0)) (local.get $c1)) (local.get $c2)))
    (local.set $plane4 (i32.shl (local.get $plane) (i32.const 2)))
    (local.set $plane8 (i32.shl (local.get $plane) (i32.const 3)))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $nh)))
        (local.set $yt (i32.add (local.get $ytab) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $r0 (i32.add (local.get $src) (i32.load (local.get $yt))))
        (local.set $r1 (i32.add (local.get $src) (i32.load offset=4 (local.get $yt))))
        (local.set $wy0 (f32x4.splat (f32.load offset=8 (local.get $yt))))
        (local.set $wy1 (f32x4.splat (f32.load offset=12 (local.get $yt))))
        (local.set $i (i32.const 0))
        (local.set $p (local.get $tmp))
        (block $vdone
          (loop $vloop
            (br_if $vdone (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $va (v128.load (i32.add (local.get $r0) (local.get $i))))
            (local.set $vb (v128.load (i32.add (local.get $r1) (local.get $i))))
            (v128.store offset=0 (local.get $p) (f32x4.add
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (local.get $va)))) (local.get $wy0))
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (local.get $vb)))) (local.get $wy1))))
            (v128.store offset=16 (local.get $p) (f32x4.add
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (i16x8.extend_low_i8x16_u (local.get $va)))) (local.get $wy0))
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (i16x8.extend_low_i8x16_u (local.get $vb)))) (local.get $wy1))))
            (v128.store offset=32 (local.get $p) (f32x4.add
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_high_i8x16_u (local.get $va)))) (local.get $wy0))
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_high_i8x16_u (local.get $vb)))) (local.get $wy1))))
            (v128.store offset=48 (local.get $p) (f32x4.add
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (i16x8.extend_high_i8x16_u (local.get $va)))) (local.get $wy0))
              (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (i16x8.extend_high_i8x16_u (local.get $vb)))) (local.get $wy1))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 64)))
            (br $vloop)))
        (local.set $o (i32.add (local.get $out)
          (i32.shl (i32.add (i32.mul (i32.add (local.get $y) (local.get $padY)) (local.get $W)) (local.get $padX)) (i32.const 2))))
        (local.set $x (local.get $xtab))
        (local.set $xe (i32.add (local.get $xtab) (i32.shl (local.get $nw) (i32.const 4))))
        (block $hdone
          (loop $hloop
            (br_if $hdone (i32.ge_u (local.get $x) (local.get $xe)))
            (local.set $r (f32x4.add (f32x4.mul (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $tmp) (i32.load (local.get $x)))) (f32x4.splat (f32.load offset=8 (local.get $x))))
              (f32x4.mul (v128.load (i32.add (local.get $tmp) (i32.load offset=4 (local.get $x)))) (f32x4.splat (f32.load offset=12 (local.get $x)))))
              (local.get $av)) (local.get $cv)))
            (if (local.get $bgr)
              (then (local.set $r (i8x16.shuffle 8 9 10 11 4 5 6 7 0 1 2 3 12 13 14 15 (local.get $r) (local.get $r)))))
            (f32.store (local.get $o) (f32x4.extract_lane 0 (local.get $r)))
            (f32.store (i32.add (local.get $o) (local.get $plane4)) (f32x4.extract_lane 1 (local.get $r)))
            (f32.store (i32.add (local.get $o) (local.get $plane8)) (f32x4.extract_lane 2 (local.get $r)))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $hloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop)))))
