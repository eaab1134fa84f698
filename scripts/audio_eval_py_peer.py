#!/usr/bin/env python3
"""The Python evaluation pipeline that Salon's is measured against (issue 6, item 7): the code of
shared/bench/audio_eval_py.py unchanged in method (the device machine's checkout may have no shared/), plus a
batch of clips timed the same way: the same score() looped over CLIPS different 15 s clips.

How long does the Python stack (torchvggish, hear21passt, transformers CLAP) take to embed/classify one
15 s clip on this GPU? Random weights of the real architectures (same compute as released checkpoints).
(a) seed style: build all three models, then score (BittAudio rebuilds them for every response);
(b) models loaded once: per-clip time, median of ITERS (10);
(c) models loaded once: CLIPS (10) different clips scored one after the other, median of ITERS.
(d) as (c) with the first clip and prompt every time.

Run (GPU machine): python3 scripts/audio_eval_py_peer.py [--clips 10] [--iters 10]
"""
import argparse
import os
import json
import statistics
import time

import numpy as np
import torch
from hear21passt.models.passt import get_model as passt_get
from hear21passt.models.preprocess import AugmentMelSTFT
from torchvggish import vggish_input
from torchvggish.torchvggish import _vgg
from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapTextConfig

# PEER_DEVICE=cpu gives the CPU figure (default cuda, as shared/bench/audio_eval_py.py).
dev = os.environ.get("PEER_DEVICE", "cuda")


def sync():
    if dev.startswith("cuda"):
        torch.cuda.synchronize()


def build():
    vgg = _vgg(postprocess=False).to(dev).eval()
    mel = AugmentMelSTFT(n_mels=128, sr=32000, win_length=800, hopsize=320, n_fft=1024, freqm=0, timem=0,
                         htk=False, fmin=0.0, fmax=None, norm=1, fmin_aug_range=10, fmax_aug_range=2000).to(dev).eval()
    passt = passt_get(arch="passt_s_swa_p16_128_ap476", pretrained=False, n_classes=527).to(dev).eval()
    acfg = ClapAudioConfig(depths=[2, 2, 12, 2], num_attention_heads=[4, 8, 16, 32], patch_embeds_hidden_size=128,
                           hidden_size=1024, projection_dim=512, enable_fusion=False)
    tcfg = ClapTextConfig()  # RoBERTa-base
    clap = ClapModel(ClapConfig(text_config=tcfg.to_dict(), audio_config=acfg.to_dict(), projection_dim=512)).to(dev).eval()
    fe = ClapFeatureExtractor()
    return vgg, mel, passt, clap, fe


def score(models, wav32, text_ids):
    vgg, mel, passt, clap, fe = models
    with torch.inference_mode():
        w16 = wav32[::2]
        ex = vggish_input.waveform_to_examples(w16, 16000)
        ex = (ex if torch.is_tensor(ex) else torch.from_numpy(ex)).float().to(dev)
        ex = ex if ex.dim() == 4 else ex.unsqueeze(1)
        e = vgg(ex)
        x = torch.from_numpy(wav32).float().to(dev)
        seg = 320000
        segs = torch.stack([torch.nn.functional.pad(x[i:i + seg], (0, max(0, seg - x[i:i + seg].numel())))
                            for i in range(0, x.numel(), seg)])
        m = mel(segs).unsqueeze(1)
        logits = passt(m)
        logits = logits[0] if isinstance(logits, tuple) else logits
        p = logits.softmax(-1).mean(0)
        w48 = np.interp(np.arange(0, len(wav32), 32000 / 48000), np.arange(len(wav32)), wav32).astype(np.float32)
        feats = fe(w48[:480000], sampling_rate=48000, truncation="rand_trunc", return_tensors="pt")["input_features"].to(dev)
        a = clap.get_audio_features(input_features=feats)
        t = clap.get_text_features(input_ids=text_ids)
        a = a.pooler_output if hasattr(a, "pooler_output") else a
        t = t.pooler_output if hasattr(t, "pooler_output") else t
        c = torch.nn.functional.cosine_similarity(a, t).item()
        sync()
    return e.shape, p.shape, c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=10)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    wav = (0.1 * rng.standard_normal(32000 * 15)).astype(np.float32)
    ids = torch.randint(0, 50000, (1, 16), device=dev)
    sync()
    t = time.time()
    models = build()
    score(models, wav, ids)
    seed_style = time.time() - t
    for _ in range(3):
        score(models, wav, ids)
    ts = []
    for _ in range(args.iters):
        t = time.time()
        score(models, wav, ids)
        ts.append(time.time() - t)
    print(json.dumps({"impl": "python (torchvggish + hear21passt + transformers CLAP), fp32",
                      "seed_style_build_and_score_s": round(seed_style, 2),
                      "loaded_once_per_clip_s_median": round(statistics.median(ts), 3),
                      "min": round(min(ts), 3), "max": round(max(ts), 3)}), flush=True)

    # (c) a batch: different clips and prompts, each scored as above, one after the other.
    wavs = [(0.1 * np.random.default_rng(100 + i).standard_normal(32000 * 15)).astype(np.float32)
            for i in range(args.clips)]
    texts = [torch.randint(0, 50000, (1, 16), device=dev) for _ in range(args.clips)]
    for w, i in zip(wavs, texts):
        score(models, w, i)
    bs = []
    for _ in range(args.iters):
        t = time.time()
        for w, i in zip(wavs, texts):
            score(models, w, i)
        bs.append(time.time() - t)
    print(json.dumps({"impl": "python (torchvggish + hear21passt + transformers CLAP), fp32",
                      "batch": args.clips, "batch_s_median": round(statistics.median(bs), 3),
                      "batch_min": round(min(bs), 3), "batch_max": round(max(bs), 3),
                      "batch_per_clip_s": round(statistics.median(bs) / args.clips, 3)}), flush=True)

    # (d) as (c), the first clip and prompt CLIPS times: whether (b) and (c) differ by the clips
    # or by the loop.
    rs = []
    for _ in range(args.iters):
        t = time.time()
        for _ in range(args.clips):
            score(models, wavs[0], texts[0])
        rs.append(time.time() - t)
    print(json.dumps({"impl": "python (torchvggish + hear21passt + transformers CLAP), fp32",
                      "same_clip_repeated": args.clips,
                      "per_clip_s": round(statistics.median(rs) / args.clips, 3)}), flush=True)


if __name__ == "__main__":
    main()
