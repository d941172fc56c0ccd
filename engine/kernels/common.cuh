// Shared by every kernel (prepended to each .cu before NVRTC compiles it).
// CPU twins: the R32 reduction of src/engine/cpu/reduce.rs (`dot`, `sum`,
// `tree`), `exp_f32`/`silu`/`round_to_i32` of src/engine/math.rs and
// `round_half_away` of src/engine/cpu/quant.rs.
//
// Kernel rules (engine/README.md, "CUDA backend"; enforced on the PTX by
// src/engine/cuda/ptx.rs): every float operation is spelled with an explicit
// round-to-nearest intrinsic (__fadd_rn, __fmul_rn, ...) so that neither
// NVRTC nor ptxas may contract it into an FMA; no fast-math intrinsics
// (__expf, __sinf, ...); no atomics; reductions only through r32_tree()
// below, in the order of engine rule 1.
//
// Only built-in types: NVRTC compiles these sources without any header.

typedef unsigned long long u64;
typedef unsigned int u32;

#define FULL_MASK 0xffffffffu
#define WARP 32

// Rule 1, the lane fold of R32: on entry `acc` is this lane's accumulator
// (lane l summed terms l, l + 32, ... in order, starting from +0.0); then
// acc[l] = acc[l] + acc[l + w] for w = 16, 8, 4, 2, 1. Every lane of the warp
// must call it; all lanes return acc[0].
__device__ __forceinline__ float r32_tree(float acc) {
    for (int w = 16; w > 0; w >>= 1) {
        float other = __shfl_down_sync(FULL_MASK, acc, w);
        acc = __fadd_rn(acc, other);
    }
    return __shfl_sync(FULL_MASK, acc, 0);
}

// round(x), ties away from zero, via truncation: `round_to_i32` (math.rs)
// and `round_half_away` (quant.rs), which are the same function. Rust's
// `x as i32` saturates and maps NaN to 0, as __float2int_rz does.
__device__ __forceinline__ int round_half_away(float x) {
    int t = __float2int_rz(x);
    float frac = __fsub_rn(x, __int2float_rn(t));
    if (frac >= 0.5f) {
        return t + 1;
    } else if (frac <= -0.5f) {
        return t - 1;
    }
    return t;
}

// 2^n as a float for n in [-126, 127] (`pow2_f32`).
__device__ __forceinline__ float pow2_f32(int n) {
    return __int_as_float((n + 127) << 23);
}

// e^x, the literal port of `exp_f32` in math.rs. The constants are the
// exact f32 values of the Rust literals, written as hex floats.
__device__ __forceinline__ float exp_f32(float x) {
    const float LOG2E = 0x1.715476p+0f;  // std::f32::consts::LOG2_E
    const float C1 = 0x1.63p-1f;         // 0.693_359_4
    const float C2 = -0x1.bd0106p-13f;   // -2.121_944_4e-4
    if (x != x) {
        return x;
    }
    if (x > 0x1.62e43p+6f) {  // 88.722_84
        return __int_as_float(0x7f800000);
    }
    if (x < -0x1.9fe368p+6f) {  // -103.972_08
        return 0.0f;
    }
    int k = round_half_away(__fmul_rn(x, LOG2E));
    float kf = __int2float_rn(k);
    float r = __fsub_rn(__fsub_rn(x, __fmul_rn(kf, C1)), __fmul_rn(kf, C2));
    float r2 = __fmul_rn(r, r);
    float p = 0x1.a0d2cep-13f;                      // 1.987_569_1e-4
    p = __fadd_rn(__fmul_rn(p, r), 0x1.6e879cp-10f);  // 1.398_199_9e-3
    p = __fadd_rn(__fmul_rn(p, r), 0x1.11121p-7f);    // 8.333_452e-3
    p = __fadd_rn(__fmul_rn(p, r), 0x1.555382p-5f);   // 4.166_579_6e-2
    p = __fadd_rn(__fmul_rn(p, r), 0x1.555554p-3f);   // 1.666_666_5e-1
    p = __fadd_rn(__fmul_rn(p, r), 0.5f);
    float y = __fadd_rn(__fadd_rn(__fmul_rn(p, r2), r), 1.0f);
    if (k > 127) {
        return __fmul_rn(__fmul_rn(y, pow2_f32(127)), pow2_f32(k - 127));
    } else if (k < -126) {
        // Two steps: the first product is exact, the second rounds once.
        return __fmul_rn(__fmul_rn(y, pow2_f32(k + 64)), pow2_f32(-64));
    }
    return __fmul_rn(y, pow2_f32(k));
}

// SiLU(x) = x / (1 + e^-x) (`silu` in math.rs).
__device__ __forceinline__ float silu(float x) {
    return __fdiv_rn(x, __fadd_rn(1.0f, exp_f32(-x)));
}
