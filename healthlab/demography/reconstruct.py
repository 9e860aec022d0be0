"""Reverse survival: the population of earlier years rebuilt from a later one.

People aged ``x + n`` at time ``t`` were aged ``x`` at ``t - n``; of those alive then, the
share ``S = L(x + n) / L(x)`` survived. So ``N(x, t - n) = N(x + n, t) / S``, and for the open
group ``w - n``+ at ``t - n``, ``N(w - n+, t - n) = N(w+, t) * T(w - n) / T(w)``. Each step
back loses the top age group; children born after ``t - n`` do not appear (they were not yet
born). Migration and the deaths of those who died before ``t`` and had no survivors are not
recovered, and the mortality used is the one given (optionally higher in the past by a yearly
rate), so the result is an estimate to compare with a census, not a census.

The survival ratios come from a piecewise-constant hazard: each age interval of ``mortality``
keeps its death rate ``mx`` through the interval, and the open interval's rate continues to
any older age of the population, so the mortality grid may be coarser than the population's.

References
----------
Preston SH, Heuveline P, Guillot M. Demography: Measuring and Modeling Population Processes.
Oxford: Blackwell; 2001. Section 6.4 (reverse survival).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import age_grid, check_frame, numeric
from healthlab.errors import InvalidParameterError

__all__ = ["reverse_survive"]

_STEP = 0.05  # years: the grid the hazard is integrated on


def _person_years(starts, rates, top: float) -> tuple[np.ndarray, np.ndarray]:
    """Survivorship ``l(a)`` and person-years on a fine grid for a piecewise-constant hazard."""
    grid = np.arange(0.0, top + _STEP, _STEP)
    hazard = rates[np.searchsorted(starts, grid, side="right") - 1]
    lx = np.exp(-np.concatenate([[0.0], np.cumsum(hazard[:-1] * _STEP)]))
    return grid, lx


def _survival(mort: pd.DataFrame, ages: np.ndarray, step: int, factor: float) -> np.ndarray:
    """``L(x + step) / L(x)`` for the closed groups and ``T(w) / T(w - step)`` for the last."""
    m_ages, _ = age_grid(mort["age"].to_numpy(), "mortality['age']")
    order = np.argsort(mort["age"].to_numpy())
    mx = numeric(mort["mx"].to_numpy()[order], "mortality['mx']") * factor
    if mx[-1] <= 0:
        raise InvalidParameterError("mortality's open age group needs a death rate above 0")
    grid, lx = _person_years(m_ages, mx, max(ages[-1], m_ages[-1]) + 2.0 * step)
    cum = np.concatenate([[0.0], np.cumsum(lx * _STEP)])

    def L(lo, hi):
        i, j = np.searchsorted(grid, [lo, hi])
        return cum[j] - cum[i]

    # beyond the grid the open interval's constant hazard goes on: T = l(end) / m_open
    total = cum[-1] + lx[-1] * np.exp(-mx[-1] * _STEP) / mx[-1]
    out = np.empty(len(ages) - 1)
    for k, x in enumerate(ages[:-2]):
        out[k] = L(x + step, x + 2 * step) / L(x, x + step)
    w = ages[-1]
    out[-1] = (total - L(0, w)) / (total - L(0, w - step))
    return out


def reverse_survive(
    population: pd.DataFrame,
    mortality: pd.DataFrame,
    *,
    year: int,
    to_year: int,
    mortality_improvement: float = 0.0,
) -> pd.DataFrame:
    """Rebuild the population by age and sex of earlier years from that of ``year``.

    Parameters
    ----------
    population : pandas.DataFrame
        ``age`` (five-year or single-year groups from 0, the last open), ``sex`` and
        ``population`` at ``year``.
    mortality : pandas.DataFrame
        ``age``, ``sex`` and ``mx`` (deaths per person-year), for example from
        :func:`healthlab.demography.death_rates`; any grid from 0 with an open last group.
    year, to_year : int
        The year of ``population`` and the earliest year wanted; ``year - to_year`` must be a
        multiple of the age-group width.
    mortality_improvement : float, default 0
        Yearly rate at which death rates fell up to ``year``: the rates of a step centred on
        ``t`` are ``mx / (1 - r) ** (year - t)``, higher in the past.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``sex``, ``age``, ``population`` for every step from ``year`` back to
        ``to_year``; each step back ends one group lower (the open group of ``to_year``
        starts ``year - to_year`` years below that of ``year``).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import reverse_survive
    >>> pop = pd.DataFrame({"age": [0, 5, 10, 15] * 2, "sex": ["F"] * 4 + ["M"] * 4,
    ...                     "population": [100.0, 100, 100, 100] * 2})
    >>> mort = pd.DataFrame({"age": [0, 50] * 2, "sex": ["F", "F", "M", "M"], "mx": 0.01})
    >>> back = reverse_survive(pop, mort, year=2020, to_year=2015)
    >>> back[(back.year == 2015) & (back.sex == "F")]["population"].round(1).tolist()
    [105.1, 105.1, 105.1]
    """
    check_frame(population, "population")
    check_frame(mortality, "mortality")
    for name, frame, cols in (
        ("population", population, ["age", "sex", "population"]),
        ("mortality", mortality, ["age", "sex", "mx"]),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidParameterError(f"{name} lacks the column(s) {missing}")
    if not (0 <= mortality_improvement < 1):
        raise InvalidParameterError(
            f"mortality_improvement must be a yearly rate in [0, 1), got {mortality_improvement!r}"
        )
    ages, widths = age_grid(np.sort(population["age"].unique()), "population['age']")
    step = int(widths[0])
    if not (widths[:-1] == step).all():
        raise InvalidParameterError("population['age'] must be equal groups (0, 5, 10, ...)")
    span = int(year) - int(to_year)
    if span <= 0 or span % step:
        raise InvalidParameterError(
            f"year - to_year must be a positive multiple of the age-group width ({step}), "
            f"got {year} - {to_year}"
        )
    if span // step >= len(ages) - 1:
        raise InvalidParameterError(
            f"going back {span} years would use up every age group; give more age groups"
        )
    frames = []
    for sex in ("F", "M"):
        now = population[population["sex"].astype(str) == sex].groupby("age")["population"].sum()
        mort = mortality[mortality["sex"].astype(str) == sex]
        if mort.empty:
            raise InvalidParameterError(f"mortality has no rows for sex {sex!r}")
        counts = now.reindex(ages, fill_value=0.0).to_numpy(float)
        grid = ages.copy()
        t = int(year)
        frames.append(pd.DataFrame({"year": t, "sex": sex, "age": grid, "population": counts}))
        while t > to_year:
            factor = (1 - mortality_improvement) ** -(year - (t - step / 2))
            s = _survival(mort, grid, step, factor)
            earlier = counts[1:-1] / s[:-1]
            open_group = counts[-1] / s[-1]
            counts = np.append(earlier, open_group)
            grid = grid[:-1]
            t -= step
            frames.append(pd.DataFrame({"year": t, "sex": sex, "age": grid, "population": counts}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["year", "sex", "age"], ignore_index=True)
