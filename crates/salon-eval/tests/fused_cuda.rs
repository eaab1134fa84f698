//! The fused CUDA kernels against candle's own ops on a real GPU (a `cuda` build only:
//! `cargo test -p salon-eval --features cuda --test fused_cuda` on a machine with an NVIDIA GPU).
#![cfg(feature = "cuda")]

use candle_core::Device;
use salon_eval::models::fused;

#[test]
fn every_fused_kernel_agrees_with_candle_on_the_gpu() {
    let gpu = Device::new_cuda(0).expect("a cuda build's tests need an NVIDIA GPU and driver");
    let checks = fused::self_check(&gpu).unwrap();
    assert!(checks.len() >= 16, "{checks:?}");
    let bad: Vec<_> = checks.iter().filter(|c| !c.ok()).collect();
    assert!(bad.is_empty(), "{bad:?}");
    // Something was actually compared: f16 rounding shows up somewhere.
    assert!(checks.iter().any(|c| c.max_diff > 0.0), "{checks:?}");
    fused::verify_on(&gpu);
    assert!(fused::enabled());
}
