"""Which facility each encounter goes to: level, province, then distance and size.

The choice model has three steps, each a documented draw:

1. **Level.** The level of care is drawn from :data:`LEVEL_SHARES` by the kind of encounter
   (outpatient, emergency, inpatient) and whether the patient lives in a city district or a
   county: city residents go to tertiary hospitals and community health centres, county
   residents to township health centres and county (secondary) hospitals.
2. **Province.** An encounter at tertiary level leaves the home province with probability
   :data:`CROSS_PROVINCE` (by kind; residents of the hub provinces themselves rarely leave,
   :data:`HUB_STAY`), and then goes to one of the hub provinces in proportion to
   :data:`HUBS`: the pull of the big-city tertiary hospitals of Beijing, Shanghai, Guangzhou and
   the other regional centres. If a province has no facility of the drawn level, the next
   level up is used.
3. **Facility.** Among the facilities of that province and level, ten candidates are drawn
   at random and the patient picks the one with the highest utility
   ``SIZE_WEIGHT * log(1 + beds) - distance_km / DISTANCE_SCALE[level] + Gumbel noise``: a
   multinomial logit with sampled alternatives (McFadden, 1978), so big hospitals draw patients
   from further away. Patients travelling from another province choose on size alone.

Patients live at a point drawn inside their province's box (see
:mod:`healthlab.synth.facilities`), the same point for the same district label, with a small
offset of their own.

**The care network of a sample.** The facility table is the whole country's (about 106,500
institutions), but a synthetic population is a sample of it: a million people are one in
1,400 residents. Spread over every institution, a sample's encounters would leave each with a
handful a year, and no team sized to that work could exist (a department with two visits a year
needs no doctor, yet the visits have one). :func:`care_network` keeps the share of each
province's institutions of each level that the sample is of the people they serve (at least one
of each, larger institutions more often), so each kept institution carries the workload of its
real catchment in the sample. The clinical generator routes encounters within this network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._blocks import block_rng, blocks
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth._reference import LEVELS, load_provinces

__all__ = [
    "CROSS_PROVINCE",
    "HUBS",
    "LEVEL_SHARES",
    "assign_facilities",
    "care_network",
    "facility_load",
    "home_locations",
]

#: Share of encounters by level of care: kind -> (city, county) -> level -> share. Assumption,
#: shaped on the NHC bulletin of 2020 (secondary, read from reprints): of admissions, hospitals
#: held about 80%, township health centres about 15%, community centres 1-2%, tertiary hospitals
#: about 40%; of visits, hospitals about 43% and primary care 53%. Visits to village clinics and
#: private clinics, which are not facilities here, go to township centres and community
#: stations. "City" is the population's ``urban`` flag.
LEVEL_SHARES = {
    "outpatient": {
        "city": {"tertiary": 0.32, "secondary": 0.15, "primary_hospital": 0.04,
                 "unrated_hospital": 0.03, "community_health_centre": 0.18,
                 "community_health_station": 0.28},
        "county": {"tertiary": 0.08, "secondary": 0.15, "primary_hospital": 0.04,
                   "unrated_hospital": 0.03, "township_health_centre": 0.70},
    },
    "emergency": {
        "city": {"tertiary": 0.50, "secondary": 0.40, "primary_hospital": 0.04,
                 "unrated_hospital": 0.03, "community_health_centre": 0.03},
        "county": {"tertiary": 0.20, "secondary": 0.50, "primary_hospital": 0.06,
                   "unrated_hospital": 0.04, "township_health_centre": 0.20},
    },
    "inpatient": {
        "city": {"tertiary": 0.56, "secondary": 0.34, "primary_hospital": 0.04,
                 "unrated_hospital": 0.03, "community_health_centre": 0.03},
        "county": {"tertiary": 0.20, "secondary": 0.28, "primary_hospital": 0.06,
                   "unrated_hospital": 0.04, "township_health_centre": 0.42},
    },
}  # fmt: skip

#: Probability that a tertiary-level encounter crosses the province line, by kind (assumption:
#: about 5% of admissions are treated outside the home province).
CROSS_PROVINCE = {"outpatient": 0.02, "emergency": 0.0, "inpatient": 0.12}

#: Destination provinces of cross-province care and their pull (assumption: Beijing and
#: Shanghai receive most of it, then the regional centres).
HUBS = {
    "Beijing": 0.32, "Shanghai": 0.30, "Guangdong": 0.12, "Zhejiang": 0.08,
    "Jiangsu": 0.06, "Sichuan": 0.05, "Hubei": 0.04, "Hunan": 0.03,
}  # fmt: skip

#: Residents of a hub province leave it for tertiary care at this fraction of the rate above.
HUB_STAY = 0.2

SIZE_WEIGHT = 1.0
DISTANCE_SCALE = {
    "tertiary": 120.0, "secondary": 40.0, "primary_hospital": 15.0, "unrated_hospital": 15.0,
    "township_health_centre": 10.0, "community_health_centre": 5.0,
    "community_health_station": 3.0,
}  # fmt: skip
N_CANDIDATES = 10
_KINDS = tuple(LEVEL_SHARES)
_FALLBACK = {  # the next level up when a province has none of the drawn level
    "community_health_station": "community_health_centre",
    "community_health_centre": "secondary",
    "township_health_centre": "secondary",
    "primary_hospital": "secondary",
    "unrated_hospital": "secondary",
    "secondary": "tertiary",
    "tertiary": "secondary",
}


def care_network(facilities: pd.DataFrame, *, people: int, seed: int = 0) -> pd.DataFrame:
    """The institutions a population of ``people`` uses: its share of each province and level.

    ``share`` is ``people`` over the 2020 census population of the provinces in
    ``facilities``; each (province, level) keeps ``max(1, round(share x count))`` of its
    institutions, drawn without replacement with weights ``1 + beds`` (Efraimidis and
    Spirakis), so every level stays present in every province (the choice model's fall-backs
    are those of the full table) and large institutions are kept more often. The draws are a
    ranking: a larger population keeps the same institutions and more. At ``people`` equal to
    the provinces' population every institution is kept.

    Parameters
    ----------
    facilities : pandas.DataFrame
        As made by :func:`healthlab.synth.facilities.make_facilities`.
    people : int
        Size of the population whose care the network carries.
    seed : int
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        The kept rows of ``facilities``, in their order.

    Examples
    --------
    >>> from healthlab.synth.facilities import make_facilities
    >>> fac = make_facilities(provinces=["Ningxia"], seed=0)
    >>> kept = care_network(fac, people=50_000, seed=0)
    >>> len(fac) > 500, sorted(kept["level"].unique()) == sorted(fac["level"].unique())
    (True, True)
    >>> len(kept) == fac["level"].nunique()  # one of each level for 50,000 of 7.2 million
    True
    """
    seed = check_seed(seed)
    if isinstance(people, bool) or not isinstance(people, int | np.integer) or people < 0:
        raise InvalidParameterError(f"people must be a whole number >= 0, got {people!r}")
    prov = load_provinces().set_index("province")["population_2020"]
    names = facilities["province"].astype("string")
    served = float(prov.reindex(names.unique().tolist()).fillna(0).sum())
    share = min(1.0, people / served) if served > 0 else 1.0
    group = names.str.cat(facilities["level"].astype("string"), sep="/").to_numpy(object)
    codes, uniques = pd.factorize(group)
    count = np.bincount(codes, minlength=len(uniques))
    keep_n = np.maximum(1, np.rint(share * count)).astype(np.int64)
    # Efraimidis-Spirakis: the smallest exponential / weight keys of each group are kept.
    rng = block_rng(seed, "care-network", 0)
    weight = 1.0 + facilities["beds"].to_numpy(float)
    key = rng.exponential(size=len(facilities)) / weight
    order = np.lexsort((key, codes))
    rank = np.empty(len(order), np.int64)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank[order] = np.arange(len(order)) - np.repeat(starts, count)
    return facilities[rank < keep_n[codes]]


def _unit_hash(values, salt: str) -> np.ndarray:
    """A stable number in [0, 1) for each value (the same value, the same number)."""
    text = pd.Series(values).astype("string").fillna("").to_numpy(object) + salt
    return pd.util.hash_array(text).astype(np.float64) / 2.0**64


def home_locations(population: pd.DataFrame) -> pd.DataFrame:
    """Latitude and longitude of each person's home (deterministic, no seed needed).

    A district's centre is a stable point inside the province's box, and each person sits
    within about 10 km of it.
    """
    prov = load_provinces().set_index("province")
    g = prov.loc[population["province"].astype("string").to_numpy()]
    key = population["province"].astype("string") + "/" + population["district"].astype("string")
    h = np.vstack([_unit_hash(key, s) for s in ("lat", "lon")])
    p = np.vstack([_unit_hash(population["person_id"], s) for s in ("plat", "plon")])
    lat = g["lat"].to_numpy() + (2 * h[0] - 1) * 0.85 * g["lat_half"].to_numpy()
    lon = g["lon"].to_numpy() + (2 * h[1] - 1) * 0.85 * g["lon_half"].to_numpy()
    return pd.DataFrame(
        {"person_id": population["person_id"].to_numpy(),
         "home_lat": lat + (p[0] - 0.5) * 0.18, "home_lon": lon + (p[1] - 0.5) * 0.18}
    )  # fmt: skip


def _share_matrix() -> np.ndarray:
    """Cumulative shares: [kind, city] -> cumulative over LEVELS."""
    m = np.zeros((len(_KINDS), 2, len(LEVELS)))
    for k, kind in enumerate(_KINDS):
        for c, where in enumerate(("county", "city")):
            for level, share in LEVEL_SHARES[kind][where].items():
                m[k, c, LEVELS.index(level)] = share
    return np.cumsum(m / m.sum(axis=2, keepdims=True), axis=2)


def _kind_codes(kinds: pd.Series) -> np.ndarray:
    if isinstance(kinds.dtype, pd.CategoricalDtype):  # map the few categories, not every row
        lookup = {k: i for i, k in enumerate(_KINDS)}
        names = [str(c).lower() for c in kinds.cat.categories]
        if all(n in lookup for n in names):
            return np.array([lookup[n] for n in names], "int64")[kinds.cat.codes.to_numpy()]
    code = kinds.astype("string").str.lower().map({k: i for i, k in enumerate(_KINDS)})
    if code.isna().any():
        bad = kinds[code.isna()].iloc[0]
        raise InvalidParameterError(
            f"encounter kind {bad!r} is not one of {_KINDS}; name the column holding them with "
            "kind_column="
        )
    return code.to_numpy("int64")


def assign_facilities(
    encounters: pd.DataFrame,
    population: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    kind_column: str | None = None,
    levels=None,
    seed: int = 0,
) -> pd.Series:
    """The facility of each encounter, drawn from the choice model of this module.

    Parameters
    ----------
    encounters : pandas.DataFrame
        Needs ``person_id`` and a column of kinds (``outpatient``, ``emergency``, ``inpatient``).
    population : pandas.DataFrame
        Needs ``person_id``, ``province`` (English name), ``district`` and ``urban`` (bool).
    facilities : pandas.DataFrame
        As made by :func:`healthlab.synth.facilities.make_facilities`.
    kind_column : str, optional
        The column of ``encounters`` with the kinds; found automatically when it is one of
        ``encounter_type``, ``type``, ``setting``, ``kind``, ``visit_type``.
    levels : array-like of str or int, optional
        The level of care of each encounter (a name, or its position in ``LEVELS``), already
        chosen (as the clinical generator does, so
        that cost and stay can follow the level): step 1 is skipped. A province without a
        facility of that level still falls back to the next level up.
    seed : int
        Seed of the random draws (drawn in fixed blocks of encounters).

    Returns
    -------
    pandas.Series
        ``facility_id`` (Int64) aligned with ``encounters``; missing where ``facilities``
        has no facility in the province the encounter goes to (when it covers only some).

    References
    ----------
    McFadden, D. (1978). Modelling the choice of residential location. In Spatial interaction
    theory and planning models, 75-96.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.synth.facilities import make_facilities
    >>> from healthlab.synth.choice import assign_facilities
    >>> fac = make_facilities(seed=0)
    >>> people = pd.DataFrame({"person_id": [1, 2], "province": ["Jiangxi", "Tibet"],
    ...                        "district": ["a", "b"], "urban": [True, False]})
    >>> enc = pd.DataFrame({"person_id": [1, 2, 2], "encounter_type": ["inpatient"] * 3})
    >>> assign_facilities(enc, people, fac, seed=0).notna().all()
    np.True_
    """
    seed = check_seed(seed)
    kind_column = kind_column or next(
        (c for c in ("encounter_type", "type", "setting", "kind", "visit_type") if c in encounters),
        None,
    )
    if kind_column is None or kind_column not in encounters:
        raise InvalidParameterError(
            f"encounters has no column of encounter kinds (got kind_column={kind_column!r}; "
            f"columns are {list(encounters.columns)})"
        )
    for col in ("person_id", "province", "district", "urban"):
        if col not in population:
            raise InvalidParameterError(f"population lacks the column {col!r} the choice needs")
    prov = load_provinces()
    pidx = pd.Index(prov["province"])
    people = population[["person_id", "province", "urban"]].reset_index(drop=True)
    people = pd.concat([people, home_locations(population).iloc[:, 1:]], axis=1)
    people["p"] = pidx.get_indexer(people["province"].astype("string"))
    row = pd.Index(people["person_id"]).get_indexer(encounters["person_id"])
    if (row < 0).any():
        missing = encounters["person_id"].to_numpy()[row < 0][0]
        raise InvalidParameterError(f"encounters name person_id {missing!r}, not in population")
    # Facilities sorted by (province, level), with the start and count of each group.
    fac = facilities.assign(
        p=pidx.get_indexer(facilities["province"].astype("string")),
        lv=pd.Index(LEVELS).get_indexer(facilities["level"].astype("string")),
    ).sort_values(["p", "lv", "facility_id"])
    group = fac["p"].to_numpy() * len(LEVELS) + fac["lv"].to_numpy()
    n_groups = len(prov) * len(LEVELS)
    count = np.bincount(group, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    fallback = np.array([LEVELS.index(_FALLBACK[lv]) for lv in LEVELS])
    hubs = pidx.get_indexer(list(HUBS))
    hub_w = np.array(list(HUBS.values()))
    # Destination weights per home province: the hubs other than home.
    dest = np.tile(hub_w, (len(prov), 1))
    dest[hubs, np.arange(len(hubs))] = 0.0
    dest_cdf = np.cumsum(dest / dest.sum(axis=1, keepdims=True), axis=1)
    is_hub = np.zeros(len(prov), bool)
    is_hub[hubs] = True
    kinds = _kind_codes(encounters[kind_column])
    given = None
    if levels is not None:
        levels = np.asarray(levels)
        if levels.dtype.kind in "iu":  # codes into LEVELS
            given = np.where((levels >= 0) & (levels < len(LEVELS)), levels, -1).astype("int64")
        else:
            given = pd.Index(LEVELS).get_indexer(pd.Series(levels).astype("string"))
        if len(given) != len(encounters) or (given < 0).any():
            raise InvalidParameterError(
                f"levels must give one of {LEVELS} for each of the {len(encounters)} encounters"
            )
    cum = _share_matrix()
    cross = np.array([CROSS_PROVINCE[k] for k in _KINDS])
    f_beds = np.log1p(fac["beds"].to_numpy(float))
    f_lat, f_lon = fac["latitude"].to_numpy(), fac["longitude"].to_numpy()
    f_id = fac["facility_id"].to_numpy()
    scale = np.array([DISTANCE_SCALE[lv] for lv in LEVELS])
    tertiary = LEVELS.index("tertiary")
    out = np.empty(len(encounters), "int64")
    for lo, hi, rng in blocks(len(encounters), seed, "facility-choice"):
        r = row[lo:hi]
        n = hi - lo
        home = people["p"].to_numpy()[r]
        city = people["urban"].to_numpy(bool)[r].astype(int)
        k = kinds[lo:hi]
        # One row of uniforms per encounter, so an encounter's draws do not depend on how many
        # encounters share its block.
        u = rng.random((n, 3 + 2 * N_CANDIDATES))
        level = (cum[k, city] < u[:, :1]).sum(axis=1)
        level = np.minimum(level, len(LEVELS) - 1)
        if given is not None:
            level = given[lo:hi]
        p_cross = cross[k] * np.where(is_hub[home], HUB_STAY, 1.0)
        leave = (level == tertiary) & (u[:, 1] < p_cross)
        to = (dest_cdf[home] < u[:, 2:3]).sum(axis=1)
        where = np.where(leave, hubs[np.minimum(to, len(hubs) - 1)], home)
        for _ in range(3):  # fall back to the next level up where the province has none
            empty = count[where * len(LEVELS) + level] == 0
            level = np.where(empty, fallback[level], level)
        g = where * len(LEVELS) + level
        pick = u[:, 3 : 3 + N_CANDIDATES]
        cand = start[g][:, None] + (pick * count[g][:, None]).astype(int)
        cand = np.minimum(cand, len(fac) - 1)
        lat = people["home_lat"].to_numpy()[r][:, None]
        lon = people["home_lon"].to_numpy()[r][:, None]
        dy = (f_lat[cand] - lat) * 111.0
        dx = (f_lon[cand] - lon) * 111.0 * np.cos(np.radians(lat))
        dist = np.hypot(dx, dy) * (~leave)[:, None]
        util = SIZE_WEIGHT * f_beds[cand] - dist / scale[level][:, None]
        util -= np.log(-np.log(np.maximum(u[:, 3 + N_CANDIDATES :], 1e-300)))  # Gumbel
        chosen = f_id[cand[np.arange(n), util.argmax(axis=1)]]
        out[lo:hi] = np.where(count[g] == 0, -1, chosen)
    result = pd.Series(out, index=encounters.index, name="facility_id", dtype="Int64")
    return result.mask(result < 0)


def facility_load(
    encounters: pd.DataFrame,
    facilities: pd.DataFrame,
    *,
    scale: float,
    days: int = 365,
    kind_column: str | None = None,
    los_column: str | None = None,
) -> pd.DataFrame:
    """Visits, admissions, bed-days and bed occupancy of each facility from routed encounters.

    A synthetic population is a sample: ``scale`` people of the real population stand behind
    each synthetic person (for example ``1_411_778_724 / n_people``), so occupancy is
    ``scale * bed_days / (beds * days)``. Facilities without beds have no occupancy.

    Parameters
    ----------
    encounters : pandas.DataFrame
        With ``facility_id`` (from :func:`assign_facilities`), the kind, and for inpatients the
        length of stay in days (``length_of_stay``, ``los`` or ``los_days``).
    facilities : pandas.DataFrame
        As from :func:`healthlab.synth.facilities.make_facilities`.
    scale : float
        Real people per synthetic person.
    days : int
        Days the encounters cover.

    Returns
    -------
    pandas.DataFrame
        ``facility_id``, ``level``, ``province``, ``beds``, ``visits``, ``admissions``,
        ``bed_days`` (all scaled) and ``occupancy`` (a fraction; above 1 means overcrowded).

    Examples
    --------
    >>> import pandas as pd
    >>> fac = pd.DataFrame({"facility_id": [1], "level": ["tertiary"], "province": ["Beijing"],
    ...                     "beds": [100]})
    >>> enc = pd.DataFrame({"facility_id": [1, 1], "encounter_type": ["inpatient", "outpatient"],
    ...                     "length_of_stay": [10, 0]})
    >>> float(facility_load(enc, fac, scale=365.0)["occupancy"].iloc[0])
    0.1
    """
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise InvalidParameterError(f"scale must be a positive number, got {scale!r}")
    kind_column = kind_column or next(
        (c for c in ("encounter_type", "type", "setting", "kind", "visit_type") if c in encounters),
        None,
    )
    los_column = los_column or next(
        (c for c in ("length_of_stay", "los", "los_days") if c in encounters), None
    )
    if kind_column is None or los_column is None or "facility_id" not in encounters:
        raise InvalidParameterError(
            "encounters needs facility_id, a kind column and a length-of-stay column; "
            f"it has {list(encounters.columns)}"
        )
    kind = encounters[kind_column].astype("string").str.lower()
    inpatient = (kind == "inpatient").to_numpy()
    los = pd.to_numeric(encounters[los_column], errors="coerce").fillna(0).to_numpy(float)
    frame = pd.DataFrame(
        {"facility_id": encounters["facility_id"].to_numpy(),
         "visits": (~inpatient).astype(float) * scale, "admissions": inpatient * scale,
         "bed_days": np.where(inpatient, los, 0.0) * scale}
    )  # fmt: skip
    load = frame.groupby("facility_id").sum()
    out = facilities[["facility_id", "level", "province", "beds"]].merge(
        load, left_on="facility_id", right_index=True, how="left"
    )
    out[["visits", "admissions", "bed_days"]] = out[["visits", "admissions", "bed_days"]].fillna(0)
    beds = out["beds"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"] = np.where(beds > 0, out["bed_days"].to_numpy() / (beds * days), np.nan)
    return out.reset_index(drop=True)
