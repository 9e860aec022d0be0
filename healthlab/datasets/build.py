"""Loading and building datasets: run the card's generator, cache the tables, return them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from healthlab._validation import check_seed, choice
from healthlab.datasets.cache import entry_dir, entry_lock, read_entry, staging, write_entry
from healthlab.datasets.cards import SIZES, card, resolve
from healthlab.datasets.dataset import Dataset
from healthlab.errors import CardError, DataCacheError, InvalidParameterError

__all__ = ["build", "load"]


def check_args(name: str, size: str, seed) -> tuple[dict, int]:
    """The card of ``name`` and the seed to use, after checking size and seed."""
    spec = card(name)
    choice(size, "size", SIZES)
    if size not in spec["sizes"]:
        raise InvalidParameterError(
            f"dataset {name!r} has no size {size!r}; its card defines {list(spec['sizes'])}"
        )
    if seed is None:
        seed = spec.get("seed", 0)
    return spec, check_seed(seed)


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
        How big: ``tiny`` for tests, ``small`` for a class, larger for research
        (``healthlab data list`` shows the rows of each size).
    seed : int, optional
        The seed; the card's default when omitted. The same name, size and seed give the same
        rows on any machine.
    progress : callable, optional
        Called as ``progress(done, total)`` while the generator works, if it reports progress.

    Returns
    -------
    Dataset
        A mapping of its tables (``dataset[table]``), with its ``card``.

    Examples
    --------
    >>> from healthlab import datasets
    >>> ds = datasets.load("population", size="tiny")
    >>> list(ds), ds.frame.shape[0]
    (['population'], 2000)
    """
    spec, seed = check_args(name, size, seed)
    entry = entry_dir(spec, size, seed)
    # Read without the lock first; a build under way elsewhere can move the entry aside for a
    # moment, so only the read under the lock (in _build) may call an entry damaged.
    found = read_entry(entry, warn=False)
    if found is None:
        return _build(spec, size, seed, progress, force=False)
    tables, partitions = found
    return Dataset(name, size, seed, spec, tables, path=entry, partitions=partitions)


def build(name: str, *, size: str = "small", seed: int | None = None, progress=None) -> Dataset:
    """Build dataset ``name`` afresh (ignoring the cache) and cache the result.

    Examples
    --------
    >>> from healthlab import datasets
    >>> datasets.build("admissions_series", size="tiny").name
    'admissions_series'
    """
    spec, seed = check_args(name, size, seed)
    return _build(spec, size, seed, progress, force=True)


def _build(spec: dict, size: str, seed: int, progress, *, force: bool) -> Dataset:
    name = spec["name"]
    entry = entry_dir(spec, size, seed)
    with staging(entry) as folder, entry_lock(entry):
        # Another process may have built it while this one waited for the lock; no one writes
        # it while this one holds the lock, so an entry that cannot be read now is damaged.
        found = None if force else read_entry(entry)
        if found is None:
            tables = generate(spec, size, seed, progress, out=folder)
            write_entry(folder, entry, tables, spec, size, seed)
            found = read_entry(entry, verify=False)
        if found is None:
            raise DataCacheError(f"the build of {name!r} left no readable cache entry at {entry}")
    return Dataset(name, size, seed, spec, found[0], path=entry, partitions=found[1])


def generate(spec: dict, size: str, seed: int, progress, out=None) -> dict[str, pd.DataFrame]:
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
    if progress is not None and "progress" in inspect.signature(generator).parameters:
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
