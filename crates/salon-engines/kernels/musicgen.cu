// Fused CUDA kernels for MusicGen's decoding step (one query per sequence): single-query attention
// over a preallocated KV cache (all heads in one launch, writing the new key and value in place),
// and residual add + layer norm in one launch. Compiled to PTX by build.rs under the `cuda` feature.
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

// Sum (or max) over the block; every thread gets the result. `red` holds 32 floats.
__device__ float block_reduce(float v, float* red, bool is_max) {
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffff, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    v = red[0];
    for (int i = 1; i < nw; i++) v = is_max ? fmaxf(v, red[i]) : v + red[i];
    return v;
}

// 16-byte vector loads converted to floats: VEC elements of T.
template <typename T> struct Vec16;
template <> struct Vec16<float> {
    static constexpr int N = 4;
    __device__ __forceinline__ static void load(const float* p, float* f) {
        float4 u = *reinterpret_cast<const float4*>(p);
        f[0] = u.x; f[1] = u.y; f[2] = u.z; f[3] = u.w;
    }
};
template <> struct Vec16<__half> {
    static constexpr int N = 8;
    __device__ __forceinline__ static void load(const __half* p, float* f) {
        uint4 u = *reinterpret_cast<const uint4*>(p);
        const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float2 v = __half22float2(h[i]);
            f[2 * i] = v.x; f[2 * i + 1] = v.y;
        }
    }
};
template <> struct Vec16<__nv_bfloat16> {
    static constexpr int N = 8;
    __device__ __forceinline__ static void load(const __nv_bfloat16* p, float* f) {
        uint4 u = *reinterpret_cast<const uint4*>(p);
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float2 v = __bfloat1622float2(h[i]);
            f[2 * i] = v.x; f[2 * i + 1] = v.y;
        }
    }
};

// One block per (head, batch row); hd a power of two in [8, 256], blockDim a multiple of 32 and
// of hd / VEC. q row b starts at q + b * q_stride (+ h * hd for the head); q is already scaled.
// Keys/values: (B, H, max_len, hd), rows 16-byte aligned. If nk is not null, the new key/value
// rows (nk/nv + b * n_stride) are first written at position len - 1. Attends to positions
// 0 .. len-1 with an optional f32 additive bias (B, bias_stride). Output row b at out + b * out_stride.
// Shared memory: hd + len + 32 + blockDim * VEC floats.
template <typename T>
__device__ void attn_step(const T* q, int q_stride, const T* nk, const T* nv, int n_stride, T* kc,
                          T* vc, int max_len, int len, const float* bias, int bias_stride, T* out,
                          int out_stride, int H, int hd) {
    constexpr int VEC = Vec16<T>::N;
    extern __shared__ float sm[];
    const int h = blockIdx.x, b = blockIdx.y, t = threadIdx.x, nt = blockDim.x;
    float* qs = sm;
    float* sc = qs + hd;
    float* red = sc + len;
    float* part = red + 32;
    const size_t base = ((size_t)b * H + h) * (size_t)max_len * hd;
    T* kb = kc + base;
    T* vb = vc + base;
    if (nk != nullptr) {
        for (int d = t; d < hd; d += nt) {
            kb[(size_t)(len - 1) * hd + d] = nk[(size_t)b * n_stride + h * hd + d];
            vb[(size_t)(len - 1) * hd + d] = nv[(size_t)b * n_stride + h * hd + d];
        }
    }
    for (int d = t; d < hd; d += nt) qs[d] = to_f(q[(size_t)b * q_stride + h * hd + d]);
    __syncthreads();
    // Scores: one thread per key position, 16-byte loads.
    for (int j = t; j < len; j += nt) {
        const T* kr = kb + (size_t)j * hd;
        float s = 0.f;
        for (int c = 0; c < hd; c += VEC) {
            float f[VEC];
            Vec16<T>::load(kr + c, f);
#pragma unroll
            for (int i = 0; i < VEC; i++) s += qs[c + i] * f[i];
        }
        sc[j] = s + (bias != nullptr ? bias[(size_t)b * bias_stride + j] : 0.f);
    }
    __syncthreads();
    float m = -INFINITY;
    for (int j = t; j < len; j += nt) m = fmaxf(m, sc[j]);
    m = block_reduce(m, red, true);
    float sum = 0.f;
    for (int j = t; j < len; j += nt) {
        float e = expf(sc[j] - m);
        sc[j] = e;
        sum += e;
    }
    sum = block_reduce(sum, red, false);
    // Weighted values: hd / VEC threads per position row, `groups` rows at a time.
    const int per_row = hd / VEC, groups = nt / per_row, g = t / per_row, c = (t % per_row) * VEC;
    float acc[VEC];
#pragma unroll
    for (int i = 0; i < VEC; i++) acc[i] = 0.f;
#pragma unroll 4
    for (int j = g; j < len; j += groups) {
        float f[VEC];
        Vec16<T>::load(vb + (size_t)j * hd + c, f);
        const float p = sc[j];
#pragma unroll
        for (int i = 0; i < VEC; i++) acc[i] += p * f[i];
    }
#pragma unroll
    for (int i = 0; i < VEC; i++) part[g * hd + c + i] = acc[i];
    __syncthreads();
    for (int d = t; d < hd; d += nt) {
        float a = 0.f;
        for (int i = 0; i < groups; i++) a += part[i * hd + d];
        out[(size_t)b * out_stride + h * hd + d] = from_f<T>(a / sum);
    }
}

// One block per row: out[0] = x + y (rounded to T), out[1] = layer_norm(out[0]) * w + bias.
// out is (2, n, D). Shared memory: D + 32 floats.
template <typename T>
__device__ void add_layer_norm(const T* x, const T* y, const T* w, const T* bb, T* out, int n, int D,
                               float eps) {
    extern __shared__ float sm[];
    float* row = sm;
    float* red = sm + D;
    const int r = blockIdx.x, t = threadIdx.x, nt = blockDim.x;
    T* sum_out = out + (size_t)r * D;
    T* ln_out = out + (size_t)n * D + (size_t)r * D;
    float s = 0.f;
    for (int i = t; i < D; i += nt) {
        T v = from_f<T>(to_f(x[(size_t)r * D + i]) + to_f(y[(size_t)r * D + i]));
        sum_out[i] = v;
        float f = to_f(v);
        row[i] = f;
        s += f;
    }
    const float mean = block_reduce(s, red, false) / D;
    float v2 = 0.f;
    for (int i = t; i < D; i += nt) {
        float c = row[i] - mean;
        v2 += c * c;
    }
    const float var = block_reduce(v2, red, false) / D;
    const float inv = rsqrtf(var + eps);
    for (int i = t; i < D; i += nt)
        ln_out[i] = from_f<T>((row[i] - mean) * inv * to_f(w[i]) + to_f(bb[i]));
}

#define MG_KERNELS(SUF, T)                                                                        \
    extern "C" __global__ void mg_attn_step_##SUF(                                                \
        const T* q, int q_stride, const T* nk, const T* nv, int n_stride, T* kc, T* vc,           \
        int max_len, int len, const float* bias, int bias_stride, T* out, int out_stride, int H,  \
        int hd) {                                                                                 \
        attn_step<T>(q, q_stride, nk, nv, n_stride, kc, vc, max_len, len, bias, bias_stride, out, \
                     out_stride, H, hd);                                                          \
    }                                                                                             \
    extern "C" __global__ void mg_add_layer_norm_##SUF(const T* x, const T* y, const T* w,        \
                                                      const T* bb, T* out, int n, int D,          \
                                                      float eps) {                                \
        add_layer_norm<T>(x, y, w, bb, out, n, D, eps);                                           \
    }

MG_KERNELS(f32, float)
MG_KERNELS(f16, __half)
MG_KERNELS(bf16, __nv_bfloat16)
