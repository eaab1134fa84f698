#!/usr/bin/env python3
"""The FAD peers' Frechet distance (numpy mean/cov, scipy.linalg.sqrtm), timed on the same .npy
embeddings that Salon's `frechet_bench` example reads (issue 6, item 7). bench/frechet.sh runs both.

  frechet_bench.py write DIR [--n 1600] [--dims 128,512]
      writes DIR/a{d}.npy, DIR/b{d}.npy (float32 [n, d], deterministic, well-conditioned) and
      DIR/a{d}_singular.npy, DIR/b{d}_singular.npy (near-singular covariances) for every d.
  frechet_bench.py time A.npy B.npy [--runs 10] [--warmup 2]
      times (a) the statistics of both sets (np.mean, np.cov(rowvar=False) on the float32 arrays,
      as frechet_audio_distance's calculate_embd_statistics and fadtk's calc_embd_statistics) and
      (b) the distance from those statistics (sqrtm(sigma1.dot(sigma2), disp=False), the eps * I
      retry when it is not finite, the real part, the traces: calculate_frechet_distance as
      pytorch-fid, frechet_audio_distance (BittAudio) and fadtk write it); the median of `runs`
      timings after `warmup` untimed runs, one JSON line each, then the distance itself.
  frechet_bench.py summary LINES.jsonl
      the median over rounds of both sides' timings, their ratio and how far the distances agree.

Needs numpy and scipy (bench/frechet.sh makes a venv with them).
"""
import argparse
import json
import statistics
import time
import warnings

import numpy as np
import scipy
from scipy import linalg


def write_sets(out_dir, n, dims):
    """For every d: a{d}, b{d} = z diag(s) Q_a^T, 1.1 z' diag(s) Q_b^T + 0.05 with z, z' standard
    normal [n, d], s_k = 0.05 + exp(-3k/d) (a decaying spectrum, condition number about 100) and
    Q_b a rotation near Q_a: two overlapping, well-conditioned sets, like VGGish frames of 100
    reference clips of 15 s (one row per 0.96 s: about 1600 rows). Also a{d}_singular,
    b{d}_singular = z W_a, 1.1 z' (0.7 W_a + 0.3 W_b) + 0.05 with Gaussian W / sqrt(d) (the mix of
    scripts/fad_golden.py), whose covariances are close to singular at d = 512."""
    import os

    os.makedirs(out_dir, exist_ok=True)

    def save(name, x):
        np.save(os.path.join(out_dir, f"{name}.npy"), x.astype(np.float32))

    for d in dims:
        rng = np.random.default_rng(20261122 + d)
        s = 0.05 + np.exp(-3.0 * np.arange(d) / d)
        q_a, _ = np.linalg.qr(rng.standard_normal((d, d)))
        q_b, _ = np.linalg.qr(0.8 * q_a + 0.2 * rng.standard_normal((d, d)) / np.sqrt(d))
        save(f"a{d}", rng.standard_normal((n, d)) @ (s[:, None] * q_a.T))
        save(f"b{d}", 1.1 * rng.standard_normal((n, d)) @ (s[:, None] * q_b.T) + 0.05)
        mix_a = rng.standard_normal((d, d)) / np.sqrt(d)
        mix_b = rng.standard_normal((d, d)) / np.sqrt(d)
        save(f"a{d}_singular", rng.standard_normal((n, d)) @ mix_a)
        save(f"b{d}_singular", 1.1 * rng.standard_normal((n, d)) @ (0.7 * mix_a + 0.3 * mix_b) + 0.05)


def embd_statistics(embd):
    """The peers' statistics: mean over rows, covariance with n - 1 (np.cov works in float64)."""
    return np.mean(embd, axis=0), np.cov(embd, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """The peers' calculate_frechet_distance (pytorch-fid's, which frechet_audio_distance adapts)."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # scipy >= 1.16 deprecates `disp`; the peers still pass it.
        warnings.simplefilter("ignore", DeprecationWarning)
        covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"Imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def median_secs(warmup, runs, f):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_sets(path_a, path_b, runs, warmup):
    a, b = np.load(path_a), np.load(path_b)
    if a.shape[1] != b.shape[1]:
        raise SystemExit(f"dimensions differ: {a.shape} vs {b.shape}")
    stats_s = median_secs(warmup, runs, lambda: (embd_statistics(a), embd_statistics(b)))
    (mu1, s1), (mu2, s2) = embd_statistics(a), embd_statistics(b)
    distance_s = median_secs(warmup, runs, lambda: frechet_distance(mu1, s1, mu2, s2))
    # The peers' value (float32 means, float64 covariances) and the same formula on float64 means,
    # which is what Salon computes: the gap between the two is the peers' float32 mean, not sqrtm.
    fad = float(frechet_distance(mu1, s1, mu2, s2))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    fad64 = float(frechet_distance(a64.mean(axis=0), s1, b64.mean(axis=0), s2))
    common = {
        "impl": "scipy",
        "source": f"{path_a} {path_b}",
        "d": int(a.shape[1]),
        "n_a": int(a.shape[0]),
        "n_b": int(b.shape[0]),
        "runs": runs,
        "warmup": warmup,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    for what, secs in (("stats", stats_s), ("distance", distance_s)):
        print(json.dumps({**common, "what": what, "median_s": secs}), flush=True)
    print(json.dumps({**common, "what": "value", "fad": fad, "fad_f64_mean": fad64}), flush=True)


def set_name(row):
    """The first file's name without folder, "a" and ".npy": "512", "512_singular"."""
    name = row["source"].split()[0].rsplit("/", 1)[-1]
    return name.removesuffix(".npy").removeprefix("a")


def summary(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    names = sorted({set_name(r) for r in rows}, key=lambda k: (len(k), k))
    print("| set | d | n | what | scipy s | Salon s | scipy / Salon | rounds |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        mine = [r for r in rows if set_name(r) == name]
        for what in ("stats", "distance"):
            got = {impl: [r["median_s"] for r in mine if r["impl"] == impl and r["what"] == what]
                   for impl in ("scipy", "salon-faer")}
            if not got["scipy"] or not got["salon-faer"]:
                continue
            py, rs = statistics.median(got["scipy"]), statistics.median(got["salon-faer"])
            rounds = min(len(got["scipy"]), len(got["salon-faer"]))
            print(f"| {name} | {mine[0]['d']} | {mine[0]['n_a']} | {what} | {py:.4g} | {rs:.4g} | "
                  f"{py / rs:.1f}x | {rounds} |")
    for name in names:
        mine = [r for r in rows if set_name(r) == name and r["what"] == "value"]
        py = next(r for r in mine if r["impl"] == "scipy")
        rs = next(r for r in mine if r["impl"] == "salon-faer")
        rel = abs(rs["fad"] - py["fad_f64_mean"]) / abs(py["fad_f64_mean"])
        rel32 = abs(rs["fad"] - py["fad"]) / abs(py["fad"])
        print(
            f"{name}: scipy {py['fad']!r} (peers' float32 means), {py['fad_f64_mean']!r} (float64 means); "
            f"Salon {rs['fad']!r} (eps retry: {rs['eps_retry']}); relative difference {rel:.2e} "
            f"(float64 means), {rel32:.2e} (peers' value)"
        )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("dir")
    w.add_argument("--n", type=int, default=1600)
    w.add_argument("--dims", default="128,512")
    t = sub.add_parser("time")
    t.add_argument("a")
    t.add_argument("b")
    t.add_argument("--runs", type=int, default=10)
    t.add_argument("--warmup", type=int, default=2)
    s = sub.add_parser("summary")
    s.add_argument("lines")
    args = p.parse_args()
    if args.cmd == "write":
        write_sets(args.dir, args.n, [int(d) for d in args.dims.split(",")])
    elif args.cmd == "time":
        time_sets(args.a, args.b, args.runs, args.warmup)
    else:
        summary(args.lines)


if __name__ == "__main__":
    main()
