"""The staff of the facilities in an access log, their workstations and the prominent patients.

Each role's head count is the national ratio for the population the records belong to (2020:
2.90 licensed and assistant doctors and 3.34 registered nurses per 1,000), shared among the
teams of each facility in proportion to the workload the records give them, with at least one
doctor in every team that has encounters. The records route a sample's encounters within a care
network sized to the sample (:func:`healthlab.synth.choice.care_network`), so from medium size
up the workload, not that floor, sets the teams. Hospitals have a team per department; the
primary-care institutions (township health centres, community health centres and stations)
have one team of general practitioners who treat every department's patients. Staff are drawn
with surnames from the national frequency table and a home street in a district the facility
serves. A small share of staff are themselves patients of their facility: they are people of
the population, with its identity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab.synth._reference import national
from healthlab.synth.identities import draw_streets, surname_table

#: Roles and the department a facility-wide role sits in.
ROLES = ("doctor", "nurse", "pharmacist", "technician", "billing", "records", "it")
ROLE_DEPARTMENT = {
    "pharmacist": "pharmacy",
    "technician": "laboratory",
    "billing": "finance",
    "records": "medical_records",
    "it": "information",
}

#: Levels whose doctors are general practitioners who treat every department's patients (one
#: team, in ``general_practice``): township health centres and community health centres and
#: stations, the primary-care institutions of the facility table (village clinics are counted in
#: township centres).
PRIMARY_CARE = ("township_health_centre", "community_health_centre", "community_health_station")
GP_DEPARTMENT = "general_practice"

#: Health technicians (doctors, nurses, pharmacists, technicians and others) per 1,000 people in
#: 2020: 10.678 million (NHC, statistical bulletin 2020, as reprinted by China News Service,
#: 2021-07-14) over the year-end population of 1,411.78 million. The roles of the log cover the
#: doctors, nurses, pharmacists and laboratory technicians among them.
HEALTH_TECHNICIANS_PER_1000 = 7.56

#: Staff per 1,000 people of the roles besides doctors and nurses (whose ratios are the NHC's
#: 2020 figures the facilities are calibrated to: 2.90 and 3.34). Assumptions of the order of
#: the NHC's 2020 staff counts (about 0.35 pharmacists, and 0.4 technicians of laboratory and
#: imaging, per 1,000) and of hospital administration.
STAFF_PER_1000 = {
    "pharmacist": 0.35,
    "technician": 0.2,  # the laboratory's share of the technicians
    "billing": 0.2,
    "records": 0.1,
    "it": 0.05,
}

#: How much of a doctor's time a bed-day takes, in visits, and of a nurse's an emergency visit
#: takes, in bed-days (assumptions: about 2,000 visits or 1,000 bed-days a doctor-year, 500
#: bed-days or 3,000 emergency visits a nurse-year).
BED_DAY_VISITS = 2.0
EMERGENCY_BED_DAYS = 1 / 6

#: Share of staff who are also patients of their own facility (assumption).
STAFF_PATIENT_SHARE = 0.03
#: Share of staff who leave during a year (assumption near hospital nurse turnover surveys).
LEAVER_SHARE = 0.06
#: Prominent patients per patient (assumption: a few per large hospital).
PROMINENT_SHARE = 2e-4


def staff_per_1000(role: str) -> float:
    """Staff of a role per 1,000 people: doctors and nurses from the 2020 reference figures
    (2.90 and 3.34, the ratios the facilities are calibrated to), the rest from
    :data:`STAFF_PER_1000`."""
    if role in ("doctor", "nurse"):
        return national(2020)[f"{role}s_per_1000"]
    return STAFF_PER_1000[role]


def _allocate(weight, total: float, floor) -> np.ndarray:
    """Head counts ``max(floor, round(lam * weight))`` summing to about ``total``.

    ``lam`` is found by bisection, so the floors are met first and the rest of the total goes
    where the work is; where the floors alone exceed ``total`` (a sample too small for its
    teams), the floors are the counts.
    """
    weight = np.asarray(weight, float)
    floor = np.asarray(floor, np.int64) * np.ones(len(weight), np.int64)
    if len(weight) == 0 or weight.sum() <= 0 or floor.sum() >= total:
        return floor

    def heads(lam: float) -> np.ndarray:
        return np.maximum(floor, np.rint(lam * weight)).astype(np.int64)

    lo, hi = 0.0, 2.0 * total / weight.sum()
    while heads(hi).sum() < total:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if heads(mid).sum() < total else (lo, mid)
    return heads(hi)


def team_departments(enc: pd.DataFrame) -> pd.Categorical:
    """The department of the team that treats each encounter: its own at a hospital, the
    general practitioners' at a primary-care institution (:data:`PRIMARY_CARE`)."""
    department = enc["department"]
    if not isinstance(department.dtype, pd.CategoricalDtype):
        department = department.astype("string").astype("category")
    names = department.cat.categories.astype(str).tolist()
    if GP_DEPARTMENT not in names:
        names.append(GP_DEPARTMENT)
    codes = pd.Index(names).get_indexer(department.cat.categories.astype(str))
    team = np.where(department.cat.codes.to_numpy() >= 0, codes[department.cat.codes], -1)
    team = np.where(at_primary_care(enc), names.index(GP_DEPARTMENT), team)
    return pd.Categorical.from_codes(team, pd.Index(names, dtype="string"))


def at_primary_care(enc: pd.DataFrame) -> np.ndarray:
    """Whether each encounter is at a primary-care institution (:data:`PRIMARY_CARE`); False
    throughout for records without ``facility_level``."""
    if "facility_level" not in enc:
        return np.zeros(len(enc), bool)
    level = enc["facility_level"]
    if isinstance(level.dtype, pd.CategoricalDtype):
        primary = np.append(level.cat.categories.astype(str).isin(PRIMARY_CARE), False)
        return primary[level.cat.codes.to_numpy()]
    return level.astype("string").isin(PRIMARY_CARE).to_numpy(bool)


def _team_sizes(enc: pd.DataFrame, people: int) -> pd.DataFrame:
    """Head counts by facility, department and role, in proportion to the workload.

    The national ratios of :func:`staff_per_1000` give each role's total for ``people``
    people; a team (a hospital department, or a primary-care institution's general
    practitioners: ``enc["team"]``) gets the share of it that its workload (visits and
    bed-days for doctors; bed-days and emergency visits for nurses) is of the whole, after a
    floor of one doctor in every team with encounters and one nurse in every team with stays
    or emergencies. Pharmacy, laboratory, billing, medical records and IT teams sit in
    facilities with stays; elsewhere the doctor dispenses and takes payment.
    """
    visits = enc["encounter_type"].ne("inpatient")
    emergency = enc["encounter_type"].eq("emergency")
    work = enc.assign(
        visits=visits,
        emergency=emergency,
        inpatient=~visits,
        bed_days=np.where(visits, 0, enc["los"]),
    )
    dept = work.groupby(["facility_id", "team"], observed=True).agg(
        visits=("visits", "sum"), emergency=("emergency", "sum"), bed_days=("bed_days", "sum")
    )
    total = {role: staff_per_1000(role) * people / 1000 for role in ROLES}
    doctor_work = (dept["visits"] + BED_DAY_VISITS * dept["bed_days"]).to_numpy(float)
    nurse_work = (dept["bed_days"] + EMERGENCY_BED_DAYS * dept["emergency"]).to_numpy(float)
    teams = dept.index.to_frame(index=False).rename(columns={"team": "department"})
    parts = [
        teams.assign(n=_allocate(doctor_work, total["doctor"], 1), role="doctor"),
        teams.assign(
            n=_allocate(nurse_work, total["nurse"], (nurse_work > 0).astype(np.int64)),
            role="nurse",
        ),
    ]
    fac = work.groupby("facility_id").agg(
        encounters=("encounter_id", "size"),
        meds=("has_meds", "sum"),
        labs=("has_labs", "sum"),
        inpatient=("inpatient", "sum"),
    )
    hospital = fac["inpatient"].to_numpy() > 0
    workload = {
        "pharmacist": fac["meds"],
        "technician": fac["labs"],
        "billing": fac["encounters"],
        "records": fac["inpatient"],
        "it": fac["encounters"],
    }
    for role, load in workload.items():
        load = np.where(hospital, load.to_numpy(float), 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "facility_id": fac.index,
                    "department": ROLE_DEPARTMENT[role],
                    "n": _allocate(load, total[role], (load > 0).astype(np.int64)),
                    "role": role,
                }
            )
        )
    sizes = pd.concat(parts, ignore_index=True)
    sizes["department"] = sizes["department"].astype("string")
    return sizes[sizes["n"] > 0].reset_index(drop=True)


def make_staff(enc: pd.DataFrame, patients: pd.DataFrame, *, people: int, rng) -> pd.DataFrame:
    """The staff table: one row per employee, with identity, home and (maybe) a person_id.

    ``enc`` holds the encounters of the log (with ``has_meds``/``has_labs`` flags and the
    ``team`` of :func:`team_departments`);
    ``patients`` one row per (facility, person) who is a patient there, with identity columns
    (``surname``, ``district``, ``street``, ``province_code``, ``age``); ``people`` is the
    size of the population the records belong to.
    """
    sizes = _team_sizes(enc, people)
    # In (facility, department, role) order; sorted codes of the names sort as the names do.
    order = np.lexsort(
        [
            pd.factorize(sizes[column], sort=True)[0]
            for column in ("role", "department", "facility_id")
        ]
    )
    sizes = sizes.iloc[order]
    staff = sizes.loc[sizes.index.repeat(sizes["n"].astype(int))].drop(columns="n")
    staff = staff.reset_index(drop=True)
    n = len(staff)
    staff.insert(0, "staff_id", np.arange(1, n + 1, dtype=np.int64))

    names = surname_table()
    staff["surname"] = names["char"].to_numpy(object)[
        rng.choice(len(names), n, p=names["share"].to_numpy())
    ]
    # Home: the district and street of a random patient of the facility's (so districts are
    # weighted by how many patients they send), then a street of their own in that district.
    pick = pick_in_groups(patients["facility_id"].to_numpy(), staff["facility_id"].to_numpy(), rng)
    staff["district"] = np.asarray(patients["district"].array.take(pick), dtype=object)
    staff["street"] = draw_streets(n, rng)
    staff["person_id"] = pd.array([pd.NA] * n, dtype="Int64")

    # Staff who are patients of their own facility take that patient's identity: the k-th such
    # employee of a facility is its k-th working-age patient in a shuffled order.
    working = patients[(patients["age"] >= 22) & (patients["age"] <= 60)]
    working = working.iloc[rng.permutation(len(working))].drop_duplicates("person_id")
    working = working.sort_values("facility_id", kind="stable").reset_index(drop=True)
    working["k"] = working.groupby("facility_id").cumcount()
    chosen = staff[rng.random(n) < STAFF_PATIENT_SHARE][["staff_id", "facility_id"]]
    chosen = chosen.assign(k=chosen.groupby("facility_id").cumcount())
    match = chosen.merge(working, on=["facility_id", "k"])
    rows = match["staff_id"].to_numpy() - 1
    for column in ("surname", "district", "street"):
        values = staff[column].to_numpy(object)
        values[rows] = match[column].to_numpy(object)
        staff[column] = values
    person = staff["person_id"].to_numpy(dtype=object, na_value=None)
    person[rows] = match["person_id"].to_numpy()
    staff["person_id"] = pd.array(person, dtype="Int64")
    for column in ("department", "role", "surname", "district", "street"):
        staff[column] = staff[column].astype("string")
    return staff


def pick_in_groups(sorted_keys: np.ndarray, wanted: np.ndarray, rng) -> np.ndarray:
    """For each key in ``wanted``, the index of a uniformly drawn row of ``sorted_keys`` with it.

    ``sorted_keys`` must be sorted; every wanted key must occur in it.
    """
    lo = np.searchsorted(sorted_keys, wanted, side="left")
    hi = np.searchsorted(sorted_keys, wanted, side="right")
    return lo + np.floor(rng.random(len(wanted)) * (hi - lo)).astype(np.int64)


def staff_per_1000_people(tables, *, roles) -> float:
    """Staff of ``roles`` per 1,000 people of the population (a calibration statistic of the
    ``access_log`` card: ``tables`` maps ``staff`` and ``population`` to their frames)."""
    roles = [roles] if isinstance(roles, str) else list(roles)
    staff = tables["staff"]
    return float(staff["role"].isin(roles).sum() / len(tables["population"]) * 1000)
