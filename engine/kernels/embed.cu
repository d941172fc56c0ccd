// CPU twin: src/engine/weights.rs `dequantize_row` (called by `embed` in src/engine/cpu/ops.rs)
//
// out[m][c] = row tokens[m] of the embedding table, dequantized: F32 copied,
// Q8_0 d * q, Q4_1 d * q + m (each operation rounded on its own). One
// element per thread per step of a grid-stride loop over rows * cols. Token
// ids were checked against the table's rows on the host.

extern "C" __global__ void embed_f32(const float* __restrict__ table, const u32* __restrict__ tokens,
                                     float* __restrict__ out, int rows, int cols) {
    u64 n = (u64)rows * cols;
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        u64 row = tokens[i / cols];
        out[i] = table[row * cols + i % cols];
    }
}

extern "C" __global__ void embed_q8_0(const float* __restrict__ d, const signed char* __restrict__ q,
                                      const u32* __restrict__ tokens, float* __restrict__ out, int rows, int cols) {
    u64 n = (u64)rows * cols;
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        u64 row = tokens[i / cols];
        u64 c = i % cols;
        float scale = d[row * (cols / 32) + c / 32];
        out[i] = __fmul_rn(scale, __int2float_rn(q[row * cols + c]));
    }
}

// Q4_1: byte j of a block's 16 holds element j (low nibble) and j + 16 (high).
extern "C" __global__ void embed_q4_1(const float* __restrict__ d, const float* __restrict__ mins,
                                      const unsigned char* __restrict__ qs, const u32* __restrict__ tokens,
                                      float* __restrict__ out, int rows, int cols) {
    u64 n = (u64)rows * cols;
    for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x) {
        u64 row = tokens[i / cols];
        u64 c = i % cols;
        u64 blk = row * (cols / 32) + c / 32;
        int j = (int)(c % 32);
        unsigned char byte = qs[blk * 16 + (j & 15)];
        int nib = j < 16 ? (byte & 0x0f) : (byte >> 4);
        out[i] = __fadd_rn(__fmul_rn(d[blk], __int2float_rn(nib)), mins[blk]);
    }
}
