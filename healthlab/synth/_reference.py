"""The public figures the facility, admissions and identity generators are calibrated to.

Figures come from ``healthlab/data/china.yaml`` (with its sources and grades) where it has
them. Figures it lacks are set here beside their source and a note on how directly they were
read; where no source was found the value is an assumption, said so and documented in the
dataset cards. Nothing here is drawn at random.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from healthlab import _yaml
from healthlab.errors import InvalidParameterError

_META = ("source", "grade", "note")

#: Years the facility figures are defined for.
YEARS = (2020, 2021, 2022, 2023)

#: Institution levels, in the order of the NHC statistical bulletins.
LEVELS = (
    "tertiary",
    "secondary",
    "primary_hospital",
    "unrated_hospital",
    "township_health_centre",
    "community_health_centre",
    "community_health_station",
)
HOSPITAL_LEVELS = LEVELS[:4]

#: Institutions by level at the end of 2020. Source: NHC, Statistical bulletin on the development
#: of health care in China 2020 (2021-07-13): hospitals 35,394 (tertiary 2,996, secondary
#: 10,404, primary 12,252, unrated 9,742); township health centres 35,762; community health
#: service centres 9,826 and stations 25,539. Grade: secondary (read from reprints of the
#: bulletin; the total of 35,394 hospitals matches the Xinhua report of the release).
COUNTS_2020 = {
    "tertiary": 2996,
    "secondary": 10404,
    "primary_hospital": 12252,
    "unrated_hospital": 9742,
    "township_health_centre": 35762,
    "community_health_centre": 9826,
    "community_health_station": 25539,
}

#: Registered nurses per 1,000 in 2020 (NHC bulletin 2020; china.yaml starts in 2021).
NURSES_PER_1000_2020 = 3.34

#: City (urban district) versus county (rural) resources per 1,000 in 2020, NHC bulletin 2020:
#: beds 8.81 vs 4.95, licensed doctors 4.25 vs 2.06, nurses 5.40 vs 1.99. The ratios give the
#: urban-rural gap; the city share of the population follows from beds (derived: 0.391).
URBAN_RURAL_2020 = {
    "beds": (8.81, 4.95),
    "doctors": (4.25, 2.06),
    "nurses": (5.40, 1.99),
}

#: Admissions (million) per year, NHC bulletins 2015-2021; 2022 and 2023 from china.yaml.
#: 2015-2021 grade: secondary (bulletin figures read from reprints).
ADMISSIONS_MILLION = {
    2015: 210.54,
    2016: 227.28,
    2017: 244.36,
    2018: 254.53,
    2019: 265.96,
    2020: 230.13,
    2021: 247.26,
}


def china() -> dict:
    """The reference figures of ``healthlab/data/china.yaml`` as a dictionary (read only)."""
    return _yaml.package_data("china.yaml")


@cache
def _provinces() -> pd.DataFrame:
    path = resources.files("healthlab") / "data" / "provinces.csv"
    with path.open("rb") as handle:
        frame = pd.read_csv(handle, dtype={"province_code": "int64"})
    population = {k: v for k, v in china()["province_population_2020"].items() if k not in _META}
    frame["population_2020"] = frame["province"].map(population).astype("int64")
    return frame


def load_provinces() -> pd.DataFrame:
    """The 31 provincial-level divisions with codes, names, region, census population and extent.

    Returns
    -------
    pandas.DataFrame
        One row per province: ``province_code`` (GB/T 2260, two digits), ``province`` (English
        name as in the census tables), ``name_zh``, ``region``, ``capital_zh``,
        ``capital_pinyin``, ``capital_lat``/``capital_lon``, the centre ``lat``/``lon`` and
        half-extents ``lat_half``/``lon_half`` (degrees) of a box drawn inside the province,
        and ``population_2020`` (7th census, communique No. 3).

    Examples
    --------
    >>> from healthlab.synth.facilities import load_provinces
    >>> p = load_provinces()
    >>> len(p), int(p.loc[p.province == "Beijing", "province_code"].iloc[0])
    (31, 11)
    """
    return _provinces().copy()


def national(year: int) -> dict:
    """National resource figures for ``year``: per-1,000 ratios, population and institutions."""
    if year not in YEARS:
        raise InvalidParameterError(f"year must be one of {YEARS}, got {year!r}")
    res = china()["health_resources"]
    key = str(year)
    nurses = NURSES_PER_1000_2020 if year == 2020 else res["nurses_per_1000"][key]
    census = sum(v for k, v in china()["province_population_2020"].items() if k not in _META)
    ends = china()["population_year_end"]
    # Year-end population in 10,000s; 2021 (not in the file) interpolated.
    totals = {2020: census}
    for y in (2022, 2023):
        totals[y] = ends[str(y)]["population"] * 10_000
    totals[2021] = (totals[2020] + totals[2022]) // 2
    counts = dict(COUNTS_2020)
    if year > 2020:
        # 2023 totals from china.yaml; the split of hospitals by level keeps its 2020 shares,
        # community centres and stations keep their 2020 ratio; 2021-2022 interpolate.
        frac = (year - 2020) / 3
        hosp_2020 = sum(COUNTS_2020[k] for k in HOSPITAL_LEVELS)
        grow_h = 1 + frac * (res["hospitals"]["2023"] / hosp_2020 - 1)
        grow_t = 1 + frac * (res["township_health_centres_2023"] / counts[LEVELS[4]] - 1)
        chc = COUNTS_2020["community_health_centre"] + COUNTS_2020["community_health_station"]
        grow_c = 1 + frac * (res["community_health_centres_and_stations_2023"] / chc - 1)
        for k in HOSPITAL_LEVELS:
            counts[k] = round(COUNTS_2020[k] * grow_h)
        counts["township_health_centre"] = round(COUNTS_2020["township_health_centre"] * grow_t)
        for k in LEVELS[5:]:
            counts[k] = round(COUNTS_2020[k] * grow_c)
    return {
        "beds_per_1000": float(res["beds_per_1000"][key]),
        "doctors_per_1000": float(res["doctors_per_1000"][key]),
        "nurses_per_1000": float(nurses),
        "population": int(totals[year]),
        "counts": counts,
    }
