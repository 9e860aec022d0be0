"""Checks at the boundary of :mod:`healthlab.demography` and :mod:`healthlab.allocation`.

Each check raises :class:`healthlab.errors.InvalidParameterError` with a message that names the
parameter, shows the offending value and says what would be valid.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError


def check_frame(df, name: str = "data") -> pd.DataFrame:
    """Return ``df`` if it is a non-empty DataFrame, else raise a clear error."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}; "
            "build one with pandas.DataFrame({'age': [...], ...}) or pandas.read_csv(...)"
        )
    if len(df) == 0:
        raise InvalidParameterError(f"{name} is an empty table; give at least one row")
    return df


def check_columns(df: pd.DataFrame, columns, name: str = "data") -> None:
    """Raise unless every name in ``columns`` is a column of ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"{name} lacks the column(s) {missing}; it has {list(df.columns)}"
        )


def numeric(values, name: str, *, allow_negative: bool = False, allow_nan: bool = False):
    """Return ``values`` as a float array after checking type, sign and missing values."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{name} must hold numbers, got values such as {list(pd.Series(values).head(3))}"
        ) from None
    if not allow_nan and np.isnan(arr).any():
        where = np.flatnonzero(np.isnan(arr))[:5].tolist()
        raise InvalidParameterError(
            f"{name} has missing values (at positions {where}); fill or drop them first"
        )
    if not np.isfinite(arr[~np.isnan(arr)]).all():
        raise InvalidParameterError(f"{name} has infinite values; give finite numbers")
    if not allow_negative and (arr < 0).any():
        bad = arr[arr < 0][:3].tolist()
        raise InvalidParameterError(
            f"{name} must not be negative, got {bad}; counts, rates and populations are >= 0"
        )
    return arr


def same_length(a, b, name_a: str, name_b: str) -> None:
    """Raise unless ``a`` and ``b`` have the same length."""
    if len(a) != len(b):
        raise InvalidParameterError(
            f"{name_a} has {len(a)} values but {name_b} has {len(b)}; give one of each per unit"
        )


def probability(value, name: str, *, open_low: bool = True, open_high: bool = True) -> float:
    """Return ``value`` as a float strictly (or not) between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a number between 0 and 1, got {value!r}")
    v = float(value)
    low_bad = v <= 0 if open_low else v < 0
    high_bad = v >= 1 if open_high else v > 1
    if low_bad or high_bad or np.isnan(v):
        raise InvalidParameterError(f"{name} must lie between 0 and 1, got {value!r}")
    return v


def positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """Return ``value`` if it is a positive (or non-negative) number, integer if asked."""
    kind = numbers.Integral if integer else numbers.Real
    ok = not isinstance(value, bool) and isinstance(value, kind)
    if ok:
        ok = value >= 0 if allow_zero else value > 0
    if not ok or (not integer and not np.isfinite(value)):
        what = "whole number" if integer else "number"
        bound = "at least 0" if allow_zero else "greater than 0"
        raise InvalidParameterError(f"{name} must be a {what} {bound}, got {value!r}")
    return int(value) if integer else float(value)


def choice(value, name: str, allowed) -> str:
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise InvalidParameterError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def age_grid(
    ages, name: str = "age", *, start_at_zero: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Check an age column and return the ages and the interval widths.

    Ages are the starts of intervals, increasing, with the last one open. Accepted grids are
    single years (0, 1, 2, ...), five-year groups (0, 5, 10, ...), and the abridged grid
    (0, 1, 5, 10, ...); more generally a constant width after an optional 0, 1 head. Any other
    step is a gap (or an overlap) and raises an error that names where it is.

    Returns
    -------
    ages : ndarray of float
    widths : ndarray of float
        Width of each interval; ``inf`` for the last, open interval.
    """
    a = numeric(ages, name)
    if len(a) < 2:
        raise InvalidParameterError(
            f"{name} needs at least two age groups (the last is the open interval), "
            f"got {a.tolist()}"
        )
    if start_at_zero and a[0] != 0:
        raise InvalidParameterError(f"{name} must start at 0, got first age {a[0]:g}")
    if (a != np.round(a)).any():
        raise InvalidParameterError(f"{name} must hold whole ages, got {a[a != np.round(a)][:3]}")
    d = np.diff(a)
    if (d <= 0).any():
        i = int(np.flatnonzero(d <= 0)[0])
        raise InvalidParameterError(
            f"{name} must increase strictly, but {a[i]:g} is followed by {a[i + 1]:g}; "
            "sort the table by age and give each age group once"
        )
    head = 2 if len(d) >= 2 and a[0] == 0 and d[0] == 1 and d[1] == 4 else 0
    body = d[head:]
    if len(body) and (body != body[0]).any():
        i = head + int(np.flatnonzero(body != body[0])[0])
        raise InvalidParameterError(
            f"{name} has a gap or an uneven step between {a[i]:g} and {a[i + 1]:g} "
            f"(step {d[i]:g} where the table uses {body[0]:g}); valid grids are single years "
            "(0, 1, 2, ...), five-year groups (0, 5, 10, ...) or abridged (0, 1, 5, 10, ...)"
        )
    widths = np.append(d, np.inf)
    return a, widths
