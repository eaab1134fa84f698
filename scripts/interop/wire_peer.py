"""Python bittensor 10.5.0 peer for salon-wire's interop tests and benchmark.

  wire_peer.py dendrite --ip IP --port N --hotkey SS58   # query a Salon axon, one JSON line per check
  wire_peer.py axon --port N                             # serve Echo + MusicGeneration; prints READY <hotkey>

Offline: get_external_ip is patched and external_ip is passed to Axon (no internet, no chain).
"""
import argparse
import asyncio
import base64
import io
import json
import sys
import tempfile
import time
import typing
from typing import Any, ClassVar, List, Optional, Union

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import aiohttp  # noqa: E402
import bittensor as bt  # noqa: E402
import pydantic  # noqa: E402
from bittensor.core.chain_data import AxonInfo  # noqa: E402
from bittensor_wallet import Keypair, Wallet  # noqa: E402


# Seed synapse classes, field for field as the seeds' protocol.py files define them.
class MusicGeneration(bt.Synapse):
    text_input: Optional[str] = None
    model_name: Optional[str] = None
    music_output: Optional[List[Any]] = pydantic.Field(default_factory=list)
    duration: Optional[int] = None


class TextToSpeech(bt.Synapse):
    text_input: str = None
    model_name: Optional[str] = None
    clone_input: List = None
    speech_output: List = None


class VoiceClone(bt.Synapse):
    text_input: str = None
    clone_input: List = None
    clone_output: List = None
    sample_rate: int = None
    hf_voice_id: str = None
    model_name: Optional[str] = None


class ImageGenerating(bt.Synapse):
    prompt: str = ""
    seed: int = 0
    model_name: str = ""
    conditional_image: str = ""
    pipeline_type: str = "txt2img"
    pipeline_params: dict = {}
    request_dict: dict = {}
    response_dict: dict = {}
    image: str = ""


class ImageSynapse(bt.Synapse):
    testnet_label: int = -1
    image: str = ""
    prediction: Union[float, List[float]] = -1.0


class Echo(bt.Synapse):
    """A synapse with a hashed field, so tampering is detectable."""
    text: str = ""
    reply: Optional[str] = None
    required_hash_fields: ClassVar[typing.Tuple[str, ...]] = ("text",)


class Unknown(bt.Synapse):
    x: int = 0


def png_b64(w=8, h=8):
    # A minimal valid PNG made with zlib, no PIL needed.
    import struct
    import zlib

    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def emit(check, syn=None, **extra):
    out = {"check": check}
    if syn is not None:
        out["status"] = int(syn.dendrite.status_code) if syn.dendrite.status_code is not None else None
        out["message"] = syn.dendrite.status_message
    out.update(extra)
    print(json.dumps(out), flush=True)


async def raw_post(dendrite, info, synapse, mutate=None, body_mutate=None, timeout=20.0):
    """Sends a synapse prepared exactly as the SDK dendrite prepares it, optionally altered,
    and returns (status, message) as the SDK dendrite would report them."""
    syn = dendrite.preprocess_synapse_for_request(info, synapse, timeout)
    if mutate:
        mutate(syn)
    headers = syn.to_headers()
    body = syn.model_dump()
    if body_mutate:
        body_mutate(body)
    url = f"http://{info.ip}:{info.port}/{syn.__class__.__name__}"
    async with aiohttp.ClientSession() as s:
        async with s.post(url, headers=headers, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            js = await r.json()
            dendrite.process_server_response(r, js, syn)
    return syn


def resign(kp, syn, axon_hotkey, nonce=None, signer=None):
    if nonce is not None:
        syn.dendrite.nonce = nonce
    msg = f"{syn.dendrite.nonce}.{syn.dendrite.hotkey}.{axon_hotkey}.{syn.dendrite.uuid}.{syn.body_hash}"
    syn.dendrite.signature = "0x" + (signer or kp).sign(msg).hex()


async def run_dendrite(a):
    kp = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    d = bt.Dendrite(wallet=kp)
    d.external_ip = "127.0.0.2"  # not the target ip, so the SDK dials the target address as given
    info = AxonInfo(version=0, ip=a.ip, port=a.port, ip_type=4, hotkey=a.hotkey, coldkey=a.hotkey)
    T = 30.0

    r = await d.forward(info, MusicGeneration(text_input="calm piano", model_name="facebook/musicgen-medium", duration=755), timeout=T, deserialize=False)
    out = r.music_output or []
    emit("MusicGeneration", r, n=len(out), all_float=all(isinstance(x, float) for x in out[:1000]))
    r = await d.forward(info, TextToSpeech(text_input="hello world", model_name="suno/bark"), timeout=T, deserialize=False)
    emit("TextToSpeech", r, n=len(r.speech_output or []))
    r = await d.forward(info, VoiceClone(text_input="hello", clone_input=[[0.0] * 1600], sample_rate=16000, hf_voice_id="v2/en_speaker_1", model_name="suno/bark"), timeout=T, deserialize=False)
    emit("VoiceClone", r, n=len(r.clone_output or []), sample_rate=r.sample_rate)
    r = await d.forward(info, ImageGenerating(prompt="a red fox", seed=7, model_name="RealitiesEdgeXL", pipeline_params={"width": 64, "height": 32, "num_inference_steps": 10}), timeout=T, deserialize=False)
    emit("ImageGenerating", r, image_len=len(r.image), response_dict=r.response_dict)
    r = await d.forward(info, ImageSynapse(image=png_b64()), timeout=T, deserialize=False)
    emit("ImageSynapse", r, prediction=r.prediction)
    r = await d.forward(info, Echo(text="hi"), timeout=T, deserialize=False)
    emit("Echo", r, reply=r.reply)
    r = await d.forward(info, bt.Synapse(), timeout=T, deserialize=False)
    emit("Ping", r)

    # Refusals.
    other = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    r = await raw_post(d, info, Echo(text="x"), mutate=lambda s: resign(kp, s, a.hotkey, signer=other))
    emit("forged_signature", r)
    first = {}

    def keep(s):
        first["dendrite"] = s.dendrite.model_copy()

    r = await raw_post(d, info, Echo(text="once"), mutate=keep)
    emit("replay_original", r)

    def replay(s):
        s.dendrite = first["dendrite"]

    r = await raw_post(d, info, Echo(text="once"), mutate=replay)
    emit("replayed_nonce", r)
    d2 = bt.Dendrite(wallet=Keypair.create_from_mnemonic(Keypair.generate_mnemonic()))
    d2.external_ip = "127.0.0.2"
    r = await raw_post(d2, info, Echo(text="x"), mutate=lambda s: resign(d2.keypair, s, a.hotkey, nonce=time.time_ns() - 60 * 10**9))
    emit("stale_nonce", r)
    d3 = bt.Dendrite(wallet=Keypair.create_from_mnemonic(Keypair.generate_mnemonic()))
    d3.external_ip = "127.0.0.2"
    r = await raw_post(d3, info, Echo(text="x"), mutate=lambda s: resign(d3.keypair, s, a.hotkey, nonce=time.time_ns() + 60 * 10**9))
    emit("future_nonce", r)
    r = await raw_post(d, info, Echo(text="orig"), body_mutate=lambda b: b.__setitem__("text", "evil"))
    emit("tampered_body", r)
    r = await d.forward(info, Unknown(), timeout=T, deserialize=False)
    emit("unknown_synapse", r)
    r = await d.forward(info, MusicGeneration(text_input="x" * (2 << 20)), timeout=T, deserialize=False)
    emit("oversized_body", r)
    r = await d.forward(info, Echo(text="after"), timeout=T, deserialize=False)
    emit("still_serving", r, reply=r.reply)
    await d.aclose_session()


def run_axon(a):
    wallet = Wallet(name="interop", hotkey="axon", path=tempfile.mkdtemp())
    wallet.create_new_coldkey(use_password=False, overwrite=True, suppress=True)
    wallet.create_new_hotkey(use_password=False, overwrite=True, suppress=True)

    def echo(synapse: Echo) -> Echo:
        synapse.reply = synapse.text.upper()
        return synapse

    def music(synapse: MusicGeneration) -> MusicGeneration:
        synapse.music_output = [0.25] * 32000
        return synapse

    axon = bt.Axon(wallet=wallet, port=a.port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=echo).attach(forward_fn=music)
    axon.start()
    import socket

    deadline = time.time() + 30
    while time.time() < deadline:  # uvicorn starts in a thread: wait until it accepts
        try:
            socket.create_connection(("127.0.0.1", a.port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    print(f"READY {wallet.hotkey.ss58_address}", flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin
    finally:
        axon.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["dendrite", "axon"])
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hotkey", default="")
    a = p.parse_args()
    if a.mode == "dendrite":
        asyncio.run(run_dendrite(a))
    else:
        run_axon(a)


if __name__ == "__main__":
    main()
