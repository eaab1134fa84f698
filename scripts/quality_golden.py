#!/usr/bin/env python3
"""Golden fixture for salon-eval's older audio-quality metrics (crates/salon-eval/src/audio/quality.rs)
from librosa, as the seed validators computed them:

  SNR = 10 log10(mean(x^2) / mean(librosa.effects.preemphasis(x)^2))            (coef 0.97, default zi)
  HNR = 10 log10(mean(H^2) / max(mean(P^2), 1e-10)),  H, P = librosa.effects.hpss(x)   (all defaults)
  either is 0 when max|x| < 1e-4 or var(x) < 1e-2.

The input signals are float32 and come from formulas the Rust test regenerates (sines, decaying clicks,
and uniform noise from a counter-based SplitMix64 hash), so no samples are committed; a checksum of each
input (sum and sum of squares) is stored to catch any mismatch in the regeneration.

Saved: crates/salon-eval/tests/fixtures/quality/expected.json with, per signal, librosa's SNR and HNR,
the mean squares of the harmonic and percussive parts and of the pre-emphasised signal, and the H and P
samples at a few fixed indices.

Run: /work/venv-librosa/bin/python scripts/quality_golden.py
     (python3 -m venv /work/venv-librosa && /work/venv-librosa/bin/pip install librosa)
"""
import json
import math
import os

import librosa
import numpy as np

from golden_common import splitmix_uniform

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-eval", "tests", "fixtures", "quality")


def noise(seed, n, amp):
    return amp * (2.0 * splitmix_uniform(seed, n) - 1.0)


def sine(freq, sr, n, amp):
    return np.array([amp * math.sin(2.0 * math.pi * freq * k / sr) for k in range(n)], dtype=np.float64)


def clicks(period, decay, n, amp):
    """Alternating-sign exponentially decaying clicks every `period` samples (decay in samples)."""
    return np.array(
        [amp * math.exp(-(k % period) / decay) * (1.0 if (k // period) % 2 == 0 else -1.0) for k in range(n)],
        dtype=np.float64,
    )


def signals():
    out = {}
    sr = 16000
    n = 24000
    out["harmonic"] = (sr, sum(sine(220.0 * h, sr, n, 0.5 / 2 ** (h - 1)) for h in (1, 2, 3, 4)))
    out["noise"] = (16000, noise(1, 16000, 0.6))
    out["clicks"] = (16000, clicks(800, 160.0, 16000, 1.0))
    out["tone_noise"] = (32000, sine(440.0, 32000, 32000, 0.5) + noise(7, 32000, 0.2))
    # 0.3 s: 10 STFT frames, fewer than the median filter's half-width, so the reflection repeats.
    out["short_mix"] = (16000, sine(330.0, 16000, 4800, 0.4) + clicks(1600, 80.0, 4800, 0.8))
    # Under the var(x) >= 1e-2 guard: SNR and HNR are 0, but HPSS is still compared.
    out["quiet"] = (16000, sine(500.0, 16000, 8000, 0.05))
    return out


def guarded(x):
    return float(np.max(np.abs(x))) < 1e-4 or float(np.var(x)) < 1e-2


def main():
    os.makedirs(OUT, exist_ok=True)
    result = {"librosa": librosa.__version__, "numpy": np.__version__, "signals": {}}
    for name, (sr, x64) in signals().items():
        x = x64.astype(np.float32)
        pre = librosa.effects.preemphasis(x)
        harm, perc = librosa.effects.hpss(x)
        assert harm.dtype == np.float32 and harm.shape == x.shape
        e_x = float(np.mean(x.astype(np.float64) ** 2))
        e_pre = float(np.mean(pre.astype(np.float64) ** 2))
        e_h = float(np.mean(harm.astype(np.float64) ** 2))
        e_p = float(np.mean(perc.astype(np.float64) ** 2))
        if guarded(x):
            snr = hnr = 0.0
        else:
            snr = 10.0 * math.log10(e_x / e_pre)
            hnr = 10.0 * math.log10(e_h / max(e_p, 1e-10))
        idx = [int(i) for i in np.linspace(0, len(x) - 1, 12).round()]
        result["signals"][name] = {
            "sample_rate": sr,
            "len": len(x),
            "input_sum": float(np.sum(x.astype(np.float64))),
            "input_sumsq": float(np.sum(x.astype(np.float64) ** 2)),
            "pre_first": [float(v) for v in pre[:3]],
            "pre_mean_square": e_pre,
            "snr_db": snr,
            "hnr_db": hnr,
            "harm_mean_square": e_h,
            "perc_mean_square": e_p,
            "rms": math.sqrt(e_x),
            "indices": idx,
            "harm": [float(harm[i]) for i in idx],
            "perc": [float(perc[i]) for i in idx],
        }
        print(f"{name:10s} sr={sr} n={len(x)} snr={snr:.6f} hnr={hnr:.6f} eh={e_h:.6e} ep={e_p:.6e}")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
