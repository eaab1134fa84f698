//! Fused CUDA kernels for the decoding step (kernels/musicgen.cu, PTX built by build.rs under the
//! `cuda` feature): single-query attention over a preallocated KV cache, written in place, for all
//! heads in one launch, and residual add + layer norm in one launch. CUDA tensors only.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, DevicePtr, DeviceRepr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::{CudaDType, CudaStorageSlice, WrapErr};
use candle_core::{
    bail, CpuStorage, CudaDevice, CudaStorage, CustomOp1, DType, Layout, Result, Shape, Storage,
    Tensor,
};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/musicgen_kernels.ptx"));
const MODULE: &str = "salon_musicgen";
/// Threads per attention block.
const ATTN_THREADS: usize = 512;

/// Whether the attention kernel handles this head size (16-byte loads along a head).
pub fn supports_head_dim(head_dim: usize) -> bool {
    head_dim.is_power_of_two() && (8..=256).contains(&head_dim)
}

fn suffix(dtype: DType) -> Result<&'static str> {
    Ok(match dtype {
        DType::F32 => "f32",
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        other => bail!("fused MusicGen kernels run in f32, f16 or bf16, not {other:?}"),
    })
}

/// Device address of the first element of a contiguous CUDA storage view.
fn storage_ptr(s: &CudaStorage, l: &Layout) -> Result<u64> {
    if !l.is_contiguous() {
        bail!("fused MusicGen kernels need contiguous tensors")
    }
    let stream = s.device.cuda_stream();
    let off = l.start_offset() as u64;
    Ok(match &s.slice {
        CudaStorageSlice::F32(x) => x.device_ptr(&stream).0 + 4 * off,
        CudaStorageSlice::F16(x) => x.device_ptr(&stream).0 + 2 * off,
        CudaStorageSlice::BF16(x) => x.device_ptr(&stream).0 + 2 * off,
        _ => bail!("fused MusicGen kernels run in f32, f16 or bf16"),
    })
}

fn tensor_ptr(t: &Tensor) -> Result<u64> {
    let (st, l) = t.storage_and_layout();
    match &*st {
        Storage::Cuda(s) => storage_ptr(s, l),
        _ => bail!("fused MusicGen kernels need CUDA tensors"),
    }
}

/// A fresh storage of `n` elements of the witness's element type, and its address.
fn alloc_like<T: CudaDType + DeviceRepr>(
    _witness: &CudaSlice<T>,
    dev: &CudaDevice,
    n: usize,
) -> Result<(CudaStorage, u64)> {
    // SAFETY: every element is written by the kernel launched right after.
    let out = unsafe { dev.alloc::<T>(n)? };
    let ptr = out.device_ptr(&dev.cuda_stream()).0;
    Ok((CudaStorage::wrap_cuda_slice(out, dev.clone()), ptr))
}

fn alloc_same(s: &CudaStorage, n: usize) -> Result<(CudaStorage, u64)> {
    match &s.slice {
        CudaStorageSlice::F32(x) => alloc_like(x, &s.device, n),
        CudaStorageSlice::F16(x) => alloc_like(x, &s.device, n),
        CudaStorageSlice::BF16(x) => alloc_like(x, &s.device, n),
        _ => bail!("fused MusicGen kernels run in f32, f16 or bf16"),
    }
}

/// Single-query attention: `q` is the op's input, (b, 1, q_row) with the query of head h at
/// columns h * head_dim (already scaled); keys and values in `k`/`v` (b, heads, max_len, head_dim).
struct AttnStep {
    k: Tensor,
    v: Tensor,
    /// Column offset of the new key row in `q`'s rows (the value follows one width later); the
    /// kernel writes them at position `len - 1` before attending. None: the cache is complete.
    new_kv_col: Option<usize>,
    len: usize,
    bias: Option<Tensor>,
    heads: usize,
    head_dim: usize,
}

impl CustomOp1 for AttnStep {
    fn name(&self) -> &'static str {
        "musicgen-attn-step"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        bail!("musicgen-attn-step runs on CUDA only")
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let (b, one, q_row) = l.shape().dims3()?;
        let width = self.heads * self.head_dim;
        let max_len = self.k.dim(2)?;
        if one != 1 || self.len == 0 || self.len > max_len {
            bail!(
                "musicgen-attn-step: one query per row and 1..={max_len} keys, got {one} and {}",
                self.len
            )
        }
        let q = storage_ptr(s, l)?;
        let (nk, nv) = match self.new_kv_col {
            Some(c) => (
                q + (c * s.dtype().size_in_bytes()) as u64,
                q + ((c + width) * s.dtype().size_in_bytes()) as u64,
            ),
            None => (0, 0),
        };
        let (kc, vc) = (tensor_ptr(&self.k)?, tensor_ptr(&self.v)?);
        let (bias, bias_stride) = match &self.bias {
            Some(t) => (tensor_ptr(t)?, t.dim(1)? as i32),
            None => (0, 0),
        };
        let (out, out_ptr) = alloc_same(s, b * width)?;
        let dev = &s.device;
        let func = dev.get_or_load_custom_func(
            &format!("mg_attn_step_{}", suffix(s.dtype())?),
            MODULE,
            PTX,
        )?;
        let cfg = LaunchConfig {
            grid_dim: (self.heads as u32, b as u32, 1),
            block_dim: (ATTN_THREADS as u32, 1, 1),
            shared_mem_bytes: (4
                * (self.head_dim + self.len + 32 + ATTN_THREADS * 16 / s.dtype().size_in_bytes()))
                as u32,
        };
        let mut builder = func.builder();
        let (q_stride, n_stride) = (q_row as i32, q_row as i32);
        let (max_len, len, out_stride) = (max_len as i32, self.len as i32, width as i32);
        let (heads, head_dim) = (self.heads as i32, self.head_dim as i32);
        builder.arg(&q);
        builder.arg(&q_stride);
        builder.arg(&nk);
        builder.arg(&nv);
        builder.arg(&n_stride);
        builder.arg(&kc);
        builder.arg(&vc);
        builder.arg(&max_len);
        builder.arg(&len);
        builder.arg(&bias);
        builder.arg(&bias_stride);
        builder.arg(&out_ptr);
        builder.arg(&out_stride);
        builder.arg(&heads);
        builder.arg(&head_dim);
        // SAFETY: pointers address live, contiguous buffers of the sizes checked above; the
        // cache tensors outlive the launch (held by self) and stream order keeps them alive.
        unsafe { builder.launch(cfg) }.w()?;
        Ok((out, Shape::from((b, 1, width))))
    }
}

/// Self-attention of one new position per row: `qkv` (b, 1, 3 * heads * head_dim) holds the
/// scaled query, key and value; the key and value are written at position `pos` of the caches
/// (b, heads, max_len, head_dim) and the query attends to positions 0..=pos. Returns (b, 1, width).
pub fn self_attention_step(
    qkv: &Tensor,
    k_cache: &Tensor,
    v_cache: &Tensor,
    pos: usize,
    heads: usize,
) -> Result<Tensor> {
    let head_dim = k_cache.dim(3)?;
    qkv.apply_op1_no_bwd(&AttnStep {
        k: k_cache.clone(),
        v: v_cache.clone(),
        new_kv_col: Some(heads * head_dim),
        len: pos + 1,
        bias: None,
        heads,
        head_dim,
    })
}

/// Cross-attention of one query per row: `q` (b, 1, width) scaled, keys and values (b, heads, s,
/// head_dim) contiguous, `bias` an optional f32 additive mask (b, s). Returns (b, 1, width).
pub fn cross_attention_step(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: Option<&Tensor>,
    heads: usize,
) -> Result<Tensor> {
    let (_, _, s, head_dim) = k.dims4()?;
    q.apply_op1_no_bwd(&AttnStep {
        k: k.clone(),
        v: v.clone(),
        new_kv_col: None,
        len: s,
        bias: bias.cloned(),
        heads,
        head_dim,
    })
}

/// Residual add and layer norm: the op's input is `x`; returns (2, rows, dim) holding x + y and
/// layer_norm(x + y) * weight + bias.
struct AddLayerNorm {
    y: Tensor,
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl CustomOp1 for AddLayerNorm {
    fn name(&self) -> &'static str {
        "musicgen-add-layer-norm"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        bail!("musicgen-add-layer-norm runs on CUDA only")
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let dims = l.shape().dims();
        let dim = *dims.last().unwrap_or(&0);
        let rows = l.shape().elem_count() / dim.max(1);
        if self.y.shape() != l.shape() || self.weight.elem_count() != dim {
            bail!("musicgen-add-layer-norm: shapes differ")
        }
        let x = storage_ptr(s, l)?;
        let y = tensor_ptr(&self.y)?;
        let w = tensor_ptr(&self.weight)?;
        let bb = tensor_ptr(&self.bias)?;
        let (out, out_ptr) = alloc_same(s, 2 * rows * dim)?;
        let dev = &s.device;
        let func = dev.get_or_load_custom_func(
            &format!("mg_add_layer_norm_{}", suffix(s.dtype())?),
            MODULE,
            PTX,
        )?;
        let threads = 256u32;
        let cfg = LaunchConfig {
            grid_dim: (rows as u32, 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: (4 * (dim + 32)) as u32,
        };
        let (n, d) = (rows as i32, dim as i32);
        let mut builder = func.builder();
        builder.arg(&x);
        builder.arg(&y);
        builder.arg(&w);
        builder.arg(&bb);
        builder.arg(&out_ptr);
        builder.arg(&n);
        builder.arg(&d);
        builder.arg(&self.eps);
        // SAFETY: all pointers address live contiguous buffers of rows * dim (or dim) elements.
        unsafe { builder.launch(cfg) }.w()?;
        Ok((out, Shape::from((2, rows, dim))))
    }
}

/// Returns (x + y, layer_norm(x + y)) for contiguous CUDA tensors of one shape; `weight` and
/// `bias` have the last dimension's size.
pub fn add_layer_norm(
    x: &Tensor,
    y: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f32,
) -> Result<(Tensor, Tensor)> {
    let both = x.apply_op1_no_bwd(&AddLayerNorm {
        y: y.contiguous()?,
        weight: weight.clone(),
        bias: bias.clone(),
        eps,
    })?;
    let shape = x.shape().clone();
    Ok((both.get(0)?.reshape(&shape)?, both.get(1)?.reshape(&shape)?))
}
