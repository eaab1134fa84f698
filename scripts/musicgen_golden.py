#!/usr/bin/env python3
"""Tiny random MusicGen checkpoint + reference outputs for salon-engines' golden tests.

Builds MusicgenForConditionalGeneration with small random weights (tiny T5, 2-layer decoder over
4 codebooks of 64 entries, a narrow 32 kHz EnCodec), saves it with save_pretrained together with a
word-level tokenizer.json, then runs transformers' greedy generation and stores the generated codes
and decoded audio in golden.safetensors (plus golden.json describing the cases).

Usage: python3 scripts/musicgen_golden.py [OUT_DIR]
Needs: torch, transformers, tokenizers, safetensors, numpy.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (EncodecConfig, MusicgenConfig, MusicgenDecoderConfig,
                          MusicgenForConditionalGeneration, T5Config)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "crates", "salon-engines", "tests", "data", "musicgen-tiny")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1234)

WORDS = ("a an and the with of in on calm fast slow soft loud happy sad dark bright piano guitar drums "
         "bass strings synth violin flute choir beat melody rhythm jazz rock pop ambient techno classical "
         "folk orchestral electronic acoustic warm cold gentle heavy dreamy upbeat chill epic lofi song "
         "music track tempo minor major").split()
VOCAB = {"<pad>": 0, "</s>": 1, "<unk>": 2}
for w in WORDS:
    VOCAB.setdefault(w, len(VOCAB))
T5_VOCAB = 64
assert len(VOCAB) <= T5_VOCAB

tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="<unk>"))
tok.normalizer = normalizers.Lowercase()
tok.pre_tokenizer = pre_tokenizers.Whitespace()
tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
tok.save(os.path.join(OUT, "tokenizer.json"))
with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
    json.dump({"model_max_length": 16, "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}, f)

CODEBOOK = 64
t5 = T5Config(vocab_size=T5_VOCAB, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2,
              relative_attention_num_buckets=8, relative_attention_max_distance=16, feed_forward_proj="relu")
enc = EncodecConfig(sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=CODEBOOK,
                    num_filters=4, hidden_size=16, codebook_dim=16, target_bandwidths=[2.2], normalize=False,
                    use_causal_conv=False, chunk_length_s=None, overlap=None, num_lstm_layers=2, compress=2,
                    residual_kernel_size=3, kernel_size=7, last_kernel_size=7, dilation_growth_rate=2,
                    pad_mode="reflect", norm_type="weight_norm", use_conv_shortcut=False)
dec = MusicgenDecoderConfig(vocab_size=CODEBOOK, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                            ffn_dim=64, num_codebooks=4, max_position_embeddings=256, pad_token_id=CODEBOOK,
                            bos_token_id=CODEBOOK, decoder_start_token_id=CODEBOOK, initializer_factor=0.5)
cfg = MusicgenConfig(text_encoder=t5.to_dict(), audio_encoder=enc.to_dict(), decoder=dec.to_dict())
cfg.decoder_start_token_id = CODEBOOK
cfg.pad_token_id = CODEBOOK
model = MusicgenForConditionalGeneration(cfg).eval()
model.set_attn_implementation("eager")
# Random codebooks (the codec's quantizer embeddings are zero-initialised buffers).
with torch.no_grad():
    for layer in model.audio_encoder.quantizer.layers:
        layer.codebook.embed.normal_(0.0, 1.0)
model.generation_config.decoder_start_token_id = CODEBOOK
model.generation_config.pad_token_id = CODEBOOK
model.generation_config.bos_token_id = CODEBOOK
model.generation_config.eos_token_id = None
model.save_pretrained(OUT)

captured = []
orig_decode = model.audio_encoder.decode
def capture_decode(audio_codes, *a, **kw):
    captured.append(audio_codes.clone())
    return orig_decode(audio_codes, *a, **kw)
model.audio_encoder.decode = capture_decode

MAX_NEW = 12
cases = {
    "cfg3": (["calm piano with soft strings"], 3.0),
    "cfg1": (["calm piano with soft strings"], 1.0),
    "batch": (["fast heavy drums and bass", "dreamy ambient synth with a slow gentle melody"], 3.0),
}
tensors, meta = {}, {"max_new_tokens": MAX_NEW, "cases": {}}
min_margin = float("inf")
for name, (prompts, scale) in cases.items():
    batch = tok.encode_batch(prompts)
    n = max(len(e.ids) for e in batch)
    ids = torch.tensor([e.ids + [0] * (n - len(e.ids)) for e in batch])
    mask = torch.tensor([[1] * len(e.ids) + [0] * (n - len(e.ids)) for e in batch])
    captured.clear()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, guidance_scale=scale,
                             max_new_tokens=MAX_NEW, output_logits=True, return_dict_in_generate=True)
    audio = out.sequences
    codes = captured[0][0]  # (batch, codebooks, frames)
    # Smallest gap between the best and second-best guided logit: greedy ties would make the test fragile.
    for step_logits in out.logits:
        top = step_logits.topk(2, dim=-1).values
        min_margin = min(min_margin, float((top[:, 0] - top[:, 1]).min()))
    tensors[f"{name}.input_ids"] = ids.to(torch.int64).contiguous()
    tensors[f"{name}.codes"] = codes.to(torch.int64).contiguous()
    tensors[f"{name}.audio"] = audio.to(torch.float32).contiguous()
    meta["cases"][name] = {"prompts": prompts, "guidance_scale": scale, "frames": int(codes.shape[-1]),
                           "samples": int(audio.shape[-1]), "audio_peak": float(audio.abs().max())}

with torch.no_grad():
    ids = tensors["cfg1.input_ids"]
    tensors["t5.hidden"] = model.text_encoder(input_ids=ids).last_hidden_state.contiguous()
meta["min_greedy_margin"] = min_margin
save_file(tensors, os.path.join(OUT, "golden.safetensors"))
with open(os.path.join(OUT, "golden.json"), "w") as f:
    json.dump(meta, f, indent=1)
print(json.dumps(meta, indent=1))
