#!/usr/bin/env python3
"""Golden values for salon-eval's Frechet distance, from numpy + scipy (scipy.linalg.sqrtm and the
standard formula as the FAD peers write it: frechet-audio-distance, pytorch-fid, google-research FAD).

Writes crates/salon-eval/tests/fixtures/fad/{a128,b128}.npy (float32, [200, 128]) and expected.json.
The d = 512 case is not stored: both sides generate it from a counter-based SplitMix64 hash, so
only the expected value and checksums are committed.

Run: python3 -m venv /work/venv-eval && /work/venv-eval/bin/pip install numpy scipy
     /work/venv-eval/bin/python scripts/fad_golden.py
"""
import json
import os
import numpy as np
from scipy import linalg

from golden_common import splitmix_uniform

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-eval", "tests", "fixtures", "fad")


def generated(seed, n, d, a, b, shift):
    """float32 [n, d]: x = u + a * roll(u, -shift) + b, every operation in float32."""
    u = splitmix_uniform(seed, n * d).astype(np.float32).reshape(n, d)
    return u + np.float32(a) * np.roll(u, -shift, axis=1) + np.float32(b)


def stats(x):
    x = x.astype(np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet(mu1, s1, mu2, s2, eps=1e-6):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1.dot(s2))
    if isinstance(covmean, tuple):
        covmean = covmean[0]
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261122)
    d = 128
    mix_a = rng.standard_normal((d, d)) / np.sqrt(d)
    mix_b = rng.standard_normal((d, d)) / np.sqrt(d)
    a = (rng.standard_normal((200, d)) @ mix_a).astype(np.float32)
    b = (1.1 * rng.standard_normal((200, d)) @ (0.7 * mix_a + 0.3 * mix_b) + 0.05).astype(np.float32)
    np.save(os.path.join(OUT, "a128.npy"), a)
    np.save(os.path.join(OUT, "b128.npy"), b)
    fad128 = frechet(*stats(a), *stats(b))

    n512, d512 = 2000, 512
    a5 = generated(1, n512, d512, 0.5, 0.0, 1)
    b5 = generated(2, n512, d512, 0.3, 0.02, 2) * np.float32(1.2)
    fad512 = frechet(*stats(a5), *stats(b5))

    expected = {
        "note": "scipy.linalg.sqrtm Frechet distance, stats in float64 (mean, np.cov n-1); scripts/fad_golden.py",
        "numpy": np.__version__,
        "fad_128": fad128,
        "d512": {
            "rows": n512,
            "dim": d512,
            "a": {"seed": 1, "a": 0.5, "b": 0.0, "shift": 1, "scale": 1.0},
            "b": {"seed": 2, "a": 0.3, "b": 0.02, "shift": 2, "scale": 1.2},
            "sum_a": float(a5.astype(np.float64).sum()),
            "sum_b": float(b5.astype(np.float64).sum()),
            "fad": fad512,
        },
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main()
