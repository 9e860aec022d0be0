"""Diagnoses, medications and observations of a block's encounters, and the risk model table.

Each function takes the block's people, the encounters' person index (``who``), kind, reason
and dates, and returns the rows as numpy columns. Loops run over conditions, drugs and
observation types, never over encounters.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from healthlab.synth import _params as P
from healthlab.synth._encounters import CHRONIC, INPAT, People


@cache
def icd_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """All ICD-10 codes used, and their labels (category order)."""
    rows = [row[:2] for c in CHRONIC for row in P.CONDITION_ICD10[c]]
    rows += [row[:2] for row in P.ACUTE]
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


@cache
def _chronic_code_table() -> tuple[np.ndarray, np.ndarray]:
    """Cumulative code weights ``[condition, kind (out, in), k]`` and vocabulary positions."""
    width = max(len(P.CONDITION_ICD10[c]) for c in CHRONIC)
    cum = np.ones((len(CHRONIC), 2, width))
    pos = np.zeros((len(CHRONIC), width), np.int64)
    codes = icd_vocabulary()[0]
    for i, c in enumerate(CHRONIC):  # eight conditions
        rows = P.CONDITION_ICD10[c]
        for k in (0, 1):
            w = np.array([row[2 + k] for row in rows], float)
            cum[i, k, : len(rows)] = np.cumsum(w / w.sum())
        pos[i, : len(rows)] = [codes.index(row[0]) for row in rows]
        pos[i, len(rows) :] = pos[i, len(rows) - 1]
    return cum, pos


def _own_codes(people: People, rows: np.ndarray, cond: np.ndarray, default: np.ndarray):
    """Vocabulary positions with the person's own cancer site and CKD stage where they apply."""
    _, pos = _chronic_code_table()
    cancer, ckd = CHRONIC.index("cancer"), CHRONIC.index("ckd")
    site = np.maximum(people.cancer_site[rows], 0)
    out = np.where(cond == cancer, pos[cancer, site], default)
    return np.where(cond == ckd, pos[ckd, people.ckd_stage[rows]], out)


def primary_codes(people: People, who, reason: np.ndarray, kind: np.ndarray, rng) -> np.ndarray:
    """Vocabulary position of the primary diagnosis of each encounter.

    A chronic reason's code is drawn by setting from :data:`._params.CONDITION_ICD10`, except
    that a cancer is always the person's own site and CKD the stage of their eGFR level.
    """
    cum, pos = _chronic_code_table()
    u = rng.random(len(reason))
    n_chronic_codes = sum(len(P.CONDITION_ICD10[x]) for x in CHRONIC)
    out = n_chronic_codes + reason - len(CHRONIC)
    rows = np.flatnonzero(reason < len(CHRONIC))  # only chronic reasons have a choice of code
    c, k = reason[rows], (kind[rows] == INPAT).astype(np.int64)
    pick = np.minimum((cum[c, k] < u[rows][:, None]).sum(axis=1), cum.shape[2] - 1)
    out[rows] = _own_codes(people, who[rows], c, pos[c, pick])
    return out


def secondary(people: People, who, kind, reason) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Secondary diagnoses of admissions: each other diagnosed chronic condition of the patient.

    Returns the encounter row, the sequence number (2, 3, ...) and the vocabulary position.
    """
    admissions = np.flatnonzero(kind == INPAT)
    has = people.known[who[admissions]][:, : len(CHRONIC)].copy()
    primary = reason[admissions]
    rows = np.flatnonzero(primary < len(CHRONIC))
    has[rows, primary[rows]] = False
    enc, cond = np.nonzero(has)
    seq = np.cumsum(has, axis=1)[enc, cond] + 1
    _, pos = _chronic_code_table()
    code = _own_codes(people, who[admissions[enc]], cond, pos[cond, 0])
    return admissions[enc], seq.astype(np.int8), code


@cache
def drug_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    seen = {}
    for rows in P.DRUGS.values():
        for atc, name, _ in rows:
            seen.setdefault(atc, name)
    return tuple(seen), tuple(seen.values())


def medications(people: People, who, reason, kind, los, rng):
    """Prescriptions: encounter row, drug position and days supplied.

    An encounter for a reason with drugs in :data:`._params.DRUGS` gets each of them with its
    probability; chronic drugs for 30 days at a visit, acute ones for 5, and for the stay in
    hospital. Hypertension and diabetes are treated only in treated patients, and their
    encounters for it always carry at least the first drug; diagnosed but untreated patients
    get none for it.
    """
    atc = drug_vocabulary()[0]
    acute = [row[0] for row in P.ACUTE]
    rows, drugs = [], []
    u = rng.random((max(len(v) for v in P.DRUGS.values()), len(reason)))
    cascade = {"hypertension": 0, "diabetes": 1}
    for key, entries in P.DRUGS.items():  # reasons with drugs, not encounters
        code = CHRONIC.index(key) if key in CHRONIC else len(CHRONIC) + acute.index(key)
        enc = np.flatnonzero(reason == code)
        first = np.zeros(len(enc), bool)
        if key in cascade:
            enc = enc[people.treated[who[enc], cascade[key]]]
            first = ~(u[: len(entries), enc] < np.array([e[2] for e in entries])[:, None]).any(0)
        for j, (a, _, p) in enumerate(entries):
            hit = enc[(u[j, enc] < p) | (first & (j == 0))]
            rows.append(hit)
            drugs.append(np.full(len(hit), atc.index(a)))
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    drugs = np.concatenate(drugs) if drugs else np.zeros(0, np.int64)
    order = np.argsort(rows, kind="stable")
    rows, drugs = rows[order], drugs[order]
    chronic = reason[rows] < len(CHRONIC)
    days = np.where(kind[rows] == INPAT, np.maximum(los[rows], 1), np.where(chronic, 30, 5))
    return rows, drugs, days.astype(np.int16)


OBS_ORDER = tuple(P.LOINC)


def observations(people: People, who, kind, reason, rng):
    """Vital signs and labs: encounter row, observation type (index of LOINC), value.

    Each value is the person's level (:func:`._encounters.person_truth`: blood pressure on
    treatment, HbA1c, eGFR, albuminuria) plus the noise of one measurement, so a person's
    values track over time and fasting glucose follows the same test's HbA1c.
    """
    n = len(who)
    u = rng.random((4, n))
    age = people.age[who]
    adult = age >= 18
    inpatient = kind == INPAT
    o = P.OBSERVE
    is_reason = {c: reason == CHRONIC.index(c) for c in ("hypertension", "diabetes", "ckd")}
    take_bp = adult & (inpatient | is_reason["hypertension"] | (u[0] < o["bp_visit"]))
    take_bmi = adult & inpatient & (u[1] < o["bmi_admission"])
    labs_in = adult & inpatient & (u[2] < o["admission_labs"])
    take_dm = labs_in | (is_reason["diabetes"] & (u[2] < o["diabetes_labs"]))
    take_kid = labs_in | (is_reason["ckd"] & (u[3] < o["kidney_labs"]))
    parts = []
    kinds = (("sbp", take_bp), ("dbp", take_bp), ("bmi", take_bmi), ("hba1c", take_dm),
             ("glucose", take_dm), ("creatinine", take_kid), ("egfr", take_kid),
             ("uacr", take_kid))  # fmt: skip
    rows = {name: np.flatnonzero(mask) for name, mask in kinds}
    z = {name: rng.standard_normal(len(r)) for name, r in rows.items()}
    dm_col = P.CONDITIONS.index("diabetes")
    r = rows["sbp"]
    p = who[r]
    sbp = people.sbp[p] - people.sbp_drop[p] + 8 * z["sbp"]
    values = {"sbp": np.round(np.clip(sbp, 70, 250)),
              "dbp": np.round(0.55 * sbp + 8 + 6 * z["dbp"])}  # fmt: skip
    r = rows["bmi"]
    values["bmi"] = np.round(people.bmi[who[r]] + 0.3 * z["bmi"], 1)
    p = who[rows["hba1c"]]
    dm = people.conditions[p, dm_col]
    noise = np.where(dm, P.LAB["hba1c"]["diabetic"][2], P.LAB["hba1c"]["other"][2])
    hba1c = people.hba1c[p] + noise * z["hba1c"]
    hba1c = np.where(dm, np.clip(hba1c, 4.0, 15.0), np.clip(hba1c, 4.0, 6.4))
    values["hba1c"] = np.round(hba1c, 1)
    g = P.LAB["glucose"]
    glucose = np.where(dm, g["slope"] * hba1c + g["intercept"] + g["sd_diabetic"] * z["glucose"],
                       5.0 + 0.5 * (hba1c - 5.5) + g["sd_other"] * z["glucose"])  # fmt: skip
    values["glucose"] = np.round(np.where(dm, np.clip(glucose, 3.0, 25.0),
                                          np.clip(glucose, 3.0, 6.9)), 1)  # fmt: skip
    r = rows["egfr"]
    p = who[r]
    egfr = np.clip(people.egfr[p] + P.KIDNEY["test_sd"] * z["egfr"], 5, 150)
    values["egfr"] = np.round(egfr)
    values["uacr"] = np.round(people.uacr[who[rows["uacr"]]] * np.exp(0.3 * z["uacr"]), 1)
    # Creatinine consistent with eGFR (CKD-EPI 2021 inverted above the knee), umol/L.
    female = ~people.male[p]
    k = np.where(female, 0.7, 0.9)
    a = np.where(female, 142 * 1.012, 142.0) * 0.9938 ** people.age[p]
    scr = k * (egfr / a) ** (-1 / 1.2)
    values["creatinine"] = np.round(88.4 * scr * np.exp(0.03 * z["creatinine"]))
    for name, _ in kinds:
        parts.append((rows[name], np.full(len(rows[name]), OBS_ORDER.index(name)), values[name]))
    enc = np.concatenate([p[0] for p in parts])
    typ = np.concatenate([p[1] for p in parts])
    val = np.concatenate([p[2] for p in parts]).astype(float)
    order = np.lexsort((typ, enc))
    return enc[order], typ[order], val[order]


def risk_model() -> pd.DataFrame:
    """The ground-truth models' coefficients, one row per term."""
    rows = []
    notes = {
        "readmitted_30d": "logistic model of a readmission within 30 days of an index admission",
        "died_in_hospital": "logistic model of dying in hospital, given death in the period",
        "death": "log relative risk of death in the year, within age and sex",
    }
    for outcome, coefs in (("readmitted_30d", P.READMISSION),
                           ("died_in_hospital", P.DEATH_IN_HOSPITAL),
                           ("death", P.DEATH_LOG_RR)):  # fmt: skip
        for term, value in coefs.items():
            rows.append((outcome, term, float(value), notes[outcome]))
    frame = pd.DataFrame(rows, columns=["outcome", "term", "coefficient", "model"])
    return frame.astype({"outcome": "string", "term": "string", "model": "string"})
