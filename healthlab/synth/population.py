"""A synthetic population of China: people, places, risk factors, chronic conditions, deaths.

The generative model, person by person (all of it vectorised over a block of people):

1. **Province, sex and age** are one draw from a table of province x sex x single year of age
   (0 to 104; "100 and over" spans 100-104), raked so that the province populations (2020
   census), each province's share aged 65+, and the national age-sex structure of the year
   hold (:func:`healthlab.synth._model.province_age_sex`). Age is completed years on
   1 January of ``year``; the birth date is uniform within the year of birth that implies.
2. **Urban residence** is Bernoulli with the province's urban share (census 2020 shares
   moved so the national share is the year's); the **district** is a synthetic county-level
   area: city districts for urban people, counties for rural ones, uniform within the
   province.
3. **Risk factors.** Current smoking is Bernoulli by age and sex (GATS China 2018 level);
   BMI is log-normal by age and sex (adult median and spread matching the overweight and
   obesity shares); systolic blood pressure is normal given age, sex and hypertension.
4. **Chronic conditions** (and ADL disability) follow a liability model: a person has
   condition ``c`` when ``u < expit(alpha[c, sex, age] + b_c . z)``, where ``z`` holds the
   log-BMI z-score, a shared frailty, a cardio-metabolic factor, smoking and urban residence.
   The shared factors make conditions cluster and multimorbidity rise with age; the
   intercepts are solved so prevalence by age and sex matches the reference curves.
5. **Education, insurance, income quintile** depend on age, urban residence and each other
   (:mod:`healthlab.synth._params`).
6. **Death** within the year: the age-sex probability of a Siler hazard whose level is solved
   so the year's life table gives the published life expectancy, multiplied by each
   person's relative risk from conditions and smoking and rescaled so the mean of each
   age-sex cell of a block is unchanged. The death date is uniform in the year.

Randomness is drawn per fixed block of 65,536 people (:mod:`healthlab.synth._blocks`), so any
split of the blocks across workers gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
from scipy.special import expit

from healthlab.errors import InvalidParameterError
from healthlab.synth import _model as M
from healthlab.synth import _params as P
from healthlab.synth._blocks import BLOCK_SIZE, block_rng, check_seed
from healthlab.synth._io import check_block_range, write_part

__all__ = ["make_population", "write_population"]

#: Uniform and normal draws per person (the benchmark's floor counts these).
N_UNIFORM = 18
N_NORMAL = 5
_STREAM = "population"
_REGIONS = ("east", "central", "west", "northeast")


@cache
def _district_labels() -> tuple[list[str], np.ndarray]:
    """Category labels of all districts (``"<province code>-C01"`` city, ``-R01`` county)."""
    names, codes, _, _ = M.provinces()
    n, urban = M.districts()
    labels = []
    for code, total, city in zip(codes, n, urban, strict=True):  # 31 provinces
        labels += [f"{code}-C{i + 1:02d}" for i in range(city)]
        labels += [f"{code}-R{i + 1:02d}" for i in range(total - city)]
    offset = np.concatenate([[0], np.cumsum(n)[:-1]])
    return labels, offset


@cache
def _cell_cdf(year: int, provinces: tuple | None) -> np.ndarray:
    table = M.province_age_sex(year).copy()
    if provinces is not None:
        names = M.provinces()[0]
        keep = np.isin(np.array(names), np.array(provinces))
        table[~keep] = 0.0
    cdf = np.cumsum(table.ravel())
    return cdf / cdf[-1]


@cache
def _education_cdf() -> tuple[np.ndarray, np.ndarray]:
    upper = np.array([row[0] for row in P.EDUCATION_BY_AGE])
    probs = np.array([[row[2], row[1]] for row in P.EDUCATION_BY_AGE], float)  # [band, urban]
    cdf = np.cumsum(probs / probs.sum(axis=2, keepdims=True), axis=2)
    cdf[..., -1] = 1.0
    return upper, cdf


def _jan1(years: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of 1 January of each year."""
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _check_provinces(provinces) -> tuple | None:
    if provinces is None:
        return None
    names = M.provinces()[0]
    given = [provinces] if isinstance(provinces, str) else list(provinces)
    bad = [p for p in given if p not in names]
    if bad or not given:
        raise InvalidParameterError(
            f"provinces must name provinces of China as in the census tables, got {bad or given!r}"
            f"; valid names are {list(names)}"
        )
    return tuple(sorted(set(given)))


def _block(n: int, rng: np.random.Generator, year: int, cdf: np.ndarray) -> dict:
    """Columns of one block of ``n`` people, as numpy arrays."""
    u = rng.random((N_UNIFORM, n))
    z = rng.standard_normal((N_NORMAL, n))
    cell = np.minimum(np.searchsorted(cdf, u[0], side="right"), len(cdf) - 1)
    prov, rest = np.divmod(cell, 2 * M.N_AGES)
    male, age = np.divmod(rest, M.N_AGES)
    codes = M.provinces()[1]
    # Birth date uniform in the year before the 1 January at which the person is `age`.
    jan1 = _jan1(np.array([year]))[0]
    born_year = year - 1 - age
    start = _jan1(born_year)
    birth = start + (u[1] * (_jan1(born_year + 1) - start)).astype(np.int64)
    urban = u[2] < M.province_urban(year)[prov]
    n_d, n_city = M.districts()
    _, offset = _district_labels()
    span = np.where(urban, n_city[prov], n_d[prov] - n_city[prov])
    district = offset[prov] + np.where(urban, 0, n_city[prov]) + (u[3] * span).astype(np.int64)
    smoker = u[4] < M.smoking()[male, age]
    bmi_z = z[0]
    bmi = np.exp(M.bmi_log_median()[male, age] + M.bmi_log_sd()[age] * bmi_z)
    factors = (bmi_z, z[1], z[2], smoker, urban)
    alpha = M.condition_intercepts(year)
    conditions = {}
    for c, name in enumerate(P.CONDITIONS):  # nine conditions, each vectorised over people
        eta = alpha[c, male, age].copy()
        for b, f in zip(P.LOADINGS[name], factors, strict=True):
            if b:
                eta += b * f
        conditions[name] = u[5 + c] < expit(eta)
    hyp = conditions["hypertension"]
    a, slope, sex_add, sd = P.SBP["normal"]
    normal = np.minimum(a + slope * (age - 18) + sex_add * male + sd * z[3], 139)
    a, slope, sd = P.SBP["hypertensive"]
    sbp = np.where(hyp, a + slope * (age - 50) + sd * z[3], normal)
    a, slope, sd = P.SBP["child"]
    sbp = np.where(age < 18, a + slope * age + sd * z[3], sbp)
    sbp = np.clip(np.round(sbp), 80, 240)
    upper, edu_cdf = _education_cdf()
    band = np.searchsorted(upper, age, side="right")
    education = (u[14][:, None] > edu_cdf[band, urban.astype(np.int64)]).sum(axis=1)
    education = np.minimum(education, len(P.EDUCATION) - 1)
    adult = age >= 18
    weights = np.array([P.EMPLOYEE_WEIGHT["rural"], P.EMPLOYEE_WEIGHT["urban"]])
    p_emp = np.where(adult, P.EMPLOYEE_SCALE * weights[urban.astype(np.int64), education], 0.0)
    p_none = np.where(adult & (age < 45), P.UNINSURED["young_adult"], P.UNINSURED["other"])
    insurance = np.where(u[15] < p_none, 2, np.where(u[15] < p_none + (1 - p_none) * p_emp, 0, 1))
    s = P.INCOME_SCORE
    score = (s["urban"] * urban + s["education"] * education + s["employee"] * (insurance == 0)
             + s["prime_age"] * ((age >= 30) & (age < 60)) + z[4])  # fmt: skip
    quintile = np.searchsorted(np.asarray(P.INCOME_CUTS), score) + 1
    # Death: the cell probability times a relative risk, rescaled to keep the cell mean.
    log_rr = P.DEATH_LOG_RR["smoker"] * smoker
    for name in P.CONDITIONS:
        log_rr = log_rr + P.DEATH_LOG_RR[name] * conditions[name]
    rr = np.exp(log_rr)
    key = male * M.N_AGES + age
    size = 2 * M.N_AGES
    mean_rr = np.bincount(key, rr, size) / np.maximum(np.bincount(key, minlength=size), 1)
    q = np.minimum(M.death_probability(year).ravel()[key] * rr / mean_rr[key], 0.999)
    died = u[16] < q
    days = _jan1(np.array([year + 1]))[0] - jan1
    death = np.where(died, jan1 + (u[17] * days).astype(np.int64), np.iinfo(np.int64).min)
    return {
        "sex": male, "age": age, "birth": birth, "province": prov, "code": codes[prov],
        "district": district, "urban": urban, "education": education, "insurance": insurance,
        "quintile": quintile, "smoker": smoker, "bmi": bmi, "sbp": sbp, **conditions,
        "died": died, "death": death,
    }  # fmt: skip


def _frame(parts: list[dict], first_row: int) -> pd.DataFrame:
    """Assemble block columns into the population table."""
    col = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else None
    names, _, regions, _ = M.provinces()
    labels, _ = _district_labels()
    if col is None:
        col = {k: np.zeros(0, np.int64) for k in ("sex", "age", "birth", "province", "code",
                                                  "district", "education", "insurance",
                                                  "quintile", "death")}  # fmt: skip
        col.update({k: np.zeros(0, bool) for k in ("urban", "smoker", "died", *P.CONDITIONS)})
        col.update(bmi=np.zeros(0), sbp=np.zeros(0))
    n = len(col["age"])
    region_code = np.array([_REGIONS.index(r) for r in regions])

    def cat(codes, categories):
        return pd.Categorical.from_codes(codes, categories=list(categories))

    death = col["death"].astype("datetime64[D]").astype("datetime64[ms]")
    frame = {
        "person_id": np.arange(first_row + 1, first_row + n + 1, dtype=np.int64),
        "sex": cat(col["sex"], ("F", "M")),
        "age": col["age"].astype(np.int16),
        "birth_date": col["birth"].astype("datetime64[D]").astype("datetime64[ms]"),
        "province": cat(col["province"], names),
        "province_code": col["code"].astype(np.int16),
        "district": cat(col["district"], labels),
        "region": cat(region_code[col["province"]], _REGIONS),
        "urban": col["urban"],
        "education": cat(col["education"], P.EDUCATION),
        "insurance": cat(col["insurance"], P.INSURANCE),
        "income_quintile": col["quintile"].astype(np.int8),
        "smoker": col["smoker"],
        "bmi": np.round(col["bmi"], 1),
        "sbp": col["sbp"].astype(np.int16),
        **{name: col[name] for name in P.CONDITIONS},
        "died": col["died"],
        "death_date": np.where(col["died"], death, np.datetime64("NaT", "ms")),
    }
    return pd.DataFrame(frame, copy=False)


def _check(n_people, year, provinces, seed):
    seed = check_seed(seed)
    if isinstance(n_people, bool) or not isinstance(n_people, int | np.integer) or n_people < 0:
        raise InvalidParameterError(
            f"n_people must be a non-negative integer, got {n_people!r}; try n_people=2000"
        )
    return int(n_people), M.check_year(year), _check_provinces(provinces), seed


def make_population(
    n_people: int,
    *,
    year: int = 2020,
    provinces=None,
    blocks: tuple[int, int] | None = None,
    out=None,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> pd.DataFrame | None:
    """Make a synthetic population of China alive on 1 January of ``year``.

    Each row is a synthetic person (see the module docstring for the generative model, and
    :mod:`healthlab.synth._params` for every parameter and its source). Ages, sexes,
    provinces, urban residence and life expectancy follow the 2020 census and the national
    figures of the year; chronic conditions follow published prevalences by age and sex.

    Parameters
    ----------
    n_people : int
        Number of people (across ``provinces`` when given).
    year : int, default 2020
        2020 to 2024: the year whose age structure, urban share and life expectancy are used;
        deaths fall within it.
    provinces : str or list of str, optional
        Only these provinces (English names as in the census tables), in their proportions.
    blocks : tuple of int, optional
        ``(first, last)``: make only the people of blocks ``first`` to ``last - 1`` (65,536
        people a block) of the population of ``n_people``; concatenating the ranges gives the
        whole population, so several workers can share the work.
    out : str or pathlib.Path, optional
        A folder: write the population there as Parquet partitions instead of returning it
        (see :func:`write_population`; the catalogue's partitioned ``large`` size uses this).
    progress : callable, optional
        Called as ``progress(people_done, people_total)`` after each block.
    seed : int, default 0
        Seed of the random draws.

    Returns
    -------
    pandas.DataFrame or None
        None when ``out`` is given; else one row per person: ``person_id`` (1, 2, ...; an
        integer, never a resident identity number), ``sex`` (F/M), ``age`` (completed years
        on 1 January), ``birth_date``,
        ``province``, ``province_code`` (GB/T 2260), ``district`` (synthetic county-level area,
        ``"<code>-C<n>"`` city district or ``"<code>-R<n>"`` county), ``region``, ``urban``,
        ``education``, ``insurance`` (employee, resident, none), ``income_quintile`` (1-5),
        ``smoker``, ``bmi`` (kg/m2), ``sbp`` (mm Hg), the conditions ``hypertension``,
        ``diabetes``, ``copd``, ``ihd``, ``stroke``, ``cancer``, ``ckd``, ``dementia``,
        ``adl_disabled``, ``died`` and ``death_date`` (within the year, else missing).

    References
    ----------
    National Bureau of Statistics of China. Communiques of the Seventh National Population
    Census, No. 1-8 (2021).

    Siler W. A competing-risk model for animal mortality. Ecology 1979;60:750-757.

    Deming WE, Stephan FF. On a least squares adjustment of a sampled frequency table when the
    expected marginal totals are known. Ann Math Stat 1940;11:427-444.

    Examples
    --------
    >>> from healthlab.synth import make_population
    >>> people = make_population(1000, seed=1)
    >>> len(people), sorted(people["sex"].unique())
    (1000, ['F', 'M'])
    >>> people.equals(make_population(1000, seed=1))
    True
    """
    n_people, year, provinces, seed = _check(n_people, year, provinces, seed)
    if out is not None:
        if blocks is not None:
            raise InvalidParameterError("pass either blocks= or out=, not both")
        write_population(n_people, out, year=year, provinces=provinces, progress=progress,
                         seed=seed)  # fmt: skip
        return None
    n_blocks = -(-n_people // BLOCK_SIZE)
    first, last = check_block_range(blocks, n_blocks)
    cdf = _cell_cdf(year, provinces)
    parts = []
    for b in range(first, last):  # blocks of 65,536 people, not people
        n = min(BLOCK_SIZE, n_people - b * BLOCK_SIZE)
        parts.append(_block(n, block_rng(seed, _STREAM, b), year, cdf))
        if progress is not None:
            progress(min((b + 1) * BLOCK_SIZE, n_people), n_people)
    return _frame(parts, first * BLOCK_SIZE)


def write_population(
    n_people: int,
    out,
    *,
    year: int = 2020,
    provinces=None,
    blocks_per_part: int = 16,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> list:
    """Write the population of :func:`make_population` as Parquet partitions under ``out``.

    Files are ``out/population/part-00000.parquet`` and on, each holding ``blocks_per_part``
    blocks (about a million people), so memory stays bounded at any size. The rows are those
    of ``make_population`` with the same arguments, in order.

    Returns
    -------
    list of pathlib.Path
        The partition files, in order.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from healthlab.synth.population import write_population, make_population
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = write_population(1000, d, seed=2)
    ...     pd.read_parquet(files[0]).shape[0]
    1000
    """
    n_people, year, provinces, seed = _check(n_people, year, provinces, seed)
    if not isinstance(blocks_per_part, int) or blocks_per_part < 1:
        raise InvalidParameterError(
            f"blocks_per_part must be a positive integer, got {blocks_per_part!r}"
        )
    n_blocks = max(-(-n_people // BLOCK_SIZE), 1)
    files = []
    for part, first in enumerate(range(0, n_blocks, blocks_per_part)):
        last = min(first + blocks_per_part, n_blocks)
        frame = make_population(n_people, year=year, provinces=provinces, blocks=(first, last),
                                seed=seed)  # fmt: skip
        files.append(write_part(frame, out, "population", part))
        if progress is not None:
            progress(min(last * BLOCK_SIZE, n_people), n_people)
    return files
