"""The work of one task: make a range of blocks and write them as partitioned Parquet.

This runs in a worker process (local or on a Dask cluster), so it takes only plain values and
returns a plain dictionary, its *receipt*: the files it wrote with their rows and checksums.
The receipt is also written next to the build, so a build that is started again after a crash
skips the tasks that had finished.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from healthlab.platform._parts import PartWriter, write_json

RECEIPTS = ".tasks"


def layout(blocks: int, per_task: int) -> list[list[int]]:
    """Split ``blocks`` into tasks ``[first, last]``: ``per_task`` blocks each, tapering at the end.

    Workers take tasks in order as they become free, so the last tasks decide how long the
    others wait idle at the end. The tail is cut into halves, quarters and so on down to one
    block (8 blocks per task ends 4, 4, 2, 2, 1, 1), which keeps every worker busy to within
    about a block of the finish whatever the number of workers. The layout depends only on the
    sizes, never on the workers, so the files of a build do not depend on where it ran.

    >>> layout(20, 8)
    [[0, 6], [6, 10], [10, 14], [14, 16], [16, 18], [18, 19], [19, 20]]
    >>> layout(3, 1)
    [[0, 1], [1, 2], [2, 3]]
    """
    sizes, size = [], per_task // 2
    while size >= 1:
        sizes += [size, size]
        size //= 2
    tail = []
    left = blocks
    for size in sizes:  # the tail, from its largest task to its smallest
        if size > left:
            continue
        tail.append(size)
        left -= size
    head = [min(per_task, left - i) for i in range(0, left, per_task)]
    if head and head[-1] < per_task:  # the short task of the head goes first, not midway
        head = head[-1:] + head[:-1]
    bounds, first = [], 0
    for size in head + tail:
        bounds.append([first, first + size])  # lists: the plan is compared after JSON
        first += size
    return bounds


def blocks_of(plan: dict, task: int) -> tuple[int, int]:
    """The blocks ``(first, last)`` of ``task``, ``last`` exclusive."""
    first, last = plan["tasks"][task]
    return int(first), int(last)


def receipt_path(staging: Path, task: int | str) -> Path:
    """Where the receipt of ``task`` (a number, or ``"shared"``) is kept."""
    name = f"task-{task:05d}" if isinstance(task, int) else task
    return Path(staging) / RECEIPTS / f"{name}.json"


def finished(staging: Path, task: int | str) -> dict | None:
    """The receipt of a task that finished in an earlier attempt, when its files are whole."""
    path = receipt_path(staging, task)
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
        whole = all((Path(staging) / f["file"]).stat().st_size == f["bytes"]
                    for f in receipt["files"])  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return receipt if whole else None


@cache
def _facilities(seed: int) -> pd.DataFrame:
    from healthlab.synth import make_facilities

    return make_facilities(seed=seed)


def province_codes(table: pd.DataFrame, people: pd.DataFrame) -> np.ndarray:
    """Each row's province as a code into the population's province categories."""
    if "province" in table:
        return table["province"].cat.codes.to_numpy()
    ids = people["person_id"].to_numpy()
    return people["province"].cat.codes.to_numpy()[np.searchsorted(ids, table["person_id"])]


def run_task(plan: dict, task: int, staging: str) -> dict:
    """Make the blocks of ``task`` and write every table of them under ``staging``.

    Returns the receipt: ``task``, ``blocks``, ``files`` (each with ``file``, ``rows``,
    ``bytes`` and ``sha256``), and how it ran (``seconds``, ``peak_mb`` of the worker process,
    ``host``, ``pid``).
    """
    from healthlab.synth import make_clinical, make_population

    began = time.perf_counter()
    staging = Path(staging)
    first, last = blocks_of(plan, task)
    writer = PartWriter(staging, task)
    clinical = plan["name"] == "clinical"
    for b in range(first, last):  # one block of people at a time: memory stays bounded
        people = make_population(plan["people"], year=plan["year"], blocks=(b, b + 1),
                                 seed=plan["seed"])  # fmt: skip
        categories = list(people["province"].cat.categories)
        if clinical:
            records = make_clinical(people, mess=plan["mess"], facilities=_facilities(plan["seed"]),
                                    seed=plan["seed"])  # fmt: skip
            for name in plan["tables"]:
                table = records.get(name)
                if name == "population" or table is None or "person_id" not in table:
                    continue
                codes = province_codes(table, people)
                writer.add(name, table.drop(columns="province", errors="ignore"), codes,
                           categories, plan["year"])  # fmt: skip
        codes = people["province"].cat.codes.to_numpy()
        writer.add("population", people.drop(columns="province"), codes, categories, None)
        del people
    files = writer.close()
    receipt = {
        "task": task, "blocks": [first, last], "files": files,
        "seconds": time.perf_counter() - began, "peak_mb": peak_mb(),
        "host": socket.gethostname(), "pid": os.getpid(),
    }  # fmt: skip
    write_json(receipt_path(staging, task), receipt)
    return receipt


def peak_mb() -> float | None:
    """Peak resident memory of this process so far, in MiB."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else KiB
