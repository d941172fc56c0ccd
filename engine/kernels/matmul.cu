// CPU twin: src/engine/cpu/matmul.rs `tile_portable` (with `dot_q8_0`, `dot_q4_1`,
// `block_q8_0`, `block_q4_1`) and `dot` of src/engine/cpu/reduce.rs
//
// out[m][n] = sum_k w[n][k] * x[m][k]. One warp per output row n and up to
// MR activation rows m (grid.x covers n in steps of blockDim.x / 32 warps,
// grid.y covers m in steps of MR); each (m, n) is one R32 reduction, exactly
// the CPU's per-row code, so batching never changes a bit (rule 6):
//   F32:  lane l accumulates w[n][k] * x[m][k] for k = l, l + 32, ...
//   Q8_0: lane l accumulates the block values b = l, l + 32, ...:
//         (d_w * d_a) * isum, isum the exact int32 dot of the block (dp4a)
//   Q4_1: (d_w * d_a) * isum + m_w * s_a, s_a = d_a * Σ a_q (from quantize_q8)
// then the R32 tree. Integer sums are exact in any order; every float
// operation is rounded on its own, in the CPU's order.

#define MR 4

extern "C" __global__ void matmul_f32(const float* __restrict__ w, const float* __restrict__ x,
                                      float* __restrict__ out, int n_out, int k, int m_rows) {
    int lane = threadIdx.x % WARP;
    int n = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int m0 = blockIdx.y * MR;
    if (n >= n_out) {
        return;  // the whole warp leaves together
    }
    int rows = m_rows - m0 < MR ? m_rows - m0 : MR;
    const float* wr = w + (u64)n * k;
    float acc[MR];
#pragma unroll
    for (int r = 0; r < MR; r++) {
        acc[r] = 0.0f;
    }
    for (int i = lane; i < k; i += WARP) {
        float wv = wr[i];
#pragma unroll
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                acc[r] = __fadd_rn(acc[r], __fmul_rn(wv, x[(u64)(m0 + r) * k + i]));
            }
        }
    }
#pragma unroll
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float v = r32_tree(acc[r]);
            if (lane == 0) {
                out[(u64)(m0 + r) * n_out + n] = v;
            }
        }
    }
}

// Exact int32 dot of 16 packed int8 pairs (one int4 of each).
__device__ __forceinline__ int dot16(int4 a, int4 b, int c) {
    c = __dp4a(a.x, b.x, c);
    c = __dp4a(a.y, b.y, c);
    c = __dp4a(a.z, b.z, c);
    c = __dp4a(a.w, b.w, c);
    return c;
}

// Q8_0 weights: wd [n_out][k/32] scales, wq [n_out][k] int8. Activations:
// ad [m_rows][k/32] scales, aq [m_rows][k] int8. k % 32 == 0; the int8
// arrays start 16-byte aligned, so each 32-byte block is two int4 loads.
extern "C" __global__ void matmul_q8_0(const float* __restrict__ wd, const signed char* __restrict__ wq,
                                       const float* __restrict__ ad, const signed char* __restrict__ aq,
                                       float* __restrict__ out, int n_out, int k, int m_rows) {
    int lane = threadIdx.x % WARP;
    int n = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int m0 = blockIdx.y * MR;
    if (n >= n_out) {
        return;  // the whole warp leaves together
    }
    int rows = m_rows - m0 < MR ? m_rows - m0 : MR;
    int nb = k / 32;
    float acc[MR];
#pragma unroll
    for (int r = 0; r < MR; r++) {
        acc[r] = 0.0f;
    }
    for (int b = lane; b < nb; b += WARP) {
        const int4* wp = (const int4*)(wq + (u64)n * k + (u64)b * 32);
        int4 w0 = wp[0];
        int4 w1 = wp[1];
        float wdb = wd[(u64)n * nb + b];
#pragma unroll
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                u64 m = m0 + r;
                const int4* ap = (const int4*)(aq + m * k + (u64)b * 32);
                int isum = dot16(w1, ap[1], dot16(w0, ap[0], 0));
                float blk = __fmul_rn(__fmul_rn(wdb, ad[m * nb + b]), __int2float_rn(isum));
                acc[r] = __fadd_rn(acc[r], blk);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float v = r32_tree(acc[r]);
            if (lane == 0) {
                out[(u64)(m0 + r) * n_out + n] = v;
            }
        }
    }
}

// Q4_1 weights: wd, wm [n_out][k/32] scales and minimums, qs [n_out][k/32][16]
// (byte j = element j in the low nibble, element j + 16 in the high one).
// Activations as for Q8_0 plus as_ [m_rows][k/32] block sums.
extern "C" __global__ void matmul_q4_1(const float* __restrict__ wd, const float* __restrict__ wm,
                                       const unsigned char* __restrict__ qs, const float* __restrict__ ad,
                                       const float* __restrict__ as_, const signed char* __restrict__ aq,
                                       float* __restrict__ out, int n_out, int k, int m_rows) {
    int lane = threadIdx.x % WARP;
    int n = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int m0 = blockIdx.y * MR;
    if (n >= n_out) {
        return;  // the whole warp leaves together
    }
    int rows = m_rows - m0 < MR ? m_rows - m0 : MR;
    int nb = k / 32;
    float acc[MR];
#pragma unroll
    for (int r = 0; r < MR; r++) {
        acc[r] = 0.0f;
    }
    for (int b = lane; b < nb; b += WARP) {
        int4 packed = *(const int4*)(qs + (u64)n * (k / 2) + (u64)b * 16);
        // Nibbles 0..15 as unsigned bytes, which __dp4a reads as 0..15.
        int4 lo;
        lo.x = packed.x & 0x0f0f0f0f;
        lo.y = packed.y & 0x0f0f0f0f;
        lo.z = packed.z & 0x0f0f0f0f;
        lo.w = packed.w & 0x0f0f0f0f;
        int4 hi;
        hi.x = (packed.x >> 4) & 0x0f0f0f0f;
        hi.y = (packed.y >> 4) & 0x0f0f0f0f;
        hi.z = (packed.z >> 4) & 0x0f0f0f0f;
        hi.w = (packed.w >> 4) & 0x0f0f0f0f;
        u64 wb = (u64)n * nb + b;
        float wdb = wd[wb];
        float wmb = wm[wb];
#pragma unroll
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                u64 m = m0 + r;
                const int4* ap = (const int4*)(aq + m * k + (u64)b * 32);
                // Elements 0..15 pair with the low nibbles, 16..31 with the high.
                int isum = dot16(hi, ap[1], dot16(lo, ap[0], 0));
                float blk = __fadd_rn(__fmul_rn(__fmul_rn(wdb, ad[m * nb + b]), __int2float_rn(isum)),
                                      __fmul_rn(wmb, as_[m * nb + b]));
                acc[r] = __fadd_rn(acc[r], blk);
            }
        }
    }
#pragma unroll
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float v = r32_tree(acc[r]);
            if (lane == 0) {
                out[(u64)(m0 + r) * n_out + n] = v;
            }
        }
    }
}
