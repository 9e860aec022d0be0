"""The dataset catalogue: cards, builds and the Parquet cache.

Each dataset is a card, ``datasets/<name>.yaml``: the recipe (generator and its parameters per
size, default seed) and the datasheet (codebook, calibration sources, intended use, limits, the
statement that it is synthetic). :func:`load` builds a dataset through the generator its card
names and caches the tables as Parquet, keyed by name, size, seed, version and card, so a
class of students loading the same dataset gets the same rows without building them twice.

The cache lives under ``$HEALTHLAB_HOME/datasets`` (default: the user cache folder). A build is
written to a temporary folder and moved into place whole, with a manifest written last; a
folder without a valid manifest, or whose files do not match it, is rebuilt rather than
returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from healthlab._validation import check_seed
from healthlab.errors import (
    CardError,
    DataCacheError,
    InvalidParameterError,
    UnknownDatasetError,
)

__all__ = [
    "SIZES",
    "Dataset",
    "build",
    "cache_dir",
    "calibration_summary",
    "card",
    "check_card",
    "list_datasets",
    "load",
]

#: The sizes every card may define, smallest first.
SIZES = ("tiny", "small", "medium", "large")

_REQUIRED_KEYS = ("name", "title", "description", "synthetic", "generator", "sizes", "tables")
_MANIFEST = "manifest.json"


# --------------------------------------------------------------------------- cards


def _card_dirs() -> list[Path]:
    """Folders holding cards: the package's own, then those in ``$HEALTHLAB_CARDS``.

    The package's cards sit inside an installed wheel, or in ``datasets/`` of a source checkout.
    ``HEALTHLAB_CARDS`` (folders separated by ``os.pathsep``) adds an instructor's or a
    researcher's own cards; a card there with the name of a packaged one replaces it.
    """
    packaged = resources.files("healthlab") / "cards"
    if packaged.is_dir():
        folders = [Path(str(packaged))]
    else:
        folders = [Path(__file__).resolve().parent.parent / "datasets"]
    extra = os.environ.get("HEALTHLAB_CARDS", "")
    folders += [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    return folders


def _all_cards() -> dict[str, dict]:
    return _cards_in(tuple(_card_dirs()))


@cache
def _cards_in(folders: tuple[Path, ...]) -> dict[str, dict]:
    cards = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            cards[path.stem] = _read_card(path)
    return dict(sorted(cards.items()))


def _read_card(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CardError(f"dataset card {path.name} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise CardError(f"dataset card {path.name} must be a mapping of keys to values")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise CardError(f"dataset card {path.name} lacks the keys {missing}; every card needs them")
    if data["name"] != path.stem:
        raise CardError(
            f"dataset card {path.name} says name: {data['name']!r}; the name must match the file"
        )
    unknown = set(data["sizes"]) - set(SIZES)
    if unknown:
        raise CardError(f"dataset card {path.name} has sizes {sorted(unknown)}; use {SIZES}")
    for table, spec in data["tables"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
            raise CardError(f"dataset card {path.name}: table {table!r} needs a `columns` mapping")
    return data


def list_datasets() -> list[str]:
    """Names of the datasets in the catalogue, sorted.

    Examples
    --------
    >>> from healthlab.datasets import list_datasets
    >>> isinstance(list_datasets(), list)
    True
    """
    return list(_all_cards())


def card(name: str) -> dict:
    """The card of dataset ``name``, as a dictionary (a copy: changing it changes nothing).

    Raises
    ------
    UnknownDatasetError
        If the catalogue has no dataset of that name.
    """
    cards = _all_cards()
    if name not in cards:
        raise UnknownDatasetError(name, list(cards))
    return json.loads(json.dumps(cards[name], default=str))


def resolve(reference: str) -> Callable:
    """Import ``"package.module:function"`` and return the function."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise CardError(f"{reference!r} is not of the form 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise CardError(f"cannot import module {module_name!r} named in a card: {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError:
        raise CardError(f"module {module_name!r} has no {attr!r} (named in a card)") from None


# --------------------------------------------------------------------------- loading


@dataclass
class Dataset:
    """A built dataset: its tables and the card that describes them."""

    name: str
    size: str
    seed: int
    card: dict
    tables: dict[str, pd.DataFrame] = field(repr=False)
    path: Path | None = None
    #: For sizes built as Parquet partitions (``partitioned: true`` in the card): table name to
    #: its partition files, in order. Such tables are read through DuckDB, not held in memory.
    partitions: dict[str, list[Path]] = field(default_factory=dict, repr=False)

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table in self.partitions:
            return self.relation(table).df()
        try:
            return self.tables[table]
        except KeyError:
            raise KeyError(
                f"dataset {self.name!r} has no table {table!r}; it has {self.table_names}"
            ) from None

    @property
    def table_names(self) -> list[str]:
        return list(self.tables) + list(self.partitions)

    def relation(self, table: str, connection=None):
        """A DuckDB relation over ``table`` (partitioned or in memory), for SQL at any size.

        Examples
        --------
        >>> ds = load("population", size="tiny")  # doctest: +SKIP
        >>> ds.relation("population").aggregate("sex, count(*)").df()  # doctest: +SKIP
        """
        import duckdb

        con = connection if connection is not None else duckdb.connect()
        if table in self.partitions:
            files = [str(p) for p in self.partitions[table]]
            return con.read_parquet(files)
        return con.from_df(self[table])

    @property
    def frame(self) -> pd.DataFrame:
        """The one table of a single-table dataset."""
        names = self.table_names
        if len(names) != 1:
            raise InvalidParameterError(
                f"dataset {self.name!r} has {len(names)} tables ({names}); "
                "pick one with dataset[table_name]"
            )
        return self[names[0]]

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape[0]:,} rows" for k, v in self.tables.items())
        shapes += "".join(f", {k}: {len(v)} Parquet partitions" for k, v in self.partitions.items())
        return f"<Dataset {self.name} size={self.size} seed={self.seed} ({shapes})>"


def cache_dir() -> Path:
    """The folder datasets are cached in: ``$HEALTHLAB_HOME/datasets`` or the user cache."""
    home = os.environ.get("HEALTHLAB_HOME")
    if home:
        return Path(home).expanduser() / "datasets"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("healthlab")) / "datasets"


def _version() -> str:
    from healthlab import __version__

    return __version__


def _check_args(name: str, size: str, seed) -> tuple[dict, int]:
    spec = card(name)
    if size not in SIZES:
        raise InvalidParameterError(f"size must be one of {SIZES}, got {size!r}")
    if size not in spec["sizes"]:
        raise InvalidParameterError(
            f"dataset {name!r} has no size {size!r}; its card defines {list(spec['sizes'])}"
        )
    if seed is None:
        seed = spec.get("seed", 0)
    return spec, check_seed(seed)


def _entry_dir(spec: dict, size: str, seed: int) -> Path:
    # The card's digest is part of the key, so an edited recipe never returns stale rows.
    recipe = json.dumps(spec, sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(recipe).hexdigest()[:12]
    return cache_dir() / spec["name"] / _version() / f"{size}-seed{seed}-{digest}"


def load(
    name: str,
    *,
    size: str = "small",
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Dataset:
    """Load dataset ``name`` at ``size``, building and caching it if needed.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    size : {"tiny", "small", "medium", "large"}
        How big: ``tiny`` for tests, ``small`` for a class, larger for research.
    seed : int, optional
        The seed; the card's default when omitted. The same name, size and seed give the same
        rows on any machine.
    progress : callable, optional
        Called as ``progress(done, total)`` while the generator works, if it reports progress.

    Returns
    -------
    Dataset
        Its ``tables`` and ``card``; ``dataset[table]`` picks a table.

    Examples
    --------
    >>> from healthlab import datasets
    >>> ds = datasets.load("population", size="tiny")  # doctest: +SKIP
    >>> ds.frame.shape  # doctest: +SKIP
    """
    spec, seed = _check_args(name, size, seed)
    entry = _entry_dir(spec, size, seed)
    found = _read_entry(entry)
    if found is None:
        return _build(spec, size, seed, progress, force=False)
    tables, partitions = found
    return Dataset(name, size, seed, spec, tables, path=entry, partitions=partitions)


def build(name: str, *, size: str = "small", seed: int | None = None, progress=None) -> Dataset:
    """Build dataset ``name`` afresh (ignoring the cache) and cache the result."""
    spec, seed = _check_args(name, size, seed)
    return _build(spec, size, seed, progress, force=True)


def _build(spec: dict, size: str, seed: int, progress, *, force: bool) -> Dataset:
    name = spec["name"]
    entry = _entry_dir(spec, size, seed)
    with _staging(entry) as staging, _entry_lock(entry):
        # Another process may have built it while this one waited for the lock.
        found = None if force else _read_entry(entry)
        if found is None:
            tables = _generate(spec, size, seed, progress, out=staging)
            _write_entry(staging, entry, tables, spec, size, seed)
            found = _read_entry(entry, verify=False)
        if found is None:
            raise DataCacheError(f"the build of {name!r} left no readable cache entry at {entry}")
    return Dataset(name, size, seed, spec, found[0], path=entry, partitions=found[1])


def _generate(
    spec: dict, size: str, seed: int, progress, out: Path | None = None
) -> dict[str, pd.DataFrame]:
    """Run the card's generator. At a partitioned size it writes Parquet into ``out`` itself.

    Inputs (other datasets) are built at the same size and seed; a card lists each as a name,
    passed positionally, or as ``{keyword: name}``, passed by keyword.

    A size marked ``partitioned: true`` is for data too large to hold in memory: the
    generator's ``write_*`` twin (``make_population`` -> ``write_population``) is called with
    ``out=`` a folder and writes ``out/<table>/part-*.parquet`` block by block. Other sizes
    return tables in memory. An input that is itself partitioned arrives as a
    :class:`Dataset`, to be read partition by partition; others as DataFrames.
    """
    generator = resolve(spec["generator"])
    kwargs = dict(spec["sizes"][size] or {})
    partitioned = bool(kwargs.pop("partitioned", False))
    inputs = []
    for item in spec.get("inputs") or []:
        # An input is a dataset name (passed positionally, in order) or a one-entry mapping
        # {keyword: dataset name} (passed by keyword).
        keyword, input_name = next(iter(item.items())) if isinstance(item, dict) else (None, item)
        upstream = load(input_name, size=size, seed=seed)
        if upstream.partitions:
            value = upstream
        else:
            tables = {t: upstream[t] for t in upstream.table_names}
            value = next(iter(tables.values())) if len(tables) == 1 else tables
        if keyword is None:
            inputs.append(value)
        else:
            kwargs[keyword] = value
    kwargs["seed"] = seed
    accepted = inspect.signature(generator).parameters
    if progress is not None and "progress" in accepted:
        kwargs["progress"] = progress
    if partitioned:
        writer = _writer(spec)
        if out is None:
            raise CardError(f"card {spec['name']!r}: a partitioned size needs a folder to write")
        writer(*inputs, out=out, **kwargs)
        return {}
    return _as_tables(spec, generator(*inputs, **kwargs))


def _writer(spec: dict) -> Callable:
    """The ``write_*`` twin of a card's ``make_*`` generator, for sizes built as partitions."""
    module, _, name = spec["generator"].partition(":")
    if not name.startswith("make_"):
        raise CardError(f"card {spec['name']!r}: generator {spec['generator']} is not a make_*")
    try:
        return resolve(f"{module}:write_{name[len('make_') :]}")
    except CardError:
        raise CardError(
            f"card {spec['name']!r} marks a size as partitioned, but {module} has no "
            f"write_{name[len('make_') :]} to write partitions with"
        ) from None


def _as_tables(spec: dict, result: Any) -> dict[str, pd.DataFrame]:
    names = list(spec["tables"])
    if isinstance(result, pd.DataFrame):
        if len(names) != 1:
            raise CardError(
                f"generator {spec['generator']} returned one table but card {spec['name']!r} "
                f"lists {names}"
            )
        return {names[0]: result}
    if isinstance(result, Mapping):
        tables = {k: v for k, v in result.items() if isinstance(v, pd.DataFrame)}
        missing = [n for n in names if n not in tables]
        if missing:
            raise CardError(
                f"generator {spec['generator']} did not return the tables {missing} that card "
                f"{spec['name']!r} lists; it returned {list(tables)}"
            )
        return {n: tables[n] for n in names}
    raise CardError(
        f"generator {spec['generator']} returned {type(result).__name__}; "
        "a generator must return a DataFrame or a dict of DataFrames"
    )


# --------------------------------------------------------------------------- cache


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_entry(
    entry: Path, *, verify: bool = True
) -> tuple[dict[str, pd.DataFrame], dict[str, list[Path]]] | None:
    """The cached tables and partitions, or None when missing or damaged (then it is rebuilt).

    With ``verify`` every file's checksum is compared with the manifest before it is used.
    """
    manifest_path = entry / _MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        tables, partitions = {}, {}
        for table, meta in manifest["tables"].items():
            files = [entry / f["file"] for f in meta["files"]]
            if verify and any(_digest(p) != f["sha256"] for p, f in zip(files, meta["files"])):
                return None
            if meta["partitioned"]:
                partitions[table] = files
                continue
            frame = pd.read_parquet(files[0])
            if len(frame) != meta["rows"]:
                return None
            tables[table] = frame
        return tables, partitions
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    except Exception:  # pyarrow raises its own errors on a damaged file
        return None


@contextlib.contextmanager
def _entry_lock(entry: Path):
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


class _staging:
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


def _write_entry(staging: Path, entry: Path, tables, spec, size, seed) -> None:
    """Write tables into ``staging``, add the manifest last, then move it into place whole."""
    import pyarrow.parquet as pq

    manifest = {"name": spec["name"], "size": size, "seed": seed, "version": _version()}
    manifest["tables"] = {}
    try:
        for table, frame in tables.items():
            frame.to_parquet(staging / f"{table}.parquet", index=False)
        for table in spec["tables"]:
            single = staging / f"{table}.parquet"
            files = [single] if single.is_file() else sorted((staging / table).glob("*.parquet"))
            if not files:
                raise CardError(
                    f"generator {spec['generator']} wrote no Parquet files for table {table!r} "
                    f"of card {spec['name']!r}"
                )
            meta = [
                {
                    "file": str(p.relative_to(staging)),
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
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        old = None
        if entry.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{entry.name}-old-", dir=entry.parent))
            os.rmdir(old)
            os.replace(entry, old)
        os.replace(staging, entry)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        # Another process building the same entry at the same time may have moved its copy
        # into place first; the same name, size and seed give the same files, so that is fine.
        if _read_entry(entry, verify=False) is not None:
            return
        raise DataCacheError(f"cannot write the dataset cache at {entry}: {err}") from err


# --------------------------------------------------------------------------- calibration


class _Tables(Mapping):
    """A dataset's tables by name, partitioned ones read only when asked for.

    A table the dataset lacks is looked up in the card's inputs (built at the same size and
    seed), so a statistic can join records to their population.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table in self.dataset.table_names:
            return self.dataset[table]
        for item in self.dataset.card.get("inputs") or []:
            name = next(iter(item.values())) if isinstance(item, dict) else item
            upstream = load(name, size=self.dataset.size, seed=self.dataset.seed)
            if table in upstream.table_names:
                return upstream[table]
        return self.dataset[table]

    def __iter__(self):
        return iter(self.dataset.table_names)

    def __len__(self) -> int:
        return len(self.dataset.table_names)


def calibration_summary(dataset: Dataset) -> pd.DataFrame:
    """The card's calibration figures beside the values in ``dataset``.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``figure``, ``target``, ``synthetic``, ``tolerance``, ``within``
        (whether the synthetic value is within the tolerance, where one is given) and ``source``.
    """
    rows = []
    for item in dataset.card.get("calibration") or []:
        statistic = resolve(item["statistic"])
        value = float(statistic(_Tables(dataset), **(item.get("args") or {})))
        tolerance = item.get("tolerance")
        target = float(item["target"])
        rows.append(
            {
                "figure": item["figure"],
                "target": target,
                "synthetic": value,
                "tolerance": tolerance,
                "within": None if tolerance is None else abs(value - target) <= float(tolerance),
                "source": item["source"],
            }
        )
    columns = ["figure", "target", "synthetic", "tolerance", "within", "source"]
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- checks


def check_card(name: str, *, size: str = "tiny", seed: int | None = None) -> list[str]:
    """Build ``name`` at ``size`` without caching and list how it disagrees with its card.

    Checks that the generator exists and returns the tables the card lists, that every column the
    card documents is produced and every column produced is documented, and that each calibration
    statistic can be computed. An empty list means the card and its generator agree.
    """
    spec, seed = _check_args(name, size, seed)
    try:
        tables = _generate(spec, size, seed, None)
    except CardError as err:
        return [str(err)]
    problems = []
    for table, frame in tables.items():
        documented = set(spec["tables"][table]["columns"])
        produced = set(map(str, frame.columns))
        for column in sorted(documented - produced):
            problems.append(f"{name}.{table}: card documents column {column!r}, not produced")
        for column in sorted(produced - documented):
            problems.append(f"{name}.{table}: column {column!r} is produced but not in the card")
    dataset = Dataset(name=name, size=size, seed=seed, card=spec, tables=tables)
    try:
        calibration_summary(dataset)
    except (CardError, KeyError, TypeError, ValueError) as err:
        problems.append(f"{name}: a calibration statistic failed: {err}")
    return problems
