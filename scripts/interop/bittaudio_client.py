"""A BittAudio-style validator client (bittensor 10.5.0 Dendrite, BittAudio's MusicGeneration class)
querying one axon. Prints one JSON line: status, samples, seconds, finite.

  bittaudio_client.py --ip 127.0.0.1 --port N --hotkey SS58 [--duration 755]
"""
import argparse
import asyncio
import json
import math
import tempfile
from typing import Any, List, Optional

import bittensor.utils.networking as networking

networking.get_external_ip = lambda: "127.0.0.1"

import bittensor as bt  # noqa: E402
import pydantic  # noqa: E402
from bittensor.core.chain_data import AxonInfo  # noqa: E402
from bittensor_wallet import Wallet  # noqa: E402


class MusicGeneration(bt.Synapse):
    text_input: Optional[str] = None
    model_name: Optional[str] = None
    music_output: Optional[List[Any]] = pydantic.Field(default_factory=list)
    duration: Optional[int] = None


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hotkey", required=True)
    ap.add_argument("--duration", type=int, default=755)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        w = Wallet(name="v", hotkey="h", path=d)
        w.create_new_coldkey(use_password=False, overwrite=True, suppress=True)
        w.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
        dendrite = bt.Dendrite(wallet=w)
        axon = AxonInfo(version=1, ip=a.ip, port=a.port, ip_type=4, hotkey=a.hotkey, coldkey=a.hotkey)
        syn = MusicGeneration(text_input="an upbeat electronic dance track at 128 bpm",
                              model_name="facebook/musicgen-medium", duration=a.duration)
        out = await dendrite.forward(axons=[axon], synapse=syn, timeout=60, deserialize=False)
        r = out[0]
        samples = r.music_output or []
        print(json.dumps({
            "status": r.dendrite.status_code,
            "message": r.dendrite.status_message,
            "samples": len(samples),
            "seconds": len(samples) / 32000.0,
            "finite": all(isinstance(x, (int, float)) and math.isfinite(x) for x in samples),
            "peak": max((abs(x) for x in samples), default=0.0),
        }))
        await dendrite.aclose_session()


asyncio.run(main())
