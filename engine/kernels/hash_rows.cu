// CPU twin: src/commit/mod.rs `leaf_hash` (called by `hash_rows` in src/engine/cpu/mod.rs)
//
// The trace leaf of each row m: SHA-256 over tag, u32 positions[m], u32
// layer, u32 dim, then dim little-endian f32 bit patterns of x[m] (the tag is
// commit::LEAF_TAG, uploaded by the host). Integer-only, so bit-exact by
// construction. One thread per row; out[m] is the 32-byte digest.

__constant__ u32 SHA256_K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

__device__ __forceinline__ u32 rotr(u32 x, int n) {
    return (x >> n) | (x << (32 - n));
}

// Byte i of the leaf message (header, then the row's f32 bits, little-endian).
__device__ __forceinline__ u32 leaf_byte(u64 i, const unsigned char* tag, int tag_len, u32 pos, u32 layer,
                                         u32 dim, const float* row) {
    if (i < (u64)tag_len) {
        return tag[i];
    }
    u64 j = i - tag_len;
    if (j < 12) {
        u32 word = j < 4 ? pos : (j < 8 ? layer : dim);
        return (word >> (8 * (j % 4))) & 0xffu;
    }
    j -= 12;
    return (__float_as_uint(row[j / 4]) >> (8 * (j % 4))) & 0xffu;
}

extern "C" __global__ void hash_rows(const float* __restrict__ x, const u32* __restrict__ positions,
                                     const unsigned char* __restrict__ tag, int tag_len, u32 layer, u32 dim,
                                     int rows, unsigned char* __restrict__ out) {
    int m = blockIdx.x * blockDim.x + threadIdx.x;
    if (m >= rows) {
        return;
    }
    const float* row = x + (u64)m * dim;
    u32 pos = positions[m];
    u64 len = (u64)tag_len + 12 + (u64)dim * 4;  // message bytes
    u64 bits = len * 8;
    u64 n_blocks = (len + 9 + 63) / 64;  // + 0x80 and the 64-bit length
    u32 hs[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    for (u64 blk = 0; blk < n_blocks; blk++) {
        u32 w[64];
        for (int t = 0; t < 16; t++) {
            u32 word = 0;
            for (int b = 0; b < 4; b++) {
                u64 i = blk * 64 + (u64)t * 4 + b;
                u32 byte;
                if (i < len) {
                    byte = leaf_byte(i, tag, tag_len, pos, layer, dim, row);
                } else if (i == len) {
                    byte = 0x80u;
                } else if (i >= n_blocks * 64 - 8) {
                    byte = (u32)(bits >> (8 * (n_blocks * 64 - 1 - i))) & 0xffu;
                } else {
                    byte = 0;
                }
                word = (word << 8) | byte;
            }
            w[t] = word;
        }
        for (int t = 16; t < 64; t++) {
            u32 s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            u32 s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        u32 a = hs[0], b = hs[1], c = hs[2], d = hs[3], e = hs[4], f = hs[5], g = hs[6], h = hs[7];
        for (int t = 0; t < 64; t++) {
            u32 s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            u32 ch = (e & f) ^ (~e & g);
            u32 t1 = h + s1 + ch + SHA256_K[t] + w[t];
            u32 s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            u32 maj = (a & b) ^ (a & c) ^ (b & c);
            u32 t2 = s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        hs[0] += a;
        hs[1] += b;
        hs[2] += c;
        hs[3] += d;
        hs[4] += e;
        hs[5] += f;
        hs[6] += g;
        hs[7] += h;
    }
    for (int i = 0; i < 8; i++) {
        for (int b = 0; b < 4; b++) {
            out[(u64)m * 32 + i * 4 + b] = (unsigned char)(hs[i] >> (24 - 8 * b));
        }
    }
}
