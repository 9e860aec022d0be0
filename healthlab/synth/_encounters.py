"""The encounters of one block of people: how many, when, why, how long, how much.

Everything here is vectorised over the people and encounters of a block; the loops run over
conditions, reasons and encounter kinds (a handful), never over rows. The block's random
numbers come from the generator passed in, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.special import expit, ndtr, ndtri

from healthlab.synth import _model as M
from healthlab.synth import _params as P
from healthlab.synth._reference import ADMISSIONS_MILLION, LEVELS, china

CHRONIC = P.CONDITIONS[:-1]  # the eight diseases (ADL disability is not a reason for a visit)
KINDS = ("outpatient", "emergency", "inpatient")
OUT, EMERG, INPAT = range(3)
#: The levels that are hospitals (the bulletins' "hospitals"), as indices into :data:`LEVELS`.
HOSPITAL_LEVELS = np.array([LEVELS.index(x) for x in ("tertiary", "secondary", "primary_hospital",
                                                      "unrated_hospital")])  # fmt: skip


@dataclass
class People:
    """Columns of one block of people as numpy arrays (``conditions`` is people x 9).

    The fields after ``district`` are the person's clinical truth, drawn once per person by
    :func:`person_truth`: which conditions are diagnosed and treated, the cancer site, and the
    levels that lab tests measure with noise.
    """

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
    known: np.ndarray | None = None  # diagnosed conditions (people x 9)
    treated: np.ndarray | None = None  # treated hypertension, diabetes (people x 2)
    cancer_site: np.ndarray | None = None  # index into the cancer codes, -1 without cancer
    egfr: np.ndarray | None = None  # eGFR level, mL/min/1.73 m2
    ckd_stage: np.ndarray | None = None  # index into the CKD codes
    uacr: np.ndarray | None = None  # urine albumin-to-creatinine ratio level, mg/g
    hba1c: np.ndarray | None = None  # HbA1c level (treated: on treatment), %
    sbp_drop: np.ndarray | None = None  # fall in blood pressure on treatment, mm Hg


def _year_value(table: dict, key: str, year: int):
    value = china()["health_resources"][key]
    return value[str(year)] if str(year) in value else table[year]


def _birth_rate(year: int) -> float:
    """Births per 1,000 people in ``year``."""
    c = china()
    if year == 2020:
        return float(c["births_and_early_deaths_2020"]["crude_birth_rate_per_1000"])
    ends = c["population_year_end"]
    if str(year) in ends:
        return 1000 * ends[str(year)]["births"] / ends[str(year)]["population"]
    return 1000 * P.BIRTHS_10K[year] * 1e4 / (P.ADMISSION_POPULATION_MILLION[year] * 1e6)


@cache
def targets(year: int) -> dict:
    """Visits and admissions per person-year, ALOS, costs and the birth rate of ``year``.

    ``alos`` and the costs are the means over hospitals (the bulletins' figures); ``level_alos``
    and ``level_cost`` (visit, admission) are per level of :data:`LEVELS`, moved from 2020 by the
    change of the hospital figures.
    """
    res = china()["health_resources"]
    admissions = {**ADMISSIONS_MILLION, **{int(k): v for k, v in res["admissions_million"].items()}}
    admissions[2024] = admissions[2023]
    cost = {**P.COST, 2023: tuple(res["hospital_cost_per_episode_yuan_2023"][k]
                                  for k in ("outpatient", "inpatient"))}  # fmt: skip
    cost[2024] = cost[2023]
    alos = {**P.ALOS, **{int(k): v for k, v in res["hospital_avg_length_of_stay_days"].items()}}
    ratio = np.array(cost[year]) / np.array(cost[2020])
    return {
        "visits": _year_value(P.VISITS_PER_RESIDENT, "visits_per_resident", year),
        "admissions": admissions[year] / P.ADMISSION_POPULATION_MILLION[year],
        "alos": alos[year],
        "cost_outpatient": cost[year][0],
        "cost_inpatient": cost[year][1],
        "level_alos": np.array([P.LEVEL_ALOS_2020[lv] for lv in LEVELS]) * alos[year] / alos[2020],
        "level_cost": np.array([P.LEVEL_COST_2020[lv] for lv in LEVELS]) * ratio[None],
        "birth_rate": _birth_rate(year),
    }


def _by_age(table, age):
    upper = np.array([row[0] for row in table])
    return np.array([row[1] for row in table])[np.searchsorted(upper, age, side="right")]


def _logistic(coef: dict, terms: dict) -> np.ndarray:
    eta = coef["intercept"]
    for name, value in terms.items():
        eta = eta + coef[name] * value
    return expit(eta)


def _truncated_normal(mean, sd, lo, hi, u):
    """Inverse-CDF draw of a normal truncated to ``[lo, hi]`` (no pile at the bounds)."""
    a, b = ndtr((lo - mean) / sd), ndtr((hi - mean) / sd)
    return mean + sd * ndtri(np.clip(a + u * (b - a), 1e-12, 1 - 1e-12))


@cache
def _site_tables():
    """Cumulative cancer-site shares ``[sex (F, M), age]`` over the cancer codes."""
    ages = np.arange(P.MAX_AGE + 1)
    out = np.zeros((2, len(ages), len(P.CONDITION_ICD10["cancer"])))
    for s, sex in enumerate(("F", "M")):
        for upper, shares in reversed(P.CANCER_SITES[sex]):
            w = np.asarray(shares, float)
            out[s, ages < upper] = np.cumsum(w / w.sum())
    return out


def person_truth(people: People, year: int, rng) -> None:
    """Draw each person's clinical truth into ``people`` (the same for all their encounters).

    Diagnosis and treatment of hypertension and diabetes (:data:`._params.CASCADE`), the cancer
    site (:data:`._params.CANCER_SITES`), kidney function (:data:`._params.KIDNEY`), the HbA1c
    level (:data:`._params.LAB`) and the fall in blood pressure on treatment.
    """
    n = len(people.age)
    u = rng.random((6, n))
    z = rng.standard_normal((4, n))
    cond = people.conditions
    col = {c: P.CONDITIONS.index(c) for c in P.CONDITIONS}
    cas = P.CASCADE
    known = cond.copy()
    treated = np.zeros((n, 2), bool)
    for j, name in enumerate(("hypertension", "diabetes")):
        has = cond[:, col[name]]
        known[:, col[name]] = has & (u[j] < cas[name]["aware"] / 100)
        treated[:, j] = has & (u[j] < cas[name]["treated"] / 100)
    site = (_site_tables()[people.male.astype(np.int64), people.age] < u[2][:, None]).sum(axis=1)
    site = np.where(cond[:, col["cancer"]], np.minimum(site, len(P.CONDITION_ICD10["cancer"]) - 1),
                    -1)  # fmt: skip
    k = P.KIDNEY
    ckd = cond[:, col["ckd"]]
    reduced = ckd & (u[3] < expit(M.ckd_reduced_intercept(year)
                                  + k["age_slope"] * (people.age - 60)))  # fmt: skip
    base, slope, sd = P.LAB["egfr_age"]
    healthy = base + slope * (np.maximum(people.age, 20) - 20)
    egfr = np.where(reduced, _truncated_normal(*k["reduced"], 10.0, 59.4, u[4]),
                    _truncated_normal(healthy, sd, 60.5, 150.0, u[4]))  # fmt: skip
    stage = np.select([egfr >= 60, egfr >= 30, egfr >= 15], [0, 1, 2], 3)
    group = np.where(reduced, 2, np.where(ckd, 1, 0))
    names = ("none", "albuminuria", "reduced")
    med = np.array([k["uacr_median"][g] for g in names])[group]
    lsd = np.array([k["uacr_log_sd"][g] for g in names])[group]
    uacr = np.exp(np.log(med) + lsd * z[0])
    uacr = np.where(ckd & ~reduced, np.maximum(uacr, 30.0 + 5 * u[5]), uacr)
    uacr = np.where(ckd, uacr, np.minimum(uacr, 29.0 - 5 * u[5]))
    dm = cond[:, col["diabetes"]]
    (m1, s1, _), (m0, s0, _) = P.LAB["hba1c"]["diabetic"], P.LAB["hba1c"]["other"]
    drop_m, drop_s = cas["hba1c_drop"]
    hba1c = np.where(dm, m1 + s1 * z[1] - treated[:, 1] * np.maximum(drop_m + drop_s * z[2], 0),
                     _truncated_normal(m0, s0, 4.0, 6.4, u[5]))  # fmt: skip
    drop_m, drop_s = cas["sbp_drop"]
    people.known, people.treated, people.cancer_site = known, treated, site
    people.egfr, people.ckd_stage, people.uacr, people.hba1c = egfr, stage, uacr, hba1c
    people.sbp_drop = treated[:, 0] * np.maximum(drop_m + drop_s * z[3], 0.0)


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
        "copd": col["copd"], "ckd": col["ckd"],
        "dementia": col["dementia"], "uninsured": people.insurance[idx] == 2,
    })  # fmt: skip


def counts(people: People, year: int, rng: np.random.Generator) -> dict:
    """How many encounters of each kind each person has, and who delivers or dies in hospital.

    Ordinary visits and index admissions are Poisson with relative weights (age, sex, urban,
    insurance, conditions) times a gamma frailty; treated patients add their prescription
    visits; women deliver at most once, by age; a share of the dying die in hospital. Ordinary
    visits and admissions are scaled so the block's expected totals per person-year are the
    year's. Returns arrays ``visit``, ``emergency``, ``admit``, ``refill`` (people x 2, for
    hypertension and diabetes), ``delivery`` and ``terminal`` (bools).
    """
    t = targets(year)
    years = (people.hi - people.lo) / 365.25
    total_years = max(years.sum(), 1e-9)
    n = len(years)
    female = ~people.male
    w_visit = _by_age(P.VISIT_AGE, people.age) * np.where(female, P.VISIT_FEMALE, 1.0)
    w_visit = w_visit * np.where(people.urban, P.VISIT_URBAN, 1.0)
    w_visit = w_visit * np.where(people.insurance == 2, P.VISIT_UNINSURED, 1.0)
    extra = people.known @ np.array([P.VISIT_CONDITION[c] for c in P.CONDITIONS])
    w_visit = w_visit * (1 + extra)
    w_admit = _by_age(P.ADMIT_AGE, people.age) * np.exp(
        people.conditions @ np.array([P.ADMIT_LOG_RR[c] for c in P.CONDITIONS])
    )
    w_admit = w_admit * np.where(people.insurance == 2, P.ADMIT_UNINSURED, 1.0)
    frailty = rng.gamma(P.RATE_FRAILTY_SHAPE, 1 / P.RATE_FRAILTY_SHAPE, n)
    u = rng.random((4, n))
    # Deaths in hospital: a terminal admission for some of those who die in the period.
    dying = np.flatnonzero(people.death >= 0)
    terminal = np.zeros(n, bool)
    p_term = death_in_hospital_risk(people, dying)
    terminal[dying] = u[0, dying] < p_term
    # Deliveries: at most one a woman, by age, scaled to the year's birth rate.
    fert = _by_age(P.FERTILITY, people.age) * female * years
    p_birth = np.minimum(fert * t["birth_rate"] / 1000 * total_years / max(fert.sum(), 1e-300),
                         0.95)  # fmt: skip
    delivery = u[1] < p_birth
    # Prescription visits of treated patients.
    full = u[2] < np.minimum(years, 1.0)
    refill = rng.poisson(P.CASCADE["refills"] * years[:, None] * np.ones((1, 2)))
    refill = (refill + full[:, None]) * people.treated
    visits = (t["visits"] * total_years - refill.sum()) / max((w_visit * years).sum(), 1e-300)
    index_admissions = t["admissions"] * total_years - p_term.sum() - p_birth.sum()
    index_admissions = max(index_admissions, 0) / (1 + P.READMISSION_ALLOWANCE)
    admits = index_admissions / max((w_admit * years).sum(), 1e-300)
    lam_v = max(visits, 0.0) * w_visit * frailty * years
    return {
        "visit": rng.poisson(lam_v * (1 - P.EMERGENCY_SHARE)),
        "emergency": rng.poisson(lam_v * P.EMERGENCY_SHARE),
        "admit": rng.poisson(admits * w_admit * frailty * years),
        "refill": refill,
        "delivery": delivery,
        "terminal": terminal,
        "u_maternal": u[3],
    }


def _acute_code(code: str) -> int:
    """Reason number of an acute reason by its ICD-10 code."""
    return len(CHRONIC) + [row[0] for row in P.ACUTE].index(code)


def delivery_reasons(n: int, rng) -> np.ndarray:
    """Vaginal or caesarean delivery (reason numbers) for ``n`` deliveries."""
    caesarean = rng.random(n) < P.CAESAREAN_SHARE
    return np.where(caesarean, _acute_code("O82"), _acute_code("O80"))


def terminal_reasons(people: People, idx: np.ndarray, maternal: np.ndarray, rng) -> np.ndarray:
    """Principal diagnosis of deaths in hospital: the cause, from :data:`._params.TERMINAL_CAUSE`.

    One of the person's diagnosed conditions or an acute cause, by weight; ``maternal`` marks
    deaths that are maternal deaths (a delivery admission).
    """
    names = list(P.TERMINAL_CAUSE)
    w = np.zeros((len(idx), len(names)))
    for j, name in enumerate(names):  # a dozen causes, not deaths
        if name in CHRONIC:
            w[:, j] = P.TERMINAL_CAUSE[name] * people.known[idx, CHRONIC.index(name)]
        elif name == "I50.9":
            w[:, j] = P.TERMINAL_CAUSE[name] * (people.age[idx] >= 50)
        else:
            w[:, j] = P.TERMINAL_CAUSE[name]
    cum = np.cumsum(w, axis=1)
    pick = (cum < (rng.random(len(idx)) * cum[:, -1])[:, None]).sum(axis=1)
    pick = np.minimum(pick, len(names) - 1)
    code = np.array([CHRONIC.index(x) if x in CHRONIC else _acute_code(x) for x in names])
    reason = code[pick]
    return np.where(maternal, delivery_reasons(len(idx), rng), reason)


def levels(people: People, idx: np.ndarray, kind: np.ndarray, rng) -> np.ndarray:
    """Level of care of each encounter (index into :data:`LEVELS`), by kind and residence.

    The shares of :data:`healthlab.synth.choice.LEVEL_SHARES`: the first step of the facility
    choice model, taken here so cost and stay can follow the level.
    """
    from healthlab.synth.choice import _share_matrix

    cum = _share_matrix()[kind, people.urban[idx].astype(np.int64)]
    level = (cum < rng.random(len(idx))[:, None]).sum(axis=1)
    return np.minimum(level, len(LEVELS) - 1)


def _delivery_mask(reason):
    return (reason == _acute_code("O80")) | (reason == _acute_code("O82"))


def length_of_stay(people: People, idx, reason, level, year: int, rng, scale=None):
    """Days in hospital and the scale used: log-normal by reason and age, by level.

    Stays other than deliveries are scaled, per level, so the level's mean stay (deliveries
    included) is the year's (:func:`targets`); pass the ``scale`` returned for one set of stays
    to draw further stays (readmissions) on the same scale. Deliveries follow
    :data:`._params.DELIVERY_LOS`. At least one day.
    """
    shift = np.zeros(len(idx))
    for name, value in P.LOS_LOG_SHIFT.items():
        if name == "old":
            shift += value * (people.age[idx] >= 75)
        else:
            shift += value * (reason == P.CONDITIONS.index(name))
    z = rng.standard_normal(len(idx))
    raw = np.exp(shift + P.LOS_LOG_SD * z)
    deliv = _delivery_mask(reason)
    mean_d = np.where(reason == _acute_code("O82"), P.DELIVERY_LOS["O82"], P.DELIVERY_LOS["O80"])
    birth = mean_d * np.exp(0.35 * z - 0.35**2 / 2)
    if scale is None:
        n_l = np.bincount(level, minlength=len(LEVELS))
        d_l = np.bincount(level, np.where(deliv, birth, 0.0), minlength=len(LEVELS))
        r_l = np.bincount(level, np.where(deliv, 0.0, raw), minlength=len(LEVELS))
        want = targets(year)["level_alos"] * n_l - d_l
        scale = np.where(r_l > 0, np.maximum(want, 0.5 * r_l) / np.maximum(r_l, 1e-300), 1.0)
    days = np.where(deliv, birth, raw * scale[level])
    return np.maximum(np.round(days), 1).astype(np.int64), scale


@cache
def _acute_tables() -> np.ndarray:
    """Cumulative weights of the acute reasons, one run per cell ``(kind (out, in), sex, age)``,
    each run offset by its cell number so the whole table is sorted (one searchsorted draws
    every encounter's reason)."""
    ages = np.arange(P.MAX_AGE + 1)
    w = np.zeros((2, 2, len(ages), len(P.ACUTE)))
    for r, (_, _, _, w_out, w_in, lo, hi, sex) in enumerate(P.ACUTE):  # a dozen reasons
        live = (ages >= lo) & (ages < hi)
        for s, code in enumerate(("F", "M")):
            if sex is None or sex == code:
                w[0, s, live, r] = w_out
                w[1, s, live, r] = w_in
    total = w.sum(axis=-1, keepdims=True)
    cum = np.cumsum(w, axis=-1) / np.where(total > 0, total, 1.0)
    cells = np.arange(cum[..., 0].size).reshape(cum.shape[:-1])
    return (cum + cells[..., None]).ravel()


def reasons(people: People, idx: np.ndarray, inpatient: np.ndarray, rng) -> np.ndarray:
    """Reason of each encounter: a chronic condition's index (0-7) or 8 + an acute reason.

    With probability ``1 - exp(-pull x number of diagnosed conditions)`` the encounter is for
    one of the person's diagnosed conditions (chosen by weight), else for an acute reason drawn
    by age and sex. An undiagnosed condition is never the reason.
    """
    n = len(idx)
    u = rng.random((3, n))
    has = people.known[idx][:, :8]
    count = has.sum(axis=1)
    pull = np.where(inpatient, P.CHRONIC_PULL["inpatient"], P.CHRONIC_PULL["outpatient"])
    chronic = u[0] < 1 - np.exp(-pull * count)
    weights = np.array([P.REASON_WEIGHT[c] for c in CHRONIC], np.float32)  # [cond, kind]
    w = has * np.where(inpatient[:, None], weights[:, 1][None], weights[:, 0][None])
    cum = np.cumsum(w, axis=1)
    pick = (cum < (u[1] * cum[:, -1])[:, None]).sum(axis=1)
    k = len(P.ACUTE)
    cell = (inpatient.astype(np.int64) * 2 + people.male[idx]) * (P.MAX_AGE + 1) + people.age[idx]
    acute = np.searchsorted(_acute_tables(), u[2] + cell, side="left") - cell * k
    acute = np.clip(acute, 0, k - 1)
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


def costs(people: People, idx, kind, los, level, year: int, rng) -> np.ndarray:
    """Cost of each encounter (yuan): log-normal, admissions in proportion to LOS^0.8.

    Scaled in two steps. First, the mean of the block's visits (outpatient and emergency) and
    of its admissions at each level of care is the year's cost per episode at that level
    (:func:`targets`). Then the visits (and, apart, the admissions) at the four hospital levels
    are multiplied by one factor each, so that their mean over hospitals is the year's hospital
    figure while the levels keep their ratios (tertiary about 1.6 times secondary per visit).
    The level figures are those of public hospitals; at the level mix of the choice model they
    average about 298 yuan a visit, against the 324.4 of all hospitals in 2020, so the factor
    for visits is about 1.09 (for admissions about 1.01).
    """
    t = targets(year)
    z = rng.standard_normal(len(idx))
    out = kind != INPAT
    sd = np.where(out, P.COST_LOG_SD["outpatient"], P.COST_LOG_SD["inpatient"])
    raw = np.exp(sd * z - sd**2 / 2)
    raw = raw * np.where(kind == EMERG, P.EMERGENCY_COST, 1.0)
    raw = np.where(out, raw, raw * np.maximum(los, 1) ** 0.8)
    group = level * 2 + (~out)
    size = 2 * len(LEVELS)
    mean = np.bincount(group, raw, size) / np.maximum(np.bincount(group, minlength=size), 1)
    target = t["level_cost"].ravel()  # [level, (visit, admission)]
    cost = raw * target[group] / np.maximum(mean[group], 1e-300)
    hospital = np.isin(level, HOSPITAL_LEVELS)
    for inpatient, figure in ((False, t["cost_outpatient"]), (True, t["cost_inpatient"])):
        sel = hospital & (out != inpatient)
        if sel.any():
            cost[sel] *= figure / max(cost[sel].mean(), 1e-300)
    return np.round(cost, 2)


def insured_share(people: People, idx, kind, rng) -> np.ndarray:
    """Share of each bill paid by insurance, by scheme and setting, with a little spread."""
    table = np.array([P.INSURED_SHARE[s] for s in P.INSURANCE])  # [scheme, (out, in)]
    base = table[people.insurance[idx], (kind == INPAT).astype(np.int64)]
    spread = (rng.random(len(idx)) - 0.5) * 0.2
    return np.round(np.where(base > 0, np.clip(base + spread, 0, 0.95), 0.0), 3)
