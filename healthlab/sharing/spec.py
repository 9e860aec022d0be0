"""Declarative mappings of hospital systems: loading, checking, and reading through them.

A mapping is a YAML file (or the same structure as a dict) with one section per target:
``person`` (the patient table and its identifiers), ``visit``, ``condition`` and
``measurement``. Each field names the system's own column and, where the system writes
values its own way, how to read them: ``map`` (local value to standard value), ``pattern``
(a regular expression whose first group, or named groups, hold the value), ``format`` (a
``strftime`` date format), ``script`` (``characters`` or ``pinyin`` for names) and
``convert`` (units the system uses that the vocabulary converts to the standard unit). The
mappings of the four example systems ship in ``healthlab/sharing/mappings/``; read one to
write one for a new system.

:func:`check_mapping` compares a mapping with a system's database before anything is read:
a table or column that does not exist, or a unit with no conversion in the vocabulary, is a
:class:`MappingError` that names the system, table and column.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from pathlib import Path

import pandas as pd

from healthlab import _yaml
from healthlab.errors import InvalidParameterError, MappingError
from healthlab.sharing.omop import load_vocabulary

__all__ = ["MappingError", "check_mapping", "load_mapping", "read_table"]

#: Fields of each section: required ones first; each names a column (str) or a spec (dict).
SECTIONS = {
    "person": (("table", "id", "sex", "birth_date"),
               ("name", "resident_id", "phone", "address")),
    "visit": (("table", "id", "person", "date"), ("kind",)),
    "condition": (("table", "visit", "code"), ()),
    "measurement": (("table", "visit", "item", "value"), ("unit",)),
}  # fmt: skip
_SPEC_KEYS = {"column", "map", "pattern", "format", "script", "convert"}


def load_mapping(mapping) -> dict:
    """A system's mapping: a shipped name (``"renmin"``), a YAML path, or a dict.

    Examples
    --------
    >>> m = load_mapping("zhongxin")
    >>> m["person"]["table"], m["measurement"]["unit"]["convert"]
    ('patients', ['g/dL', 'mL/min/1.73m2', 'mg/dL'])
    """
    if isinstance(mapping, dict):
        spec = mapping
    elif isinstance(mapping, str) and re.fullmatch(r"[a-z0-9_]+", mapping):
        shipped = resources.files("healthlab") / "sharing" / "mappings" / f"{mapping}.yaml"
        if not shipped.is_file():
            known = sorted(
                p.name.removesuffix(".yaml")
                for p in (resources.files("healthlab") / "sharing" / "mappings").iterdir()
                if p.name.endswith(".yaml")
            )
            raise InvalidParameterError(
                f"no shipped mapping named {mapping!r}; the shipped ones are {known}. "
                "Pass a path to a YAML file or a dict for another system."
            )
        spec = _yaml.safe_load(shipped.read_text(encoding="utf-8"))
    elif isinstance(mapping, str | Path):
        spec = _yaml.safe_load(Path(mapping).read_text(encoding="utf-8"))
    else:
        raise InvalidParameterError(
            f"mapping must be a shipped name, a YAML path or a dict, got {type(mapping).__name__}"
        )
    system = spec.get("system", "?") if isinstance(spec, dict) else "?"
    for section, (required, _) in SECTIONS.items():
        part = spec.get(section) if isinstance(spec, dict) else None
        if not isinstance(part, dict):
            raise MappingError(f"mapping of system {system!r} has no {section!r} section")
        missing = [k for k in required if k not in part]
        if missing:
            raise MappingError(
                f"mapping of system {system!r}, section {section!r}, lacks {missing}"
            )
        for key, value in part.items():
            if isinstance(value, dict) and set(value) - _SPEC_KEYS:
                raise MappingError(
                    f"mapping of system {system!r}, {section}.{key} has unknown keys "
                    f"{sorted(set(value) - _SPEC_KEYS)}; the keys are {sorted(_SPEC_KEYS)}"
                )
    return spec


def field(part: dict, key: str) -> dict:
    """A field spec as a dict (a bare string is the column name)."""
    value = part.get(key)
    if value is None:
        return {}
    return {"column": value} if isinstance(value, str) else dict(value)


def _columns(con, table) -> list[str] | None:
    rows = con.execute(f'PRAGMA table_info("{table}")').fetchall()
    return [r[1] for r in rows] or None


def check_mapping(spec: dict, path, system: str | None = None) -> None:
    """Check a mapping against a system's SQLite database; raise :class:`MappingError` if off.

    Every table and column the mapping names must exist, every date format must be a
    ``strftime`` format, every pattern must compile, and every unit in ``convert`` must have
    a conversion in the vocabulary.
    """
    system = system or spec.get("system", "?")
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        for section in SECTIONS:
            part = spec[section]
            table = part["table"]
            cols = _columns(con, table)
            if cols is None:
                raise MappingError(
                    f"system {system!r}: mapping section {section!r} names table {table!r}, "
                    f"which is not in the database {Path(path).name}"
                )
            for key in part:
                if key == "table":
                    continue
                f = field(part, key)
                col = f.get("column")
                if col is not None and col not in cols:
                    raise MappingError(
                        f"system {system!r}, table {table!r}: column {col!r} (mapped as "
                        f"{section}.{key}) does not exist; the table has {cols}"
                    )
                if "pattern" in f:
                    try:
                        re.compile(f["pattern"])
                    except re.error as err:
                        raise MappingError(
                            f"system {system!r}, table {table!r}, column {col!r}: "
                            f"pattern {f['pattern']!r} does not compile ({err})"
                        ) from err
                if "format" in f and "%" not in str(f["format"]):
                    raise MappingError(
                        f"system {system!r}, table {table!r}, column {col!r}: date format "
                        f"{f['format']!r} has no % directive (e.g. '%Y-%m-%d')"
                    )
        unit = field(spec["measurement"], "unit")
        known = set(load_vocabulary()["conversion"]["from_unit"])
        for u in unit.get("convert") or []:
            if u not in known:
                raise MappingError(
                    f"system {system!r}, table {spec['measurement']['table']!r}, column "
                    f"{unit.get('column')!r}: unit {u!r} has no conversion to a standard unit "
                    f"in the vocabulary; units with conversions: {sorted(known)}"
                )
    finally:
        con.close()


def read_table(path, table: str, columns: dict[str, str]) -> pd.DataFrame:
    """Read ``columns`` (new name to the system's column) of one SQLite table, as text."""
    select = ", ".join(f'CAST("{c}" AS TEXT) AS "{k}"' for k, c in columns.items())
    con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        return pd.read_sql_query(f'SELECT {select} FROM "{table}"', con)
    finally:
        con.close()
