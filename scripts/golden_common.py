"""What the golden-fixture scripts share: the counter-based SplitMix64 hash their Rust tests regenerate
bit for bit, so random inputs and weights need not be committed.

The scripts run as `python3 scripts/X.py`, which puts this folder on sys.path:
`from golden_common import splitmix_uniform`.
"""

import numpy as np


def splitmix_uniform(seed, count, chunk=1 << 22):
    """u[k] in [0, 1) for k < count: SplitMix64's output for state seed + (k + 1) * golden gamma, top
    53 bits. Computed `chunk` values at a time so that millions of weights need little memory."""
    out = np.empty(count, dtype=np.float64)
    with np.errstate(over="ignore"):
        for start in range(0, count, chunk):
            k = np.arange(start + 1, min(count, start + chunk) + 1, dtype=np.uint64)
            z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            out[start:start + len(k)] = (z >> np.uint64(11)).astype(np.float64) * (1.0 / float(1 << 53))
    return out
