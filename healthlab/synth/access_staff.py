"""The staff of the facilities in an access log, their workstations and the prominent patients.

Staff are sized to the workload the clinical records give each facility (so a facility the
synthetic sample barely uses has a skeleton team), drawn with surnames from the national
frequency table and a home street in a district the facility serves. A small share of staff are
themselves patients of their facility: they are people of the population, with its identity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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

#: Yearly workload one employee carries, by role. Assumptions, of the order of the NHC 2020
#: figures (7.74 billion visits and about 2.2 billion bed-days for 4.08 million doctors and
#: 4.71 million nurses); the synthetic sample is small, so most facilities get a skeleton team.
WORKLOAD = {
    "doctor_visits": 2_000,
    "doctor_bed_days": 1_000,
    "nurse_bed_days": 500,
    "nurse_emergency": 3_000,
    "pharmacist_encounters": 8_000,
    "technician_encounters": 8_000,
    "billing_encounters": 8_000,
}

#: Share of staff who are also patients of their own facility (assumption).
STAFF_PATIENT_SHARE = 0.03
#: Share of staff who leave during a year (assumption near hospital nurse turnover surveys).
LEAVER_SHARE = 0.06
#: Prominent patients per patient (assumption: a few per large hospital).
PROMINENT_SHARE = 2e-4


def _team_sizes(enc: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Head counts by facility, department and role from the encounters' workload."""
    visits = enc["encounter_type"].ne("inpatient")
    emergency = enc["encounter_type"].eq("emergency")
    work = enc.assign(
        visits=visits,
        emergency=emergency,
        inpatient=~visits,
        bed_days=np.where(visits, 0, enc["length_of_stay"]),
    )
    dept = work.groupby(["facility_id", "department"], observed=True).agg(
        visits=("visits", "sum"), emergency=("emergency", "sum"), bed_days=("bed_days", "sum")
    )
    w = WORKLOAD
    doctors = np.ceil(
        scale * (dept["visits"] / w["doctor_visits"] + dept["bed_days"] / w["doctor_bed_days"])
    )
    nurses = np.ceil(
        scale * (dept["bed_days"] / w["nurse_bed_days"] + dept["emergency"] / w["nurse_emergency"])
    )
    parts = [
        doctors.clip(lower=1).rename("n").reset_index().assign(role="doctor"),
        nurses.rename("n").reset_index().assign(role="nurse"),
    ]
    fac = work.groupby("facility_id").agg(
        encounters=("encounter_id", "size"),
        meds=("has_meds", "sum"),
        labs=("has_labs", "sum"),
        inpatient=("inpatient", "sum"),
    )
    per_facility = {
        "pharmacist": np.where(
            fac["meds"] > 0, 1 + scale * fac["meds"] // w["pharmacist_encounters"], 0
        ),
        "technician": np.where(
            fac["labs"] > 0, 1 + scale * fac["labs"] // w["technician_encounters"], 0
        ),
        "billing": 1 + scale * fac["encounters"] // w["billing_encounters"],
        "records": (fac["inpatient"] > 0).astype(int),
        "it": (fac["inpatient"] > 0).astype(int),
    }
    for role, n in per_facility.items():
        parts.append(
            pd.DataFrame(
                {
                    "facility_id": fac.index,
                    "department": ROLE_DEPARTMENT[role],
                    "n": n,
                    "role": role,
                }
            )
        )
    sizes = pd.concat(parts, ignore_index=True)
    sizes["department"] = sizes["department"].astype("string")
    return sizes[sizes["n"] > 0].reset_index(drop=True)


def make_staff(enc: pd.DataFrame, patients: pd.DataFrame, *, scale: float, rng) -> pd.DataFrame:
    """The staff table: one row per employee, with identity, home and (maybe) a person_id.

    ``enc`` holds the encounters of the log (with ``has_meds``/``has_labs`` flags);
    ``patients`` one row per (facility, person) who is a patient there, with identity columns
    (``surname``, ``district``, ``street``, ``province_code``, ``age``).
    """
    sizes = _team_sizes(enc, scale)
    staff = sizes.loc[sizes.index.repeat(sizes["n"].astype(int))].drop(columns="n")
    staff = staff.sort_values(["facility_id", "department", "role"], kind="stable")
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
    staff["district"] = patients["district"].to_numpy(object)[pick]
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


def street_of(address_pinyin: pd.Series) -> pd.Series:
    """The street of a pinyin address (``"Room 1, Building 2, No. 3 Renmin Road, ..."``)."""
    return address_pinyin.astype("string").str.extract(r", No\. \d+ ([^,]+),", expand=False)
