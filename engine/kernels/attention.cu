// CPU twin: src/engine/cpu/attention.rs `attention` and `head`
//
// Causal grouped-query attention of query row m, head h over the cached
// positions t = 0..=positions[m] (rules 1, 5, 6). One block per (m, h),
// a multiple of 32 threads:
//   1. s_t = R32_d(q[d] * k_t[d]) * scale, one warp per t, into scores[]
//   2. max_t s_t; e_t = exp(s_t - max); denom = R32_t(e_t) (warp 0)
//   3. out[d] = R32_t(e_t * v_t[d]) / denom: thread d keeps the 32 R32
//      lanes (lane t % 32) in registers, walks t in order, then folds them
//      with the R32 tree.
// `scores` is global scratch, [m * n_heads + h][t_stride] with t_stride >=
// every positions[m] + 1 (checked on the host, as are the cache lengths).

#define NEG_INF __int_as_float(0xff800000)

extern "C" __global__ void attention(const float* __restrict__ q, const float* __restrict__ k_cache,
                                     const float* __restrict__ v_cache, const u32* __restrict__ positions,
                                     float* __restrict__ scores, float* __restrict__ out, int n_heads, int group,
                                     int head_dim, int kv_dim, int t_stride, float scale) {
    __shared__ float shared_max;
    __shared__ float shared_denom;
    int idx = blockIdx.x;  // m * n_heads + h
    int m = idx / n_heads;
    int h = idx % n_heads;
    int lane = threadIdx.x % WARP;
    int warp = threadIdx.x / WARP;
    int n_warps = blockDim.x / WARP;
    int t_len = (int)positions[m] + 1;
    const float* qh = q + (u64)idx * head_dim;
    u64 kv_off = (u64)(h / group) * head_dim;
    float* e = scores + (u64)idx * t_stride;

    // 1. Scores: reduce::dot(q, k_t) * scale.
    for (int t = warp; t < t_len; t += n_warps) {
        const float* kt = k_cache + (u64)t * kv_dim + kv_off;
        float acc = 0.0f;
        for (int d = lane; d < head_dim; d += WARP) {
            acc = __fadd_rn(acc, __fmul_rn(qh[d], kt[d]));
        }
        float s = r32_tree(acc);
        if (lane == 0) {
            e[t] = __fmul_rn(s, scale);
        }
    }
    __syncthreads();

    // 2a. The maximum. The CPU scans `if s > max` from -inf; a tree of the
    // same comparison gives the same value (NaN never wins), up to the sign
    // of a zero maximum, which s - max cannot see: x - (+0) == x - (-0) for
    // every x != 0, and +-0 - +-0 is a zero whose exp is 1 either way.
    if (warp == 0) {
        float mx = NEG_INF;
        for (int t = lane; t < t_len; t += WARP) {
            mx = e[t] > mx ? e[t] : mx;
        }
        for (int w = 16; w > 0; w >>= 1) {
            float other = __shfl_xor_sync(FULL_MASK, mx, w);
            mx = other > mx ? other : mx;
        }
        if (lane == 0) {
            shared_max = mx;
        }
    }
    __syncthreads();
    float mx = shared_max;

    // 2b. Weights e_t = exp(s_t - max), element-wise.
    for (int t = threadIdx.x; t < t_len; t += blockDim.x) {
        e[t] = exp_f32(__fsub_rn(e[t], mx));
    }
    __syncthreads();

    // 2c. denom = reduce::sum(e).
    if (warp == 0) {
        float acc = 0.0f;
        for (int t = lane; t < t_len; t += WARP) {
            acc = __fadd_rn(acc, e[t]);
        }
        float sum = r32_tree(acc);
        if (lane == 0) {
            shared_denom = sum;
        }
    }
    __syncthreads();
    float denom = shared_denom;

    // 3. Weighted sum of values, lane t % 32 accumulating e_t * v_t[d].
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc[WARP];
#pragma unroll
        for (int l = 0; l < WARP; l++) {
            acc[l] = 0.0f;
        }
        for (int t0 = 0; t0 < t_len; t0 += WARP) {
#pragma unroll
            for (int l = 0; l < WARP; l++) {
                int t = t0 + l;
                if (t < t_len) {
                    acc[l] = __fadd_rn(acc[l], __fmul_rn(e[t], v_cache[(u64)t * kv_dim + kv_off + d]));
                }
            }
        }
        // The R32 tree, acc[l] = acc[l] + acc[l + w] for w = 16, 8, 4, 2, 1
        // (constant bounds, so it unrolls and acc stays in registers).
#pragma unroll
        for (int l = 0; l < 16; l++) {
            acc[l] = __fadd_rn(acc[l], acc[l + 16]);
        }
#pragma unroll
        for (int l = 0; l < 8; l++) {
            acc[l] = __fadd_rn(acc[l], acc[l + 8]);
        }
#pragma unroll
        for (int l = 0; l < 4; l++) {
            acc[l] = __fadd_rn(acc[l], acc[l + 4]);
        }
#pragma unroll
        for (int l = 0; l < 2; l++) {
            acc[l] = __fadd_rn(acc[l], acc[l + 2]);
        }
        acc[0] = __fadd_rn(acc[0], acc[1]);
        out[(u64)idx * head_dim + d] = __fdiv_rn(acc[0], denom);
    }
}
