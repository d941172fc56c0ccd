// A host emulator of the CUDA features the kernels in engine/kernels/ use,
// so the tests can run the very same kernel sources on the CPU and compare
// their bits with the CPU backend (tests/cuda_emulated.rs). Not a general
// CUDA emulator: just enough SIMT for these kernels, and strict about the
// rules they rely on.
//
// * Every CUDA thread of a block is a fiber (its own stack, cooperative
//   switching); blocks run one after another. A fiber runs until it
//   finishes or reaches __syncthreads() or a warp shuffle, which wait for
//   the whole block or the whole warp. A shuffle in a warp with an exited
//   lane, a barrier reached by part of a warp while the rest waits on a
//   shuffle, or any other deadlock is reported as an error.
// * Float intrinsics are the IEEE single-precision operations of the host
//   (SSE on x86-64; compiled with -ffp-contract=off, no fast math), which
//   round exactly like __fadd_rn & co. on the GPU. __float2int_rz saturates
//   and maps NaN to 0 as the PTX cvt does; __dp4a is the exact int8 dot.
// * Device memory is host memory from simt_alloc(): 256-byte aligned like
//   cudaMalloc, and ending just before an inaccessible page, so a kernel
//   reading far enough past the end of a buffer crashes the test.

#pragma once

#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

struct dim3 {
    unsigned x, y, z;
};

struct alignas(16) int4 {
    int x, y, z, w;
};

// The launch's coordinates; threadIdx is switched with every fiber.
extern dim3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define __constant__ static const

inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __int2float_rn(int i) { return (float)i; }

inline int __float2int_rz(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return INT_MAX;
    if (x < -2147483648.0f) return INT_MIN;
    return (int)x;
}

inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}

inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    return u;
}

inline int __dp4a(int a, int b, int c) {
    uint32_t acc = (uint32_t)c;
    for (int i = 0; i < 4; i++) {
        int8_t x = (int8_t)((uint32_t)a >> (8 * i));
        int8_t y = (int8_t)((uint32_t)b >> (8 * i));
        acc += (uint32_t)((int32_t)x * (int32_t)y);
    }
    return (int)acc;
}

// Scheduler hooks (simt.cpp).
void simt_syncthreads();
uint32_t simt_shuffle(unsigned mask, uint32_t value, int src_lane);  // src_lane < 0 or > 31: own value
int simt_lane();

inline void __syncthreads() { simt_syncthreads(); }

template <typename T>
inline T simt_shfl(unsigned mask, T v, int src) {
    static_assert(sizeof(T) == 4, "32-bit shuffles only");
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint32_t r = simt_shuffle(mask, bits, src);
    T out;
    std::memcpy(&out, &r, 4);
    return out;
}

template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src_lane) {
    return simt_shfl(mask, v, src_lane & 31);
}

template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta) {
    int src = simt_lane() + (int)delta;
    return simt_shfl(mask, v, src < 32 ? src : -1);
}

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask) {
    return simt_shfl(mask, v, (simt_lane() ^ lane_mask) & 31);
}

// One registered kernel: unpacks CUDA's void** argument array.
using SimtThunk = std::function<void(void**)>;

template <typename... A, size_t... I>
void simt_invoke(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
}

template <typename... A>
SimtThunk simt_entry(void (*f)(A...)) {
    return [f](void** args) { simt_invoke(f, args, std::index_sequence_for<A...>{}); };
}

struct SimtKernel {
    const char* name;
    SimtThunk thunk;
};
