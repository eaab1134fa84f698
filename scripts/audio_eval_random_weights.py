#!/usr/bin/env python3
"""Random weights of the released shapes of the three BittAudio evaluation models, in the files their
released checkpoints come in, for the speed benchmark (scripts/audio_eval_gpu_bench.sh; the compute of a
network does not depend on its weights, and no hub can be reached from the GPU machine):

  OUT/vggish.pth  torchvggish's VGG (postprocess=False) state dict, as vggish-10086976.pth
                  (features.*, embeddings.*), torch.save
  OUT/passt.pt    hear21passt's passt_s_swa_p16_128_ap476 (pretrained=False, 527 classes) state dict,
                  as passt-s-f128-p16-s10-ap.476-swa.pt, torch.save
  OUT/clap/       a transformers ClapModel of laion/larger_clap_music's config (HTSAT audio tower: depths
                  [2, 2, 12, 2], heads [4, 8, 16, 32], patch embeds 128, hidden 1024, no fusion; RoBERTa-base
                  text tower; projection 512) save_pretrained (config.json, model.safetensors), its
                  ClapFeatureExtractor's preprocessor_config.json, and a tokenizer.json: a byte-level BPE
                  trained here on a few hundred words with RoBERTa's special tokens (<s> 0, <pad> 1, </s> 2,
                  <unk> 3, <mask>) and post-processor (<s> ... </s>); its vocabulary is smaller than the
                  config's 50265, which only the token ids' range depends on.

Run: python3 scripts/audio_eval_random_weights.py OUT   (torch, transformers, tokenizers, torchvggish,
hear21passt; about 1.4 GB written)
"""
import contextlib
import io
import os
import sys

import torch
from hear21passt.models.passt import get_model as passt_get
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from torchvggish.torchvggish import _vgg
from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapTextConfig

WORDS = """
upbeat electronic dance music with a heavy bass line calm solo piano jazz trio brushed drums walking bass
rock song distorted electric guitars loud drums ambient synth pads slow dreamy classical string quartet gentle
melody hip hop beat vinyl crackle deep kick fast drum and bass rolling bassline lofi chill relaxing study
orchestral cinematic epic trailer brass horns choir strings percussion timpani acoustic guitar folk ballad
singer songwriter country banjo fiddle bluegrass reggae offbeat skank dub echo funk groove slap bass disco
four on the floor house techno minimal trance arpeggio euphoric breakdown drop dubstep wobble trap hi hats
808 boom bap sample chopped soul gospel organ blues shuffle harmonica swing big band saxophone trumpet
trombone clarinet flute oboe bassoon harp celesta glockenspiel marimba vibraphone xylophone steel drums
latin salsa bossa nova samba tango flamenco afrobeat highlife kora sitar tabla raga gamelan koto shamisen
erhu guzheng didgeridoo bagpipes accordion polka waltz march lullaby nursery rhyme children happy sad dark
bright warm cold aggressive peaceful energetic mellow melancholic uplifting mysterious tense suspenseful
romantic nostalgic playful quirky heroic triumphant somber haunting ethereal lush sparse dense driving
steady syncopated rubato staccato legato crescendo major minor key tempo bpm slow medium fast very loud
quiet soft hard heavy light metal punk grunge indie alternative pop synthwave retro eighties nineties vintage
modern futuristic industrial noise glitch experimental drone field recording rain thunder ocean waves birds
wind forest city night morning summer winter christmas holiday party workout meditation yoga sleep focus
video game chiptune eight bit boss battle level theme menu music film score documentary commercial jingle
intro outro loop verse chorus bridge solo riff hook vocal chops humming whistling clapping snapping stomp
piano keys electric piano rhodes wurlitzer clavinet hammond moog analog digital modular sequencer vocoder
""".split()


def tokenizer(path):
    """A RoBERTa-style byte-level BPE (vocabulary of 1000) trained on WORDS; returns its size."""
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    sentences = [" ".join(WORDS[i:i + 8]) for i in range(0, len(WORDS), 8)]
    tok.train_from_iterator(sentences * 4, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=False)
    assert [tok.token_to_id(t) for t in ["<s>", "<pad>", "</s>", "<unk>"]] == [0, 1, 2, 3]
    tok.save(path)
    return tok.get_vocab_size()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: audio_eval_random_weights.py OUT_DIR")
    out = sys.argv[1]
    clap_dir = os.path.join(out, "clap")
    os.makedirs(clap_dir, exist_ok=True)
    torch.manual_seed(0)

    torch.save(_vgg(postprocess=False).state_dict(), os.path.join(out, "vggish.pth"))

    with contextlib.redirect_stdout(io.StringIO()):  # get_model prints the network
        passt = passt_get(arch="passt_s_swa_p16_128_ap476", pretrained=False, n_classes=527)
    torch.save(passt.state_dict(), os.path.join(out, "passt.pt"))
    del passt

    vocab = tokenizer(os.path.join(clap_dir, "tokenizer.json"))
    acfg = ClapAudioConfig(depths=[2, 2, 12, 2], num_attention_heads=[4, 8, 16, 32], patch_embeds_hidden_size=128,
                           hidden_size=1024, projection_dim=512, enable_fusion=False)
    tcfg = ClapTextConfig()  # RoBERTa-base, vocab_size 50265
    assert tcfg.vocab_size >= vocab, (tcfg.vocab_size, vocab)
    cfg = ClapConfig(text_config=tcfg.to_dict(), audio_config=acfg.to_dict(), projection_dim=512)
    ClapModel(cfg).eval().save_pretrained(clap_dir)
    ClapFeatureExtractor().save_pretrained(clap_dir)
    for name in sorted(os.listdir(out)) + ["clap/" + n for n in sorted(os.listdir(clap_dir))]:
        path = os.path.join(out, name)
        if os.path.isfile(path):
            print(f"{path}: {os.path.getsize(path) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
