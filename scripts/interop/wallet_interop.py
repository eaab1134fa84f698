#!/usr/bin/env python3
"""Wallet interop helper for salon-keys' tests: the Python side, using bittensor-wallet.

  make DIR PASSWORD MSG_HEX   create wallets with bittensor_wallet under DIR and sign MSG with them
  read DIR PASSWORD MSG_HEX   read the wallets Salon made under DIR, sign MSG, and print what was read
  verify SS58 MSG_HEX SIG_HEX check an sr25519 signature with bittensor_wallet.Keypair.verify

Every command prints one JSON object on stdout. Nothing touches a network.
"""
import json
import sys

from bittensor_wallet import Keypair, Wallet


def key_info(kp, msg):
    return {"ss58": kp.ss58_address, "sig": "0x" + kp.sign(msg).hex()}


def make(path, password, msg):
    plain = Wallet(name="pyplain", hotkey="hk", path=path)
    plain.create_new_coldkey(n_words=12, use_password=False, overwrite=False, suppress=True)
    plain.create_new_hotkey(n_words=24, use_password=False, overwrite=False, suppress=True)
    enc = Wallet(name="pyenc", hotkey="hk", path=path)
    enc.create_new_coldkey(
        n_words=12, use_password=True, coldkey_password=password, overwrite=False, suppress=True
    )
    return {
        "plain_coldkey": key_info(plain.coldkey, msg),
        "plain_hotkey": key_info(plain.hotkey, msg),
        "enc_coldkeypub": enc.coldkeypub.ss58_address,
    }


def read(path, password, msg):
    plain = Wallet(name="rsplain", hotkey="hk", path=path)
    seeded = Wallet(name="rsseed", hotkey="hk", path=path)
    enc = Wallet(name="rsenc", hotkey="hk", path=path)
    enc_cold = enc.coldkey_file.get_keypair(password=password)
    return {
        "plain_coldkey": key_info(plain.coldkey, msg),
        "plain_coldkeypub": plain.coldkeypub.ss58_address,
        "plain_hotkey": key_info(plain.hotkey, msg),
        "plain_hotkeypub": plain.hotkeypub.ss58_address,
        "seed_hotkey": key_info(seeded.hotkey, msg),
        "enc_coldkey": key_info(enc_cold, msg),
        "enc_coldkey_encrypted": enc.coldkey_file.is_encrypted(),
    }


def verify(ss58, msg, sig):
    return {"valid": bool(Keypair(ss58_address=ss58).verify(msg, sig))}


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd in ("make", "read") and len(argv) == 5:
        fn = make if cmd == "make" else read
        out = fn(argv[2], argv[3], bytes.fromhex(argv[4]))
    elif cmd == "verify" and len(argv) == 5:
        out = verify(argv[2], bytes.fromhex(argv[3]), bytes.fromhex(argv[4].removeprefix("0x")))
    else:
        sys.exit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv)
