"""Checks at the boundary of :mod:`healthlab.privacy`, and the equivalence-class codes.

An equivalence class is the set of records that share every quasi-identifier value. Missing
values form a value (and so a class) of their own: an attacker sees the blank as clearly as any
other value.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError

# Mixed-radix keys stay below this bound; past it the partial key is renumbered first.
_KEY_LIMIT = 2**62


def check_frame(df, name: str = "df") -> pd.DataFrame:
    """Return ``df`` if it is a DataFrame, else raise a clear error."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}; "
            "load a table with healthlab.datasets.load(...) or pandas.read_csv(...)"
        )
    return df


def check_columns(df: pd.DataFrame, columns, name: str, *, allow_empty: bool = False) -> list:
    """Return ``columns`` as a list after checking that each is a column of ``df``."""
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, Iterable):
        raise InvalidParameterError(
            f"{name} must be a list of column names, got {columns!r}; for example ['age', 'sex']"
        )
    columns = list(columns)
    if not columns and not allow_empty:
        raise InvalidParameterError(
            f"{name} is empty; name at least one column of the table, such as "
            f"{list(df.columns[:3])}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"{name} names {missing!r}, which {'is' if len(missing) == 1 else 'are'} not a column "
            f"of the table; the columns are {list(df.columns)}"
        )
    dupes = sorted({str(c) for c in columns if columns.count(c) > 1})
    if dupes:
        raise InvalidParameterError(f"{name} lists {dupes} more than once; list each column once")
    return columns


def check_roles(df: pd.DataFrame, quasi_identifiers, sensitive=()) -> tuple[list, list]:
    """Check quasi-identifiers and sensitive attributes together: columns, and disjoint."""
    check_frame(df)
    qis = check_columns(df, quasi_identifiers, "quasi_identifiers")
    sens = check_columns(df, sensitive, "sensitive", allow_empty=True)
    both = [c for c in sens if c in qis]
    if both:
        raise InvalidParameterError(
            f"sensitive attribute(s) {both!r} are also listed in quasi_identifiers; an attribute "
            "is "
            "either known to the attacker (quasi-identifier) or to be protected (sensitive), "
            "not both: remove it from one of the lists"
        )
    return qis, sens


def check_k(k, name: str = "k") -> int:
    """Return ``k`` as an int if it is a whole number of at least 1."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidParameterError(
            f"{name} must be a whole number of at least 1, got {k!r}; "
            "k=5 is a common choice (each record shares its quasi-identifiers with 4 others)"
        )
    return int(k)


def check_fraction(value, name: str, *, low_open: bool = True) -> float:
    """Return ``value`` as a float in (0, 1] (or [0, 1] when ``low_open`` is false)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and (0 < value <= 1 if low_open else 0 <= value <= 1)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise InvalidParameterError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def column_codes(values: pd.Series, *, sort: bool = False) -> tuple[np.ndarray, int]:
    """Integer codes ``0..m-1`` for a column, with missing values as a code of their own."""
    codes, uniques = pd.factorize(values, sort=sort, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False), len(uniques)


def combine_codes(code_lists: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """One code per distinct combination of several code columns (order of first appearance)."""
    key = np.zeros(len(code_lists[0][0]) if code_lists else 0, dtype=np.int64)
    card = 1
    for codes, m in code_lists:
        if card * max(m, 1) >= _KEY_LIMIT:
            key, uniques = pd.factorize(key)
            card = len(uniques)
        key = key * max(m, 1) + codes
        card *= max(m, 1)
    codes, uniques = pd.factorize(key)
    return codes.astype(np.int64, copy=False), len(uniques)


def class_codes(df: pd.DataFrame, columns: list) -> tuple[np.ndarray, int]:
    """The equivalence class of each record (``0..G-1``) and the number of classes ``G``."""
    return combine_codes([column_codes(df[c]) for c in columns])
