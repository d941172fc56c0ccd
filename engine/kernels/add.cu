// CPU twin: src/engine/cpu/ops.rs `add`
//
// x[i] = x[i] + y[i]. Grid-stride loop, one element per thread per step.

extern "C" __global__ void add(float* __restrict__ x, const float* __restrict__ y, u64 n) {
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        x[i] = __fadd_rn(x[i], y[i]);
    }
}
