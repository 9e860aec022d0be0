"""Block-wise random streams: the same rows for the same seed, however the work is split.

Shared by every subpackage that draws rows in blocks (synth generators, privacy and sharing
simulations).

Rows are generated in fixed-size blocks. Block ``b`` of stream ``key`` always draws from
``numpy.random.SeedSequence(seed, spawn_key=(key, b))``, so a block's numbers depend only on
the seed, the stream and the block's position, never on which worker or partition made it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

from healthlab._validation import check_seed

__all__ = ["BLOCK_SIZE", "block_rng", "blocks", "check_seed", "stream_key"]

#: Rows per block. Part of the reproducibility contract: changing it changes every dataset.
BLOCK_SIZE = 65_536


def stream_key(name: str) -> int:
    """A stable integer key for a named stream (for example ``"population"``)."""
    # Not Python's hash(): that changes between processes.
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def block_rng(seed: int, stream: str, block: int) -> np.random.Generator:
    """The generator for one block of one stream."""
    ss = np.random.SeedSequence(check_seed(seed), spawn_key=(stream_key(stream), int(block)))
    return np.random.default_rng(ss)


def blocks(
    n_rows: int,
    seed: int,
    stream: str,
    *,
    block_size: int = BLOCK_SIZE,
    first: int = 0,
    last: int | None = None,
) -> Iterator[tuple[int, int, np.random.Generator]]:
    """Yield ``(start, stop, rng)`` for the blocks ``first`` to ``last`` (exclusive) of ``n_rows``.

    Splitting a range of blocks across workers and concatenating their rows in block order gives
    exactly the rows one process would make.
    """
    n_blocks = -(-n_rows // block_size)
    last = n_blocks if last is None else min(last, n_blocks)
    for b in range(first, last):
        start = b * block_size
        yield start, min(start + block_size, n_rows), block_rng(seed, stream, b)
