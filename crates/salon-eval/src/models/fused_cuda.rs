//! The CUDA side of [`super::fused`]: four small kernels, compiled once per process with NVRTC
//! (which candle's CUDA build links already), run as candle custom ops on contiguous f32 or f16
//! tensors. Each returns `Ok(None)` where it does not apply, and the caller takes candle's ops.
//!
//! Why: candle's broadcast add and strided copy compute every element's source index with 64-bit
//! divisions, and its softmax reads a row three times. On an H100, for PaSST over ten 15 s clips,
//! the bias adds took 30 ms, the copies 8 ms and the softmax 10 ms of 147 ms of kernels (ncu,
//! bench/RESULTS.md, session 7). These kernels index by block and thread instead and make one
//! pass each.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, CudaView, DeviceRepr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions};
use candle_core::cuda_backend::{CudaStorageSlice, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaDevice, CudaStorage, DType, Layout, Result, Shape, Tensor,
};
use std::sync::OnceLock;

/// CUDA C for the kernels. f16 travels as its bits (`unsigned short`) and converts with PTX
/// instructions, so no header is needed; all arithmetic is in f32.
const SOURCE: &str = r#"
__device__ __forceinline__ float h2f(unsigned short h) {
    float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f;
}
__device__ __forceinline__ unsigned short f2h(float f) {
    unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h;
}
__device__ __forceinline__ float ld(const float* p, size_t i) { return p[i]; }
__device__ __forceinline__ float ld(const unsigned short* p, size_t i) { return h2f(p[i]); }
__device__ __forceinline__ void st(float* p, size_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(unsigned short* p, size_t i, float v) { p[i] = f2h(v); }

// 0: none, 1: GELU (erf), 2: GELU (tanh), 3: ReLU.
__device__ __forceinline__ float activate(float v, int act) {
    if (act == 1) return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    if (act == 2) {
        float u = 0.79788456080286536f * (v + 0.044715f * v * v * v);
        return 0.5f * v * (1.0f + tanhf(u));
    }
    if (act == 3) return v > 0.0f ? v : 0.0f;
    return v;
}

// y[r, c] = act(x[r, c] + b[c]); grid (column tiles, row groups).
template <typename T>
__device__ void bias_act(const T* x, const T* b, T* y, unsigned rows, unsigned cols, int act) {
    unsigned col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    float bv = ld(b, col);
    for (unsigned row = blockIdx.y; row < rows; row += gridDim.y) {
        size_t i = (size_t)row * cols + col;
        st(y, i, activate(ld(x, i) + bv, act));
    }
}

// Softmax of each row, one warp per row, the row held in registers (cols <= 32 * PER_LANE).
template <typename T, int PER_LANE>
__device__ void softmax_rows(const T* x, T* y, unsigned rows, unsigned cols) {
    unsigned row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    unsigned lane = threadIdx.x % 32;
    if (row >= rows) return;
    const T* xr = x + (size_t)row * cols;
    T* yr = y + (size_t)row * cols;
    float v[PER_LANE];
    float m = __int_as_float(0xff800000);
#pragma unroll
    for (int j = 0; j < PER_LANE; ++j) {
        unsigned c = lane + 32 * j;
        v[j] = c < cols ? ld(xr, c) : __int_as_float(0xff800000);
        m = fmaxf(m, v[j]);
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
    float s = 0.0f;
#pragma unroll
    for (int j = 0; j < PER_LANE; ++j) {
        unsigned c = lane + 32 * j;
        v[j] = c < cols ? expf(v[j] - m) : 0.0f;
        s += v[j];
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
    float inv = 1.0f / s;
#pragma unroll
    for (int j = 0; j < PER_LANE; ++j) {
        unsigned c = lane + 32 * j;
        if (c < cols) st(yr, c, v[j] * inv);
    }
}

// [B, N, 3, H, D] -> [3, B, H, N, D]; grid (N, B): a block reads one token's q, k and v.
template <typename T>
__device__ void split_qkv(const T* x, T* y, unsigned n, unsigned heads, unsigned d) {
    unsigned t = blockIdx.x, b = blockIdx.y, bs = gridDim.y;
    unsigned hd = heads * d;
    const T* src = x + ((size_t)b * n + t) * 3 * hd;
    for (unsigned e = threadIdx.x; e < 3 * hd; e += blockDim.x) {
        unsigned s = e / hd, r = e % hd, h = r / d, k = r % d;
        y[((((size_t)s * bs + b) * heads + h) * n + t) * d + k] = src[e];
    }
}

// [A, B, C, D] -> [A, C, B, D]; grid (C, A): a block writes one contiguous [B, D] row.
template <typename T>
__device__ void transpose12(const T* x, T* y, unsigned bdim, unsigned cdim, unsigned d) {
    unsigned c = blockIdx.x, a = blockIdx.y;
    T* dst = y + ((size_t)a * cdim + c) * bdim * d;
    for (unsigned e = threadIdx.x; e < bdim * d; e += blockDim.x) {
        unsigned b = e / d, k = e % d;
        dst[e] = x[(((size_t)a * bdim + b) * cdim + c) * d + k];
    }
}

#define KERNELS(NAME, T)                                                                      \
extern "C" __global__ void bias_act_##NAME(const T* x, const T* b, T* y, unsigned rows,      \
                                           unsigned cols, int act) {                          \
    bias_act(x, b, y, rows, cols, act);                                                       \
}                                                                                             \
extern "C" __global__ void softmax4_##NAME(const T* x, T* y, unsigned rows, unsigned cols) {  \
    softmax_rows<T, 4>(x, y, rows, cols);                                                     \
}                                                                                             \
extern "C" __global__ void softmax16_##NAME(const T* x, T* y, unsigned rows, unsigned cols) { \
    softmax_rows<T, 16>(x, y, rows, cols);                                                    \
}                                                                                             \
extern "C" __global__ void softmax64_##NAME(const T* x, T* y, unsigned rows, unsigned cols) { \
    softmax_rows<T, 64>(x, y, rows, cols);                                                    \
}                                                                                             \
extern "C" __global__ void split_qkv_##NAME(const T* x, T* y, unsigned n, unsigned heads,    \
                                            unsigned d) {                                     \
    split_qkv(x, y, n, heads, d);                                                             \
}                                                                                             \
extern "C" __global__ void transpose12_##NAME(const T* x, T* y, unsigned b, unsigned c,      \
                                              unsigned d) {                                   \
    transpose12(x, y, b, c, d);                                                               \
}

KERNELS(f32, float)
KERNELS(f16, unsigned short)
"#;

/// The module name the kernels are loaded under in candle's device.
const MODULE: &str = "salon_fused";

/// The widest softmax row a warp holds in registers (64 values a lane).
const SOFTMAX_MAX_COLS: usize = 32 * 64;

/// The kernels' PTX, compiled on first use; a compile failure is kept and reported each time.
fn ptx() -> Result<&'static str> {
    static PTX: OnceLock<std::result::Result<String, String>> = OnceLock::new();
    let compiled = PTX.get_or_init(|| {
        let opts = CompileOptions {
            options: vec!["--std=c++17".into()],
            ..Default::default()
        };
        compile_ptx_with_opts(SOURCE, opts)
            .map(|p| p.to_src())
            .map_err(|e| format!("compiling Salon's fused CUDA kernels with NVRTC: {e}"))
    });
    match compiled {
        Ok(p) => Ok(p.as_str()),
        Err(e) => bail!("{e}"),
    }
}

/// Whether `x` can go to these kernels: on a GPU, contiguous, f32 or f16, and the kernels
/// compiled (if NVRTC fails, candle's ops take over, with one warning).
fn eligible(x: &Tensor) -> bool {
    x.device().is_cuda()
        && x.is_contiguous()
        && matches!(x.dtype(), DType::F32 | DType::F16)
        && compiled()
}

/// Whether the kernels compiled; the first failure is logged.
fn compiled() -> bool {
    static WARNED: std::sync::Once = std::sync::Once::new();
    match ptx() {
        Ok(_) => true,
        Err(e) => {
            WARNED.call_once(|| tracing::warn!(error = %e, "using candle's ops instead"));
            false
        }
    }
}

/// The kernel `base` for the slice's dtype (`base_f32` or `base_f16`).
fn kernel_name(base: &str, slice: &CudaStorageSlice) -> Result<String> {
    Ok(match slice {
        CudaStorageSlice::F32(_) => format!("{base}_f32"),
        CudaStorageSlice::F16(_) => format!("{base}_f16"),
        _ => bail!("{base}: Salon's fused kernels take f32 or f16"),
    })
}

/// Launches kernel `name` over one input slice (from `offset`) and a fresh output of `len`
/// elements; `args` pushes the kernel's remaining arguments after (input, output).
fn launch_unary<T: DeviceRepr>(
    dev: &CudaDevice,
    name: &str,
    input: CudaView<T>,
    len: usize,
    cfg: LaunchConfig,
    args: &[u32],
) -> Result<CudaSlice<T>> {
    let func = dev.get_or_load_custom_func(name, MODULE, ptx()?)?;
    // SAFETY: every element is written by the kernel before the slice is read.
    let out = unsafe { dev.alloc::<T>(len)? };
    let mut b = func.builder();
    b.arg(&input);
    b.arg(&out);
    for a in args {
        b.arg(a);
    }
    // SAFETY: the arguments match the kernel's signature (pointers, then u32 sizes).
    unsafe { b.launch(cfg) }.w()?;
    Ok(out)
}

/// A one-input kernel as a candle op: `kernel` names it, `out` is the result's shape, `cfg`
/// and `args` as for [`launch_unary`].
struct Unary {
    kernel: &'static str,
    out: Shape,
    cfg: LaunchConfig,
    args: Vec<u32>,
}

impl candle_core::CustomOp1 for Unary {
    fn name(&self) -> &'static str {
        self.kernel
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        bail!(
            "{}: a CUDA kernel (the CPU takes candle's ops)",
            self.kernel
        )
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let dev = s.device();
        let name = kernel_name(self.kernel, &s.slice)?;
        let (o, n) = (l.start_offset(), self.out.elem_count());
        macro_rules! run {
            ($x:expr) => {
                launch_unary(dev, &name, $x.slice(o..), n, self.cfg, &self.args)?
            };
        }
        let slice = match &s.slice {
            CudaStorageSlice::F32(x) => CudaStorageSlice::F32(run!(x)),
            CudaStorageSlice::F16(x) => CudaStorageSlice::F16(run!(x)),
            _ => bail!("{name}: f32 or f16 only"),
        };
        Ok((
            CudaStorage {
                slice,
                device: dev.clone(),
            },
            self.out.clone(),
        ))
    }
}

/// Threads per block for the index kernels.
const THREADS: u32 = 256;

fn config(grid: (u32, u32), block: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (grid.0, grid.1, 1),
        block_dim: (block, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Softmax over the last axis, or `None` where the kernel does not apply.
pub(super) fn softmax_last_dim(x: &Tensor) -> Result<Option<Tensor>> {
    let cols = x.dim(candle_core::D::Minus1)?;
    if !eligible(x) || cols == 0 || cols > SOFTMAX_MAX_COLS {
        return Ok(None);
    }
    let rows = x.elem_count() / cols;
    let kernel = match cols.div_ceil(32) {
        0..=4 => "softmax4",
        5..=16 => "softmax16",
        _ => "softmax64",
    };
    // Four warps (rows) a block.
    let op = Unary {
        kernel,
        out: x.shape().clone(),
        cfg: config((rows.div_ceil(4) as u32, 1), 128),
        args: vec![rows as u32, cols as u32],
    };
    x.apply_op1_no_bwd(&op).map(Some)
}

/// `[B, N, 3 * H * D]` (a fused qkv projection) to `[3, B, H, N, D]`, or `None`.
pub(super) fn split_qkv(qkv: &Tensor, heads: usize) -> Result<Option<Tensor>> {
    let (b, n, c3) = qkv.dims3()?;
    if !eligible(qkv) || heads == 0 || c3 % (3 * heads) != 0 || b > 65_535 {
        return Ok(None);
    }
    let d = c3 / (3 * heads);
    let op = Unary {
        kernel: "split_qkv",
        out: Shape::from((3, b, heads, n, d)),
        cfg: config((n as u32, b as u32), THREADS),
        args: vec![n as u32, heads as u32, d as u32],
    };
    qkv.apply_op1_no_bwd(&op).map(Some)
}

/// `[A, B, C, D]` to `[A, C, B, D]` (contiguous), or `None`.
pub(super) fn transpose12(x: &Tensor) -> Result<Option<Tensor>> {
    let (a, b, c, d) = x.dims4()?;
    if !eligible(x) || a > 65_535 {
        return Ok(None);
    }
    let op = Unary {
        kernel: "transpose12",
        out: Shape::from((a, c, b, d)),
        cfg: config((c as u32, a as u32), THREADS),
        args: vec![b as u32, c as u32, d as u32],
    };
    x.apply_op1_no_bwd(&op).map(Some)
}

/// `act(x + bias)` with `bias` broadcast along the last axis.
struct BiasAct {
    act: i32,
}

impl candle_core::CustomOp2 for BiasAct {
    fn name(&self) -> &'static str {
        "bias_act"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        bail!("bias_act: a CUDA kernel (the CPU takes candle's ops)")
    }

    fn cuda_fwd(
        &self,
        xs: &CudaStorage,
        xl: &Layout,
        bs: &CudaStorage,
        bl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let dev = xs.device();
        let name = kernel_name("bias_act", &xs.slice)?;
        let cols = bl.shape().elem_count();
        let rows = xl.shape().elem_count() / cols;
        let cfg = config(
            (
                cols.div_ceil(THREADS as usize) as u32,
                rows.min(65_535) as u32,
            ),
            THREADS,
        );
        let func = dev.get_or_load_custom_func(&name, MODULE, ptx()?)?;
        let (xo, bo) = (xl.start_offset(), bl.start_offset());
        let (rows, cols) = (rows as u32, cols as u32);
        macro_rules! run {
            ($x:expr, $b:expr) => {{
                // SAFETY: the kernel writes every element.
                let out = unsafe { dev.alloc(xl.shape().elem_count())? };
                let (x, b) = ($x.slice(xo..), $b.slice(bo..));
                let mut l = func.builder();
                l.arg(&x)
                    .arg(&b)
                    .arg(&out)
                    .arg(&rows)
                    .arg(&cols)
                    .arg(&self.act);
                // SAFETY: the arguments match bias_act's signature.
                unsafe { l.launch(cfg) }.w()?;
                out
            }};
        }
        let slice = match (&xs.slice, &bs.slice) {
            (CudaStorageSlice::F32(x), CudaStorageSlice::F32(b)) => {
                CudaStorageSlice::F32(run!(x, b))
            }
            (CudaStorageSlice::F16(x), CudaStorageSlice::F16(b)) => {
                CudaStorageSlice::F16(run!(x, b))
            }
            _ => bail!("bias_act: x and bias must both be f32 or both f16"),
        };
        Ok((
            CudaStorage {
                slice,
                device: dev.clone(),
            },
            xl.shape().clone(),
        ))
    }
}

/// `act(x + bias)` over the last axis (`act`: 0 none, 1 GELU erf, 2 GELU tanh, 3 ReLU), or
/// `None` where the kernel does not apply.
pub(super) fn bias_act(x: &Tensor, bias: &Tensor, act: i32) -> Result<Option<Tensor>> {
    let cols = x.dim(candle_core::D::Minus1)?;
    if !eligible(x)
        || !bias.is_contiguous()
        || bias.dtype() != x.dtype()
        || bias.elem_count() != cols
        || cols == 0
    {
        return Ok(None);
    }
    x.apply_op2_no_bwd(bias, &BiasAct { act }).map(Some)
}
