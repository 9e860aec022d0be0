"""Hospitals and primary-care institutions of China, with beds, staff, equipment and places.

The generator works top-down so that the public figures hold by construction and the spread
below them is random:

1. **Province totals.** Beds, licensed doctors and registered nurses per 1,000 for each province
   are the national figure of the year times a province index (:data:`BED_INDEX`,
   :func:`doctor_index`: a region value times the province's own log-normal departure,
   :data:`PROVINCE_SD`, except where a published province figure is kept), the indices rescaled
   so that the population-weighted national mean is exactly the national figure.
2. **Urban and rural.** Each province's totals split between city districts and counties given
   the province's city share of the population (:data:`CITY_SHARE`), with one city/county
   ratio per resource chosen so that the national city and county figures have the ratio of the
   NHC bulletin (beds 8.81 vs 4.95 per 1,000 in 2020).
3. **Institutions.** National counts by level are spread over provinces by a multinomial draw
   (tertiary hospitals leaning to provinces with more doctors, township health centres to rural
   population, community health centres to city population); ownership and urban location are
   drawn by level.
4. **Sizes.** Within each (province, urban) cell, beds, doctors and nurses are shared among its
   institutions in proportion to a level weight times a log-normal size, and rounded so the cell
   totals are exact. CT and MRI scanners are Poisson with a mean that grows with beds.
5. **Places.** Latitude and longitude are drawn in a box inside the province (centre and
   half-extent in ``healthlab/data/provinces.csv``); half of the city institutions cluster near
   the provincial capital.

Institutions outside these seven levels (clinics, village clinics, public-health agencies)
are not rows: their beds and staff are counted in the institutions of their area, so the
per-1,000 figures are the national ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth._reference import (
    LEVELS,
    URBAN_RURAL_2020,
    YEARS,
    load_provinces,
    national,
)

__all__ = [
    "BED_INDEX",
    "CITY_SHARE",
    "LEVELS",
    "doctor_index",
    "load_provinces",
    "make_facilities",
    "province_resources",
]

#: Beds per 1,000 of each province relative to the nation, before rescaling. No sourced
#: province figures were found (see china.yaml): the assumption follows the pattern the
#: yearbooks are known for, the northeast and west above the mean and the populous
#: south-east coast below it. Provinces not listed take their region's value.
BED_INDEX = {
    "northeast": 1.12,
    "west": 1.06,
    "central": 1.02,
    "east": 0.92,
    "Beijing": 0.92,
    "Shanghai": 0.92,
    "Tianjin": 0.75,
    "Guangdong": 0.72,
}

#: Doctors per 1,000 in 2021 where a figure was found (china.yaml, province_resources); the
#: other provinces take a region value, rescaled so the national mean holds.
_DOCTORS_2021 = {"Beijing": 5.1, "Tianjin": 3.8, "Shanghai": 3.4, "Henan": 3.0, "Jiangxi": 2.5}
_DOCTOR_REGION = {"east": 1.05, "central": 0.93, "west": 0.95, "northeast": 1.02}

#: Share of each province's population living in city districts (the NHC's "city" as opposed
#: to counties). Nationally 0.391, derived from the city/county beds of the 2020 bulletin;
#: the four municipalities are mostly districts; the other provinces share the rest equally.
CITY_SHARE = {"Beijing": 0.87, "Shanghai": 0.89, "Tianjin": 0.84, "Chongqing": 0.70}
_CITY_NATIONAL = (6.46 - 4.95) / (8.81 - 4.95)

# Per level: relative beds, doctors per bed and a base, nurses per bed and a base,
# probability of public ownership, probability of a city location, CT and MRI per 100 beds.
_LEVEL = pd.DataFrame(
    {
        "beds": [1000.0, 300.0, 60.0, 60.0, 39.0, 25.0, 0.0],
        "doc_per_bed": [0.38, 0.32, 0.30, 0.30, 0.35, 0.45, 0.0],
        "doc_base": [0.0, 0.0, 2.0, 2.0, 3.0, 10.0, 3.0],
        "nurse_per_bed": [0.62, 0.50, 0.35, 0.35, 0.25, 0.40, 0.0],
        "nurse_base": [0.0, 0.0, 2.0, 2.0, 2.0, 8.0, 2.0],
        "p_public": [0.92, 0.55, 0.20, 0.10, 1.00, 0.85, 0.60],
        "p_city": [0.90, 0.55, 0.40, 0.50, 0.00, 1.00, 1.00],
        "ct_per_100": [0.45, 0.35, 0.4, 0.3, 0.5, 0.2, 0.0],
        "mri_per_100": [0.25, 0.12, 0.05, 0.05, 0.0, 0.0, 0.0],
    },
    index=list(LEVELS),
)


#: Log-scale standard deviation of each province's own departure from its region's value.
PROVINCE_SD = 0.08


def doctor_index(provinces: pd.DataFrame, jitter=None) -> np.ndarray:
    """Doctors per 1,000 of each province relative to the nation (population-weighted mean 1).

    Provinces with a figure keep its ratio to the 2021 national 3.04; the others take their
    region's value times ``jitter`` (a province's own departure, 1 when omitted) times one
    factor chosen so that the weighted mean is exactly 1, kept strictly between the lowest and
    the highest published provinces (Jiangxi and Beijing).
    """
    known = provinces["province"].map(_DOCTORS_2021).to_numpy(float) / 3.04
    region = provinces["region"].map(_DOCTOR_REGION).to_numpy(float)
    if jitter is not None:
        region = region * jitter
    pop = provinces["population_2020"].to_numpy(float)
    have = ~np.isnan(known)
    lo, hi = np.nanmin(known) + 0.03, np.nanmax(known[known < np.nanmax(known)]) - 0.03
    value = region
    for _ in range(20):  # rescale, clip, and rescale again until both hold
        factor = (pop.sum() - (pop * known)[have].sum()) / (pop * value)[~have].sum()
        value = np.clip(value * factor, lo, hi)
    return np.where(have, known, value)


def _bed_index(provinces: pd.DataFrame, jitter=None) -> np.ndarray:
    raw = provinces["province"].map(BED_INDEX).fillna(provinces["region"].map(BED_INDEX))
    raw = raw.to_numpy(float)
    if jitter is not None:
        raw = raw * jitter
    pop = provinces["population_2020"].to_numpy(float)
    return raw * pop.sum() / (raw * pop).sum()


def _city_share(provinces: pd.DataFrame) -> np.ndarray:
    fixed = provinces["province"].map(CITY_SHARE).to_numpy(float)
    pop = provinces["population_2020"].to_numpy(float)
    have = ~np.isnan(fixed)
    rest = (_CITY_NATIONAL * pop.sum() - (fixed * pop)[have].sum()) / pop[~have].sum()
    return np.where(have, fixed, rest)


def _province_targets(year: int, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Population and exact resource totals per province and urban cell.

    With ``rng``, each province departs from its region's index by a log-normal factor
    (:data:`PROVINCE_SD`); without it, the indices are the documented region values.
    """
    prov = load_provinces()
    nat = national(year)
    pop = (
        prov["population_2020"].to_numpy(float) * nat["population"] / prov["population_2020"].sum()
    )
    prov["population"] = np.round(pop).astype("int64")
    city = _city_share(prov)
    prov["city_share"] = city
    jitter = [None, None] if rng is None else rng.lognormal(0.0, PROVINCE_SD, (2, len(prov)))
    index = {"beds": _bed_index(prov, jitter[0]), "doctors": doctor_index(prov, jitter[1])}
    prov["doctor_index"] = index["doctors"]
    index["nurses"] = (index["beds"] + index["doctors"]) / 2
    # Imported here: scipy.optimize takes half a second to import, and every notebook that
    # loads a cached dataset imports this module without generating anything.
    from scipy.optimize import brentq

    for what, idx in index.items():
        per_1000 = nat[f"{what}_per_1000"] * idx
        total = per_1000 * pop / 1000
        # Normalise so the national total is exact for the national per-1,000 figure.
        total *= nat[f"{what}_per_1000"] * pop.sum() / 1000 / total.sum()
        urban, rural = URBAN_RURAL_2020[what]
        # The city/county gap within provinces, solved so the national city share is exact.
        want = _CITY_NATIONAL * urban / (_CITY_NATIONAL * urban + (1 - _CITY_NATIONAL) * rural)

        def city_share(gap, total=total, want=want):
            return (total * city * gap / (city * gap + 1 - city)).sum() / total.sum() - want

        gap = brentq(city_share, 0.1, 100.0)
        prov[f"{what}_city"] = total * city * gap / (city * gap + 1 - city)
        prov[f"{what}_county"] = total - prov[f"{what}_city"]
    return prov


def _round_to_totals(share: np.ndarray, cell: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integers proportional to ``share`` within each cell, summing to round(totals[cell])."""
    weight_sum = np.bincount(cell, weights=share, minlength=len(totals))
    with np.errstate(invalid="ignore", divide="ignore"):
        exact = np.where(weight_sum[cell] > 0, share / weight_sum[cell], 0.0) * totals[cell]
    base = np.floor(exact)
    short = np.round(totals) - np.bincount(cell, weights=base, minlength=len(totals))
    frac = pd.Series(exact - base)
    rank = frac.groupby(cell).rank(method="first", ascending=False).to_numpy()
    bump = (rank <= short[cell]) & (share > 0)
    return (base + bump).astype("int64")


def _check(year, provinces) -> list[str] | None:
    if isinstance(year, bool) or year not in YEARS:
        raise InvalidParameterError(f"year must be one of {YEARS}, got {year!r}")
    if provinces is None:
        return None
    if isinstance(provinces, str):
        provinces = [provinces]
    known = set(load_provinces()["province"])
    unknown = [p for p in provinces if p not in known]
    if unknown or not provinces:
        raise InvalidParameterError(
            f"provinces must be a non-empty list of names from {sorted(known)}, got {provinces!r}"
        )
    return list(provinces)


def make_facilities(*, year: int = 2020, provinces=None, seed: int = 0) -> pd.DataFrame:
    """Hospitals and primary-care institutions with beds, staff, scanners and a location.

    The seven levels of :data:`LEVELS` are generated at their national counts for ``year``
    (about 71,000 institutions in 2020); province totals of beds, doctors and nurses per 1,000
    equal the national figure times a documented province index, split between city and
    county with the NHC's urban-rural ratios (see the module notes). The whole country is
    always generated, then ``provinces`` selects rows, so a province's institutions are the
    same whichever provinces are asked for.

    Parameters
    ----------
    year : {2020, 2021, 2022, 2023}
        The year whose national figures are matched.
    provinces : list of str, optional
        English province names to keep (default: all 31).
    seed : int
        Seed of the random draws.

    Returns
    -------
    pandas.DataFrame
        One row per institution: ``facility_id``, ``name``, ``province``, ``province_code``,
        ``region``, ``level``, ``ownership`` (public/private), ``urban`` (city district),
        ``beds``, ``doctors``, ``nurses``, ``ct_scanners``, ``mri_scanners``, ``latitude``,
        ``longitude``.

    References
    ----------
    NHC, Statistical bulletin on the development of health care in China, 2020 to 2023;
    NBS, 7th national census communique No. 3 (2021).

    Examples
    --------
    >>> from healthlab.synth.facilities import make_facilities
    >>> f = make_facilities(provinces=["Ningxia"], seed=0)
    >>> sorted(f["level"].unique())[:2]
    ['community_health_centre', 'community_health_station']
    """
    rng = np.random.default_rng(check_seed(seed))
    keep = _check(year, provinces)
    prov = _province_targets(year, rng)
    counts = national(year)["counts"]
    n_prov = len(prov)
    pop = prov["population"].to_numpy(float)
    city = prov["city_share"].to_numpy()
    doc = prov["doctor_index"].to_numpy()
    lean = {
        "tertiary": pop * doc**1.5,
        "township_health_centre": pop * (1 - city),
        "community_health_centre": pop * city,
        "community_health_station": pop * city,
    }
    parts = []
    for level in LEVELS:
        w = lean.get(level, pop)
        n_by_prov = rng.multinomial(counts[level], w / w.sum())
        parts.append(pd.DataFrame({"p": np.repeat(np.arange(n_prov), n_by_prov), "level": level}))
    fac = pd.concat(parts, ignore_index=True)
    n = len(fac)
    lv = _LEVEL.loc[fac["level"]].reset_index(drop=True)
    urban = rng.random(n) < lv["p_city"].to_numpy()
    # Every province keeps at least one institution in each cell that has resources.
    p = fac["p"].to_numpy()
    cell = p * 2 + urban
    size = lv["beds"].to_numpy() * rng.lognormal(0.0, 0.5, n)
    totals = {}
    for what in ("beds", "doctors", "nurses"):
        t = np.empty(2 * n_prov)
        t[0::2] = prov[f"{what}_county"].to_numpy()
        t[1::2] = prov[f"{what}_city"].to_numpy()
        totals[what] = t
    beds = _round_to_totals(size, cell, totals["beds"])
    staff_noise = rng.lognormal(0.0, 0.2, (2, n))
    doc_w = (lv["doc_per_bed"].to_numpy() * size + lv["doc_base"].to_numpy()) * staff_noise[0]
    nur_w = (lv["nurse_per_bed"].to_numpy() * size + lv["nurse_base"].to_numpy()) * staff_noise[1]
    doctors = _round_to_totals(doc_w, cell, totals["doctors"])
    nurses = _round_to_totals(nur_w, cell, totals["nurses"])
    ct = rng.poisson(lv["ct_per_100"].to_numpy() * beds / 100)
    mri = rng.poisson(lv["mri_per_100"].to_numpy() * beds / 100)
    public = rng.random(n) < lv["p_public"].to_numpy()
    # Places: box inside the province; half of city institutions near the capital.
    g = prov.iloc[p]
    lat0, lon0 = g["lat"].to_numpy(), g["lon"].to_numpy()
    dlat, dlon = g["lat_half"].to_numpy(), g["lon_half"].to_numpy()
    u = rng.uniform(-1, 1, (2, n))
    lat, lon = lat0 + u[0] * dlat, lon0 + u[1] * dlon
    near = urban & (rng.random(n) < 0.5)
    jitter = rng.normal(0, 0.12, (2, n))
    clat = np.clip(g["capital_lat"].to_numpy() + jitter[0], lat0 - dlat, lat0 + dlat)
    clon = np.clip(g["capital_lon"].to_numpy() + jitter[1], lon0 - dlon, lon0 + dlon)
    lat, lon = np.where(near, clat, lat), np.where(near, clon, lon)
    seq = fac.groupby(["p", "level"], sort=False).cumcount().to_numpy() + 1
    names = g["province"].to_numpy().astype(object)
    label = fac["level"].str.replace("_", " ").to_numpy().astype(object)
    out = pd.DataFrame(
        {
            "facility_id": np.arange(1, n + 1, dtype="int64"),
            "name": names + " " + label + " " + pd.Series(seq).astype(str).str.zfill(4).to_numpy(),
            "province": g["province"].to_numpy(),
            "province_code": g["province_code"].to_numpy().astype("int64"),
            "region": g["region"].to_numpy(),
            "level": fac["level"].to_numpy(),
            "ownership": np.where(public, "public", "private"),
            "urban": urban,
            "beds": beds,
            "doctors": doctors,
            "nurses": nurses,
            "ct_scanners": ct.astype("int64"),
            "mri_scanners": mri.astype("int64"),
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
        }
    )
    out = out.astype({c: "string" for c in ("name", "province", "region", "level", "ownership")})
    if keep is not None:
        out = out[out["province"].isin(keep)].reset_index(drop=True)
    return out


def province_resources(facilities: pd.DataFrame, *, year: int = 2020) -> pd.DataFrame:
    """Beds, doctors and nurses per 1,000 population for each province in ``facilities``.

    Parameters
    ----------
    facilities : pandas.DataFrame
        As returned by :func:`make_facilities`.
    year : int
        The year whose population is the denominator (census 2020 scaled to the year-end total).

    Returns
    -------
    pandas.DataFrame
        One row per province: ``province``, ``region``, ``population``, totals of ``beds``,
        ``doctors``, ``nurses`` and institutions, and ``beds_per_1000``, ``doctors_per_1000``,
        ``nurses_per_1000``.

    Examples
    --------
    >>> from healthlab.synth.facilities import make_facilities, province_resources
    >>> r = province_resources(make_facilities(provinces=["Beijing"]))
    >>> round(float(r["doctors_per_1000"].iloc[0]), 1)
    4.9
    """
    prov = _province_targets(year)[["province", "region", "population"]]
    sums = facilities.groupby("province", observed=True).agg(
        institutions=("facility_id", "size"),
        beds=("beds", "sum"),
        doctors=("doctors", "sum"),
        nurses=("nurses", "sum"),
    )
    out = prov.merge(sums, left_on="province", right_index=True, how="inner")
    for what in ("beds", "doctors", "nurses"):
        out[f"{what}_per_1000"] = out[what] / out["population"] * 1000
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- card statistics


def _frame(tables) -> pd.DataFrame:
    return tables["facilities"] if not isinstance(tables, pd.DataFrame) else tables


def resource_per_1000(tables, *, resource: str, province: str | None = None, year: int = 2020):
    """Beds, doctors or nurses per 1,000 population, nationally or in one province.

    A calibration statistic of the ``facilities`` card: ``tables`` maps ``"facilities"`` to the
    frame of :func:`make_facilities`. Nationally, the denominator is the population of the
    provinces present.
    """
    r = province_resources(_frame(tables), year=year)
    if province is not None:
        r = r[r["province"] == province]
    return float(r[resource].sum() / r["population"].sum() * 1000)


def institution_count(tables, *, levels) -> float:
    """Number of institutions of the given levels (a calibration statistic)."""
    levels = [levels] if isinstance(levels, str) else list(levels)
    return float(_frame(tables)["level"].isin(levels).sum())


def city_county_ratio(tables, *, resource: str, year: int = 2020) -> float:
    """City over county ``resource`` per 1,000, with the city share of the population of 2020."""
    f = _frame(tables)
    pop = province_resources(f, year=year)["population"].sum()
    by = f.groupby("urban")[resource].sum()
    city = _CITY_NATIONAL * pop
    return float((by.get(True, 0) / city) / (by.get(False, 0) / (pop - city)))
