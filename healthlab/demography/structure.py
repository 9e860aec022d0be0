"""Age structure: dependency ratios, the potential support ratio and the median age.

The young-age dependency ratio is the population aged 0-14 per 100 aged 15-64, the old-age
dependency ratio those aged 65 and over per 100 aged 15-64, and the total their sum
(United Nations). The potential support ratio is its inverse view of aging: people aged 15-64
per person aged 65 and over. The median age splits the population in two halves; within the
age group that holds the middle person, people are taken as spread evenly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import age_grid, check_columns, check_frame, numeric
from healthlab.errors import InvalidParameterError

__all__ = ["dependency_ratios", "median_age"]


def _prepare(population: pd.DataFrame, by, value: str, bands=()) -> tuple[pd.DataFrame, list]:
    """Sum ``value`` by (by, age) after checking the table; returns the frame and by-list.

    Ages must form a regular grid (see ``age_grid``), or be exactly ``0`` and the two ``bands``
    (the broad groups 0-14, 15-64, 65+ of many published tables).
    """
    check_frame(population, "population")
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    check_columns(population, ["age", value, *by], frame="population")
    numeric(population[value], f"population[{value!r}]")
    ages = np.unique(numeric(population["age"], "population['age']"))
    if not (len(ages) == 3 and ages[0] == 0 and set(bands) == set(ages[1:].tolist())):
        age_grid(ages, "population['age']", start_at_zero=True)
    frame = population.groupby([*by, "age"], as_index=False, sort=True)[value].sum()
    return frame, by


def median_age(population: pd.DataFrame, *, by=None, value: str = "population") -> pd.DataFrame:
    """Median age of a population given by age (single years or groups).

    Parameters
    ----------
    population : pandas.DataFrame
        Columns ``age`` (start of each age group; the last group is open) and ``population``;
        other columns (such as sex) are summed over unless named in ``by``.
    by : str or list of str, optional
        Columns to compute the median within (for example ``"province"``).
    value : str, default "population"
        Name of the count column.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns and ``median_age``.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import median_age
    >>> pop = pd.DataFrame({"age": [0, 5, 10, 15], "population": [10, 10, 10, 10]})
    >>> median_age(pop)
       median_age
    0        10.0
    """
    frame, by = _prepare(population, by, value)
    ages = np.sort(frame["age"].unique())
    width = dict(zip(ages, np.append(np.diff(ages), np.nan)))
    gid = frame.groupby(by, sort=False).ngroup() if by else pd.Series(0, index=frame.index)
    total = frame[value].groupby(gid).transform("sum")
    cum = frame[value].groupby(gid).cumsum()
    half = total / 2.0
    hit = (cum >= half) & (frame[value] > 0)
    first = hit & (hit.astype(int).groupby(gid).cumsum() == 1)
    rows = frame[first].copy()
    below = (cum - frame[value])[first]
    w = rows["age"].map(width)
    if w.isna().any():
        raise InvalidParameterError(
            "the median falls in the open age group; give a finer age grid at older ages"
        )
    rows["median_age"] = rows["age"] + w * (half[first] - below) / rows[value]
    return rows[[*by, "median_age"]].reset_index(drop=True)


def dependency_ratios(
    population: pd.DataFrame,
    *,
    by=None,
    value: str = "population",
    young_below: int = 15,
    old_from: int = 65,
) -> pd.DataFrame:
    """Young, old-age and total dependency ratios, potential support ratio and median age.

    Parameters
    ----------
    population : pandas.DataFrame
        Columns ``age`` (start of each age group) and ``population``; other columns (such as
        sex) are summed over unless named in ``by``. Ages are single years or five-year groups,
        or just the three broad groups ``0``, ``young_below`` and ``old_from`` (then the median
        age is left missing); ``young_below`` and ``old_from`` must start age groups.
    by : str or list of str, optional
        Columns to compute the ratios within (for example ``"province"`` or ``"year"``).
    value : str, default "population"
        Name of the count column.
    young_below, old_from : int, default 15 and 65
        The working ages are ``young_below`` to ``old_from - 1``.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``population``, ``young_dependency``, ``old_dependency`` and
        ``total_dependency`` (per 100 of working age), ``potential_support_ratio`` (working-age
        people per older person), ``share_old`` (share aged ``old_from`` and over) and
        ``median_age``.

    References
    ----------
    United Nations, Department of Economic and Social Affairs. World Population Prospects:
    definition of indicators (dependency ratios, potential support ratio).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import dependency_ratios
    >>> pop = pd.DataFrame({"age": range(0, 90, 5), "population": [10.0] * 18})
    >>> dependency_ratios(pop)[["young_dependency", "old_dependency", "median_age"]]
       young_dependency  old_dependency  median_age
    0              30.0            50.0        45.0
    """
    frame, by = _prepare(population, by, value, bands=(young_below, old_from))
    ages = set(frame["age"].unique().tolist())
    for name, cut in (("young_below", young_below), ("old_from", old_from)):
        if cut not in ages:
            raise InvalidParameterError(
                f"{name}={cut} is not the start of an age group; the groups start at {sorted(ages)}"
            )
    if not young_below < old_from:
        raise InvalidParameterError(
            f"young_below ({young_below}) must be below old_from ({old_from})"
        )
    band = np.select(
        [frame["age"] < young_below, frame["age"] >= old_from], ["young", "old"], "working"
    )
    frame = frame.assign(band=band)
    wide = frame.pivot_table(index=by or None, columns="band", values=value, aggfunc="sum")
    if not by:
        wide = frame.groupby("band")[value].sum().to_frame().T
    wide = wide.reindex(columns=["young", "working", "old"], fill_value=0.0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "population": wide.sum(axis=1),
                "young_dependency": 100 * wide["young"] / wide["working"],
                "old_dependency": 100 * wide["old"] / wide["working"],
            }
        )
        out["total_dependency"] = out["young_dependency"] + out["old_dependency"]
        out["potential_support_ratio"] = wide["working"] / wide["old"]
        out["share_old"] = wide["old"] / out["population"]
    out = out.reset_index(drop=not by)
    if len(ages) == 3:  # broad bands only: no meaningful median
        out["median_age"] = np.nan
    else:
        med = median_age(frame.drop(columns="band"), by=by or None, value=value)
        if by:
            out = out.merge(med, on=by, how="left")
        else:
            out["median_age"] = med["median_age"].to_numpy()
    out.columns.name = None
    return out
