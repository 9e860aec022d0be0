"""Monthly hospital admissions per province, for forecasting exercises.

The expected count of province ``p`` in month ``m`` of year ``y`` is

    A_y * share_p,y * month_y,m

- ``A_y`` is the national number of admissions of the year (NHC bulletins; see
  :data:`ANNUAL_MILLION`): a rise of about 6% a year to 2019 as the population ages, the fall of
  2020-2022 during COVID-19, and the rebound of 2023.
- ``share_p,y`` is the province's share: its population times its beds index (supply draws
  admissions; see :mod:`healthlab.synth.facilities`) times a province trend ``exp(g_p (y - 2019))``
  with ``g_p`` drawn once per province (standard deviation :data:`TREND_SD`), standing for faster
  aging in some provinces; shares sum to 1 each year.
- ``month_y,m`` is the shape within the year (sums to 1): a seasonal profile with a winter peak
  and a dip in the month of the Spring Festival (its date moves between January and February),
  and in 2020-2023 the COVID-19 profile (:data:`COVID_MONTHS`: the first wave of February-March
  2020, the spring 2022 lockdowns, the December 2022 wave and January 2023).

The observed count is the expected count times log-normal noise (:data:`NOISE_SD`), rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth._reference import ADMISSIONS_MILLION, china, load_provinces
from healthlab.synth.facilities import _bed_index

__all__ = ["ANNUAL_MILLION", "COVID_MONTHS", "make_admissions_series"]

#: National admissions (million) per year: NHC bulletins 2015-2021, china.yaml for 2022-2023.
ANNUAL_MILLION = dict(ADMISSIONS_MILLION)
ANNUAL_MILLION.update(
    {int(y): float(v) for y, v in china()["health_resources"]["admissions_million"].items()}
)

#: Seasonal shape, January to December (assumption: a winter peak of respiratory and
#: cardiovascular admissions, a summer shoulder, the October holiday dip).
SEASON = np.array([1.06, 1.02, 1.03, 0.99, 0.99, 0.99, 1.02, 1.01, 0.98, 0.92, 0.99, 1.05])

#: Date of the Spring Festival (month, day) by year; admissions dip about 25% that month.
SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5),
    2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22),
}  # fmt: skip

#: Relative level of admissions by month in the COVID-19 years (assumption shaped on the
#: course of the epidemic and the control measures; the yearly totals come from ANNUAL_MILLION).
COVID_MONTHS = {
    2020: [1.00, 0.45, 0.70, 0.85, 0.92, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    2021: [0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0, 1.0, 0.97],
    2022: [1.0, 1.0, 0.92, 0.85, 0.88, 1.0, 1.0, 1.0, 1.0, 0.95, 0.90, 0.75],
    2023: [0.80, 1.0, 1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
}

#: Standard deviation of the province trends (per year) and of the monthly noise (log scale).
TREND_SD = 0.01
NOISE_SD = 0.03


def _month_shape(year: int) -> np.ndarray:
    shape = SEASON.copy()
    month, _ = SPRING_FESTIVAL[year]
    shape[month - 1] *= 0.75
    shape *= np.asarray(COVID_MONTHS.get(year, np.ones(12)))
    return shape / shape.sum()


def make_admissions_series(
    *, start_year: int = 2015, end_year: int = 2023, provinces=None, seed: int = 0
) -> pd.DataFrame:
    """Monthly inpatient admissions per province, with seasonality, COVID-19 and aging trend.

    See the module notes for the model. National yearly totals match the NHC figures up to
    the monthly noise (well under 1%).

    Parameters
    ----------
    start_year, end_year : int
        First and last year, both within 2015-2023.
    provinces : list of str, optional
        English province names to keep (default: all 31). The draws are made for all provinces
        and then selected, so a province's series does not depend on which others are asked for.
    seed : int
        Seed of the random draws.

    Returns
    -------
    pandas.DataFrame
        One row per province and month: ``province``, ``province_code``, ``region``, ``year``,
        ``month``, ``date`` (first day of the month), ``admissions`` and ``expected`` (the
        count before noise).

    References
    ----------
    NHC, Statistical bulletins on the development of health care in China, 2015-2023.

    Examples
    --------
    >>> from healthlab.synth.admissions import make_admissions_series
    >>> s = make_admissions_series(start_year=2019, end_year=2020, provinces=["Hubei"])
    >>> s.groupby("year")["admissions"].sum().pct_change().iloc[1] < 0
    np.True_
    """
    rng = np.random.default_rng(check_seed(seed))
    years = sorted(ANNUAL_MILLION)
    for name, value in (("start_year", start_year), ("end_year", end_year)):
        if isinstance(value, bool) or value not in years:
            raise InvalidParameterError(
                f"{name} must be a year in {years[0]}-{years[-1]}, got {value!r}"
            )
    if end_year < start_year:
        raise InvalidParameterError(
            f"end_year ({end_year}) must not be before start_year ({start_year})"
        )
    prov = load_provinces()
    if provinces is not None:
        provinces = [provinces] if isinstance(provinces, str) else list(provinces)
        unknown = sorted(set(provinces) - set(prov["province"]))
        if unknown or not provinces:
            raise InvalidParameterError(
                f"provinces must name provinces from {sorted(prov['province'])}; got {provinces!r}"
            )
    # Draws for every province and every supported year, so subsets give the same numbers.
    trend = rng.normal(0.0, TREND_SD, len(prov))
    noise = rng.normal(0.0, NOISE_SD, (len(years), 12, len(prov)))
    base = prov["population_2020"].to_numpy(float) * _bed_index(prov)
    year_index = {y: i for i, y in enumerate(years)}
    sel = np.arange(start_year, end_year + 1)
    yy = sel[:, None, None]
    share = base[None, None, :] * np.exp(trend[None, None, :] * (yy - 2019))
    share = share / share.sum(axis=2, keepdims=True)
    shape = np.stack([_month_shape(int(y)) for y in sel])[:, :, None]
    total = np.array([ANNUAL_MILLION[int(y)] for y in sel])[:, None, None] * 1e6
    expected = total * share * shape
    eps = noise[[year_index[int(y)] for y in sel]]
    observed = np.round(expected * np.exp(eps - NOISE_SD**2 / 2)).astype("int64")
    n_y, n_m, n_p = expected.shape
    grid = pd.DataFrame(
        {
            "province": np.tile(prov["province"].to_numpy(), n_y * n_m),
            "province_code": np.tile(prov["province_code"].to_numpy(), n_y * n_m),
            "region": np.tile(prov["region"].to_numpy(), n_y * n_m),
            "year": np.repeat(sel, n_m * n_p).astype("int64"),
            "month": np.tile(np.repeat(np.arange(1, 13), n_p), n_y).astype("int64"),
            "admissions": observed.ravel(),
            "expected": expected.ravel(),
        }
    )
    grid.insert(5, "date", pd.to_datetime({"year": grid["year"], "month": grid["month"], "day": 1}))
    out = grid
    out = out.astype({"province": "string", "region": "string"})
    if provinces is not None:
        out = out[out["province"].isin(provinces)]
    return out.sort_values(["province_code", "date"]).reset_index(drop=True)


def admissions_million(tables, *, year: int) -> float:
    """National admissions of ``year`` in millions (a calibration statistic of the card)."""
    s = tables["admissions"] if not isinstance(tables, pd.DataFrame) else tables
    return float(s.loc[s["year"] == year, "admissions"].sum() / 1e6)
