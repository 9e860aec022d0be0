"""Cohort-component population projection by sex and single years or five-year age groups.

Each step of ``n`` years (the width of the age groups) moves every cohort one group up:

- survivors: ``N(x+n, t+n) = N(x, t) * L(x+n) / L(x)``, and the open group gathers the last
  two: ``N(w+, t+n) = (N(w-n, t) + N(w+, t)) * T(w) / T(w-n)``;
- births: ``B = sum_x f(x) * n * (N_F(x, t) + N_F(x, t+n)) / 2``, the women-years of the step
  times the age-specific fertility rates, split by the sex ratio at birth; the births that
  survive to the end of the step are ``B * L(0) / (n l0)``, with ``L(0)`` the person-years of
  the first age group;
- migration: ``n`` years of net migrants by age and sex, counted at the end of the step (a
  negative population after emigration is set to zero).

The ``L`` come from :func:`healthlab.demography.life_table` on the mortality rates of the step,
computed on their own (for example abridged) grid and summed onto the projection's groups.

Scenarios vary fertility (a target total fertility rate, fixed or a path by year), mortality
(an annual rate of improvement, or rates by year such as a Lee-Carter forecast) and migration
(a scale on the net migrants): :func:`project_scenarios` runs several and stacks them.

References
----------
Preston SH, Heuveline P, Guillot M. Demography: Measuring and Modeling Population Processes.
Oxford: Blackwell; 2001. Chapter 6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import age_grid, check_columns, check_frame, numeric, positive
from healthlab.demography.lifetable import life_table
from healthlab.errors import InvalidParameterError

__all__ = ["project_population", "project_scenarios"]

SEXES = ("F", "M")


def _check_sex(frame: pd.DataFrame, name: str) -> None:
    bad = sorted(set(frame["sex"].astype(str)) - set(SEXES))
    if bad:
        raise InvalidParameterError(
            f"{name}['sex'] must be coded 'F' or 'M', got {bad}; recode it first"
        )


def _for_year(frame: pd.DataFrame, year: float) -> pd.DataFrame:
    """Rows of the latest ``year`` at or before ``year`` (or the earliest year if none)."""
    if "year" not in frame.columns:
        return frame
    years = np.sort(frame["year"].unique())
    chosen = years[years <= year].max() if (years <= year).any() else years.min()
    return frame[frame["year"] == chosen]


def _tfr_at(tfr, year: float):
    """Target TFR at ``year``: a number, or linear interpolation of a {year: tfr} path."""
    if tfr is None:
        return None
    if isinstance(tfr, dict | pd.Series):
        path = pd.Series(tfr, dtype=float).sort_index()
        return float(np.interp(year, path.index.to_numpy(dtype=float), path.to_numpy()))
    return float(tfr)


def _person_years(mx: pd.DataFrame, sex: str, ages: np.ndarray, improvement: float) -> np.ndarray:
    """nLx (radix 1) of one sex summed onto the projection groups ``ages``."""
    rows = mx[mx["sex"].astype(str) == sex].sort_values("age")
    m_ages = rows["age"].to_numpy(dtype=float)
    missing = sorted(set(ages.tolist()) - set(m_ages.tolist()))
    if missing or m_ages[-1] < ages[-1]:
        raise InvalidParameterError(
            f"mortality for sex {sex!r} must cover every projection age group start "
            f"{ages.tolist()} (missing {missing}) up to the open group"
        )
    rates = rows["mx"].to_numpy(dtype=float) * improvement
    lt = life_table(
        pd.DataFrame({"age": m_ages, "mx": rates}),
        radix=1.0,
        sex="female" if sex == "F" else "male",
    )
    group = np.searchsorted(ages, m_ages, side="right") - 1
    return np.bincount(group, weights=lt["Lx"].to_numpy(), minlength=len(ages))


def _grid_values(frame: pd.DataFrame, col: str, ages: np.ndarray, by_sex: bool) -> np.ndarray:
    """Values of ``col`` on the projection ages (by sex if asked), zero where absent."""
    extra = sorted(set(frame["age"].astype(float)) - set(ages.tolist()))
    if extra:
        raise InvalidParameterError(
            f"{col} is given at ages {extra[:5]} that are not starts of the projection's age "
            f"groups {ages.tolist()[:6]}...; give it on the same grid"
        )
    if by_sex:
        out = np.zeros((2, len(ages)))
        for k, sex in enumerate(SEXES):
            part = frame[frame["sex"].astype(str) == sex]
            s = part.groupby("age")[col].sum()
            out[k] = s.reindex(ages, fill_value=0.0).to_numpy(dtype=float)
        return out
    s = frame.groupby("age")[col].sum()
    return s.reindex(ages, fill_value=0.0).to_numpy(dtype=float)


def project_population(
    base: pd.DataFrame,
    *,
    mortality: pd.DataFrame,
    fertility: pd.DataFrame,
    start_year: int,
    end_year: int,
    migration: pd.DataFrame | None = None,
    tfr=None,
    mortality_improvement: float = 0.0,
    migration_scale: float = 1.0,
    sex_ratio_at_birth: float = 1.05,
) -> pd.DataFrame:
    """Project a population by sex and age with the cohort-component method.

    Parameters
    ----------
    base : pandas.DataFrame
        The population at ``start_year``: columns ``age`` (single years or five-year groups,
        the last open), ``sex`` (``"F"``/``"M"``) and ``population``.
    mortality : pandas.DataFrame
        Death rates: ``age``, ``sex``, ``mx`` and optionally ``year`` (each step uses the
        latest year at or before its start). The ages may be finer than the projection's (for
        example abridged 0, 1, 5, ...) as long as every projection group starts at one of them.
    fertility : pandas.DataFrame
        Age-specific fertility rates, births per woman per year: ``age`` (starts of projection
        age groups) and ``asfr``, optionally ``year``.
    start_year, end_year : int
        ``end_year - start_year`` must be a multiple of the age-group width.
    migration : pandas.DataFrame, optional
        Annual net migrants: ``age``, ``sex``, ``net_migrants`` (negative for net emigration).
    tfr : float or dict, optional
        Scale the fertility rates to this total fertility rate, or to a path ``{year: tfr}``
        interpolated linearly (and held flat beyond its ends).
    mortality_improvement : float, default 0
        Annual rate at which all death rates fall: ``mx * (1 - r) ** (t - start_year)``.
    migration_scale : float, default 1
        Multiplier on the net migrants (0 for a closed population).
    sex_ratio_at_birth : float, default 1.05
        Male births per female birth (China's 2020 census: 1.113).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``sex``, ``age``, ``population`` for every step from ``start_year`` to
        ``end_year``, plus ``births`` (during the step that ends that year; 0 in the first).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import project_population
    >>> ages = list(range(0, 90, 5))
    >>> base = pd.DataFrame({"age": ages * 2, "sex": ["F"] * 18 + ["M"] * 18,
    ...                      "population": [1000.0] * 36})
    >>> mort = pd.DataFrame({"age": ages * 2, "sex": ["F"] * 18 + ["M"] * 18,
    ...                      "mx": [0.0001 * 1.1 ** a for a in ages] * 2})
    >>> fert = pd.DataFrame({"age": [20, 25, 30, 35], "asfr": [0.05, 0.1, 0.08, 0.03]})
    >>> out = project_population(base, mortality=mort, fertility=fert,
    ...                          start_year=2020, end_year=2030)
    >>> out.groupby("year")["population"].sum().round(0)
    year
    2020    36000.0
    2025    30820.0
    2030    28123.0
    Name: population, dtype: float64
    """
    check_frame(base, "base")
    check_columns(base, ["age", "sex", "population"], frame="base")
    _check_sex(base, "base")
    numeric(base["population"], "base['population']")
    ages, widths = age_grid(np.unique(numeric(base["age"], "base['age']")), "base['age']")
    step = widths[0]
    if not (widths[:-1] == step).all():
        raise InvalidParameterError(
            "base['age'] must be single years or equal groups (0, 5, 10, ...) for projection; "
            "the abridged grid (0, 1, 5, ...) cannot be moved one group a step"
        )
    check_frame(mortality, "mortality")
    check_columns(mortality, ["age", "sex", "mx"], frame="mortality")
    _check_sex(mortality, "mortality")
    numeric(mortality["mx"], "mortality['mx']")
    check_frame(fertility, "fertility")
    check_columns(fertility, ["age", "asfr"], frame="fertility")
    numeric(fertility["asfr"], "fertility['asfr']")
    if migration is not None:
        check_frame(migration, "migration")
        check_columns(migration, ["age", "sex", "net_migrants"], frame="migration")
        _check_sex(migration, "migration")
        numeric(migration["net_migrants"], "migration['net_migrants']", allow_negative=True)
    for name, value in (("start_year", start_year), ("end_year", end_year)):
        positive(value, name, integer=True)
    span = end_year - start_year
    if span <= 0 or span % step:
        raise InvalidParameterError(
            f"end_year - start_year must be a positive multiple of the age-group width "
            f"{step:g}, got {end_year} - {start_year} = {span}"
        )
    if not 0 <= mortality_improvement < 1:
        raise InvalidParameterError(
            f"mortality_improvement must lie in [0, 1), got {mortality_improvement!r}"
        )
    positive(migration_scale, "migration_scale", allow_zero=True)
    srb = positive(sex_ratio_at_birth, "sex_ratio_at_birth")
    if tfr is not None:
        numeric(np.atleast_1d(pd.Series(tfr).to_numpy()), "tfr")

    n = float(step)
    pop = _grid_values(base, "population", ages, by_sex=True)
    if migration is not None:
        mig = _grid_values(migration, "net_migrants", ages, by_sex=True) * n * migration_scale
    else:
        mig = np.zeros_like(pop)
    frames = [_frame(start_year, ages, pop, 0.0)]
    year = start_year
    share = np.array([1.0 / (1.0 + srb), srb / (1.0 + srb)])
    while year < end_year:
        improvement = (1.0 - mortality_improvement) ** (year - start_year)
        mx = _for_year(mortality, year)
        L = np.vstack([_person_years(mx, s, ages, improvement) for s in SEXES])
        T = np.cumsum(L[:, ::-1], axis=1)[:, ::-1]
        new = np.zeros_like(pop)
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.where(L[:, :-1] > 0, L[:, 1:] / L[:, :-1], 0.0)
            last = np.where(T[:, -2] > 0, T[:, -1] / T[:, -2], 0.0)
        new[:, 1:-1] = pop[:, :-2] * surv[:, :-1]
        new[:, -1] = (pop[:, -2] + pop[:, -1]) * last
        fert = _for_year(fertility, year)
        asfr = _grid_values(fert, "asfr", ages, by_sex=False)
        target = _tfr_at(tfr, year + n / 2)
        if target is not None:
            current = (asfr * n).sum()
            if current <= 0:
                raise InvalidParameterError("fertility['asfr'] sums to 0; cannot scale to a tfr")
            asfr = asfr * target / current
        births = float((asfr * n * (pop[0] + new[0]) / 2.0).sum())
        new[:, 0] = births * share * L[:, 0] / n
        new = np.maximum(new + mig, 0.0)
        pop = new
        year += int(n)
        frames.append(_frame(year, ages, pop, births))
    return pd.concat(frames, ignore_index=True)


def _frame(year: int, ages: np.ndarray, pop: np.ndarray, births: float) -> pd.DataFrame:
    k = len(ages)
    return pd.DataFrame(
        {
            "year": np.full(2 * k, year, dtype=np.int64),
            "sex": np.repeat(np.array(SEXES, dtype=object), k),
            "age": np.tile(ages, 2),
            "population": pop.ravel(),
            "births": np.full(2 * k, births),
        }
    )


def project_scenarios(base: pd.DataFrame, scenarios: dict, **common) -> pd.DataFrame:
    """Run :func:`project_population` under several scenarios and stack the results.

    Parameters
    ----------
    base : pandas.DataFrame
        The starting population (see :func:`project_population`).
    scenarios : dict
        Scenario name to a dict of keyword arguments that override ``common``, for example
        ``{"low": {"tfr": 0.9}, "high": {"tfr": 1.6, "migration_scale": 2}}``.
    **common
        Keyword arguments shared by every scenario (``mortality``, ``fertility``, years...).

    Returns
    -------
    pandas.DataFrame
        The projections with a leading ``scenario`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import project_scenarios
    >>> base = pd.DataFrame({"age": [0, 5, 10] * 2, "sex": ["F"] * 3 + ["M"] * 3,
    ...                      "population": [100.0] * 6})
    >>> mort = base.drop(columns="population").assign(mx=0.01)
    >>> fert = pd.DataFrame({"age": [5], "asfr": [0.2]})
    >>> out = project_scenarios(base, {"low": {"tfr": 0.5}, "high": {"tfr": 2.0}},
    ...                         mortality=mort, fertility=fert, start_year=2020, end_year=2025)
    >>> out[out.year == 2025].groupby("scenario")["births"].first().round(1)
    scenario
    high    195.1
    low      48.8
    Name: births, dtype: float64
    """
    if not isinstance(scenarios, dict) or not scenarios:
        raise InvalidParameterError(
            "scenarios must be a non-empty dict of name -> keyword overrides, for example "
            "{'low': {'tfr': 0.9}, 'high': {'tfr': 1.6}}"
        )
    out = []
    for name, overrides in scenarios.items():
        if not isinstance(overrides, dict):
            raise InvalidParameterError(
                f"scenario {name!r} must map to a dict of keyword arguments, got {overrides!r}"
            )
        kwargs = {**common, **overrides}
        out.append(project_population(base, **kwargs).assign(scenario=name))
    frame = pd.concat(out, ignore_index=True)
    return frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]
