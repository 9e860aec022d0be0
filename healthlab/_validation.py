"""The one place healthlab checks what it is given: seeds, tables, columns, numbers and words.

Every public function validates at its boundary with these helpers, so one kind of mistake gets
one kind of message in every subpackage. Each check raises
:class:`healthlab.errors.InvalidParameterError` with a message that names the parameter, shows
the offending value and says what would be valid; each returns the value in the form the caller
works with (an ``int`` seed, a list of columns, a float array).

Examples
--------
>>> import numpy as np
>>> from healthlab._validation import check_seed, choice
>>> check_seed(np.int64(7))
7
>>> choice("rural", "area", ("rural", "urban"))
'rural'
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError

__all__ = [
    "age_grid",
    "check_columns",
    "check_frame",
    "check_k",
    "check_seed",
    "choice",
    "fraction",
    "numeric",
    "positive",
    "probability",
    "rates",
    "rng",
    "same_length",
]


# --------------------------------------------------------------------------- seeds


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` as a non-negative ``int``; Python and numpy integers are both accepted.

    Examples
    --------
    >>> import numpy as np
    >>> check_seed(3), check_seed(np.uint32(3))
    (3, 3)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    healthlab.errors.InvalidParameterError: seed must be a non-negative integer, got -1; ...
    """
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameterError(
            f"{name} must be a non-negative integer, got {seed!r}; pass for example {name}=0"
        )
    return int(seed)


def rng(seed, name: str = "seed") -> np.random.Generator:
    """A :class:`numpy.random.Generator` for ``seed`` (checked first), never the global one.

    Examples
    --------
    >>> float(rng(0).random()) == float(rng(0).random())
    True
    """
    return np.random.default_rng(check_seed(seed, name))


# --------------------------------------------------------------------------- tables


def check_frame(df, name: str = "data", *, allow_empty: bool = False) -> pd.DataFrame:
    """Return ``df`` if it is a DataFrame (with at least one row unless ``allow_empty``).

    Examples
    --------
    >>> import pandas as pd
    >>> check_frame(pd.DataFrame({"age": [1]})).shape
    (1, 1)
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"{name} must be a pandas DataFrame, got {type(df).__name__}; load a table with "
            "healthlab.datasets.load(...)[table] or build one with pandas.DataFrame(...)"
        )
    if len(df) == 0 and not allow_empty:
        raise InvalidParameterError(f"{name} is an empty table; give at least one row")
    return df


def check_columns(
    df: pd.DataFrame,
    columns,
    name: str = "columns",
    *,
    frame: str = "the table",
    allow_empty: bool = False,
) -> list:
    """Return ``columns`` as a list after checking each is a column of ``df``, listed once.

    ``name`` is the parameter that named the columns, ``frame`` the table they should be in.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"age": [1], "sex": ["F"]}), "age")
    ['age']
    """
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, Iterable):
        raise InvalidParameterError(
            f"{name} must be a list of column names, got {columns!r}; for example ['age', 'sex']"
        )
    columns = list(columns)
    if not columns and not allow_empty:
        raise InvalidParameterError(
            f"{name} is empty; name at least one column of {frame}, such as {list(df.columns[:3])}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing and name == "columns":
        raise InvalidParameterError(
            f"{frame} lacks the column(s) {missing!r}; its columns are {list(df.columns)}"
        )
    if missing:
        raise InvalidParameterError(
            f"{name} names {missing!r}, which {'is' if len(missing) == 1 else 'are'} not a column "
            f"of {frame}; the columns are {list(df.columns)}"
        )
    dupes = sorted({str(c) for c in columns if columns.count(c) > 1})
    if dupes:
        raise InvalidParameterError(f"{name} lists {dupes} more than once; list each column once")
    return columns


# --------------------------------------------------------------------------- numbers


def numeric(values, name: str, *, allow_negative: bool = False, allow_nan: bool = False):
    """Return ``values`` as a float array after checking type, sign and missing values.

    Examples
    --------
    >>> numeric([1, 2.5], "deaths").tolist()
    [1.0, 2.5]
    """
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
    """Raise unless ``a`` and ``b`` have the same length.

    Examples
    --------
    >>> same_length([1, 2], [3, 4], "x", "y")
    """
    if len(a) != len(b):
        raise InvalidParameterError(
            f"{name_a} has {len(a)} values but {name_b} has {len(b)}; give one of each per unit"
        )


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def probability(value, name: str, *, open_low: bool = True, open_high: bool = True) -> float:
    """Return ``value`` as a float between 0 and 1 (ends excluded unless asked).

    Examples
    --------
    >>> probability(0.95, "level")
    0.95
    """
    if not _real(value):
        raise InvalidParameterError(f"{name} must be a number between 0 and 1, got {value!r}")
    v = float(value)
    low_bad = v <= 0 if open_low else v < 0
    high_bad = v >= 1 if open_high else v > 1
    if low_bad or high_bad or np.isnan(v):
        raise InvalidParameterError(f"{name} must lie between 0 and 1, got {value!r}")
    return v


def fraction(value, name: str, *, low_open: bool = True) -> float:
    """Return ``value`` as a float in (0, 1], or [0, 1] when ``low_open`` is false.

    Examples
    --------
    >>> fraction(1, "sample")
    1.0
    """
    ok = _real(value) and (0 < value <= 1 if low_open else 0 <= value <= 1)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise InvalidParameterError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def positive(value, name: str, *, integer: bool = False, allow_zero: bool = False):
    """Return ``value`` if it is a positive (or non-negative) number, a whole one if asked.

    Examples
    --------
    >>> positive(3, "servers", integer=True)
    3
    """
    kind = numbers.Integral if integer else numbers.Real
    ok = not isinstance(value, bool | np.bool_) and isinstance(value, kind)
    if ok:
        ok = value >= 0 if allow_zero else value > 0
    if not ok or (not integer and not np.isfinite(value)):
        what = "whole number" if integer else "number"
        bound = "at least 0" if allow_zero else "greater than 0"
        raise InvalidParameterError(f"{name} must be a {what} {bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_k(k, name: str = "k") -> int:
    """Return ``k`` (a group size, as in k-anonymity) as an int of at least 1.

    Examples
    --------
    >>> check_k(5)
    5
    """
    if isinstance(k, bool | np.bool_) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidParameterError(
            f"{name} must be a whole number of at least 1, got {k!r}; "
            "k=5 is a common choice (each record shares its quasi-identifiers with 4 others)"
        )
    return int(k)


def rates(value, name: str, defaults: dict) -> dict[str, float]:
    """Rates to use from one way of overriding them, the same for every generator.

    ``None`` or ``True`` gives the ``defaults``; ``False`` or ``0`` gives no events at all; a
    dict replaces the rates it names (each in [0, 1]) and keeps the others.

    Examples
    --------
    >>> rates({"typo": 0.1}, "noise", {"typo": 0.03, "missing": 0.1})
    {'typo': 0.1, 'missing': 0.1}
    >>> rates(False, "noise", {"typo": 0.03})
    {'typo': 0.0}
    """
    if value is None or value is True:
        return {k: float(v) for k, v in defaults.items()}
    if value is False or (_real(value) and value == 0):
        return dict.fromkeys(defaults, 0.0)
    if not isinstance(value, dict):
        raise InvalidParameterError(
            f"{name} must be None or True (the default rates), False or 0 (none), or a dict of "
            f"rates such as {{{next(iter(defaults))!r}: 0.05}}; got {value!r}"
        )
    unknown = sorted(set(value) - set(defaults), key=str)
    if unknown:
        raise InvalidParameterError(
            f"{name} has unknown keys {unknown}; its keys must be among {list(defaults)}"
        )
    out = {k: float(v) for k, v in defaults.items()}
    for key, rate in value.items():
        if not _real(rate) or not 0 <= rate <= 1:
            raise InvalidParameterError(f"{name}[{key!r}] must be a rate in [0, 1], got {rate!r}")
        out[key] = float(rate)
    return out


# --------------------------------------------------------------------------- words


def choice(value, name: str, allowed):
    """Return ``value`` if it is one of ``allowed``; otherwise say which words are valid.

    Examples
    --------
    >>> choice("F", "sex", {"F", "M"})
    'F'
    """
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value asked of a set
        ok = False
    if not ok:
        words = sorted(allowed, key=str)
        raise InvalidParameterError(f"{name} must be one of {words}, got {value!r}")
    return value


# --------------------------------------------------------------------------- ages


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

    Examples
    --------
    >>> ages, widths = age_grid([0, 1, 5, 10])
    >>> widths.tolist()
    [1.0, 4.0, 5.0, inf]
    """
    a = numeric(ages, name)
    if len(a) < 2:
        raise InvalidParameterError(
            f"{name} needs at least two age groups (the last is the open interval), "
            f"got {a.tolist()}"
        )
    d = np.diff(a)
    if (d <= 0).any():
        i = int(np.flatnonzero(d <= 0)[0])
        raise InvalidParameterError(
            f"{name} must increase strictly, but {a[i]:g} is followed by {a[i + 1]:g}; "
            "sort the table by age (data.sort_values('age')) and give each age group once"
        )
    if start_at_zero and a[0] != 0:
        raise InvalidParameterError(f"{name} must start at 0, got first age {a[0]:g}")
    if (a != np.round(a)).any():
        raise InvalidParameterError(f"{name} must hold whole ages, got {a[a != np.round(a)][:3]}")
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
