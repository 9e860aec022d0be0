"""Clinical records of a synthetic population: encounters, diagnoses, drugs, labs, outcomes.

The generative model, for each person observed between ``start`` and ``end`` (alive, up to
the death date):

0. **Truth.** Each person's clinical truth is drawn once
   (:func:`healthlab.synth._encounters.person_truth`): whether hypertension and diabetes are
   diagnosed and treated (the surveys' awareness and treatment), one cancer site by sex and
   age, kidney function (most CKD is albuminuria with a normal eGFR; a minority has a reduced
   eGFR), and the levels that lab tests measure (HbA1c, eGFR, albuminuria, blood pressure on
   treatment). Undiagnosed disease leaves no code and no drug.
1. **How many.** Outpatient visits, emergency visits and admissions are Poisson with a rate
   of relative weights (age, sex, urban residence, insurance, each condition) times a gamma
   frailty shared by the person's visits and admissions, scaled so that the expected visits
   and admissions per person-year are the year's national figures
   (:func:`healthlab.synth._encounters.targets`). Treated patients add prescription visits;
   women deliver (at most once) at the year's birth rate.
2. **Deaths in hospital.** A person who dies in the period dies in hospital with the
   probability of a logistic *place-of-death* model; that terminal admission ends on the death
   date, and its principal diagnosis is the cause (cancer, circulatory and respiratory disease
   first); a few women's deaths are maternal deaths, at the published rate per delivery.
3. **Why.** With probability ``1 - exp(-pull x number of diagnosed conditions)`` an encounter
   is for one of them, else for an acute reason drawn by age and sex. The reason sets the
   department, the primary ICD-10 diagnosis (a cancer's code is the person's site, CKD's the
   stage of their eGFR) and the drugs; admissions list the other diagnosed conditions.
4. **Where.** The level of care (tertiary hospital ... community health station) is drawn by
   kind and residence, and, given facilities, the facility within it
   (:mod:`healthlab.synth.choice`), among the institutions of the care network of a sample of
   this many people (:func:`healthlab.synth.choice.care_network`: its share of each province's
   institutions of each level, at least one), so each institution sees the workload of its
   catchment in the sample, not a nation's institutions a handful of encounters each.
5. **How long and how much.** Stays are log-normal by reason and age, scaled so each level's
   mean is its figure (deliveries 3-6 days apart); costs are log-normal (admissions in
   proportion to LOS^0.8), scaled to the year's cost per visit and per admission at the level,
   then at the four hospital levels together to the year's mean over all hospitals (the
   levels keep their ratios); insurance pays a share by scheme and setting.
6. **Readmission.** Every admission ending alive is followed by a readmission 1-30 days after
   discharge with the probability of a logistic *ground-truth* model (age, sex, number of
   conditions, log LOS, COPD, CKD, cancer, dementia, insurance); readmissions may be readmitted.
   Its coefficients are the ``risk_model`` table and each admission's true probability is in
   ``outcomes``. Episodes (a stay and its readmissions) are placed on the calendar uniformly
   with more than 30 days between them, so no stay overlaps another and a readmission by the
   dates is exactly a readmission of the model. Readmissions after death or ``end`` are not
   observed (``followup_complete`` says whose 30 days lie inside the period).
7. **Observations.** Blood pressure, BMI, HbA1c, fasting glucose (following the same test's
   HbA1c), creatinine, eGFR and urine albumin with LOINC codes, taken by setting and reason:
   the person's level plus the noise of one test.
8. **Births.** Each delivery has a baby (sex by the sex ratio at birth) followed to the first
   birthday at the year's infant mortality (systematic sampling within the block, so the
   rate holds at any size).
9. **Mess** (on by default, :data:`healthlab.synth._params.MESS`): missing values, duplicate
   encounters, miscoded dates and unit slips, drawn from their own stream.

Every parameter is in :mod:`healthlab.synth._params`. Randomness is drawn per block of
65,536 people (the population's blocks, by ``person_id``), so any split gives the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from healthlab._blocks import BLOCK_SIZE, block_rng
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth import _encounters as E
from healthlab.synth import _mess
from healthlab.synth import _model as M
from healthlab.synth import _params as P
from healthlab.synth import _records as R
from healthlab.synth._io import write_part
from healthlab.synth._reference import LEVELS, china
from healthlab.synth.checks import _year
from healthlab.synth.population import _district_labels

__all__ = ["TABLES", "make_clinical", "write_clinical"]

#: The tables make_clinical returns.
TABLES = ("encounters", "diagnoses", "medications", "observations", "outcomes", "person_years",
          "births", "risk_model")  # fmt: skip

#: Encounter ids are ``block * ID_STRIDE + n``: unique across blocks, stable across splits.
ID_STRIDE = 100_000_000

_NEEDED = ("person_id", "sex", "age", "birth_date", "province", "district", "urban", "insurance",
           "sbp", "bmi", "smoker", *P.CONDITIONS, "died", "death_date")  # fmt: skip


def _day(ts) -> int:
    return int(np.datetime64(pd.Timestamp(ts), "D").astype(np.int64))


def _people(frame: pd.DataFrame, lo: int, hi: int) -> E.People:
    death = frame["death_date"].to_numpy("datetime64[D]")
    dead = ~np.isnat(death)
    death_day = np.where(dead, death.astype(np.int64), -1)
    stop = np.where(dead & (death_day < hi), death_day, hi)
    insurance = pd.Categorical(frame["insurance"], categories=P.INSURANCE).codes
    return E.People(
        person_id=frame["person_id"].to_numpy(np.int64),
        age=np.minimum(frame["age"].to_numpy(np.int64), P.MAX_AGE),
        male=(frame["sex"].astype("string") == "M").to_numpy(bool),
        urban=frame["urban"].to_numpy(bool),
        insurance=insurance.astype(np.int64),
        conditions=frame[list(P.CONDITIONS)].to_numpy(bool),
        sbp=frame["sbp"].to_numpy(float),
        bmi=frame["bmi"].to_numpy(float),
        smoker=frame["smoker"].to_numpy(bool),
        lo=np.full(len(frame), lo, np.int64),
        hi=np.maximum(stop, lo),
        death=np.where(dead & (death_day >= lo) & (death_day < hi), death_day, -1),
        province=pd.Categorical(frame["province"], categories=M.provinces()[0]).codes,
        district=pd.Categorical(frame["district"], categories=_district_labels()[0]).codes,
    )


def _encounter_rows(people: E.People, frame, year: int, facilities, seed: int, b: int,
                    rng) -> dict:  # fmt: skip
    """All encounters of a block: person row, kind, reason, level, facility, day, LOS, outcomes.

    Counts first; then reasons; then the level of care (and, given facilities, the facility)
    of each visit and index stay; then lengths of stay by level; then the chains of
    readmissions; then the calendar (:func:`_place`).
    """
    c = E.counts(people, year, rng)
    n = len(people.age)
    idx = np.arange(n)
    # Visits: ordinary and emergency (reason drawn), and treated patients' prescription visits.
    v_who = np.concatenate([np.repeat(idx, c["visit"]), np.repeat(idx, c["emergency"])])
    v_kind = np.concatenate([np.full(c["visit"].sum(), E.OUT), np.full(c["emergency"].sum(),
                                                                        E.EMERG)])  # fmt: skip
    v_reason = E.reasons(people, v_who, np.zeros(len(v_who), bool), rng)
    r_who = np.concatenate([np.repeat(idx, c["refill"][:, 0]), np.repeat(idx, c["refill"][:, 1])])
    r_reason = np.repeat([P.CONDITIONS.index("hypertension"), P.CONDITIONS.index("diabetes")],
                         c["refill"].sum(axis=0))  # fmt: skip
    v_who, v_reason = np.concatenate([v_who, r_who]), np.concatenate([v_reason, r_reason])
    v_kind = np.concatenate([v_kind, np.full(len(r_who), E.OUT)])
    # Admissions: index stays (reason drawn), deliveries, and deaths in hospital.
    a_who = np.repeat(idx, c["admit"])
    a_reason = E.reasons(people, a_who, np.ones(len(a_who), bool), rng)
    d_who = idx[c["delivery"]]
    a_who = np.concatenate([a_who, d_who])
    a_reason = np.concatenate([a_reason, E.delivery_reasons(len(d_who), rng)])
    maternal_death = _maternal(people, c)
    t_who = idx[c["terminal"] | maternal_death]
    maternal = maternal_death[t_who]
    t_reason = E.terminal_reasons(people, t_who, maternal, rng)
    # Level of care and facility, before anything that depends on them.
    who = np.concatenate([v_who, a_who, t_who])
    kind = np.concatenate([v_kind, np.full(len(a_who) + len(t_who), E.INPAT)])
    level = E.levels(people, who, kind, rng)
    facility = np.full(len(who), -1, np.int64)
    if facilities is not None:
        facility, level = _facilities(who, kind, level, frame, facilities, seed, b)
    nv, na = len(v_who), len(a_who)
    # Stays by level; index stays fit in the person's time; chains of readmissions.
    span = people.hi - people.lo
    a_level = level[nv : nv + na]
    a_los, scale = E.length_of_stay(people, a_who, a_reason, a_level, year, rng)
    a_los = np.minimum(a_los, np.maximum(span[a_who] - 1, 0))
    t_los, _ = E.length_of_stay(people, t_who, t_reason, level[nv + na :], year, rng, scale)
    death = people.death[t_who]
    t_los = np.minimum(t_los, death - people.lo[t_who])
    chains = _chains(people, {"who": a_who, "reason": a_reason, "level": a_level,
                              "facility": facility[nv : nv + na], "los": a_los}, year, scale,
                     rng)  # fmt: skip
    term_start = np.full(n, -1, np.int64)
    term_start[t_who] = death - t_los
    lo = int(people.lo[0]) if n else 0
    chains = _place(people, chains, term_start, lo, rng.random((2, na)))
    v_day = people.lo[v_who] + (rng.random(nv) * span[v_who]).astype(np.int64)
    # Keep what is observed; re-point parents to the kept rows.
    keep = chains["keep"]
    new_row = np.cumsum(keep) - 1
    parent = np.where(chains["parent"] >= 0, new_row[np.maximum(chains["parent"], 0)], -1)
    parent = parent[keep]
    k = {key: chains[key][keep] for key in ("who", "reason", "level", "facility", "los", "day",
                                            "risk")}  # fmt: skip
    nk, nt = len(k["who"]), len(t_who)
    rows = {
        "who": np.concatenate([v_who, k["who"], t_who]),
        "kind": np.concatenate([v_kind, np.full(nk + nt, E.INPAT)]),
        "reason": np.concatenate([v_reason, k["reason"], t_reason]),
        "level": np.concatenate([level[:nv], k["level"], level[nv + na :]]),
        "facility": np.concatenate([facility[:nv], k["facility"], facility[nv + na :]]),
        "day": np.concatenate([v_day, k["day"], death - t_los]),
        "los": np.concatenate([np.zeros(nv, np.int64), k["los"], t_los]),
        "dies": np.concatenate([np.zeros(nv + nk, bool), np.ones(nt, bool)]),
        "readmission": np.concatenate([np.zeros(nv, bool), parent >= 0, np.zeros(nt, bool)]),
        "risk": np.concatenate([np.full(nv, np.nan), k["risk"], np.full(nt, np.nan)]),
        "readmit_of": np.concatenate(
            [np.full(nv, -1), np.where(parent >= 0, parent + nv, -1), np.full(nt, -1)]
        ),  # fmt: skip
    }
    readmitted = np.zeros(len(rows["who"]), bool)
    readmitted[rows["readmit_of"][rows["readmit_of"] >= 0]] = True
    rows["readmitted"] = readmitted
    discharge = rows["day"] + rows["los"]
    rows["complete"] = discharge + 30 < people.hi[rows["who"]]
    return rows


def _maternal(people, c) -> np.ndarray:
    """Who dies a maternal death, at the published rate per delivery (a bool per person).

    Among the women 15-49 who die in the period (about 15 in a block of people), each dies in a
    delivery admission with the probability that makes the block's expected maternal deaths
    :data:`._params.MATERNAL_DEATHS_PER_100K` per 100,000 of its expected deliveries; such a
    death is a death in hospital whatever the place-of-death model drew. (Drawing among the
    women already dying in hospital, often none in a block, gave about 60% of the rate.)
    """
    at_risk = (people.death >= 0) & ~people.male & (people.age >= 15) & (people.age < 50)
    expected = P.MATERNAL_DEATHS_PER_100K / 1e5 * c["delivery"].sum()
    p = min(expected / max(at_risk.sum(), 1), 1.0)
    return at_risk & (c["u_maternal"] < p)


def _group_starts(key: np.ndarray) -> np.ndarray:
    """Index of the first row of each row's run of equal ``key`` (``key`` sorted)."""
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    return np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))


def _exclusive_cumsum(values: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the earlier rows of the same ``key`` (``key`` sorted)."""
    total = np.cumsum(values) - values
    return total - total[_group_starts(key)]


def _chains(people, a: dict, year: int, scale, rng) -> dict:
    """Index stays and their chains of readmissions (the ground-truth model).

    Every admission of ``a`` (columns who, reason, level, facility, los) that ends alive is
    followed by a readmission within 1 to 30 days of discharge with the probability of
    :func:`._encounters.readmission_risk`; a readmission may itself be readmitted (same reason,
    level and facility). Adds ``parent`` (row of the admission readmitted, -1 for index stays),
    ``root`` (row of the episode's index stay), ``offset`` (admission day counted from the
    episode's first day) and ``risk``. Rows are in generations: index stays first.
    """
    n0 = len(a["who"])
    parts = {k: [v] for k, v in a.items()}
    parts.update(parent=[np.full(n0, -1)], root=[np.arange(n0)],
                 offset=[np.zeros(n0, np.int64)], risk=[np.zeros(0)])  # fmt: skip
    gen = {k: v[0] for k, v in parts.items() if k != "risk"}
    first = 0
    while len(gen["who"]):  # generations of readmissions: a handful of rounds
        risk = E.readmission_risk(people, gen["who"], gen["los"])
        parts["risk"].append(risk)
        u = rng.random((2, len(risk)))
        hit = np.flatnonzero(u[0] < risk)
        gap = 1 + (u[1][hit] * 30).astype(np.int64)
        los, _ = E.length_of_stay(people, gen["who"][hit], gen["reason"][hit], gen["level"][hit],
                                  year, rng, scale)  # fmt: skip
        child = {k: gen[k][hit] for k in a}
        after_birth = E._delivery_mask(child["reason"])
        child["reason"] = np.where(after_birth, E._acute_code("O90.9"), child["reason"])
        child.update(
            los=los,
            parent=first + hit,
            root=gen["root"][hit],
            offset=gen["offset"][hit] + gen["los"][hit] + gap,
        )
        first += len(risk)
        for k, v in child.items():
            parts[k].append(v)
        gen = child
    return {k: np.concatenate(v) for k, v in parts.items()}


def _place(people, rows: dict, term_start: np.ndarray, lo: int, u: np.ndarray) -> dict:
    """Put each person's episodes on the calendar: no stay overlaps another.

    Episodes (an index stay and its readmissions) are placed in random order with at least
    :data:`._params.EPISODE_GAP` days between the end of one and the start of the next, uniformly
    over the arrangements that fit: before ``term_start`` (a death in hospital, which is kept
    clear by the same gap) or, otherwise, with the last index stay ending before the person's
    last day. Readmissions falling after that day are not observed (dropped, and stays running
    past it end there). Episodes that do not fit are dropped. Adds ``day`` and ``keep``.
    """
    root = rows["root"]
    n_root = int((rows["parent"] < 0).sum())
    who = rows["who"][:n_root]
    end = np.zeros(n_root, np.int64)
    np.maximum.at(end, root, rows["offset"] + rows["los"])
    order = np.lexsort((u[0], who))
    w, dur, first_los = who[order], end[order], rows["los"][:n_root][order]
    gap = P.EPISODE_GAP
    before = _exclusive_cumsum(dur + gap, w)
    dying = term_start[w] >= 0
    avail = np.where(dying, term_start[w], people.hi[w]) - lo
    need = before + np.where(dying, dur + gap, first_los + 1)
    ok = need <= avail
    ok &= _exclusive_cumsum((~ok).astype(np.int64), w) == 0
    # Slack: what is left after the kept episodes, shared out by sorted uniforms.
    last = np.zeros(len(people.age), np.int64)
    np.maximum.at(last, w[ok], need[ok])
    slack = np.maximum(avail - last[w], 0)
    # The j-th kept episode of a person starts after the j-th smallest of its uniforms (both
    # orders group the rows by person, so position i is the same person in both).
    spread = np.where(ok, u[1][order], np.inf)
    offset_u = np.where(ok, spread[np.lexsort((spread, w))], 0.0)
    start = lo + (offset_u * slack).astype(np.int64) + before
    root_start = np.empty(n_root, np.int64)
    root_start[order] = start
    root_ok = np.empty(n_root, bool)
    root_ok[order] = ok
    day = root_start[root] + rows["offset"]
    stop = people.hi[rows["who"]]
    keep = root_ok[root] & (day < stop)
    rows["los"] = np.minimum(rows["los"], np.maximum(stop - 1 - day, 0))
    rows["day"], rows["keep"] = day, keep
    return rows


def _block(frame, b, year, lo, hi, rates, facilities, seed) -> dict[str, pd.DataFrame]:
    """All tables of one block of people."""
    rng = block_rng(seed, "clinical", b)
    people = _people(frame, lo, hi)
    E.person_truth(people, year, rng)
    rows = _encounter_rows(people, frame, year, facilities, seed, b, rng)
    order = np.lexsort((rows["kind"], rows["day"], rows["who"]))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    rows = {k: v[order] for k, v in rows.items()}
    rows["readmit_of"] = np.where(rows["readmit_of"] >= 0, rank[rows["readmit_of"]], -1)
    who, kind, reason = rows["who"], rows["kind"], rows["reason"]
    enc_id = b * ID_STRIDE + np.arange(1, len(who) + 1, dtype=np.int64)
    pid = people.person_id[who]
    day = rows["day"].astype("datetime64[D]").astype("datetime64[ms]")
    dep = E.reason_department()[reason]
    deps = E.departments()
    chronic = reason < len(E.CHRONIC)
    dep = np.where(~chronic & (people.age[who] < P.PAEDIATRIC_AGE), deps.index("paediatrics"), dep)
    dep = np.where(kind == E.EMERG, deps.index("emergency"), dep)
    cost = E.costs(people, who, kind, rows["los"], rows["level"], year, rng)
    share = E.insured_share(people, who, kind, rng)
    cat = pd.Categorical.from_codes
    encounters = pd.DataFrame({
        "encounter_id": enc_id, "person_id": pid,
        "encounter_type": cat(kind, categories=list(E.KINDS)),
        "admit_date": day,
        "discharge_date": day + rows["los"].astype("timedelta64[D]"),
        "length_of_stay": rows["los"].astype(np.int16),
        "department": cat(dep, categories=list(deps)),
        "province": cat(people.province[who], categories=list(M.provinces()[0])),
        "district": cat(people.district[who], categories=_district_labels()[0]),
        "urban": people.urban[who],
        "facility_id": pd.arrays.IntegerArray(np.maximum(rows["facility"], 0),
                                              rows["facility"] < 0),
        "facility_level": cat(rows["level"], categories=list(LEVELS)),
        "cost_yuan": cost, "insurance_paid_share": share,
        "readmission": rows["readmission"],
    }, copy=False)  # fmt: skip
    codes, labels = R.icd_vocabulary()
    first = R.primary_codes(people, who, reason, kind, rng)
    s_rows, s_seq, s_code = R.secondary(people, who, kind, reason)
    d_rows = np.concatenate([np.arange(len(who)), s_rows])
    d_code = np.concatenate([first, s_code])
    d_seq = np.concatenate([np.ones(len(who), np.int8), s_seq])
    d_order = np.lexsort((d_seq, d_rows))
    d_rows, d_code, d_seq = d_rows[d_order], d_code[d_order], d_seq[d_order]
    n_chronic_codes = sum(len(P.CONDITION_ICD10[c]) for c in E.CHRONIC)
    cond_of_code = np.concatenate([
        np.repeat(np.arange(len(E.CHRONIC)), [len(P.CONDITION_ICD10[c]) for c in E.CHRONIC]),
        np.full(len(codes) - n_chronic_codes, -1)])  # fmt: skip
    diagnoses = pd.DataFrame({
        "encounter_id": enc_id[d_rows], "person_id": pid[d_rows], "seq": d_seq,
        "icd10": cat(d_code, categories=list(codes)),
        "description": cat(d_code, categories=list(labels)),
        "condition": cat(cond_of_code[d_code], categories=list(E.CHRONIC)),
    }, copy=False)  # fmt: skip
    m_rows, m_drug, m_days = R.medications(people, who, reason, kind, rows["los"], rng)
    atc, names = R.drug_vocabulary()
    medications = pd.DataFrame({
        "encounter_id": enc_id[m_rows], "person_id": pid[m_rows], "date": day[m_rows],
        "atc_code": cat(m_drug, categories=list(atc)),
        "drug": cat(m_drug, categories=list(names)),
        "condition": cat(np.where(chronic[m_rows], reason[m_rows], -1),
                         categories=list(E.CHRONIC)),
        "days_supply": m_days,
    }, copy=False)  # fmt: skip
    o_rows, o_type, o_value = R.observations(people, who, kind, reason, rng)
    loinc = [P.LOINC[k] for k in R.OBS_ORDER]
    units = list(dict.fromkeys(x[2] for x in loinc))
    unit_of = np.array([units.index(x[2]) for x in loinc])
    observations = pd.DataFrame({
        "encounter_id": enc_id[o_rows], "person_id": pid[o_rows], "date": day[o_rows],
        "loinc": cat(o_type, categories=[x[0] for x in loinc]),
        "name": cat(o_type, categories=[x[1] for x in loinc]),
        "value": o_value,
        "unit": cat(unit_of[o_type], categories=units),
    }, copy=False)  # fmt: skip
    adm = np.flatnonzero(kind == E.INPAT)
    re_of = rows["readmit_of"]
    re_id = np.full(len(who), -1, np.int64)
    re_id[re_of[re_of >= 0]] = enc_id[re_of >= 0]
    outcomes = pd.DataFrame({
        "encounter_id": enc_id[adm], "person_id": pid[adm],
        "died_in_hospital": rows["dies"][adm],
        "readmitted_30d": rows["readmitted"][adm],
        "readmission_encounter_id": pd.array(np.where(re_id[adm] >= 0, re_id[adm], 0),
                                             dtype="Int64"),
        "readmission_risk": rows["risk"][adm],
        "followup_complete": rows["complete"][adm],
        "is_readmission": rows["readmission"][adm],
    }, copy=False)  # fmt: skip
    outcomes.loc[re_id[adm] < 0, "readmission_encounter_id"] = pd.NA
    person_years = pd.DataFrame({
        "person_id": people.person_id,
        "person_years": np.round((people.hi - people.lo) / 365.25, 6),
    })  # fmt: skip
    births = _births(people, rows, enc_id, year, rng)
    tables = {
        "encounters": encounters,
        "diagnoses": diagnoses,
        "medications": medications,
        "observations": observations,
        "outcomes": outcomes,
        "person_years": person_years,
        "births": births,
    }
    return _mess.apply(tables, rates, block_rng(seed, "clinical-mess", b))


def _facilities(who, kind, level, frame, facilities, seed, b):
    """Facility (and its level) of each encounter from the choice model of
    :mod:`healthlab.synth.choice`, at the level already drawn (a province without that level
    falls back to the next level up)."""
    from healthlab.synth.choice import assign_facilities

    key = np.random.SeedSequence(seed, spawn_key=(b,)).generate_state(1)[0]
    enc = pd.DataFrame(
        {
            "person_id": frame["person_id"].to_numpy()[who],
            "encounter_type": pd.Categorical.from_codes(kind, list(E.KINDS)),
        }
    )
    ids = assign_facilities(enc, frame, facilities, levels=level, seed=int(key))
    found = ids.notna().to_numpy()
    ids = ids.fillna(-1).to_numpy(np.int64)
    level_of = pd.Series(pd.Index(LEVELS).get_indexer(facilities["level"].astype("string")),
                         index=facilities["facility_id"].to_numpy())  # fmt: skip
    actual = np.where(found, level_of.reindex(ids).fillna(-1).to_numpy(np.int64), level)
    return ids, np.where(actual >= 0, actual, level)


def _infant_mortality(year: int) -> float:
    """Infant deaths per 1,000 live births in ``year`` (the NHC bulletins, via china.yaml).

    The year's figure where the reference data has one (2020, 2023, 2024), else the nearest
    earlier year's.
    """
    c = china()
    known = {2020: c["births_and_early_deaths_2020"]["infant_mortality_per_1000"],
             **{int(k): v for k, v in
                c["life_expectancy_at_birth"]["infant_mortality_per_1000"].items()}}  # fmt: skip
    earlier = [y for y in known if y <= year]
    return float(known[max(earlier)] if earlier else known[min(known)])


def _births(people, rows, enc_id, year, rng) -> pd.DataFrame:
    """One row per baby born in a delivery admission, with the infant's first year.

    Sex by the census sex ratio at birth; death before the first birthday with the year's
    infant mortality (:data:`._params.INFANT_DEATH` gives its timing). The infant's first year
    is followed to its end even past the period (a birth cohort), so infant deaths per 1,000
    births is the infant mortality rate.

    Who dies is drawn by systematic sampling over the block's babies in random order: each
    baby dies with probability exactly the rate, and the block's count is its expected count
    rounded down or up. About 560 babies and 3 infant deaths a block are too few to leave to
    independent draws: at 200,000 people those give 5.4 +/- 1.8 per 1,000 (one run had 4.1).
    """
    deliv = np.flatnonzero(np.isin(rows["reason"], [E._acute_code("O80"), E._acute_code("O82")]))
    n = len(deliv)
    u = rng.random((4, n))
    srb = china()["census_2020"]["sex_ratio_at_birth"]
    rate = _infant_mortality(year) / 1000
    share = P.INFANT_DEATH
    age = np.where(u[2] < share["first_week"], u[3] * 7,
                   np.where(u[2] < share["first_week"] + share["neonatal_late"],
                            7 + u[3] * 21, 28 + u[3] * 337)).astype(np.int64)  # fmt: skip
    born = rows["day"][deliv]
    rank = np.empty(n, np.int64)
    rank[np.argsort(u[1], kind="stable")] = np.arange(n)
    start = rng.random()
    dies = np.floor(start + (rank + 1) * rate) > np.floor(start + rank * rate)
    never = np.iinfo(np.int64).min
    death = np.where(dies, (born + age) * 86_400_000, never).view("datetime64[ms]")
    return pd.DataFrame({
        "encounter_id": enc_id[deliv], "mother_id": people.person_id[rows["who"][deliv]],
        "birth_date": born.astype("datetime64[D]").astype("datetime64[ms]"),
        "sex": pd.Categorical.from_codes((u[0] < srb / (100 + srb)).astype(np.int8),
                                         categories=["F", "M"]),
        "infant_death_date": death,
    }, copy=False)  # fmt: skip


def _period(population_year: int, start, end) -> tuple[int, int]:
    first, stop = _day(f"{population_year}-01-01"), _day(f"{population_year + 1}-01-01")
    try:
        lo = first if start is None else _day(start)
        hi = stop if end is None else _day(end)
    except (ValueError, TypeError) as err:
        raise InvalidParameterError(
            f"start and end must be dates like '2020-03-01', got start={start!r}, end={end!r}"
        ) from err
    if not first <= lo < hi <= stop:
        raise InvalidParameterError(
            f"start={start!r} and end={end!r} must satisfy start < end within the population's "
            f"year {population_year} ({population_year}-01-01 to {population_year + 1}-01-01, "
            "end exclusive): deaths are known only within that year"
        )
    return lo, hi


def _frames(population):
    """Yield DataFrames of the population: the frame itself, or a dataset's partitions."""
    parts = getattr(population, "partitions", {}) or {}
    if "population" in parts:
        for path in parts["population"]:
            yield pd.read_parquet(path)
    elif isinstance(population, pd.DataFrame):
        yield population
    elif hasattr(population, "tables") and "population" in population.tables:
        yield population.tables["population"]
    else:
        raise InvalidParameterError(
            "population must be a DataFrame made by make_population (or its dataset), got "
            f"{type(population).__name__}"
        )


def make_clinical(
    population,
    *,
    start=None,
    end=None,
    mess=True,
    facilities: pd.DataFrame | None = None,
    out=None,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> dict[str, pd.DataFrame] | None:
    """Make the clinical records of a synthetic population over a period of its year.

    See the module docstring for the generative model and :mod:`healthlab.synth._params` for
    every parameter. Visits and admissions per person-year, length of stay and costs per
    episode are scaled to the national figures of the population's year.

    Parameters
    ----------
    population : pandas.DataFrame
        As made by :func:`healthlab.synth.make_population` (or a catalogue dataset of it,
        read partition by partition; each partition must hold whole blocks of 65,536 people,
        as :func:`healthlab.synth.population.write_population` writes them). A subset of
        people is fine; the records are in order of ``person_id``.
    start, end : str or datetime-like, optional
        The period, ``end`` exclusive; by default the population's whole year. Must lie within
        that year (deaths are known only there).
    mess : bool or dict, default True
        Realistic mess at :data:`healthlab.synth._params.MESS` rates; False for clean records,
        or a dict overriding some rates (keys ``missing``, ``duplicate``, ``miscoded_date``,
        ``unit_slip``). The mess has its own random stream: clean and messy records of the same
        seed differ only in it.
    facilities : pandas.DataFrame, optional
        Facilities (``healthlab.synth.facilities.make_facilities``): fill ``facility_id`` with
        the facility choice model of :mod:`healthlab.synth.choice`, within the care network of
        a population of this size (:func:`healthlab.synth.choice.care_network`); missing
        otherwise.
    out : str or pathlib.Path, optional
        Write each table as Parquet partitions ``out/<table>/part-*.parquet`` (one per block of
        people) instead of returning them; memory stays bounded at any size.
    progress : callable, optional
        Called as ``progress(people_done, people_total)`` after each block.
    seed : int, default 0
        Seed of the random draws.

    Returns
    -------
    dict of pandas.DataFrame or None
        ``encounters``, ``diagnoses``, ``medications``, ``observations``, ``outcomes`` (one row
        per admission), ``person_years`` (each person's observed time, the denominator of
        rates), ``births`` (one row per baby) and ``risk_model`` (the ground-truth
        coefficients); None when ``out`` is given.

    References
    ----------
    National Health Commission of China. Statistical bulletins on the development of health
    care (2020-2023).

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical
    >>> people = make_population(2000, seed=1)
    >>> records = make_clinical(people, seed=1)
    >>> sorted(records)[:3]
    ['births', 'diagnoses', 'encounters']
    >>> bool(records["encounters"]["person_id"].isin(people["person_id"]).all())
    True
    """
    seed = check_seed(seed)
    rates = _mess.check_mess(mess)
    frames = _frames(population)
    first = next(frames, None)
    if first is None:
        raise InvalidParameterError("population has no partitions to read")
    missing = [c for c in _NEEDED if c not in first]
    if missing:
        raise InvalidParameterError(
            f"population lacks the columns {missing}; pass a frame made by make_population"
        )
    year = M.check_year(_year(first)) if len(first) else 2020
    lo, hi = _period(year, start, end)
    total = _count(population, first)
    if facilities is not None:
        # The institutions a sample of this size uses (healthlab.synth.choice.care_network):
        # the same for any partitioning, since it depends on the number of people only.
        from healthlab.synth.choice import care_network

        facilities = care_network(facilities, people=total, seed=seed)
    results: dict[str, list] = {t: [] for t in TABLES[:-1]}
    done, part, seen = 0, 0, set()
    for frame in _chain(first, frames):
        ids = frame["person_id"].to_numpy(np.int64)
        if (np.diff(ids) < 0).any():  # people out of order: put them in person_id order
            order = np.argsort(ids, kind="stable")
            frame, ids = frame.iloc[order], ids[order]
        key = (ids - 1) // BLOCK_SIZE
        again = seen.intersection(np.unique(key).tolist())
        if again:
            raise InvalidParameterError(
                f"the people of block {min(again)} (person_id {min(again) * BLOCK_SIZE + 1} to "
                f"{(min(again) + 1) * BLOCK_SIZE}) are split across partitions; each partition "
                "must hold whole blocks of 65,536 people, as make_population writes them"
            )
        seen.update(np.unique(key).tolist())
        bounds = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(frame)]])
        for a, z in zip(starts, stops, strict=True):  # blocks of people, not people
            if z <= a:
                continue
            tables = _block(frame.iloc[a:z], int(key[a]), year, lo, hi, rates, facilities, seed)
            if out is not None:
                for name, table in tables.items():
                    write_part(table, out, name, part)
            else:
                for name, table in tables.items():
                    results[name].append(table)
            part += 1
            done += z - a
            if progress is not None:
                progress(done, total)
    if out is not None:
        write_part(R.risk_model(), out, "risk_model", 0)
        return None
    if not results["encounters"]:  # no people: empty tables with their columns
        results = {n: [t] for n, t in _block(first, 0, year, lo, hi, rates, None, seed).items()}
    joined = {name: _concat(parts) for name, parts in results.items()}
    joined["risk_model"] = R.risk_model()
    return joined


def _chain(first, rest):
    yield first
    yield from rest


def _count(population, first) -> int:
    parts = getattr(population, "partitions", {}) or {}
    if "population" in parts:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(Path(p)).metadata.num_rows for p in parts["population"])
    return len(first)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def write_clinical(population, out, **options) -> Path:
    """Write the records of :func:`make_clinical` as Parquet partitions under ``out``.

    Each table goes to ``out/<table>/part-*.parquet``, one part per block of people, so memory
    stays bounded at any size; the rows are those :func:`make_clinical` returns for the same
    arguments. ``options`` are :func:`make_clinical`'s keywords (``seed`` among them).

    Returns
    -------
    pathlib.Path
        The folder ``out``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from healthlab.synth import make_population
    >>> from healthlab.synth.clinical import write_clinical
    >>> people = make_population(500, seed=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folder = write_clinical(people, d, seed=1)
    ...     len(pd.read_parquet(folder / "encounters")) > 0
    True
    """
    if out is None:
        raise InvalidParameterError("out must be a folder to write the partitions into")
    make_clinical(population, out=out, **options)
    return Path(out)
