#!/usr/bin/env python3
"""Golden fixture for salon-eval's PaSST (feature `models`) from the reference PyTorch code,
hear21passt 0.0.26 (PyPI): AugmentMelSTFT in eval mode with the arguments audiocraft and
../shared/bench/audio_eval_py.py use, and the PaSST network of get_model("passt_s_swa_p16_128_ap476")
(distilled: cls + dist tokens, head = LayerNorm + Linear on their mean) at a tiny random size, run
on audiocraft's PasstKLDivergenceMetric segmentation (10 s pieces, no padding, pieces of at most
0.15 s dropped; audiocraft is not installed: its three lines of splitting are repeated below).

Weights are random but not stored: every tensor is filled from a counter-based SplitMix64 hash
(seed per tensor in sorted-name order, scaled uniform), which the Rust test regenerates bit for bit.
Inputs come from the same hash. Only log-mels, logits, one KLD (BittAudio's use of audiocraft's
metric on a 12.5 s / 13 s pair) and the tensor list are committed.

Setup: pip install --no-deps hear21passt==0.0.26 into a venv with torch and numpy;
pip install --no-deps --target /tmp/passt-pydeps torchaudio==2.11.0 (only its pure-Python
compliance/kaldi.py is used: the package is stubbed so its compiled extension, whose CUDA build may
not match torch's, is never loaded); timm (imported by hear21passt for downloads only) is stubbed.
Run: PYTHONPATH=/tmp/passt-pydeps /work/venv-ml/bin/python scripts/passt_golden.py
"""
import importlib.util
import json
import os
import sys
import types

import numpy as np
import torch

from golden_common import splitmix_uniform

# torchaudio: a bare package object over the installed files, so torchaudio.compliance.kaldi (pure
# Python, the real get_mel_banks) imports without torchaudio/__init__.py's extension loading.
_spec = importlib.util.find_spec("torchaudio")
if _spec is None:
    sys.exit("torchaudio files not found: pip install --no-deps --target /tmp/passt-pydeps torchaudio")
_ta = types.ModuleType("torchaudio")
_ta.__path__ = list(_spec.submodule_search_locations)
sys.modules["torchaudio"] = _ta
import torchaudio.compliance.kaldi  # noqa: E402,F401

# timm: hear21passt imports download_cached_file from it, used only to fetch pretrained weights.
for name in ("timm", "timm.models", "timm.models._hub"):
    sys.modules.setdefault(name, types.ModuleType(name))
sys.modules["timm.models._hub"].download_cached_file = None

from hear21passt.models import passt as passt_mod  # noqa: E402
from hear21passt.models.preprocess import AugmentMelSTFT  # noqa: E402
from hear21passt.wrapper import PasstBasicWrapper  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-eval", "tests", "fixtures", "passt")

# Tiny network; everything else (128 mel bins, 16x16 patches, stride 10, 998 input frames -> a
# 12 x 99 patch grid, 527 classes) as released.
CONFIG = {"embed_dim": 32, "depth": 2, "num_heads": 4, "mlp_ratio": 4, "num_classes": 527,
          "mel_bins": 128, "input_frames": 998, "patch_size": 16, "stride": 10}
SEED_BASE = 2000
MEL_SEED, CLIP_A_SEED, CLIP_B_SEED, CLIP_REF_SEED = 11, 12, 13, 14
SR = 32000
MAX_SAMPLES = 10 * SR  # audiocraft: max_duration 10 s
MIN_SAMPLES = int(0.15 * SR)  # audiocraft: min_duration 0.15 s


def fill(shape, seed, half_width):
    """float32 values (2u - 1) * half_width, computed in float64 then rounded once."""
    n = int(np.prod(shape))
    return ((2.0 * splitmix_uniform(seed, n) - 1.0) * half_width).astype(np.float32).reshape(shape)


def half_width(name, shape):
    """Rank >= 2: sqrt(6 / fan_in) with fan_in = numel / shape[0]; LayerNorm gains 1.0; biases 0.1."""
    if len(shape) >= 2:
        return float(np.sqrt(6.0 / (int(np.prod(shape)) // shape[0])))
    return 1.0 if name.endswith("weight") else 0.1


def clip(seed, samples, noise=0.3, hz=440.0, amplitude=0.2):
    """Hash noise of half width `noise` plus a tone, float32."""
    t = np.arange(samples, dtype=np.float64) / SR
    x = (2.0 * splitmix_uniform(seed, samples) - 1.0) * noise + amplitude * np.sin(2.0 * np.pi * hz * t)
    return x.astype(np.float32)


def segments(wav):
    """audiocraft PasstKLDivergenceMetric._process_audio: torch.split at 10 s, keep > 0.15 s."""
    return [s for s in torch.split(torch.from_numpy(wav), MAX_SAMPLES, dim=-1) if s.size(-1) > MIN_SAMPLES]


def kl_divergence(pred_probs, target_probs, epsilon=1e-6):
    """audiocraft.metrics.kld.kl_divergence (audiocraft is not installed; this is its body)."""
    return torch.nn.functional.kl_div((pred_probs + epsilon).log(), target_probs, reduction="none").sum(-1)


def audiocraft_kld(model, generated, reference):
    """BittAudio's calculate_kld through audiocraft's PasstKLDivergenceMetric: both clips cut to the
    shorter, per-segment softmax rows stacked, KL averaged over the segment pairs."""
    n = min(len(generated), len(reference))
    p = torch.stack([torch.softmax(model(s[None]), -1)[0] for s in segments(generated[:n])]).double()
    q = torch.stack([torch.softmax(model(s[None]), -1)[0] for s in segments(reference[:n])]).double()
    pq = kl_divergence(p, q).sum().item() / p.shape[0]
    qp = kl_divergence(q, p).sum().item() / p.shape[0]
    return {"kld": pq, "kld_qp": qp, "kld_both": pq + qp, "segments": int(p.shape[0])}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    mel = AugmentMelSTFT(n_mels=128, sr=SR, win_length=800, hopsize=320, n_fft=1024, freqm=0, timem=0,
                         htk=False, fmin=0.0, fmax=None, norm=1, fmin_aug_range=10, fmax_aug_range=2000).eval()
    passt_mod.first_RUN = False  # silence the shape prints
    net = passt_mod.PaSST(img_size=(CONFIG["mel_bins"], CONFIG["input_frames"]), patch_size=CONFIG["patch_size"],
                          stride=CONFIG["stride"], in_chans=1, num_classes=CONFIG["num_classes"],
                          embed_dim=CONFIG["embed_dim"], depth=CONFIG["depth"], num_heads=CONFIG["num_heads"],
                          mlp_ratio=CONFIG["mlp_ratio"], qkv_bias=True, distilled=True).eval()
    state = {}
    for i, (name, p) in enumerate(sorted(net.state_dict().items())):
        state[name] = torch.from_numpy(fill(tuple(p.shape), SEED_BASE + i, half_width(name, tuple(p.shape))))
    net.load_state_dict(state)
    # audiocraft's model: hear21passt.base.get_basic_model(mode="logits"), i.e. this wrapper.
    model = PasstBasicWrapper(mel=mel, net=net, mode="logits").eval()

    with torch.no_grad():
        # Frontend alone on 1 s (both reflect-padded edges inside): [128, 100].
        short = clip(MEL_SEED, SR)
        mel_short = mel(torch.from_numpy(short)[None])[0].numpy()
        # Clip A: 12.5 s -> pieces of 10 s and 2.5 s (the second unpadded: 250 frames, 24 patches).
        # Clip B: 10 s + 3000 samples -> the 0.09 s tail is dropped.
        rows, meta_clips = [], []
        for seed, samples in ((CLIP_A_SEED, 400000), (CLIP_B_SEED, MAX_SAMPLES + 3000)):
            pieces = segments(clip(seed, samples))
            for s in pieces:
                rows.append(model(s[None]).numpy()[0])
            meta_clips.append({"seed": seed, "samples": samples, "segments": [int(s.numel()) for s in pieces]})
        logits = np.stack(rows).astype(np.float32)
        # KLD of clip A (generated, 12.5 s) against a 13 s reference (quiet noise, loud 3 kHz
        # tone): 2 segment pairs.
        ref = {"seed": CLIP_REF_SEED, "samples": 416000, "noise": 0.01, "hz": 3000.0, "amplitude": 0.5}
        kld = audiocraft_kld(model, clip(CLIP_A_SEED, 400000),
                             clip(ref["seed"], ref["samples"], ref["noise"], ref["hz"], ref["amplitude"]))
        kld.update({"generated_seed": CLIP_A_SEED, "generated_samples": 400000, "reference": ref})

    np.save(os.path.join(OUT, "mel_1s.npy"), mel_short.astype(np.float32))
    np.save(os.path.join(OUT, "logits.npy"), logits)
    meta = {
        "note": "hear21passt 0.0.26, AugmentMelSTFT eval (fmax 15000), PaSST distilled; scripts/passt_golden.py",
        "torch": torch.__version__,
        "config": CONFIG,
        "clip": {"noise_half_width": 0.3, "tone_hz": 440.0, "tone_amplitude": 0.2, "sample_rate": SR},
        "mel_clip": {"seed": MEL_SEED, "samples": SR},
        "clips": meta_clips,
        "kld": kld,
        "weights": {"seed_base": SEED_BASE, "order": "state_dict names sorted",
                    "half_width": "rank>=2: sqrt(6/(numel/shape[0])); rank 1: 1.0 if weight else 0.1"},
        "tensors": [[n, list(t.shape)] for n, t in sorted(state.items())],
    }
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    probs = torch.softmax(torch.from_numpy(logits), -1)
    print("kld", kld)
    print("mel", mel_short.shape, "logits", logits.shape, "max |logit|", float(np.abs(logits).max()),
          "max prob", float(probs.max()))


if __name__ == "__main__":
    main()
