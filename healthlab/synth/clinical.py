"""Clinical records of a synthetic population: encounters, diagnoses, drugs, labs, outcomes.

The generative model, for each person observed between ``start`` and ``end`` (alive, up to
the death date):

1. **How many.** Outpatient visits, emergency visits and admissions are Poisson with a rate
   of relative weights (age, sex, urban residence, insurance, each chronic condition) times a
   gamma frailty shared by the person's visits and admissions, scaled so that the expected
   visits and admissions per person-year are the year's national figures
   (:func:`healthlab.synth._encounters.targets`).
2. **Deaths in hospital.** A person who dies in the period dies in hospital with the
   probability of a logistic *place-of-death* model (age, urban, cancer, heart disease,
   stroke, dementia, insurance): a terminal admission then ends on the death date.
3. **Why.** With probability ``1 - exp(-pull x number of conditions)`` an encounter is for
   one of the person's chronic conditions, else for an acute reason drawn by age and sex
   (respiratory infection, gastroenteritis, fracture, delivery, check-up...). The reason
   sets the department, the primary ICD-10 diagnosis and the drugs prescribed; admissions
   list the patient's other conditions as secondary diagnoses.
4. **When and how long.** Dates are uniform over the days the person is observed alive;
   length of stay is log-normal by reason and age, scaled to the year's average length of
   stay; stays end before death (or on it, for a death in hospital) and before ``end``.
5. **What it costs.** Log-normal costs scaled to the year's cost per visit and per admission
   (admissions in proportion to LOS^0.8); insurance pays a share by scheme and setting.
6. **Readmission.** Each index admission is followed by a readmission within 30 days with the
   probability of a logistic *ground-truth* model (age, sex, number of conditions, log LOS,
   COPD, CKD, cancer, dementia, insurance). Its coefficients are the ``risk_model`` table, and
   each admission's true probability is in ``outcomes``: a student's model can be compared
   with the truth. Readmissions that would fall after death or ``end`` are not observed
   (``followup_complete`` says whose 30 days lie inside the period).
7. **Observations.** Blood pressure, BMI, HbA1c, fasting glucose, creatinine and eGFR with
   LOINC codes, taken by setting and reason, with values that follow the person's truth
   (hypertensives have high blood pressure, diabetics high HbA1c, CKD low eGFR).
8. **Mess** (on by default, :data:`healthlab.synth._params.MESS`): missing values, duplicate
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
from healthlab.synth.checks import _year
from healthlab.synth.population import _district_labels

__all__ = ["TABLES", "make_clinical", "write_clinical"]

#: The tables make_clinical returns.
TABLES = ("encounters", "diagnoses", "medications", "observations", "outcomes", "person_years",
          "risk_model")  # fmt: skip

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


def _inpatient_dates(people, who, los, u):
    """Admission day and LOS of stays that end (alive) before the person's last day."""
    span = people.hi[who] - people.lo[who]
    los = np.clip(los, 0, np.maximum(span - 1, 0))
    admit = people.lo[who] + (u * np.maximum(span - los, 0)).astype(np.int64)
    return admit, los


def _encounter_rows(people: E.People, year: int, rng) -> dict:
    """The encounters of a block before readmissions: person row, kind, reason, day, LOS."""
    n_visit, n_emerg, n_admit, terminal = E.counts(people, year, rng)
    idx = np.arange(len(people.age))
    who = np.concatenate([np.repeat(idx, n_visit), np.repeat(idx, n_emerg),
                          np.repeat(idx, n_admit), idx[terminal]])  # fmt: skip
    kind = np.concatenate([np.full(n_visit.sum(), E.OUT), np.full(n_emerg.sum(), E.EMERG),
                           np.full(n_admit.sum() + terminal.sum(), E.INPAT)])  # fmt: skip
    dies = np.zeros(len(who), bool)
    dies[len(who) - terminal.sum() :] = True
    inpatient = kind == E.INPAT
    reason = E.reasons(people, who, inpatient, rng)
    los = np.zeros(len(who), np.int64)
    los[inpatient] = E.length_of_stay(people, who[inpatient], reason[inpatient], year, rng)
    u = rng.random(len(who))
    span = people.hi[who] - people.lo[who]
    day = people.lo[who] + (u * span).astype(np.int64)
    admit, stay = _inpatient_dates(people, who[inpatient], los[inpatient], u[inpatient])
    day[inpatient], los[inpatient] = admit, stay
    # Deaths in hospital end on the death date.
    death = people.death[who[dies]]
    los[dies] = np.minimum(los[dies], death - people.lo[who[dies]])
    day[dies] = death - los[dies]
    return {"who": who, "kind": kind, "reason": reason, "day": day, "los": los, "dies": dies}


def _readmissions(people: E.People, rows: dict, end: int, year: int, rng) -> dict:
    """Add readmissions drawn from the ground-truth model; return rows and outcome columns."""
    index = np.flatnonzero((rows["kind"] == E.INPAT) & ~rows["dies"])
    who = rows["who"][index]
    risk = E.readmission_risk(people, who, rows["los"][index])
    u = rng.random((2, len(index)))
    discharge = rows["day"][index] + rows["los"][index]
    readmit_day = discharge + 1 + (u[1] * 30).astype(np.int64)
    los = E.length_of_stay(people, who, rows["reason"][index], year, rng)
    hit = (u[0] < risk) & (readmit_day < people.hi[who])
    los = np.minimum(los, np.maximum(people.hi[who] - 1 - readmit_day, 0))
    n_old = len(rows["who"])
    new = np.flatnonzero(hit)
    out = {k: np.concatenate([v, v[index[new]]]) for k, v in rows.items()}
    out["day"][n_old:] = readmit_day[new]
    out["los"][n_old:] = los[new]
    n = len(out["who"])
    out["readmission"] = np.zeros(n, bool)
    out["readmission"][n_old:] = True
    out["risk"] = np.full(n, np.nan)
    out["risk"][index] = risk
    out["readmitted"] = np.zeros(n, bool)
    out["readmitted"][index[new]] = True
    out["readmit_of"] = np.full(n, -1)
    out["readmit_of"][n_old:] = index[new]
    out["complete"] = out["day"] + out["los"] + 30 <= end
    return out


def _block(frame, b, year, lo, hi, rates, facilities, seed) -> dict[str, pd.DataFrame]:
    """All tables of one block of people."""
    rng = block_rng(seed, "clinical", b)
    people = _people(frame, lo, hi)
    rows = _readmissions(people, _encounter_rows(people, year, rng), hi, year, rng)
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
    cost = E.costs(people, who, kind, rows["los"], year, rng)
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
        "facility_id": pd.arrays.IntegerArray(np.zeros(len(who), np.int64),
                                              np.ones(len(who), bool)),
        "cost_yuan": cost, "insurance_paid_share": share,
        "readmission": rows["readmission"],
    }, copy=False)  # fmt: skip
    if facilities is not None:
        encounters["facility_id"] = _facilities(encounters, frame, facilities, seed, b)
    codes, labels = R.icd_vocabulary()
    first = R.primary_codes(reason, kind, rng)
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
    m_rows, m_drug, m_days = R.medications(reason, kind, rows["los"], rng)
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
    tables = {
        "encounters": encounters,
        "diagnoses": diagnoses,
        "medications": medications,
        "observations": observations,
        "outcomes": outcomes,
        "person_years": person_years,
    }
    return _mess.apply(tables, rates, block_rng(seed, "clinical-mess", b))


def _facilities(encounters, people, facilities, seed, b):
    """Facility of each encounter from the facility choice model (healthlab.synth.choice)."""
    from healthlab.synth.choice import assign_facilities

    key = np.random.SeedSequence(seed, spawn_key=(b,)).generate_state(1)[0]
    return assign_facilities(encounters, people, facilities, kind_column="encounter_type",
                             seed=int(key)).to_numpy()  # fmt: skip


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
        the facility choice model of :mod:`healthlab.synth.choice`; missing otherwise.
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
        rates) and ``risk_model`` (the ground-truth coefficients); None when ``out`` is given.

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
    ['diagnoses', 'encounters', 'medications']
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
