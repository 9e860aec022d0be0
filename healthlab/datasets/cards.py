"""Dataset cards: where they are found, how they are read, and how a generator is named.

Each dataset is a card, ``datasets/<name>.yaml``: the recipe (generator and its parameters per
size, default seed) and the datasheet (codebook, calibration sources, intended use, limits, the
statement that it is synthetic). The package's own cards come first; ``$HEALTHLAB_CARDS``
(folders separated by ``os.pathsep``) adds an instructor's or a researcher's, and a card there
with the name of a packaged one replaces it.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from healthlab import _yaml
from healthlab.errors import CardError, UnknownDatasetError

__all__ = ["SIZES", "card", "card_dirs", "list_datasets", "resolve", "size_table"]

#: The sizes every card may define, smallest first.
SIZES = ("tiny", "small", "medium", "large")

_REQUIRED_KEYS = ("name", "title", "description", "synthetic", "generator", "sizes", "tables")


def card_dirs() -> list[Path]:
    """Folders holding cards: the package's own, then those in ``$HEALTHLAB_CARDS``.

    The package's cards sit inside an installed wheel, or in ``datasets/`` of a source checkout.
    A folder named in ``HEALTHLAB_CARDS`` that does not exist is an error, not silence.

    Examples
    --------
    >>> from healthlab.datasets import card_dirs
    >>> card_dirs()[0].is_dir()
    True
    """
    packaged = resources.files("healthlab") / "cards"
    if packaged.is_dir():
        folders = [Path(str(packaged))]
    else:
        folders = [Path(__file__).resolve().parents[2] / "datasets"]
    extra = os.environ.get("HEALTHLAB_CARDS", "")
    for entry in (p for p in extra.split(os.pathsep) if p):
        folder = Path(entry).expanduser()
        if not folder.is_dir():
            raise CardError(
                f"HEALTHLAB_CARDS names {folder}, which is not a folder; create it, or remove it "
                f"from HEALTHLAB_CARDS (now {extra!r})"
            )
        folders.append(folder)
    return folders


def _all_cards() -> dict[str, dict]:
    return _cards_in(tuple(card_dirs()))


@cache
def _cards_in(folders: tuple[Path, ...]) -> dict[str, dict]:
    cards = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            cards[path.stem] = _read_card(path)
    return dict(sorted(cards.items()))


def _read_card(path: Path) -> dict:
    where = f"dataset card {path}"
    try:
        data = _yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CardError(f"{where} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise CardError(f"{where} must be a mapping of keys to values")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise CardError(f"{where} lacks the keys {missing}; every card needs them")
    if data["name"] != path.stem:
        raise CardError(f"{where} says name: {data['name']!r}; the name must match the file")
    if not isinstance(data["sizes"], dict):
        raise CardError(f"{where}: sizes must map each size to the generator's parameters")
    unknown = set(data["sizes"]) - set(SIZES)
    if unknown:
        raise CardError(f"{where} has sizes {sorted(unknown)}; use {SIZES}")
    for table, spec in data["tables"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
            raise CardError(f"{where}: table {table!r} needs a `columns` mapping")
    return data


def list_datasets() -> list[str]:
    """Names of the datasets in the catalogue, sorted.

    Examples
    --------
    >>> from healthlab.datasets import list_datasets
    >>> "population" in list_datasets()
    True
    """
    return list(_all_cards())


def card(name: str) -> dict:
    """The card of dataset ``name``, as a dictionary (a copy: changing it changes nothing).

    Raises
    ------
    UnknownDatasetError
        If the catalogue has no dataset of that name; the message suggests close names.

    Examples
    --------
    >>> from healthlab.datasets import card
    >>> card("population")["generator"]
    'healthlab.synth:make_population'
    """
    cards = _all_cards()
    if name not in cards:
        close = difflib.get_close_matches(str(name), list(cards), n=3, cutoff=0.6)
        raise UnknownDatasetError(name, list(cards), suggestions=close)
    return json.loads(json.dumps(cards[name], default=str))


def resolve(reference: str) -> Callable:
    """Import ``"package.module:function"`` and return the function.

    Examples
    --------
    >>> resolve("healthlab.synth:make_population").__name__
    'make_population'
    """
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


_WORDS = {"n_people": "people", "n_systems": "hospital systems", "n_rows": "rows"}


def _parts(name: str, size: str) -> list[str]:
    """The size parameters of ``name`` and of its inputs, in words, each once."""
    spec = card(name)
    parts = []
    for key, value in dict(spec["sizes"][size] or {}).items():
        if key == "partitioned":
            parts.append("as Parquet partitions" if value else "")
        elif key in _WORDS and isinstance(value, int):
            parts.append(f"{value:,} {_WORDS[key]}")
        else:
            parts.append(f"{key}={value}")
    for item in spec.get("inputs") or []:
        upstream = next(iter(item.values())) if isinstance(item, dict) else item
        if size in card(upstream)["sizes"]:
            parts += _parts(upstream, size)
    return list(dict.fromkeys(p for p in parts if p))


def size_table(name: str) -> dict[str, str]:
    """How big each size of ``name`` is, in words, with the rows of builds already cached.

    A dataset made from others (clinical records from the population) is as big as they are
    at the same size, so their sizes count too.

    Examples
    --------
    >>> from healthlab.datasets import size_table
    >>> size_table("clinical")["tiny"].startswith("2,000 people")
    True
    """
    from healthlab.datasets.cache import entry_dir

    spec = card(name)
    out = {}
    for size in (s for s in SIZES if s in spec["sizes"]):
        text = ", ".join(_parts(name, size)) or "the whole country"
        manifest = entry_dir(spec, size, int(spec.get("seed", 0))) / "manifest.json"
        if manifest.is_file():
            try:
                tables = json.loads(manifest.read_text(encoding="utf-8"))["tables"]
                rows = ", ".join(f"{t} {m['rows']:,}" for t, m in tables.items())
                text += f"; rows (cached): {rows}"
            except (OSError, ValueError, KeyError, TypeError):
                pass
        out[size] = text
    return out
