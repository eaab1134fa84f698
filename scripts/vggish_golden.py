#!/usr/bin/env python3
"""Golden fixture for salon-eval's VGGish (feature `models`) from the reference PyTorch code,
torchvggish 0.2 (PyPI): its numpy log-mel frontend (vggish_input.waveform_to_examples) and its VGG
with the final ReLU removed and no PCA, as the FAD peers use it (frechet-audio-distance, fadtk).

Weights are random but not stored: every tensor is filled from a counter-based SplitMix64 hash
(seed per tensor, scaled uniform), which the Rust test regenerates bit for bit. The input is 2 s of
16 kHz noise from the same hash. Only the log-mel examples and the embeddings are committed.

Setup: python3 -m venv /work/venv-eval; pip install numpy; pip install --no-deps torchvggish==0.2;
any torch importable. resampy and soundfile (imported by vggish_input, unused at 16 kHz) are stubbed.
Run: /work/venv-eval/bin/python scripts/vggish_golden.py
"""
import json
import os
import sys
import types

import numpy as np
import torch

from golden_common import splitmix_uniform

for name in ("resampy", "soundfile"):
    sys.modules.setdefault(name, types.ModuleType(name))
from torchvggish import vggish_input  # noqa: E402
from torchvggish.torchvggish import _vgg  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-eval", "tests", "fixtures", "vggish")


def fill(shape, seed, half_width):
    """float32 values (2u - 1) * half_width, computed in float64 then rounded once."""
    n = int(np.prod(shape))
    return ((2.0 * splitmix_uniform(seed, n) - 1.0) * half_width).astype(np.float32).reshape(shape)


def main():
    os.makedirs(OUT, exist_ok=True)
    model = _vgg().eval()
    # Drop the final ReLU of the embedding head, as the FAD peers do.
    model.embeddings = torch.nn.Sequential(*list(model.embeddings.children())[:-1])
    state = {}
    for i, (name, p) in enumerate(sorted(model.state_dict().items())):
        if name.endswith("weight"):
            fan_in = int(np.prod(p.shape[1:]))
            half = np.sqrt(6.0 / fan_in)
        else:
            half = 0.05
        state[name] = torch.from_numpy(fill(tuple(p.shape), 1000 + i, half))
    model.load_state_dict(state)

    wav = ((2.0 * splitmix_uniform(7, 32000) - 1.0) * 0.5).astype(np.float32)
    examples = vggish_input.waveform_to_examples(wav, 16000)  # [2, 1, 96, 64] float32
    with torch.no_grad():
        emb = model(examples.detach()).numpy()
    # 2-D [examples * 96, 64], as salon-eval's .npy reader takes matrices.
    np.save(os.path.join(OUT, "examples.npy"), examples.detach().numpy().reshape(-1, 64))
    np.save(os.path.join(OUT, "embeddings.npy"), emb.astype(np.float32))
    meta = {
        "note": "torchvggish 0.2, postprocess off, final ReLU removed; scripts/vggish_golden.py",
        "torch": torch.__version__,
        "wav": {"seed": 7, "samples": 32000, "half_width": 0.5},
        "weights": {"seed_base": 1000, "order": "state_dict names sorted", "weight_half_width": "sqrt(6/fan_in)",
                    "bias_half_width": 0.05},
        "tensors": [[n, list(t.shape)] for n, t in sorted(state.items())],
    }
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(examples.shape, emb.shape, float(np.abs(emb).max()))


if __name__ == "__main__":
    main()
