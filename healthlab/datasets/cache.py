"""The Parquet cache of built datasets: where entries live, how they are written and checked.

The cache lives under ``$HEALTHLAB_HOME/datasets`` (default: the user cache folder), keyed by
name, size, seed, version and the card's digest, so a class of students loading the same
dataset gets the same rows without building them twice. A build is written to a temporary
folder and moved into place whole, with a manifest written last; a folder without a valid
manifest, or whose files do not match it, is rebuilt (with a warning that says so) rather
than returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from healthlab.errors import CacheRebuiltWarning, CardError, DataCacheError

__all__ = ["cache_dir"]

_MANIFEST = "manifest.json"


def cache_dir() -> Path:
    """The folder datasets are cached in: ``$HEALTHLAB_HOME/datasets`` or the user cache.

    Examples
    --------
    >>> from healthlab.datasets import cache_dir
    >>> cache_dir().name
    'datasets'
    """
    home = os.environ.get("HEALTHLAB_HOME")
    if home:
        return Path(home).expanduser() / "datasets"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("healthlab")) / "datasets"


def version() -> str:
    """healthlab's version, part of every cache key."""
    from healthlab import __version__

    return __version__


def entry_dir(spec: dict, size: str, seed: int) -> Path:
    """The cache folder of one build. The card's digest is in the key: an edited recipe
    never returns stale rows."""
    recipe = json.dumps(spec, sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(recipe).hexdigest()[:12]
    return cache_dir() / spec["name"] / version() / f"{size}-seed{seed}-{digest}"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _damaged(entry: Path, why: str) -> None:
    warnings.warn(
        f"the cached dataset at {entry} is damaged ({why}); building it again",
        CacheRebuiltWarning,
        stacklevel=4,
    )


def read_entry(
    entry: Path, *, verify: bool = True, warn: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, list[Path]]] | None:
    """The cached tables and partitions; None when missing or damaged (then it is rebuilt).

    With ``verify`` every file's checksum is compared with the manifest before it is used. An
    entry that exists but cannot be used warns (:class:`healthlab.errors.CacheRebuiltWarning`).
    """
    damaged = _damaged if warn else (lambda entry, why: None)
    manifest_path = entry / _MANIFEST
    if not manifest_path.is_file():
        if entry.is_dir():
            damaged(entry, "no manifest")
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables, partitions = {}, {}
        for table, meta in manifest["tables"].items():
            files = [entry / f["file"] for f in meta["files"]]
            if verify:
                for p, f in zip(files, meta["files"], strict=True):
                    if not p.is_file() or _digest(p) != f["sha256"]:
                        damaged(entry, f"{p.name} does not match its checksum")
                        return None
            if meta["partitioned"]:
                partitions[table] = files
                continue
            frame = pd.read_parquet(files[0])
            if len(frame) != meta["rows"]:
                damaged(entry, f"{files[0].name} has {len(frame)} rows, not {meta['rows']}")
                return None
            tables[table] = frame
        return tables, partitions
    except Exception as err:
        damaged(entry, f"{type(err).__name__}: {err}")
        return None


@contextlib.contextmanager
def entry_lock(entry: Path):
    """Hold an exclusive lock on ``entry`` while it is written (POSIX; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:  # Windows: concurrent builds still end well, they only repeat work
        yield
        return
    with open(entry.parent / f".{entry.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class staging:
    """A temporary folder beside ``entry``, removed unless it was moved into place."""

    def __init__(self, entry: Path):
        self.entry = entry

    def __enter__(self) -> Path:
        parent = self.entry.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.entry.name}-", dir=parent))
        except OSError as err:
            raise DataCacheError(
                f"cannot write the dataset cache under {parent}: {err}. "
                "Set HEALTHLAB_HOME to a folder you can write to."
            ) from err
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def write_entry(staging_dir: Path, entry: Path, tables, spec, size, seed) -> None:
    """Write tables into ``staging_dir``, add the manifest last, then move it into place whole."""
    import pyarrow.parquet as pq

    manifest = {"name": spec["name"], "size": size, "seed": seed, "version": version()}
    manifest["tables"] = {}
    try:
        for table, frame in tables.items():
            frame.to_parquet(staging_dir / f"{table}.parquet", index=False)
        for table in spec["tables"]:
            single = staging_dir / f"{table}.parquet"
            files = single.is_file() and [single] or sorted((staging_dir / table).glob("*.parquet"))
            if not files:
                raise CardError(
                    f"generator {spec['generator']} wrote no Parquet files for table {table!r} "
                    f"of card {spec['name']!r}"
                )
            meta = [
                {
                    "file": str(p.relative_to(staging_dir)),
                    "rows": pq.ParquetFile(p).metadata.num_rows,
                    "sha256": _digest(p),
                }
                for p in files
            ]
            manifest["tables"][table] = {
                "partitioned": not single.is_file(),
                "rows": sum(m["rows"] for m in meta),
                "files": meta,
            }
        (staging_dir / _MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        old = None
        if entry.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{entry.name}-old-", dir=entry.parent))
            os.rmdir(old)
            os.replace(entry, old)
        os.replace(staging_dir, entry)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        # Another process building the same entry at the same time may have moved its copy
        # into place first; the same name, size and seed give the same files, so that is fine.
        if read_entry(entry, verify=False, warn=False) is not None:
            return
        raise DataCacheError(f"cannot write the dataset cache at {entry}: {err}") from err
