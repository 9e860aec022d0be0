"""Writing one task's rows into Hive-style Parquet partitions, with bounded memory.

A task adds tables block by block; rows are split by partition (``province=<name>`` and, where
it applies, ``year=<year>``) and buffered; a partition's buffer becomes a row group when it
holds :data:`ROW_GROUP` rows, and every buffer is flushed when all of them together pass
:data:`BUDGET` bytes. Each file is written under a temporary name and renamed when the task
closes it, then its row count and SHA-256 are recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

#: Rows per row group (a speed setting: the rows do not depend on it).
ROW_GROUP = 131_072
#: Bytes a task may hold in buffers before it writes them all out.
BUDGET = 256 * 2**20


def digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks of a MiB."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, value) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary file (whole or not at all)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def partition_path(table: str, province: str | None, year: int | None) -> str:
    """The folder of a partition, relative to the build: ``table/province=X[/year=Y]``."""
    folder = table if province is None else f"{table}/province={province}"
    return folder if year is None else f"{folder}/year={year}"


class PartWriter:
    """The Parquet files of one task: one per table and partition, ``part-<task>.parquet``."""

    def __init__(self, root: Path, task: int):
        self.root = Path(root)
        self.name = f"part-{task:05d}.parquet"
        self.schemas: dict[str, pa.Schema] = {}  # by table
        self.key_schemas: dict[str, pa.Schema] = {}  # by partition
        self.buffers: dict[str, list[pa.Table]] = {}
        self.rows: dict[str, int] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.written: dict[str, int] = {}
        self.held = 0

    def add(self, table: str, frame, provinces, categories, year: int | None) -> None:
        """Add the rows of ``frame`` to ``table``, each to the partition of its province.

        ``provinces`` holds each row's province as a code into ``categories``; None writes
        the table unpartitioned.
        """
        data = pa.Table.from_pandas(frame, preserve_index=False)
        schema = self.schemas.setdefault(table, data.schema)
        if data.schema != schema:
            data = data.cast(schema)
        if provinces is None:
            self._buffer(partition_path(table, None, year), schema, data)
            return
        order = np.argsort(provinces, kind="stable")
        counts = np.bincount(provinces, minlength=len(categories))
        data = data.take(pa.array(order))
        start = 0
        for code, count in enumerate(counts):
            if count:
                key = partition_path(table, categories[code], year)
                self._buffer(key, schema, data.slice(start, int(count)))
            start += int(count)
        if self.held > BUDGET:
            for key in list(self.buffers):
                self._flush(key)

    def _buffer(self, key: str, schema: pa.Schema, piece: pa.Table) -> None:
        if key not in self.buffers:
            self.buffers[key], self.rows[key] = [], 0
            self.key_schemas[key] = schema
        self.buffers[key].append(piece)
        self.rows[key] += piece.num_rows
        self.held += piece.nbytes
        if self.rows[key] - self.written.get(key, 0) >= ROW_GROUP:
            self._flush(key)

    def _flush(self, key: str) -> None:
        pieces = self.buffers[key]
        if not pieces:
            return
        writer = self.writers.get(key)
        if writer is None:
            folder = self.root / key
            folder.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(folder / f".{self.name}.tmp", self.key_schemas[key])
            self.writers[key] = writer
        # Slices of one block's table share its buffers: combine and copy before writing.
        writer.write_table(pa.concat_tables(pieces).combine_chunks(), row_group_size=ROW_GROUP)
        self.held -= sum(p.nbytes for p in pieces)
        self.written[key] = self.rows[key]
        self.buffers[key] = []

    def close(self) -> list[dict]:
        """Write what is buffered, move every file into place; return their records."""
        for key in list(self.buffers):
            self._flush(key)
        files = []
        for key in sorted(self.writers):
            self.writers[key].close()
            folder = self.root / key
            path = folder / self.name
            os.replace(folder / f".{self.name}.tmp", path)
            files.append({"file": f"{key}/{self.name}", "rows": self.rows[key],
                          "bytes": path.stat().st_size, "sha256": digest(path)})  # fmt: skip
        return files
