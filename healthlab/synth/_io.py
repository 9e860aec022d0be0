"""Writing tables as Parquet partitions, each file whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd


def write_part(frame: pd.DataFrame, out, table: str, part: int) -> Path:
    """Write ``frame`` as ``out/<table>/part-<part>.parquet`` through a temporary file."""
    folder = Path(out) / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{part:05d}.parquet"
    tmp = folder / f".part-{part:05d}.parquet.tmp"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def check_block_range(value, n_blocks: int) -> tuple[int, int]:
    """Validate ``blocks=(first, last)`` against the number of blocks."""
    from healthlab.errors import InvalidParameterError

    if value is None:
        return 0, n_blocks
    ok = (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 <= value[0] <= value[1] <= n_blocks
    )
    if not ok:
        raise InvalidParameterError(
            f"blocks must be a pair (first, last) with 0 <= first <= last <= {n_blocks} "
            f"(the number of blocks), got {value!r}"
        )
    return int(value[0]), int(value[1])


def memory_bytes() -> int:
    """This machine's physical memory in bytes (0 when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 0


def check_fits(n_rows: int, bytes_per_row: int, what: str, partitioned: str) -> None:
    """Refuse at once to build in memory what cannot fit there, pointing at ``partitioned``.

    ``bytes_per_row`` is the peak while the rows are made, not the size of the result.
    """
    from healthlab.errors import InvalidParameterError

    need, have = n_rows * bytes_per_row, memory_bytes()
    if have and need > have:
        raise InvalidParameterError(
            f"{what} of {n_rows:,} rows would need about {need / 1e9:,.0f} GB of memory at "
            f"once, more than this machine's {have / 1e9:,.0f} GB. Build it in partitions "
            f"instead: {partitioned}"
        )
