"""The encounters of one block of people: how many, when, why, how long, how much.

Everything here is vectorised over the people and encounters of a block; the loops run over
conditions, reasons and encounter kinds (a handful), never over rows. The block's random
numbers come from the generator passed in, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.special import expit

from healthlab.synth import _params as P
from healthlab.synth._reference import ADMISSIONS_MILLION, china

CHRONIC = P.CONDITIONS[:-1]  # the eight diseases (ADL disability is not a reason for a visit)
KINDS = ("outpatient", "emergency", "inpatient")
OUT, EMERG, INPAT = range(3)


@dataclass
class People:
    """Columns of one block of people as numpy arrays (``conditions`` is people x 9)."""

    person_id: np.ndarray
    age: np.ndarray
    male: np.ndarray
    urban: np.ndarray
    insurance: np.ndarray  # 0 employee, 1 resident, 2 none
    conditions: np.ndarray
    sbp: np.ndarray
    bmi: np.ndarray
    smoker: np.ndarray
    lo: np.ndarray  # first day observed (days since 1970)
    hi: np.ndarray  # day after the last day observed alive
    death: np.ndarray  # death day, or -1 if alive at the end of the period
    province: np.ndarray  # category codes, kept for the encounter
    district: np.ndarray


def _year_value(table: dict, key: str, year: int):
    value = china()["health_resources"][key]
    return value[str(year)] if str(year) in value else table[year]


@cache
def targets(year: int) -> dict:
    """Visits and admissions per person-year, ALOS and costs of ``year``."""
    res = china()["health_resources"]
    admissions = {**ADMISSIONS_MILLION, **{int(k): v for k, v in res["admissions_million"].items()}}
    admissions[2024] = admissions[2023]
    cost = {**P.COST, 2023: tuple(res["hospital_cost_per_episode_yuan_2023"][k]
                                  for k in ("outpatient", "inpatient"))}  # fmt: skip
    cost[2024] = cost[2023]
    alos = {**P.ALOS, **{int(k): v for k, v in res["hospital_avg_length_of_stay_days"].items()}}
    return {
        "visits": _year_value(P.VISITS_PER_RESIDENT, "visits_per_resident", year),
        "admissions": admissions[year] / P.ADMISSION_POPULATION_MILLION[year],
        "alos": alos[year],
        "cost_outpatient": cost[year][0],
        "cost_inpatient": cost[year][1],
    }


def _by_age(table, age):
    upper = np.array([row[0] for row in table])
    return np.array([row[1] for row in table])[np.searchsorted(upper, age, side="right")]


def _logistic(coef: dict, terms: dict) -> np.ndarray:
    eta = coef["intercept"]
    for name, value in terms.items():
        eta = eta + coef[name] * value
    return expit(eta)


def readmission_risk(people: People, idx: np.ndarray, los: np.ndarray) -> np.ndarray:
    """True 30-day readmission probability of admissions of people ``idx`` staying ``los``."""
    c = people.conditions[idx]
    col = {name: c[:, i] for i, name in enumerate(P.CONDITIONS)}
    return _logistic(P.READMISSION, {
        "age_per_10y_over_65": (people.age[idx] - 65) / 10, "male": people.male[idx],
        "conditions": c[:, :8].sum(axis=1), "log_length_of_stay": np.log(np.maximum(los, 1)),
        "copd": col["copd"], "ckd": col["ckd"], "cancer": col["cancer"],
        "dementia": col["dementia"], "uninsured": people.insurance[idx] == 2,
    })  # fmt: skip


def death_in_hospital_risk(people: People, idx: np.ndarray) -> np.ndarray:
    """True probability that the death of people ``idx`` happens in hospital."""
    c = people.conditions[idx]
    col = {name: c[:, i] for i, name in enumerate(P.CONDITIONS)}
    return _logistic(P.DEATH_IN_HOSPITAL, {
        "age_per_10y_over_75": (people.age[idx] - 75) / 10, "urban": people.urban[idx],
        "cancer": col["cancer"], "ihd": col["ihd"], "stroke": col["stroke"],
        "dementia": col["dementia"], "uninsured": people.insurance[idx] == 2,
    })  # fmt: skip


def counts(people: People, year: int, rng: np.random.Generator):
    """Visits, emergency visits and index admissions of each person, and who dies in hospital.

    Rates are relative weights (age, sex, urban, insurance, conditions) times a gamma frailty,
    scaled so the block's expected visits and admissions per person-year are the year's.
    """
    t = targets(year)
    years = (people.hi - people.lo) / 365.25
    total_years = max(years.sum(), 1e-9)
    female = ~people.male
    w_visit = _by_age(P.VISIT_AGE, people.age) * np.where(female, P.VISIT_FEMALE, 1.0)
    w_visit = w_visit * np.where(people.urban, P.VISIT_URBAN, 1.0)
    w_visit = w_visit * np.where(people.insurance == 2, P.VISIT_UNINSURED, 1.0)
    extra = people.conditions @ np.array([P.VISIT_CONDITION[c] for c in P.CONDITIONS])
    w_visit = w_visit * (1 + extra)
    w_admit = _by_age(P.ADMIT_AGE, people.age) * np.exp(
        people.conditions @ np.array([P.ADMIT_LOG_RR[c] for c in P.CONDITIONS])
    )
    w_admit = w_admit * np.where(people.insurance == 2, P.ADMIT_UNINSURED, 1.0)
    w_admit = w_admit + P.ADMIT_BIRTH * (female & (people.age >= 20) & (people.age < 40))
    frailty = rng.gamma(P.RATE_FRAILTY_SHAPE, 1 / P.RATE_FRAILTY_SHAPE, len(years))
    # Deaths in hospital: a terminal admission for some of those who die in the period.
    dying = np.flatnonzero(people.death >= 0)
    terminal = np.zeros(len(years), bool)
    p_term = death_in_hospital_risk(people, dying)
    terminal[dying] = rng.random(len(dying)) < p_term
    visits = t["visits"] * total_years / max((w_visit * years).sum(), 1e-300)
    index_admissions = t["admissions"] * total_years - p_term.sum()
    index_admissions = max(index_admissions, 0) / (1 + P.READMISSION_ALLOWANCE)
    admits = index_admissions / max((w_admit * years).sum(), 1e-300)
    lam_v = visits * w_visit * frailty * years
    n_visit = rng.poisson(lam_v * (1 - P.EMERGENCY_SHARE))
    n_emerg = rng.poisson(lam_v * P.EMERGENCY_SHARE)
    n_admit = rng.poisson(admits * w_admit * frailty * years)
    return n_visit, n_emerg, n_admit, terminal


def length_of_stay(people: People, idx: np.ndarray, reason: np.ndarray, year: int, rng):
    """Days in hospital: log-normal by reason and age, scaled to the year's mean, at least 1."""
    shift = np.zeros(len(idx))
    for name, value in P.LOS_LOG_SHIFT.items():
        if name == "old":
            shift += value * (people.age[idx] >= 75)
        else:
            shift += value * (reason == P.CONDITIONS.index(name))
    raw = np.exp(shift + P.LOS_LOG_SD * rng.standard_normal(len(idx)))
    scale = targets(year)["alos"] / raw.mean() if len(raw) else 1.0
    return np.maximum(np.round(raw * scale), 1).astype(np.int64)


@cache
def _acute_tables():
    """Cumulative weights of the acute reasons ``[kind (out, in), sex, age]``."""
    ages = np.arange(P.MAX_AGE + 1)
    w = np.zeros((2, 2, len(ages), len(P.ACUTE)))
    for r, (_, _, _, w_out, w_in, lo, hi, sex) in enumerate(P.ACUTE):  # a dozen reasons
        live = (ages >= lo) & (ages < hi)
        for s, code in enumerate(("F", "M")):
            if sex is None or sex == code:
                w[0, s, live, r] = w_out
                w[1, s, live, r] = w_in
    total = w.sum(axis=-1, keepdims=True)
    return np.cumsum(w, axis=-1) / np.where(total > 0, total, 1.0)


def reasons(people: People, idx: np.ndarray, inpatient: np.ndarray, rng) -> np.ndarray:
    """Reason of each encounter: a chronic condition's index (0-7) or 8 + an acute reason.

    With probability ``1 - exp(-pull x number of conditions)`` the encounter is for one of the
    person's conditions (chosen by weight), else for an acute reason drawn by age and sex.
    Women aged 20-39 admitted for an acute reason are delivering with probability
    :data:`._params.DELIVERY_SHARE`.
    """
    n = len(idx)
    u = rng.random((3, n))
    has = people.conditions[idx][:, :8]
    count = has.sum(axis=1)
    pull = np.where(inpatient, P.CHRONIC_PULL["inpatient"], P.CHRONIC_PULL["outpatient"])
    chronic = u[0] < 1 - np.exp(-pull * count)
    weights = np.array([P.REASON_WEIGHT[c] for c in CHRONIC], np.float32)  # [cond, kind]
    w = (
        has * weights[:, 1][None] * inpatient[:, None]
        + has * weights[:, 0][None] * ~inpatient[:, None]
    )
    cum = np.cumsum(w, axis=1)
    pick = (cum < (u[1] * cum[:, -1])[:, None]).sum(axis=1)
    acute_cum = _acute_tables()[inpatient.astype(np.int64), people.male[idx].astype(np.int64),
                                people.age[idx]]  # fmt: skip
    acute = (acute_cum < u[2][:, None]).sum(axis=1)
    acute = np.minimum(acute, len(P.ACUTE) - 1)
    codes = [row[0] for row in P.ACUTE]
    young_women = ~people.male[idx] & (people.age[idx] >= 20) & (people.age[idx] < 40)
    deliver = inpatient & young_women & (u[2] < P.DELIVERY_SHARE)
    acute = np.where(deliver, codes.index("O80"), acute)
    return np.where(chronic & (count > 0), np.minimum(pick, 7), 8 + acute)


@cache
def departments() -> tuple[str, ...]:
    names = sorted({*P.CONDITION_DEPARTMENT.values(), *(row[2] for row in P.ACUTE),
                    "emergency", "paediatrics"})  # fmt: skip
    return tuple(names)


@cache
def reason_department() -> np.ndarray:
    """Department code of each reason (chronic then acute)."""
    dep = departments()
    names = [P.CONDITION_DEPARTMENT[c] for c in CHRONIC] + [row[2] for row in P.ACUTE]
    return np.array([dep.index(d) for d in names])


def costs(people: People, idx, kind, los, year: int, rng) -> np.ndarray:
    """Cost of each encounter (yuan): log-normal, admissions in proportion to LOS^0.8.

    Scaled so the mean of the block's visits (outpatient and emergency) and of its admissions
    are the year's costs per episode.
    """
    t = targets(year)
    z = rng.standard_normal(len(idx))
    out = kind != INPAT
    sd = np.where(out, P.COST_LOG_SD["outpatient"], P.COST_LOG_SD["inpatient"])
    raw = np.exp(sd * z - sd**2 / 2)
    raw = raw * np.where(kind == EMERG, P.EMERGENCY_COST, 1.0)
    raw = np.where(out, raw, raw * np.maximum(los, 1) ** 0.8)
    cost = np.empty(len(idx))
    for mask, target in ((out, t["cost_outpatient"]), (~out, t["cost_inpatient"])):
        if mask.any():
            cost[mask] = raw[mask] * target / raw[mask].mean()
    return np.round(cost, 2)


def insured_share(people: People, idx, kind, rng) -> np.ndarray:
    """Share of each bill paid by insurance, by scheme and setting, with a little spread."""
    table = np.array([P.INSURED_SHARE[s] for s in P.INSURANCE])  # [scheme, (out, in)]
    base = table[people.insurance[idx], (kind == INPAT).astype(np.int64)]
    spread = (rng.random(len(idx)) - 0.5) * 0.2
    return np.round(np.where(base > 0, np.clip(base + spread, 0, 0.95), 0.0), 3)
