// CPU twin: src/engine/cpu/ops.rs `rmsnorm`
//
// out = (x * (1 / sqrt(R32(x^2) / n + eps))) * w for each row of n = len(w).
// One warp per row (8 rows per block of 256 threads): lane l sums x[i]^2 for
// i = l, l + 32, ... in order, then the R32 tree.

extern "C" __global__ void rmsnorm(const float* __restrict__ x, const float* __restrict__ w,
                                   float* __restrict__ out, int rows, int n, float eps) {
    int lane = threadIdx.x % WARP;
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (row >= rows) {
        return;  // the whole warp leaves together
    }
    const float* xr = x + (u64)row * n;
    float* orow = out + (u64)row * n;
    float acc = 0.0f;
    for (int i = lane; i < n; i += WARP) {
        acc = __fadd_rn(acc, __fmul_rn(xr[i], xr[i]));
    }
    float sum = r32_tree(acc);
    float mean = __fdiv_rn(sum, __int2float_rn(n));
    float r = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
    for (int i = lane; i < n; i += WARP) {
        orow[i] = __fmul_rn(__fmul_rn(xr[i], r), w[i]);
    }
}
