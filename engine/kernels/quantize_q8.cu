// CPU twin: src/engine/cpu/quant.rs `quantize_block`
//
// Engine rule 2: each block of 32 activations becomes d = amax / 127,
// q = round_half_away(clamp(x * (1 / d), -127, 127)) (d = 0: all zeros) and
// s = d * (sum of the 32 quantized values), the sum an exact int (any order). One warp per block, lane l owns
// element l; 8 blocks per CUDA block of 256 threads. The flat block index g
// addresses x[g*32 + l], q[g*32 + l], d[g] and s[g], which is the
// [rows][cols] / [rows][cols/32] layout of Q8Acts when cols % 32 == 0.

extern "C" __global__ void quantize_q8(const float* __restrict__ x, signed char* __restrict__ q,
                                       float* __restrict__ d, float* __restrict__ s, int n_blocks) {
    int lane = threadIdx.x % WARP;
    int g = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (g >= n_blocks) {
        return;  // the whole warp leaves together
    }
    float v = x[(u64)g * WARP + lane];
    // amax: the CPU scans `if a > amax { amax = a }` from 0, so NaN never
    // counts; the maximum of non-negative non-NaN values is one value in
    // any order, so a butterfly gives the same bits.
    float a = fabsf(v);
    float amax = a > 0.0f ? a : 0.0f;
    for (int w = 16; w > 0; w >>= 1) {
        float other = __shfl_xor_sync(FULL_MASK, amax, w);
        amax = other > amax ? other : amax;
    }
    float dq = __fdiv_rn(amax, 127.0f);
    float id = dq != 0.0f ? __fdiv_rn(1.0f, dq) : 0.0f;
    // f32::clamp: below min -> min, then above max -> max; NaN stays NaN
    // (and rounds to 0).
    float t = __fmul_rn(v, id);
    if (t < -127.0f) {
        t = -127.0f;
    }
    if (t > 127.0f) {
        t = 127.0f;
    }
    int qi = round_half_away(t);
    q[(u64)g * WARP + lane] = (signed char)qi;
    // Σq: |Σq| <= 32 * 127, exact in any order, so a butterfly is fine.
    int qsum = qi;
    for (int w = 16; w > 0; w >>= 1) {
        qsum += __shfl_xor_sync(FULL_MASK, qsum, w);
    }
    if (lane == 0) {
        d[g] = dq;
        s[g] = __fmul_rn(dq, __int2float_rn(qsum));
    }
}
