//! Compiles the fused MusicGen CUDA kernels (kernels/musicgen.cu) to PTX with nvcc, only when the
//! `cuda` feature is on; CPU builds run nothing here.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=kernels/musicgen.cu");
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let cap = cap.replace('.', "");
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    let ptx = out.join("musicgen_kernels.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("--gpu-architecture=sm_{cap}"))
        .arg("kernels/musicgen.cu")
        .arg("-o")
        .arg(&ptx)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run {nvcc} for kernels/musicgen.cu ({e}); the cuda feature needs nvcc on PATH (or NVCC set)")
        });
    assert!(
        status.success(),
        "nvcc failed on kernels/musicgen.cu (exit {status})"
    );
}
