"""Tables derived once from the reference figures and :mod:`._params` (no randomness).

Each function is cached: the population generator looks values up in these tables by age,
sex and province, so drawing a person costs a few array lookups. The solves here (raking the
province-age table, the mortality level, the condition intercepts) are small vectorised
fixed-point or bisection iterations over tables of a few thousand cells.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.special import expit, logit

from healthlab.errors import InvalidParameterError
from healthlab.synth import _params as P
from healthlab.synth._reference import china, load_provinces

AGES = np.arange(P.MAX_AGE + 1)
N_AGES = len(AGES)
_META = ("source", "grade", "note", "columns")


def check_year(year) -> int:
    """Return ``year`` as an int, or raise a clear error if it has no figures."""
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or year not in P.YEARS:
        raise InvalidParameterError(f"year must be one of {P.YEARS}, got {year!r}")
    return int(year)


@cache
def year_figures(year: int) -> dict:
    """Life expectancy, sex ratio, urban share and old-age shares of ``year``."""
    c = china()
    e0 = c["life_expectancy_at_birth"]
    out = {"e0": float(e0[str(year)]) if str(year) in e0 else P.LIFE_EXPECTANCY_2022}
    if year == 2020:
        census = c["census_2020"]
        out.update(
            sex_ratio=census["sex_ratio_total"],
            urban_pct=census["urban_pct"],
            share_60plus_pct=census["age_share_pct"]["60+"],
            share_65plus_pct=census["age_share_pct"]["65+"],
        )
    elif year == 2021:
        out.update(P.YEAR_END_2021)
    else:
        end = c["population_year_end"][str(year)]
        out.update({k: end[k] for k in ("sex_ratio", "urban_pct", "share_60plus_pct",
                                        "share_65plus_pct")})  # fmt: skip
    return out


def _bisect(f, lo, hi, shape=(), iterations=80):
    """Vectorised bisection for an increasing ``f`` (root between ``lo`` and ``hi``)."""
    lo = np.full(shape, lo, float)
    hi = np.full(shape, hi, float)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        above = f(mid) > 0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return (lo + hi) / 2


def _male_share(counts: np.ndarray, male: np.ndarray, sex_ratio: float) -> np.ndarray:
    """Shift male shares on the logit scale so the whole population has ``sex_ratio``."""
    target = sex_ratio / (100 + sex_ratio)
    shift = _bisect(lambda t: (counts * expit(logit(male) + t)).sum() / counts.sum() - target,
                    -2.0, 2.0)  # fmt: skip
    return expit(logit(male) + shift)


@cache
def _structure_2020() -> tuple[np.ndarray, np.ndarray]:
    groups = np.asarray(P.AGE_GROUPS_2020_MILLION)
    counts = np.repeat(groups[:-1] / 5, 5)
    counts = np.concatenate([counts, groups[-1] * np.array([0.4, 0.25, 0.18, 0.11, 0.06])])
    ratio = np.repeat(np.asarray(P.SEX_RATIO_BY_GROUP_2020), 5)[:N_AGES]
    census = china()["census_2020"]["age_counts"]
    bands = {(0, 15): census["0-14"], (15, 60): census["15-59"],
             (60, 65): census["60+"] - census["65+"], (65, N_AGES): census["65+"]}  # fmt: skip
    for (lo, hi), total in bands.items():
        counts[lo:hi] *= total / counts[lo:hi].sum()
    return counts, ratio / (100 + ratio)


@cache
def age_sex(year: int) -> np.ndarray:
    """National population by sex (rows F, M) and single year of age on 1 January of ``year``.

    2020 is the census structure (its five-year shape, rescaled to the communique's bands and
    sex ratio). A later year ages it forward, adds the births of the years between, then
    rescales the bands 60-64 and 65+ (and the rest) to the year's shares and the sexes to the
    year's sex ratio.
    """
    counts, male = _structure_2020()
    counts, male = counts.copy(), male.copy()
    shift = year - 2020
    if shift:
        ends = china()["population_year_end"]
        births = {**P.BIRTHS_10K, **{int(k): v["births"] for k, v in ends.items()
                                     if k not in _META}}  # fmt: skip
        srb = china()["census_2020"]["sex_ratio_at_birth"]
        new = np.array([births[year - 1 - a] * 1e4 for a in range(shift)])
        counts = np.concatenate([new, counts[:-shift]])
        male = np.concatenate([np.full(shift, srb / (100 + srb)), male[:-shift]])
        fig = year_figures(year)
        total = counts.sum()
        s60, s65 = fig["share_60plus_pct"] / 100, fig["share_65plus_pct"] / 100
        counts[65:] *= s65 * total / counts[65:].sum()
        counts[60:65] *= (s60 - s65) * total / counts[60:65].sum()
        counts[:60] *= (1 - s60) * total / counts[:60].sum()
    male = _male_share(counts, male, year_figures(year)["sex_ratio"])
    return np.vstack([counts * (1 - male), counts * male])


@cache
def provinces() -> tuple:
    """Province names, codes, regions and 2020 populations, in GB/T 2260 order."""
    p = load_provinces()
    return (
        tuple(p["province"]),
        p["province_code"].to_numpy("int64"),
        tuple(p["region"]),
        p["population_2020"].to_numpy(float),
    )


@cache
def province_age_sex(year: int) -> np.ndarray:
    """People by province, sex and age: ``[province, sex, age]``, raked to three margins.

    The margins are each province's population (census 2020), each province's share aged 65
    and over (:data:`._params.PROVINCE_65PLUS_2020`, moved by the national change for later
    years) and the national age-sex structure (:func:`age_sex`). Iterative proportional
    fitting (Deming and Stephan, 1940) from the product of the margins; the province margins
    hold exactly, the national structure to a small fraction of a percent.
    """
    names, _, _, pop = provinces()
    nat = age_sex(year)
    pop = pop * nat.sum() / pop.sum()
    change = year_figures(year)["share_65plus_pct"] - year_figures(2020)["share_65plus_pct"]
    old = np.array([P.PROVINCE_65PLUS_2020[n] + change for n in names]) / 100
    m = pop[:, None, None] * nat[None] / nat.sum()
    is_old = AGES >= 65
    for _ in range(60):
        m *= (nat / m.sum(axis=0))[None]
        s_old = m[:, :, is_old].sum(axis=(1, 2))
        s_young = m[:, :, ~is_old].sum(axis=(1, 2))
        m[:, :, is_old] *= (old * pop / s_old)[:, None, None]
        m[:, :, ~is_old] *= ((1 - old) * pop / s_young)[:, None, None]
    return m


@cache
def province_urban(year: int) -> np.ndarray:
    """Urban share of each province in ``year`` (census 2020 shares moved on the logit scale)."""
    names, _, _, _ = provinces()
    pop = province_age_sex(year).sum(axis=(1, 2))
    base = logit(np.array([P.PROVINCE_URBAN_2020[n] for n in names]) / 100)
    target = year_figures(year)["urban_pct"] / 100
    shift = _bisect(lambda t: (pop * expit(base + t)).sum() / pop.sum() - target, -2.0, 2.0)
    return expit(base + shift)


#: Age bands whose urban share is solved (the rest, under 60, follows from the totals).
_URBAN_BANDS = ((60, 65), (65, N_AGES))


def _urban_band_targets() -> np.ndarray:
    """Urban share of the people aged 60-64 and 65+ in the 2020 census (derived)."""
    c = china()
    ur = c["urban_rural_aging_2020"]
    u = c["census_2020"]["urban_pct"] / 100
    urb = {k: ur[f"share_{k}plus_pct"]["urban"] / 100 * u for k in (60, 65)}
    rur = {k: ur[f"share_{k}plus_pct"]["rural"] / 100 * (1 - u) for k in (60, 65)}
    band_60_64 = (urb[60] - urb[65]) / (urb[60] + rur[60] - urb[65] - rur[65])
    return np.array([band_60_64, urb[65] / (urb[65] + rur[65])])


@cache
def _urban_age_offsets() -> np.ndarray:
    """Log-odds offsets of urban residence at ages 60-64 and 65+ (solved on 2020)."""
    return _solve_urban(2020, None)[1]


def _solve_urban(year: int, offsets):
    """Province intercepts (and, if ``offsets`` is None, the old-age offsets) of urban residence.

    ``logit p[province, age] = b[province] + g[band(age)]`` with ``g = 0`` under 60. Each
    province's urban share is :func:`province_urban`; with ``offsets`` None the offsets are
    solved too, so the urban shares of the bands 60-64 and 65+ are the census's (alternating
    bisections, a few dozen rounds over 31 provinces).
    """
    pop = province_age_sex(year).sum(axis=1)  # [province, age]
    share = province_urban(year)
    band = np.zeros(N_AGES, np.int64)
    for k, (lo, hi) in enumerate(_URBAN_BANDS):
        band[lo:hi] = k + 1
    g = np.zeros(len(_URBAN_BANDS) + 1) if offsets is None else np.concatenate([[0.0], offsets])
    targets = _urban_band_targets()
    for _ in range(40 if offsets is None else 1):
        b = _bisect(lambda t: (pop * expit(t[:, None] + g[band])).sum(axis=1) / pop.sum(axis=1)
                    - share, -10.0, 10.0, shape=len(share))  # fmt: skip
        if offsets is not None:
            break
        for k, (lo, hi) in enumerate(_URBAN_BANDS):
            sub = pop[:, lo:hi]
            goal = targets[k]

            def gap(t, sub=sub, b=b, goal=goal):
                return (sub * expit(b[:, None] + t)).sum() / sub.sum() - goal

            g[k + 1] = _bisect(gap, -10.0, 10.0)
    return b, g[1:]


@cache
def province_urban_by_age(year: int) -> np.ndarray:
    """Probability of urban residence ``[province, age]``.

    Each province's urban share is that of :func:`province_urban`; the old live more often in
    rural areas, with the log-odds offsets at 60-64 and 65+ that give the 2020 census's shares
    aged 60+ and 65+ among urban and rural residents (china.yaml urban_rural_aging_2020), kept
    for later years (assumption).
    """
    offsets = _urban_age_offsets()
    b, _ = _solve_urban(year, offsets)
    g = np.zeros(N_AGES)
    for k, (lo, hi) in enumerate(_URBAN_BANDS):
        g[lo:hi] = offsets[k]
    return expit(b[:, None] + g[None, :])


@cache
def districts() -> tuple[np.ndarray, np.ndarray]:
    """Number of synthetic districts per province, and of those the city (urban) ones."""
    _, _, _, pop = provinces()
    n = np.maximum(np.round(pop / P.PEOPLE_PER_DISTRICT), P.MIN_DISTRICTS).astype(int)
    urban = np.clip(np.round(n * province_urban(2020)), 1, n - 1).astype(int)
    return n, urban


def _step(table, ages=AGES) -> np.ndarray:
    """Look a step table ``((upper, value_m, value_f), ...)`` up by age: ``[sex F/M, age]``."""
    upper = np.array([row[0] for row in table])
    i = np.searchsorted(upper, ages, side="right")
    men = np.array([row[1] for row in table])[i]
    women = np.array([row[2] for row in table])[i]
    return np.vstack([women, men])


@cache
def smoking() -> np.ndarray:
    """Probability of current smoking, ``[sex, age]``."""
    return _step(P.SMOKING)


@cache
def bmi_log_median() -> np.ndarray:
    """Median of log BMI, ``[sex, age]``: children's growth curve, adults' shifted median."""
    upper = np.array([row[0] for row in P.BMI_AGE_SHIFT])
    shift = np.array([row[1] for row in P.BMI_AGE_SHIFT])[np.searchsorted(upper, AGES, "right")]
    adult = P.BMI_LOG_MEDIAN + shift
    child = np.log(P.BMI_CHILD["base"] + P.BMI_CHILD["slope"] * np.maximum(AGES - 5, 0))
    med = np.where(AGES < 18, child, adult)
    return np.vstack([med - P.BMI_SEX_SHIFT, med + P.BMI_SEX_SHIFT])


def bmi_log_sd() -> np.ndarray:
    """Standard deviation of log BMI by age."""
    return np.where(AGES < 18, P.BMI_CHILD["sd"], P.BMI_LOG_SD)


def _prevalence_curve(spec: dict, weights: np.ndarray) -> np.ndarray:
    """Target prevalence ``[sex, age]`` of one condition, level solved on its base ages.

    The log-odds rise by ``slope`` a year of age up to ``plateau_age`` (if given) and stay
    level after it.
    """
    age = np.minimum(AGES, spec.get("plateau_age", AGES[-1])) - 60.0
    shape = np.vstack([age, age]) * spec["slope"]
    shape[1] += spec["male_log_or"]
    live = AGES >= spec["min_age"]
    base = weights[:, AGES >= spec["base_age"]]
    target = spec["target"] / 100

    def excess(c):
        p = expit(c + shape) * live
        return (p[:, AGES >= spec["base_age"]] * base).sum() / base.sum() - target

    return expit(_bisect(excess, -30.0, 30.0) + shape) * live


@cache
def condition_intercepts(year: int) -> np.ndarray:
    """Intercepts ``[condition, sex, age]`` of the liability model.

    A person has condition ``c`` when ``u < expit(alpha[c, sex, age] + loadings . z)``. Given
    age and sex, ``z`` holds three independent standard normals (log-BMI z-score, frailty,
    cardio-metabolic factor) and two Bernoulli terms (smoking, urban), so the mean prevalence
    is a Gauss-Hermite sum over the normal part and a sum over the four binary cases; alpha is
    solved so it equals the target curve of :func:`_prevalence_curve`.
    """
    weights = age_sex(year)
    nodes, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    ps = smoking()
    pop = province_age_sex(year).sum(axis=1)
    pu = (pop * province_urban_by_age(year)).sum(axis=0) / np.maximum(pop.sum(axis=0), 1e-300)
    out = np.full((len(P.CONDITIONS), 2, N_AGES), -40.0)
    for c, name in enumerate(P.CONDITIONS):  # nine conditions, not people
        target = _prevalence_curve(P.PREVALENCE[name], weights)
        b_bmi, b_f, b_c, b_s, b_u = P.LOADINGS[name]
        scale = np.sqrt(b_bmi**2 + b_f**2 + b_c**2)
        cases = [(s, u, np.where(s, ps, 1 - ps) * (pu if u else 1 - pu))
                 for s in (0, 1) for u in (0, 1)]  # fmt: skip

        def excess(a, cases=cases, scale=scale, b_s=b_s, b_u=b_u, target=target):
            mean = 0.0
            for s, u, prob in cases:
                eta = a[..., None] + b_s * s + b_u * u + scale * nodes
                mean = mean + prob * (expit(eta) * w).sum(axis=-1)
            return mean - target

        live = target > 0
        alpha = _bisect(excess, -40.0, 20.0, shape=target.shape, iterations=60)
        out[c] = np.where(live, alpha, -40.0)
    return out


def _hazard(k: float) -> np.ndarray:
    x = AGES + 0.5
    s = P.SILER
    female = s["a1"] * np.exp(-s["b1"] * x) + s["a2"] + k * s["a3"] * np.exp(s["b3"] * x)
    m = P.MALE_HAZARD
    ratio = m["base"] + m["bump"] * np.exp(-(((x - m["peak"]) / m["width"]) ** 2))
    return np.vstack([female, female * ratio])


def life_expectancy(q: np.ndarray, counts: np.ndarray) -> float:
    """Pooled life expectancy at birth from death probabilities by age on 1 January.

    Deaths fall uniformly in the year, so each closed age has ``a_x = 0.5``; ages 100 and over
    form the open interval, whose rate is deaths over person-years there.
    """
    deaths = (q * counts).sum(axis=0)
    exposure = (counts * (1 - q / 2)).sum(axis=0)
    qx = deaths[:100] / counts.sum(axis=0)[:100]
    lx = np.concatenate([[1.0], np.cumprod(1 - qx)])
    closed = (lx[:-1] * (1 - qx / 2)).sum()
    m_open = deaths[100:].sum() / exposure[100:].sum()
    return float(closed + lx[-1] / m_open)


@cache
def death_probability(year: int) -> np.ndarray:
    """Probability of dying within ``year`` by sex and age on 1 January, ``[sex, age]``.

    A Siler hazard for women (:data:`._params.SILER`) times the male ratio for men; the level
    ``k`` of the senescent term is solved so that the life table of the year's population
    (:func:`age_sex`) gives the year's life expectancy at birth.
    """
    counts = age_sex(year)
    target = year_figures(year)["e0"]

    def gap(k):
        return target - life_expectancy(1 - np.exp(-_hazard(float(k))), counts)

    k = float(_bisect(gap, 0.05, 20.0))
    return 1 - np.exp(-_hazard(k))


@cache
def ckd_reduced_intercept(year: int) -> float:
    """Intercept ``c`` of the chance that a person's CKD has a reduced eGFR (below 60).

    Solved so that, with the CKD prevalence curve of :data:`._params.PREVALENCE` and the year's
    population, ``KIDNEY["reduced_share"]`` percent of adults have CKD with eGFR below 60.
    """
    weights = age_sex(year)
    curve = _prevalence_curve(P.PREVALENCE["ckd"], weights)
    adult = AGES >= 18
    slope = P.KIDNEY["age_slope"] * (AGES - 60.0)

    def excess(c):
        share = (weights * curve * expit(c + slope))[:, adult].sum() / weights[:, adult].sum()
        return share - P.KIDNEY["reduced_share"] / 100

    return float(_bisect(excess, -20.0, 20.0))
