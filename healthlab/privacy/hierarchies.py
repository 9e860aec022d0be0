"""Generalisation hierarchies: built for ages, dates, provinces and codes, or loaded from CSV.

A hierarchy is a DataFrame with one row per original value: its first column is the value,
each further column the value's generalisation one level up, the last usually ``"*"`` (fully
suppressed). This is the layout of ARX's hierarchy files, so ``load_hierarchy`` reads those
files as they are (``;``-separated, no header).

References
----------
Prasser F, Eicher J, Spengler H, Bild R, Kuhn KA. Flexible data anonymization using ARX --
current status and challenges ahead. Softw Pract Exper 2020;50(7):1277-1304.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError

#: The four economic regions of the National Bureau of Statistics (census communique No. 3).
REGIONS = {
    "east": [
        "Beijing", "Tianjin", "Hebei", "Shanghai", "Jiangsu",
        "Zhejiang", "Fujian", "Shandong", "Guangdong", "Hainan",
    ],
    "central": ["Shanxi", "Anhui", "Jiangxi", "Henan", "Hubei", "Hunan"],
    "west": [
        "Inner Mongolia", "Guangxi", "Chongqing", "Sichuan", "Guizhou", "Yunnan",
        "Tibet", "Shaanxi", "Gansu", "Qinghai", "Ningxia", "Xinjiang",
    ],
    "northeast": ["Liaoning", "Jilin", "Heilongjiang"],
}  # fmt: skip


def _named(columns: list, name: str) -> pd.DataFrame:
    frame = pd.DataFrame(dict(enumerate(columns)))
    frame.columns = [name] + [f"level{i}" for i in range(1, len(columns))]
    return frame


def check_hierarchy(hierarchy, name: str = "hierarchy") -> pd.DataFrame:
    """Return a hierarchy as a DataFrame, reading it when given a path; raise if malformed.

    A hierarchy is well formed when it has at least one level above the values, no value
    appears twice, and values that share a node at one level share it at every level above.
    """
    if isinstance(hierarchy, str | os.PathLike):
        return load_hierarchy(hierarchy)
    if not isinstance(hierarchy, pd.DataFrame):
        raise InvalidParameterError(
            f"{name} must be a DataFrame (values, then one column per level) or the path of an "
            f"ARX-format CSV file, got {type(hierarchy).__name__}"
        )
    if hierarchy.shape[1] < 2 or len(hierarchy) == 0:
        raise InvalidParameterError(
            f"{name} needs rows and at least two columns (the values and one level above them), "
            f"got shape {hierarchy.shape}"
        )
    if hierarchy.iloc[:, 0].duplicated().any():
        dupes = hierarchy.iloc[:, 0][hierarchy.iloc[:, 0].duplicated()].unique()[:5].tolist()
        raise InvalidParameterError(f"{name} lists these values more than once: {dupes}")
    for i in range(1, hierarchy.shape[1] - 1):
        upward = hierarchy.groupby(hierarchy.iloc[:, i], dropna=False)[hierarchy.columns[i + 1]]
        split = upward.nunique(dropna=False)
        if (split > 1).any():
            raise InvalidParameterError(
                f"{name} is not a tree: at level {i}, the node(s) "
                f"{split[split > 1].index[:3].tolist()} "
                f"generalise to more than one value at level {i + 1}"
            )
    return hierarchy


def load_hierarchy(path) -> pd.DataFrame:
    """Read a hierarchy from an ARX-format CSV file (``;``-separated, no header).

    Parameters
    ----------
    path : str or os.PathLike
        The file; its first column holds the original values, each further column one level.

    Returns
    -------
    pandas.DataFrame
        All values as strings; columns ``value, level1, level2, ...``.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> from healthlab.privacy import load_hierarchy
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sex.csv"
    >>> _ = path.write_text("Male;*\\nFemale;*\\n")
    >>> load_hierarchy(path).columns.tolist()
    ['value', 'level1']
    """
    if not os.path.exists(path):
        raise InvalidParameterError(f"no hierarchy file at {os.fspath(path)!r}")
    frame = pd.read_csv(path, sep=";", header=None, dtype=str, keep_default_na=False)
    frame.columns = ["value"] + [f"level{i}" for i in range(1, frame.shape[1])]
    return check_hierarchy(frame, f"hierarchy file {os.fspath(path)!r}")


def age_hierarchy(
    max_age: int = 120, widths: Sequence[int] = (5, 10, 20), *, min_age: int = 0
) -> pd.DataFrame:
    """Hierarchy for whole-year ages: bands of growing width, then ``"*"``.

    Bands start at multiples of their width: with widths ``(5, 10)`` age 37 becomes ``"35-39"``
    and then ``"30-39"``. Each width must divide the next, so that bands nest.

    Examples
    --------
    >>> from healthlab.privacy import age_hierarchy
    >>> age_hierarchy(99, (5, 10)).iloc[37, 1:].tolist()
    ['35-39', '30-39', '*']
    """
    widths = list(widths)
    if any(int(w) != w or w < 1 for w in widths) or any(b % a for a, b in zip(widths, widths[1:])):
        raise InvalidParameterError(
            f"widths must be whole numbers of years, each dividing the next, got {widths}; "
            "for example (5, 10, 20)"
        )
    if not 0 <= min_age <= max_age:
        raise InvalidParameterError(
            f"need 0 <= min_age <= max_age, got min_age={min_age}, max_age={max_age}"
        )
    ages = np.arange(min_age, max_age + 1)
    levels = [ages]
    for w in widths:
        lo = ages // w * w
        levels.append(np.char.add(np.char.add(lo.astype(str), "-"), (lo + w - 1).astype(str)))
    levels.append(np.full(len(ages), "*"))
    frame = _named(levels, "value")
    return frame.astype({c: object for c in frame.columns[1:]})


def date_hierarchy(values) -> pd.DataFrame:
    """Hierarchy for dates: month (``2019-03``), year, decade (``2010s``), then ``"*"``.

    Parameters
    ----------
    values : array-like of dates
        The dates to cover (for example a birth-date column); duplicates and missing values
        are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import date_hierarchy
    >>> date_hierarchy(pd.to_datetime(["1957-03-09"])).iloc[0, 1:].tolist()
    ['1957-03', '1957', '1950s', '*']
    """
    dates = pd.Series(pd.to_datetime(pd.Series(values).dropna().unique())).sort_values()
    years = dates.dt.year.to_numpy()
    frame = pd.DataFrame(
        {
            "value": dates.to_numpy(),
            "level1": dates.dt.strftime("%Y-%m").to_numpy(dtype=object),
            "level2": years.astype(str).astype(object),
            "level3": np.char.add((years // 10 * 10).astype(str), "s").astype(object),
            "level4": "*",
        }
    )
    return frame.reset_index(drop=True)


def region_hierarchy() -> pd.DataFrame:
    """Hierarchy for the 31 mainland provinces: province, economic region, then ``"*"``.

    The regions are those of the National Bureau of Statistics: east, central, west and
    northeast.

    Examples
    --------
    >>> from healthlab.privacy import region_hierarchy
    >>> h = region_hierarchy()
    >>> h.loc[h["value"] == "Sichuan", "level1"].item()
    'west'
    """
    rows = [(p, region) for region, provinces in REGIONS.items() for p in provinces]
    provinces, regions = zip(*rows)
    return _named([list(provinces), list(regions), ["*"] * len(rows)], "value")


def prefix_hierarchy(codes, lengths: Sequence[int] = (3, 1)) -> pd.DataFrame:
    """Hierarchy for codes that nest by prefix (ICD-10, postcodes): shorter prefixes, then ``"*"``.

    Parameters
    ----------
    codes : array-like of str
        The codes to cover; duplicates and missing values are dropped.
    lengths : sequence of int, default (3, 1)
        Prefix lengths, longest first: ``"E11.9"`` becomes ``"E11"``, then ``"E"``.

    Examples
    --------
    >>> from healthlab.privacy import prefix_hierarchy
    >>> prefix_hierarchy(["E11.9", "I10"]).iloc[0].tolist()
    ['E11.9', 'E11', 'E', '*']
    """
    lengths = list(lengths)
    if any(int(n) != n or n < 1 for n in lengths) or lengths != sorted(lengths, reverse=True):
        raise InvalidParameterError(
            f"lengths must be positive whole numbers, longest first, got {lengths}; e.g. (3, 1)"
        )
    values = pd.Series(pd.Series(codes).dropna().unique(), dtype=object).astype(str)
    levels = [values.to_numpy(dtype=object)]
    levels += [values.str.slice(0, n).to_numpy(dtype=object) for n in lengths]
    levels.append(np.full(len(values), "*", dtype=object))
    return _named(levels, "value")
