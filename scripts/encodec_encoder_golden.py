#!/usr/bin/env python3
"""Golden fixtures for salon-engines' EnCodec encoder (musicgen/encodec_encoder.rs) from transformers'
EncodecModel: tiny random checkpoints saved with save_pretrained, and `model.encoder(x)` on a
formula-generated clip, the continuous latents fadtk's `encodec-emb` feeds FAD.

Two models, each a folder under crates/salon-engines/tests/data/:
- encodec_encoder_tiny: shaped as facebook/encodec_24khz (causal convs, weight_norm, reflect padding,
  two LSTM layers, mono, no chunking), the whole clip in one pass.
- encodec_encoder_tiny_chunked: shaped as facebook/encodec_48khz (centred convs, time_group_norm,
  stereo, chunk_length_s), encoded as fadtk does for the 48 kHz model: back-to-back segments of
  chunk_length samples (no overlap, the last one shorter), the mono clip on both channels, frames
  concatenated.
Each folder holds config.json, model.safetensors and golden.safetensors ("input": the clip,
"embedding": [frames, hidden_size]).

Weights: transformers' random init (torch.manual_seed), then weight-norm gains, conv and LSTM biases and
group-norm affines redrawn so that none is trivial. The clip: two sines plus SplitMix64 noise (as
scripts/passt_golden.py), computed in float64 and rounded once to float32; the Rust test regenerates
it and checks it against "input".

Setup (versions used): python3 -m venv /work/venv-enc; /work/venv-enc/bin/pip install torch
transformers numpy safetensors (torch 2.15.0+cu132, the PyPI wheel, run on the CPU;
transformers 5.25.0, numpy 2.4.6, safetensors 0.8.0).
Run: /work/venv-enc/bin/python scripts/encodec_encoder_golden.py
"""
import json
import os

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import EncodecConfig, EncodecModel

from golden_common import splitmix_uniform

DATA = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-engines", "tests", "data")

CLIP_SEED = 7
CLIP_SAMPLES = 1001  # not a whole number of hops: exercises the extra right padding


def clip(sr, n=CLIP_SAMPLES, seed=CLIP_SEED):
    """0.5 sin(2 pi 440 t) + 0.25 sin(2 pi 1234.5 t) + 0.1 (2u - 1), t = i / sr; float32."""
    t = np.arange(n, dtype=np.float64) / sr
    x = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t)
    x += 0.1 * (2.0 * splitmix_uniform(seed, n) - 1.0)
    return x.astype(np.float32)


COMMON = dict(
    num_filters=4,
    hidden_size=16,
    upsampling_ratios=[3, 2],  # encoder strides 2 then 3: hop 6
    num_residual_layers=1,
    kernel_size=7,
    last_kernel_size=7,
    residual_kernel_size=3,
    dilation_growth_rate=2,
    compress=2,
    num_lstm_layers=2,
    pad_mode="reflect",
    use_conv_shortcut=True,
    codebook_size=8,
    trim_right_ratio=1.0,
)

MODELS = {
    "encodec_encoder_tiny": dict(
        COMMON,
        sampling_rate=24000,
        audio_channels=1,
        norm_type="weight_norm",
        use_causal_conv=True,
        chunk_length_s=None,
        overlap=None,
        normalize=False,
        target_bandwidths=[100.0],  # 2 quantizers at the 4000 Hz frame rate
        seed=1,
    ),
    "encodec_encoder_tiny_chunked": dict(
        COMMON,
        sampling_rate=48000,
        audio_channels=2,
        norm_type="time_group_norm",
        use_causal_conv=False,
        chunk_length_s=0.0075,  # 360 samples: 1001 = 360 + 360 + 281
        overlap=0.01,
        normalize=True,
        target_bandwidths=[200.0],
        seed=2,
    ),
}


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, p in model.named_parameters():
            u = torch.rand(p.shape, generator=g)
            if name.endswith("original0") or name.endswith("weight_g"):
                p.mul_(0.5 + u)  # weight-norm gain no longer equal to ||v||
            elif name.endswith("bias") or ".bias_" in name:  # conv and LSTM biases
                p.copy_(0.4 * u - 0.2)
            elif ".norm.weight" in name:
                p.copy_(0.5 + u)


def main():
    for folder, spec in MODELS.items():
        spec = dict(spec)
        seed = spec.pop("seed")
        torch.manual_seed(seed)
        config = EncodecConfig(**spec)
        model = EncodecModel(config).eval()
        randomize(model, seed)
        out = os.path.join(DATA, folder)
        os.makedirs(out, exist_ok=True)
        model.save_pretrained(out)

        x = clip(config.sampling_rate)
        seg = config.chunk_length or len(x)
        frames = []
        with torch.no_grad():
            for start in range(0, len(x), seg):
                piece = torch.from_numpy(x[start:start + seg]).reshape(1, 1, -1)
                piece = piece.expand(1, config.audio_channels, -1).contiguous()
                emb = model.encoder(piece)  # (1, hidden, frames)
                frames.append(emb[0].transpose(0, 1))
        emb = torch.cat(frames, 0).contiguous()
        save_file({"input": torch.from_numpy(x), "embedding": emb},
                  os.path.join(out, "golden.safetensors"),
                  metadata={"torch": torch.__version__, "transformers": transformers.__version__,
                            "clip": f"sr={config.sampling_rate} n={CLIP_SAMPLES} seed={CLIP_SEED}"})
        names = sorted(k for k in model.state_dict() if k.startswith("encoder."))
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        print(f"{folder}: embedding {tuple(emb.shape)}, max |e| {emb.abs().max():.4f}, "
              f"{len(names)} encoder tensors (e.g. {names[1]}), {size} bytes")


if __name__ == "__main__":
    main()
