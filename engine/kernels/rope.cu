// CPU twin: src/engine/cpu/ops.rs `rope`
//
// Rotates the adjacent pairs (x[2j], x[2j+1]), j < half, of every head of
// row m by the table angle of (positions[m], j):
//   (x0 * c - x1 * s, x0 * s + x1 * c), each product rounded on its own.
// The cos/sin tables are the host's RopeTable ([position][half]), uploaded
// as they are (rule 4). One thread per (row, head, pair).

extern "C" __global__ void rope(float* __restrict__ x, const u32* __restrict__ positions,
                                const float* __restrict__ cos_t, const float* __restrict__ sin_t, int rows,
                                int row_len, int head_dim, int heads, int half) {
    u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    u64 per_row = (u64)heads * half;
    if (i >= (u64)rows * per_row) {
        return;
    }
    u64 m = i / per_row;
    int h = (int)((i % per_row) / half);
    int j = (int)(i % half);
    u64 t = (u64)positions[m] * half + j;
    float c = cos_t[t];
    float s = sin_t[t];
    float* p = x + m * row_len + (u64)h * head_dim + 2 * j;
    float x0 = p[0];
    float x1 = p[1];
    p[0] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
    p[1] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
}
