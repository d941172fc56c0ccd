// CPU twin: src/engine/cpu/ops.rs `silu_mul`
//
// gate[i] = silu(gate[i]) * up[i], silu from common.cuh (the port of
// math.rs). Grid-stride loop, one element per thread per step.

extern "C" __global__ void silu_mul(float* __restrict__ gate, const float* __restrict__ up, u64 n) {
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        gate[i] = __fmul_rn(silu(gate[i]), up[i]);
    }
}
