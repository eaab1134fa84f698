#!/usr/bin/env python3
"""Tiny random MusicGen Melody checkpoint + reference outputs for salon-engines' golden tests.

Builds MusicgenMelodyForConditionalGeneration with small random weights (same tiny T5 and EnCodec
shapes as scripts/musicgen_golden.py, a 2-layer decoder without cross-attention, 16 chroma frames),
saves it with save_pretrained next to the word-level tokenizer of the musicgen-tiny fixture, then
runs transformers' greedy generation with and without a reference melody and stores the chroma
features, codes and decoded audio in golden.safetensors (plus golden.json).

The chroma comes from transformers' MusicgenMelodyFeatureExtractor code; only its torchaudio
Spectrogram is replaced by the same transform written with torch.stft (torchaudio wheels do not
always match the installed torch), with torchaudio's documented settings: Hann window, centred
reflect padding, frame-length normalisation, power 2.

Usage: python3 scripts/musicgen_melody_golden.py [OUT_DIR]   (run scripts/musicgen_golden.py first)
"""
import json
import math
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import EncodecConfig, T5Config
from transformers.models.musicgen_melody import (MusicgenMelodyConfig, MusicgenMelodyDecoderConfig,
                                                 MusicgenMelodyForConditionalGeneration)
from transformers.models.musicgen_melody.feature_extraction_musicgen_melody import MusicgenMelodyFeatureExtractor
from transformers.audio_utils import chroma_filter_bank
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "crates", "salon-engines", "tests", "data")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(DATA, "musicgen-melody-tiny")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(4321)
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(DATA, "musicgen-tiny", f), os.path.join(OUT, f))
tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))

CODEBOOK = 64
t5 = T5Config(vocab_size=64, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2,
              relative_attention_num_buckets=8, relative_attention_max_distance=16, feed_forward_proj="relu")
enc = EncodecConfig(sampling_rate=32000, audio_channels=1, upsampling_ratios=[8, 5, 4, 4], codebook_size=CODEBOOK,
                    num_filters=4, hidden_size=16, codebook_dim=16, target_bandwidths=[2.2], normalize=False,
                    use_causal_conv=False, chunk_length_s=None, overlap=None, num_lstm_layers=2, compress=2,
                    residual_kernel_size=3, kernel_size=7, last_kernel_size=7, dilation_growth_rate=2,
                    pad_mode="reflect", norm_type="weight_norm", use_conv_shortcut=False)
dec = MusicgenMelodyDecoderConfig(vocab_size=CODEBOOK, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  ffn_dim=64, num_codebooks=4, max_position_embeddings=256, pad_token_id=CODEBOOK,
                                  bos_token_id=CODEBOOK, decoder_start_token_id=CODEBOOK, initializer_factor=0.5)
cfg = MusicgenMelodyConfig(text_encoder=t5.to_dict(), audio_encoder=enc.to_dict(), decoder=dec.to_dict(),
                           num_chroma=12, chroma_length=16)
cfg.decoder_start_token_id = CODEBOOK
cfg.pad_token_id = CODEBOOK
model = MusicgenMelodyForConditionalGeneration(cfg).eval()
model.set_attn_implementation("eager")
with torch.no_grad():
    for layer in model.audio_encoder.quantizer.layers:
        layer.codebook.embed.normal_(0.0, 1.0)
for k in ("decoder_start_token_id", "pad_token_id", "bos_token_id"):
    setattr(model.generation_config, k, CODEBOOK)
model.generation_config.eos_token_id = None
model.save_pretrained(OUT)

# The feature extractor without its torchaudio dependency (see the module docstring).
fe = MusicgenMelodyFeatureExtractor.__new__(MusicgenMelodyFeatureExtractor)
fe.n_fft, fe.hop_length, fe.sampling_rate = 16384, 4096, 32000
fe.chroma_filters = torch.from_numpy(chroma_filter_bank(sampling_rate=32000, num_frequency_bins=fe.n_fft, tuning=0,
                                                        num_chroma=12)).float()
window = torch.hann_window(fe.n_fft)
def spectrogram(wav):
    spec = torch.stft(wav, fe.n_fft, hop_length=fe.hop_length, win_length=fe.n_fft, window=window, center=True,
                      pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    spec = spec / window.pow(2.0).sum().sqrt()
    return spec.abs().pow(2.0)
fe.spectrogram = spectrogram

# A reference clip: C4, E4, G4 then A4, 0.3 s each, with a quiet octave above.
sr = 32000
t = torch.arange(int(0.3 * sr)) / sr
notes = [261.63, 329.63, 392.0, 440.0]
melody = torch.cat([0.5 * torch.sin(2 * math.pi * f * t) + 0.1 * torch.sin(4 * math.pi * f * t) for f in notes])
chroma = fe._torch_extract_fbank_features(melody[None].float())  # (1, frames, 12)

captured = []
orig_decode = model.audio_encoder.decode
def capture_decode(audio_codes, *a, **kw):
    captured.append(audio_codes.clone())
    return orig_decode(audio_codes, *a, **kw)
model.audio_encoder.decode = capture_decode

MAX_NEW = 12
PROMPT = "calm piano with soft strings"
enc_ids = tok.encode(PROMPT).ids
ids = torch.tensor([enc_ids])
tensors = {"melody.wav": melody.float().contiguous(), "melody.chroma": chroma[0].contiguous()}
meta = {"max_new_tokens": MAX_NEW, "prompt": PROMPT, "cases": {}}
min_margin = float("inf")
for name, features in (("melody", chroma), ("nomelody", None)):
    captured.clear()
    kw = dict(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, guidance_scale=3.0,
              max_new_tokens=MAX_NEW, output_logits=True, return_dict_in_generate=True)
    if features is not None:
        kw["input_features"] = features
    with torch.no_grad():
        out = model.generate(**kw)
    for step_logits in out.logits:
        top = step_logits.topk(2, dim=-1).values
        min_margin = min(min_margin, float((top[:, 0] - top[:, 1]).min()))
    tensors[f"{name}.codes"] = captured[0][0].to(torch.int64).contiguous()
    tensors[f"{name}.audio"] = out.sequences.to(torch.float32).contiguous()
    meta["cases"][name] = {"frames": int(captured[0].shape[-1]), "samples": int(out.sequences.shape[-1])}
meta["min_greedy_margin"] = min_margin
meta["chroma_classes"] = chroma[0].argmax(-1).tolist()
save_file(tensors, os.path.join(OUT, "golden.safetensors"))
with open(os.path.join(OUT, "golden.json"), "w") as f:
    json.dump(meta, f, indent=1)
print(json.dumps(meta, indent=1))
