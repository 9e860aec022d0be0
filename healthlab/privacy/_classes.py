"""Equivalence classes and the roles of columns (quasi-identifier or sensitive) in privacy.

An equivalence class is the set of records that share every quasi-identifier value. Missing
values form a value (and so a class) of their own: an attacker sees the blank as clearly as any
other value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame
from healthlab.errors import InvalidParameterError

# Mixed-radix keys stay below this bound; past it the partial key is renumbered first.
_KEY_LIMIT = 2**62


def check_roles(df: pd.DataFrame, quasi_identifiers, sensitive=()) -> tuple[list, list]:
    """Check quasi-identifiers and sensitive attributes together: columns, and disjoint."""
    check_frame(df, "df", allow_empty=True)
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
