
; --- appended by sbf-build/link-wrap.sh ---------------------------------------
; A libcall-free `llvm.umul.with.overflow.i64`. LLVM's default expansion widens
; to i128 and calls __multi3, which the upstream BPF backend cannot emit.
; Split both operands into 32-bit halves: a = ah*2^32 + al, b = bh*2^32 + bl.
;   ah != 0 && bh != 0           -> the product needs >= 2^64: overflow
;   otherwise at most one cross term is non-zero, so cross = ah*bl + al*bh
;   fits in 64 bits; cross >= 2^32 overflows once shifted; the final add of
;   al*bl may carry out of 64 bits.
define internal { i64, i1 } @__spotcheck_umulo64(i64 %a, i64 %b) alwaysinline nounwind {
entry:
  %a_hi = lshr i64 %a, 32
  %a_lo = and i64 %a, 4294967295
  %b_hi = lshr i64 %b, 32
  %b_lo = and i64 %b, 4294967295
  %a_hi_set = icmp ne i64 %a_hi, 0
  %b_hi_set = icmp ne i64 %b_hi, 0
  %both_hi = and i1 %a_hi_set, %b_hi_set
  %cross_a = mul i64 %a_hi, %b_lo
  %cross_b = mul i64 %a_lo, %b_hi
  %cross = add i64 %cross_a, %cross_b
  %cross_wide = icmp ugt i64 %cross, 4294967295
  %low = mul i64 %a_lo, %b_lo
  %cross_shifted = shl i64 %cross, 32
  %product = add i64 %low, %cross_shifted
  %carry = icmp ult i64 %product, %low
  %ovf_0 = or i1 %both_hi, %cross_wide
  %overflow = or i1 %ovf_0, %carry
  %ret_0 = insertvalue { i64, i1 } poison, i64 %product, 0
  %ret = insertvalue { i64, i1 } %ret_0, i1 %overflow, 1
  ret { i64, i1 } %ret
}
