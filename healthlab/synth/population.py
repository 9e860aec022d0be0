"""A synthetic population of China: people, places, risk factors, chronic conditions, deaths.

The generative model, person by person (all of it vectorised over a block of people):

1. **Province, sex and age** are one draw from a table of province x sex x single year of age
   (0 to 104; "100 and over" spans 100-104), raked so that the province populations (2020
   census), each province's share aged 65+, and the national age-sex structure of the year
   hold (:func:`healthlab.synth._model.province_age_sex`). Age is completed years on
   1 January of ``year``; the birth date is uniform within the year of birth that implies.
2. **Urban residence** is Bernoulli with a probability by province and age: the province's
   urban share (census 2020 shares moved so the national share is the year's) holds, and the
   old are more often rural, so the shares aged 60+ and 65+ of urban and rural residents are
   the census's (:func:`healthlab.synth._model.province_urban_by_age`); the **district** is a
   synthetic county-level
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

Randomness is drawn per fixed block of 65,536 people (:mod:`healthlab._blocks`), so any
split of the blocks across workers gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from healthlab._blocks import BLOCK_SIZE, block_rng
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth import _model as M
from healthlab.synth import _params as P
from healthlab.synth._io import check_block_range, check_fits, write_part

__all__ = ["make_population", "write_population"]

#: Peak memory per person while a population is made in memory (measured: the result holds
#: about 65 bytes a person; the draws and the frame being built hold several times that).
_PEAK_BYTES = 400
_PARTITIONED = (
    "healthlab.synth.write_population(n_people, out) writes Parquet partitions of about a "
    "million people each; `healthlab data build population --size large` builds the "
    "catalogue's partitioned size"
)

#: Uniform and normal draws per person (the benchmark's floor counts these).
N_UNIFORM = 18
N_NORMAL = 5
_STREAM = "population"
_Q_CAP = 0.999
_MS_PER_DAY = 86_400_000
#: People worked on at once inside a block (a speed setting only: results do not depend on it).
_CHUNK = 8192
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


def _alias(prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of a discrete distribution (one uniform draws a cell in O(1))."""
    k = len(prob)
    scaled = prob * k / prob.sum()
    accept = np.ones(k)
    alias = np.arange(k)
    small = [i for i in range(k) if scaled[i] < 1]  # built once per year: a few thousand cells
    large = [i for i in range(k) if scaled[i] >= 1]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], g
        scaled[g] -= 1 - scaled[s]
        (small if scaled[g] < 1 else large).append(g)
    return accept, alias


def _alpha_table(year: int) -> np.ndarray:
    """Intercepts plus the smoking and urban terms, ``[(key * 2 + smoker) * 2 + urban, c]``."""
    alpha = M.condition_intercepts(year).reshape(len(P.CONDITIONS), -1).T  # [key, c]
    load = np.array([P.LOADINGS[c] for c in P.CONDITIONS])
    s, u = np.meshgrid([0, 1], [0, 1], indexing="ij")
    extra = s.ravel()[:, None] * load[:, 3] + u.ravel()[:, None] * load[:, 4]  # [4, c]
    return (alpha[:, None, :] + extra[None]).reshape(-1, len(P.CONDITIONS)).astype(np.float32)


def _death_rr_table() -> np.ndarray:
    """Relative risk of death by the 9-bit code of conditions and smoking: ``[code * 2 + s]``."""
    codes = np.arange(2 ** len(P.CONDITIONS))
    bits = (codes[:, None] >> np.arange(len(P.CONDITIONS))) & 1
    log_rr = bits @ np.array([P.DEATH_LOG_RR[c] for c in P.CONDITIONS])
    log_rr = log_rr[:, None] + np.array([0.0, P.DEATH_LOG_RR["smoker"]])
    return np.exp(log_rr).ravel()


@cache
def _tables(year: int, provinces: tuple | None) -> dict:
    """Every lookup table one block needs, by cell, by age or by age and sex (cached)."""
    table = M.province_age_sex(year).copy()
    if provinces is not None:
        keep = np.isin(np.array(M.provinces()[0]), np.array(provinces))
        table[~keep] = 0.0
    accept, alias = _alias(table.ravel())
    ages = M.AGES
    jan1 = _jan1(year - 1 - ages)
    n_d, n_city = M.districts()
    _, offset = _district_labels()
    upper, edu_cdf = _education_cdf()
    band = np.searchsorted(upper, ages, side="right")
    load = np.array([P.LOADINGS[c] for c in P.CONDITIONS])
    adult = ages >= 18
    p_none = np.where(adult & (ages < 45), P.UNINSURED["young_adult"], P.UNINSURED["other"])
    weights = np.array([P.EMPLOYEE_WEIGHT["rural"], P.EMPLOYEE_WEIGHT["urban"]])
    p_emp = P.EMPLOYEE_SCALE * weights[:, None, :] * adult[None, :, None]  # [urban, age, edu]
    return {
        "accept": accept, "alias": alias, "n_cells": len(accept),
        "prov_of_cell": np.arange(len(accept)) // (2 * M.N_AGES),
        "key_of_cell": np.arange(len(accept)) % (2 * M.N_AGES),
        "male_of_key": np.arange(2 * M.N_AGES) // M.N_AGES,
        "age_of_key": np.arange(2 * M.N_AGES) % M.N_AGES,
        "jan1": jan1, "days": _jan1(year - ages) - jan1, "year_jan1": _jan1(np.array([year]))[0],
        "year_days": _jan1(np.array([year + 1]))[0] - _jan1(np.array([year]))[0],
        "urban": M.province_urban_by_age(year).ravel(),
        "d_start": np.vstack([offset + n_city, offset]),  # [urban, province]
        "d_span": np.vstack([n_d - n_city, n_city]).astype(float),
        "smoking": M.smoking().ravel(),
        "bmi_med": M.bmi_log_median().ravel(),
        "bmi_sd": np.tile(M.bmi_log_sd(), 2),
        "alpha": _alpha_table(year),
        "loadings": load[:, :3].T.astype(np.float32).copy(),
        "bits": (1 << np.arange(len(P.CONDITIONS))).astype(np.uint16),
        "edu_cdf": np.concatenate([edu_cdf[band, 0], edu_cdf[band, 1]]).T.copy(),  # [j, row]
        "p_none": p_none,
        "p_emp": (1 - p_none)[None, :, None] * p_emp + p_none[None, :, None],
        "death_rr": _death_rr_table(),
        "q": M.death_probability(year).ravel(),
        "region": np.array([_REGIONS.index(r) for r in M.provinces()[2]], np.int8),
        "codes": M.provinces()[1].astype(np.int16),
    }  # fmt: skip


def _death_probability(q_cell: np.ndarray, key: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """Each person's death probability: the cell's times ``rr``, the cell's mean kept.

    Probabilities are capped at 0.999; the excess of capped people is handed to the others of
    their cell, so the expected deaths of every age-sex cell stay the life table's.
    """
    size = len(q_cell)
    count = np.bincount(key, minlength=size)
    q = q_cell[key] * rr * (count / np.maximum(np.bincount(key, rr, size), 1e-300))[key]
    capped = q >= _Q_CAP
    if not capped.any():
        return q
    hit = np.zeros(size, bool)
    hit[key[capped]] = True
    rows = np.flatnonzero(hit[key])
    k, sub = key[rows], q[rows]
    target = q_cell * count
    for _ in range(4):  # a fixed few rescaling rounds over the affected cells
        cap = sub >= _Q_CAP
        sub = np.where(cap, _Q_CAP, sub)
        free = np.bincount(k, np.where(cap, 0.0, sub), size)
        fixed = _Q_CAP * np.bincount(k, cap, size)
        sub = np.where(cap, sub, sub * ((target - fixed) / np.maximum(free, 1e-300))[k])
    q[rows] = np.minimum(sub, _Q_CAP)
    return q


def draws(n: int, rng: np.random.Generator):
    """All random numbers of a block of ``n`` people (also the benchmark's floor).

    ``N_UNIFORM`` uniforms (one for the cell, eight for other traits, one per condition) and
    ``N_NORMAL`` standard normals per person, in a fixed order.
    """
    n_cond = len(P.CONDITIONS)
    u = rng.random((N_UNIFORM - n_cond, n))
    uc = rng.random((n, n_cond), dtype=np.float32)
    z = rng.standard_normal((n, 3), dtype=np.float32)
    z2 = rng.standard_normal((N_NORMAL - 3, n))
    return u, uc, z, z2


def _traits(t: dict, u, uc, z, z2) -> dict:
    """Columns of a chunk of people from its random numbers (all but death)."""
    # Province, sex and age: Walker's alias method on the raked table.
    scaled = u[0] * t["n_cells"]
    i = scaled.astype(np.int64)
    cell = np.where(scaled - i < t["accept"][i], i, t["alias"][i])
    prov, key = t["prov_of_cell"][cell], t["key_of_cell"][cell]  # key = sex * N_AGES + age
    male, age = t["male_of_key"][key], t["age_of_key"][key]
    birth = t["jan1"][age] + (u[1] * t["days"][age]).astype(np.int64)
    urban = u[2] < t["urban"][prov * M.N_AGES + age]
    city = urban.astype(np.int64)
    district = t["d_start"][city, prov] + (u[3] * t["d_span"][city, prov]).astype(np.int64)
    smoker = u[4] < t["smoking"][key]
    bmi = np.exp(t["bmi_med"][key] + t["bmi_sd"][key] * z[:, 0])
    # Conditions: u < expit(alpha[sex, age] + loadings . factors), all nine at once.
    eta = t["alpha"][(key * 2 + smoker) * 2 + urban]
    for j in range(3):  # three normal factors (no BLAS: its threads cost more than they save)
        eta += z[:, j, None] * t["loadings"][j]
    has = uc * (1 + np.exp(-eta)) < 1
    conditions = {name: has[:, c] for c, name in enumerate(P.CONDITIONS)}
    hyp = conditions["hypertension"]
    a, slope, sex_add, sd = P.SBP["normal"]
    sbp = np.minimum(a + slope * (age - 18) + sex_add * male + sd * z2[0], 139)
    a, slope, sd = P.SBP["hypertensive"]
    sbp = np.where(hyp, a + slope * (age - 50) + sd * np.abs(z2[0]), sbp)
    a, slope, sd = P.SBP["child"]
    sbp = np.where(age < 18, a + slope * age + sd * z2[0], sbp)
    sbp = np.clip(np.round(sbp), 80, 240)
    edu_row = city * M.N_AGES + age
    education = (u[5] > t["edu_cdf"][0][edu_row]).astype(np.intp)
    for j in range(1, len(P.EDUCATION) - 1):  # four thresholds
        education = education + (u[5] > t["edu_cdf"][j][edu_row])
    none = u[6] < t["p_none"][age]
    employee = ~none & (u[6] < t["p_emp"][city, age, education])
    insurance = np.where(none, 2, np.where(employee, 0, 1))
    s = P.INCOME_SCORE
    score = (s["urban"] * urban + s["education"] * education + s["employee"] * employee
             + s["prime_age"] * ((age >= 30) & (age < 60)) + z2[1])  # fmt: skip
    quintile = np.searchsorted(np.asarray(P.INCOME_CUTS), score) + 1
    code = has.view(np.uint8) @ t["bits"]  # which conditions, as a 9-bit number
    return {
        "sex": male.astype(np.int8), "age": age.astype(np.int16),
        "birth_date": (birth * _MS_PER_DAY).view("datetime64[ms]"),
        "province": prov.astype(np.int8), "province_code": t["codes"][prov],
        "district": district.astype(np.int16), "region": t["region"][prov], "urban": urban,
        "education": education.astype(np.int8), "insurance": insurance.astype(np.int8),
        "income_quintile": quintile.astype(np.int8), "smoker": smoker,
        "bmi": np.round(bmi.astype(np.float64), 1), "sbp": sbp.astype(np.int16), **conditions,
        "_key": key, "_rr": t["death_rr"][code * 2 + smoker],
    }  # fmt: skip


def _block(n: int, rng: np.random.Generator, year: int, provinces) -> list[dict]:
    """Columns of one block of ``n`` people, as a list of chunks of numpy arrays.

    The block's random numbers are drawn at once; people are then worked on in chunks of
    :data:`_CHUNK` (arrays that fit in the processor's cache), and deaths at the block level.
    """
    t = _tables(year, provinces)
    u, uc, z, z2 = draws(n, rng)
    edges = list(range(0, n, _CHUNK)) + [n] if n else [0, 0]
    chunks = [_traits(t, u[:, lo:hi], uc[lo:hi], z[lo:hi], z2[:, lo:hi])
              for lo, hi in zip(edges[:-1], edges[1:], strict=True)]  # fmt: skip
    # Death: the cell probability times a relative risk, rescaled to keep the cell mean.
    key = np.concatenate([c.pop("_key") for c in chunks])
    rr = np.concatenate([c.pop("_rr") for c in chunks])
    died = u[7] < _death_probability(t["q"], key, rr)
    day = t["year_jan1"] + (u[8] * t["year_days"]).astype(np.int64)
    never = np.iinfo(np.int64).min  # NaT
    death = np.where(died, day * _MS_PER_DAY, never).view("datetime64[ms]")
    for c, lo, hi in zip(chunks, edges[:-1], edges[1:], strict=True):
        c["died"], c["death_date"] = died[lo:hi], death[lo:hi]
    return chunks


def _frame(parts: list[dict], first_row: int) -> pd.DataFrame:
    """Assemble block columns into the population table."""
    if not parts:
        parts = _block(0, np.random.default_rng(0), P.YEARS[0], None)
    # Dates are joined as integers (numpy's datetime concatenation is several times slower).
    col = {k: np.concatenate([p[k].view(np.int64) for p in parts]).view(parts[0][k].dtype)
           if parts[0][k].dtype.kind == "M" else np.concatenate([p[k] for p in parts])
           for k in parts[0]}  # fmt: skip
    n = len(col["age"])
    categories = {"sex": ("F", "M"), "province": M.provinces()[0],
                  "district": _district_labels()[0], "region": _REGIONS,
                  "education": P.EDUCATION, "insurance": P.INSURANCE}  # fmt: skip
    for name, levels in categories.items():
        col[name] = pd.Categorical.from_codes(col[name], categories=list(levels))
    frame = {"person_id": np.arange(first_row + 1, first_row + n + 1, dtype=np.int64), **col}
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
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
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
    progress : callable, optional
        Called as ``progress(people_done, people_total)`` after each block.
    seed : int, default 0
        Seed of the random draws.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``person_id`` (1, 2, ...; an
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
    n_blocks = -(-n_people // BLOCK_SIZE)
    first, last = check_block_range(blocks, n_blocks)
    rows = min(last * BLOCK_SIZE, n_people) - first * BLOCK_SIZE
    check_fits(rows, _PEAK_BYTES, "a population", _PARTITIONED)
    parts = []
    for b in range(first, last):  # blocks of 65,536 people, not people
        n = min(BLOCK_SIZE, n_people - b * BLOCK_SIZE)
        parts += _block(n, block_rng(seed, _STREAM, b), year, provinces)
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
) -> Path:
    """Write the population of :func:`make_population` as Parquet partitions under ``out``.

    Files are ``out/population/part-00000.parquet`` and on, each holding ``blocks_per_part``
    blocks (about a million people), so memory stays bounded at any size. The rows are those
    of ``make_population`` with the same arguments, in order.

    Returns
    -------
    pathlib.Path
        The folder ``out``; the partitions are ``out/population/part-*.parquet``, in order.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from healthlab.synth.population import write_population
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folder = write_population(1000, d, seed=2)
    ...     pd.read_parquet(folder / "population").shape[0]
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
    return Path(out)
