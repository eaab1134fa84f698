#!/usr/bin/env python3
"""Saves a MusicGen checkpoint of a released shape (small, medium, large) with random weights.

Same tensor names and shapes as facebook/musicgen-*, so compute cost equals the released models';
the tokenizer is the tiny word-level one of the golden fixture (token ids only matter for speed).
Usage: python3 scripts/musicgen_random_checkpoint.py small OUT_DIR [--fp16]
"""
import os
import shutil
import sys

import torch
from transformers import (EncodecConfig, MusicgenConfig, MusicgenDecoderConfig,
                          MusicgenForConditionalGeneration, T5Config)

SIZES = {"small": (1024, 24, 16), "medium": (1536, 48, 24), "large": (2048, 48, 32)}


def build(size):
    h, layers, heads = SIZES[size]
    t5 = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    enc = EncodecConfig(sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=2048,
                        num_filters=64, hidden_size=128, target_bandwidths=[2.2], normalize=False,
                        use_causal_conv=False, chunk_length_s=None, overlap=None, num_lstm_layers=2, compress=2,
                        residual_kernel_size=3, kernel_size=7, last_kernel_size=7, dilation_growth_rate=2,
                        codebook_dim=128, pad_mode="reflect", norm_type="weight_norm", use_conv_shortcut=False)
    dec = MusicgenDecoderConfig(vocab_size=2048, hidden_size=h, num_hidden_layers=layers, num_attention_heads=heads,
                                ffn_dim=4 * h, num_codebooks=4, max_position_embeddings=2048)
    cfg = MusicgenConfig(text_encoder=t5.to_dict(), audio_encoder=enc.to_dict(), decoder=dec.to_dict())
    return MusicgenForConditionalGeneration(cfg).eval()


if __name__ == "__main__":
    size, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = build(size)
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_(0.0, 1.0)
    if "--fp16" in sys.argv:
        model = model.half()
    model.save_pretrained(out)
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "salon-engines", "tests",
                           "data", "musicgen-tiny", "tokenizer.json")
    shutil.copy(fixture, os.path.join(out, "tokenizer.json"))
    print(out)
