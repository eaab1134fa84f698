#!/usr/bin/env python3
"""Golden fixture for salon-eval's CLAP (feature `models`) from the reference PyTorch code,
transformers' ClapModel and ClapFeatureExtractor (enable_fusion=False, truncation "rand_trunc",
padding "repeatpad", as the BittAudio pipeline runs it).

A TINY random ClapModel (HTSAT tower with spec_size 256 and 64 mel bins as released, but 8x8 patches,
window 8, depths [2, 2, 2] (32, 16 and 8 patches a side: the last stage,
as in the released model, is one unshifted window), widths 8/16/32; RoBERTa tower with 2 layers of width 32) is save_pretrained()
into the fixture folder with a tiny byte-level BPE tokenizer.json trained here (RoBERTa's special
tokens and post-processor). Every float tensor is re-drawn from a seeded torch generator so that
nothing is near zero (the relative position tables and batch-norm statistics included).

Audio clips come from a counter-based SplitMix64 hash that the Rust test regenerates bit for bit:
clip A is 3.3 s (repeat-padded to 10 s), clip B is 12 s. rand_trunc would pick a random 10 s
window of B; salon-eval takes the first 10 s, so B[:480000] is what is fed here.

Saved: config.json, model.safetensors, tokenizer.json (the checkpoint folder); features_a.npy
(the extractor's [1001, 64] log-mel of A), features_b_every10.npy (every 10th frame of B's),
audio_embeds.npy [2, d], text_embeds.npy [3, d], similarity.npy [2, 3], meta.json (input ids).

Run: /work/venv-ml/bin/python scripts/clap_golden.py  (transformers 5.x, torch, tokenizers)
"""
import json
import os

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapTextConfig,
                          PreTrainedTokenizerFast)

from golden_common import splitmix_uniform

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "salon-eval", "tests", "fixtures", "clap")
TEXTS = ["upbeat electronic dance music with a heavy bass line", "calm solo piano", "jazz"]
CORPUS = TEXTS + [
    "a rock song with distorted electric guitars and loud drums",
    "ambient synth pads, slow and dreamy",
    "classical string quartet playing a gentle melody",
    "hip hop beat with vinyl crackle and a deep kick",
    "fast drum and bass with a rolling bassline",
]


def clip(seed, samples, tone_hz):
    """A tone plus hash noise, float32: 0.3 sin(2 pi f n / 48000) + 0.2 (2u - 1)."""
    n = np.arange(samples, dtype=np.float64)
    u = splitmix_uniform(seed, samples)
    return (0.3 * np.sin(2.0 * np.pi * tone_hz * n / 48000.0) + 0.2 * (2.0 * u - 1.0)).astype(np.float32)


def build_tokenizer(path):
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=False)
    tok.save(path)
    return tok.get_vocab_size()


def randomize(model, gen):
    state = model.state_dict()
    new = {}
    for name, t in state.items():
        if not t.is_floating_point():
            new[name] = t
            continue
        shape = t.shape
        r = torch.randn(shape, generator=gen, dtype=torch.float64)
        if name.endswith("running_mean"):
            v = -30.0 + 10.0 * r
        elif name.endswith("running_var"):
            v = 100.0 + 50.0 * torch.rand(shape, generator=gen, dtype=torch.float64)
        elif "norm" in name.lower() and name.endswith("weight"):
            v = 1.0 + 0.1 * r
        elif name.endswith("bias") or name.endswith("bias_table") or t.dim() == 0:
            v = 0.1 * r
        elif "embeddings" in name and "patch" not in name:
            v = 0.5 * r
        else:
            fan_in = int(np.prod(shape[1:])) if t.dim() > 1 else 1
            v = r / np.sqrt(fan_in)
        new[name] = v.to(t.dtype)
    model.load_state_dict(new)


def main():
    os.makedirs(OUT, exist_ok=True)
    vocab = build_tokenizer(os.path.join(OUT, "tokenizer.json"))
    acfg = ClapAudioConfig(spec_size=256, num_mel_bins=64, patch_size=8, patch_stride=[8, 8], window_size=8,
                           depths=[2, 2, 2], num_attention_heads=[2, 2, 4], patch_embeds_hidden_size=8, hidden_size=32,
                           enable_fusion=False, mlp_ratio=2.0)
    tcfg = ClapTextConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=48, max_position_embeddings=40, layer_norm_eps=1e-12)
    cfg = ClapConfig(text_config=tcfg.to_dict(), audio_config=acfg.to_dict(), projection_dim=24)
    torch.manual_seed(0)
    model = ClapModel(cfg).eval()
    randomize(model, torch.Generator().manual_seed(1234))
    model.save_pretrained(OUT)

    fe = ClapFeatureExtractor()
    a = clip(11, int(3.3 * 48000), 440.0)
    b = clip(12, 12 * 48000, 1234.5)
    feats = fe([a, b[:480000]], sampling_rate=48000, truncation="rand_trunc", padding="repeatpad",
               return_tensors="pt")["input_features"]
    assert feats.shape == (2, 1, 1001, 64), feats.shape
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(OUT, "tokenizer.json"), pad_token="<pad>",
                                     bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    enc = hf_tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        audio = model.get_audio_features(input_features=feats.float()).pooler_output
        text = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], input_features=feats.float())
    assert torch.allclose(out.audio_embeds, audio, atol=1e-6)
    sim = torch.nn.functional.cosine_similarity(audio[:, None, :], text[None, :, :], dim=-1)

    np.save(os.path.join(OUT, "features_a.npy"), feats[0, 0].numpy().astype(np.float32))
    np.save(os.path.join(OUT, "features_b_every10.npy"), feats[1, 0, ::10].numpy().astype(np.float32))
    np.save(os.path.join(OUT, "audio_embeds.npy"), audio.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "text_embeds.npy"), text.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "similarity.npy"), sim.numpy().astype(np.float32))
    import transformers
    meta = {
        "note": "scripts/clap_golden.py: tiny random ClapModel, transformers ClapFeatureExtractor rand_trunc/repeatpad",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "clips": {"a": {"seed": 11, "samples": len(a), "tone_hz": 440.0},
                  "b": {"seed": 12, "samples": len(b), "tone_hz": 1234.5, "window": "first 480000 samples"}},
        "clip_formula": "0.3 sin(2 pi f n / 48000) + 0.2 (2u - 1), float64 then float32",
        "texts": TEXTS,
        "input_ids": enc["input_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
    }
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("audio", audio.shape, "text", text.shape, "sim", sim.numpy().round(4).tolist())
    for n in sorted(os.listdir(OUT)):
        print(n, os.path.getsize(os.path.join(OUT, n)))


if __name__ == "__main__":
    main()
