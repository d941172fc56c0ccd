// CPU twin: src/engine/cpu/ops.rs `argmax`
//
// Rule 7: the lowest index of the largest value; NaN never wins; when no
// value exceeds -inf (all NaN or -inf) the answer is 0. The CPU scans
// `if x > best { take it }` from (-inf, 0). Here a value is a candidate when
// x > -inf, and candidates are ordered by (value desc, index asc): a total
// order, so the block tree gives the CPU's answer in any combination order
// (-0.0 and +0.0 compare equal there as here). One block of ARGMAX_THREADS.

#define ARGMAX_THREADS 1024

// True when candidate (v, i) beats (bv, bi); bi < 0 means "none yet".
__device__ __forceinline__ bool argmax_better(float v, int i, float bv, int bi) {
    if (i < 0) {
        return false;
    }
    if (bi < 0) {
        return true;
    }
    return v > bv || (v == bv && i < bi);
}

extern "C" __global__ void argmax(const float* __restrict__ x, int n, u32* __restrict__ out) {
    __shared__ float best_v[ARGMAX_THREADS];
    __shared__ int best_i[ARGMAX_THREADS];
    int tid = threadIdx.x;
    float bv = 0.0f;
    int bi = -1;
    for (int i = tid; i < n; i += blockDim.x) {
        float v = x[i];
        if (v > __int_as_float(0xff800000) && argmax_better(v, i, bv, bi)) {
            bv = v;
            bi = i;
        }
    }
    best_v[tid] = bv;
    best_i[tid] = bi;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (tid < w && argmax_better(best_v[tid + w], best_i[tid + w], best_v[tid], best_i[tid])) {
            best_v[tid] = best_v[tid + w];
            best_i[tid] = best_i[tid + w];
        }
        __syncthreads();
    }
    if (tid == 0) {
        out[0] = best_i[0] < 0 ? 0u : (u32)best_i[0];
    }
}
