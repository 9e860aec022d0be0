"""Disease burden and service demand from a projected population.

Age-specific rates applied to a projected population give the future count of patients
(prevalence x population), admissions (admission rate x population), bed-days (admissions x
mean length of stay) and beds (bed-days / 365 / target occupancy). Holding the rates fixed
isolates the effect of population aging; scenarios of the rates themselves can be passed as
separate runs.

Beds sized for a turn-away probability come from the Erlang model of
:mod:`healthlab.allocation.queueing`: demography builds on allocation, never the reverse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, numeric, probability
from healthlab.allocation.queueing import beds_needed
from healthlab.errors import InvalidParameterError

__all__ = ["project_service_demand"]

_MEASURES = ("prevalence", "admission_rate", "length_of_stay")


def project_service_demand(
    projection: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    by=None,
    occupancy: float = 0.85,
    turn_away: float | None = None,
) -> pd.DataFrame:
    """Future patients, admissions, bed-days and beds from age-specific rates.

    Parameters
    ----------
    projection : pandas.DataFrame
        Columns ``year``, ``age`` and ``population`` (for example the output of
        :func:`healthlab.demography.project_population`), optionally ``sex`` and ``scenario``.
    rates : pandas.DataFrame
        Columns ``age`` (starts of age groups, which may be wider than the projection's; each
        projection age takes the rate of the group it falls in), optionally ``sex`` (then the
        rates are matched by sex too), and one or more of ``prevalence`` (share with the
        condition), ``admission_rate`` (admissions per person per year) and ``length_of_stay``
        (mean days per admission, needs ``admission_rate``).
    by : str or list of str, optional
        Extra columns of ``projection`` to keep apart (``scenario`` is always kept if present).
    occupancy : float, default 0.85
        Target bed occupancy used to turn bed-days into beds.
    turn_away : float, optional
        Also size the beds so that an arriving patient finds every bed full with at most this
        probability (Erlang B on admissions per day and the mean stay; see
        :func:`healthlab.allocation.beds_needed`), in ``beds_erlang``. Random arrivals need
        more beds than the mean occupancy suggests, the more so the smaller the unit.

    Returns
    -------
    pandas.DataFrame
        By ``scenario`` (if present), ``by`` and ``year``: ``population`` and, as the rates
        allow, ``patients``, ``admissions``, ``bed_days`` and ``beds_needed`` (and
        ``beds_erlang`` with ``turn_away``).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import project_service_demand
    >>> proj = pd.DataFrame({"year": [2025, 2025, 2035, 2035], "age": [0, 65] * 2,
    ...                      "population": [800, 200, 700, 300]})
    >>> rates = pd.DataFrame({"age": [0, 65], "prevalence": [0.05, 0.4],
    ...                       "admission_rate": [0.05, 0.3], "length_of_stay": [5, 10]})
    >>> project_service_demand(proj, rates, occupancy=0.8).round(2)
       year  population  patients  admissions  bed_days  beds_needed
    0  2025        1000     120.0       100.0     800.0         2.74
    1  2035        1000     155.0       125.0    1075.0         3.68
    """
    check_frame(projection, "projection")
    check_columns(projection, ["year", "age", "population"], frame="projection")
    numeric(projection["population"], "projection['population']")
    check_frame(rates, "rates")
    check_columns(rates, ["age"], frame="rates")
    occ = probability(occupancy, "occupancy", open_high=False)
    measures = [m for m in _MEASURES if m in rates.columns]
    if not measures:
        raise InvalidParameterError(
            f"rates needs at least one of the columns {list(_MEASURES)}; it has "
            f"{list(rates.columns)}"
        )
    if "length_of_stay" in measures and "admission_rate" not in measures:
        raise InvalidParameterError("rates['length_of_stay'] needs rates['admission_rate'] too")
    for m in measures:
        numeric(rates[m], f"rates[{m!r}]")
    if "prevalence" in measures and (rates["prevalence"] > 1).any():
        raise InvalidParameterError("rates['prevalence'] must be a share between 0 and 1")
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if "scenario" in projection.columns and "scenario" not in by:
        by = ["scenario", *by]
    check_columns(projection, by, frame="projection", allow_empty=True)
    by_sex = "sex" in rates.columns
    if by_sex:
        check_columns(projection, ["sex"], frame="projection")

    frame = projection.copy()
    keys = ["sex"] if by_sex else []
    groups = rates.groupby(keys) if keys else [((), rates)]
    parts = []
    for key, part in groups:
        part = part.sort_values("age")
        starts = numeric(part["age"], "rates['age']")
        if by_sex:
            sel = frame[frame["sex"].astype(str) == str(key[0] if isinstance(key, tuple) else key)]
        else:
            sel = frame
        idx = np.searchsorted(starts, sel["age"].to_numpy(dtype=float), side="right") - 1
        if (idx < 0).any():
            raise InvalidParameterError(
                f"rates start at age {starts[0]:g}, above some projection ages; "
                "give rates from age 0 (a rate of 0 is fine)"
            )
        values = {m: part[m].to_numpy(dtype=float)[idx] for m in measures}
        parts.append(sel.assign(**values))
    frame = pd.concat(parts)
    out = frame.assign(
        patients=frame["population"] * frame["prevalence"] if "prevalence" in measures else 0.0,
        admissions=(
            frame["population"] * frame["admission_rate"] if "admission_rate" in measures else 0.0
        ),
    )
    if "length_of_stay" in measures:
        out["bed_days"] = out["admissions"] * out["length_of_stay"]
    cols = ["population"]
    cols += ["patients"] if "prevalence" in measures else []
    cols += ["admissions"] if "admission_rate" in measures else []
    cols += ["bed_days"] if "length_of_stay" in measures else []
    res = out.groupby([*by, "year"], as_index=False, sort=True)[cols].sum()
    if "bed_days" in cols:
        res["beds_needed"] = res["bed_days"] / 365.0 / occ
    if turn_away is not None:
        if "bed_days" not in cols:
            raise InvalidParameterError("turn_away needs rates['length_of_stay']")
        probability(turn_away, "turn_away")
        with np.errstate(divide="ignore", invalid="ignore"):
            stay = np.where(res["admissions"] > 0, res["bed_days"] / res["admissions"], 1.0)
        sized = beds_needed(res["admissions"].to_numpy() / 365.0, stay, target=turn_away)
        res["beds_erlang"] = np.where(res["admissions"] > 0, sized["beds"], 0)
    return res
