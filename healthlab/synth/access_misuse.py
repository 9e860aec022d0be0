"""Misuse of record access, injected into an access log with its ground truth.

Each function adds the accesses of one kind of misuse to the log's rows, one incident per
employee (or per employee and target), and returns how many employees were eligible and how
many committed it, so tests can compare the realised rates with the settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SEC_DAY = 86_400


def _day_time(rng, start, days, n, lo=8.0, hi=18.0) -> np.ndarray:
    day = rng.integers(0, days, n)
    return start + day * _SEC_DAY + (rng.uniform(lo, hi, n) * 3600).astype(np.int64)


def _limit_per(frame: pd.DataFrame, by: str, k: np.ndarray, rng) -> pd.DataFrame:
    """Keep at most ``k[group]`` random rows of each group of ``by``."""
    frame = frame.iloc[rng.permutation(len(frame))]
    rank = frame.groupby(by).cumcount().to_numpy()
    return frame[rank < k[frame[by].to_numpy()]]


def curiosity(rows, staff, patients, rate, columns, kind, start, days, rng, next_incident):
    """Employees who look up 1-3 patients of their facility who match them on ``columns``."""
    chosen = staff[rng.random(len(staff)) < rate]
    pairs = chosen[["staff_id", "facility_id", "person_id", *columns]].merge(
        patients[["facility_id", "person_id", *columns]],
        on=["facility_id", *columns],
        suffixes=("_self", ""),
    )
    pairs = pairs[pairs["person_id"].astype("Int64").ne(pairs["person_id_self"]).fillna(True)]
    eligible = staff[["facility_id", *columns]].merge(
        patients[["facility_id", *columns]].drop_duplicates(), on=["facility_id", *columns]
    )
    k = np.zeros(int(staff["staff_id"].max()) + 1 if len(staff) else 1, np.int64)
    k[chosen["staff_id"].to_numpy()] = rng.integers(1, 4, len(chosen))
    pairs = _limit_per(pairs, "staff_id", k, rng)
    incident = next_incident + pd.factorize(pairs["staff_id"])[0]
    rows.add(
        pairs["staff_id"],
        pairs["person_id"],
        _day_time(rng, start, days, len(pairs)),
        0,
        kind,
        incident,
    )
    committed = pairs["staff_id"].nunique()
    return {"eligible": len(eligible), "committed": committed}, next_incident + committed


def coworkers(rows, staff, rate, start, days, rng, next_incident):
    """Colleagues who look up an employee of their facility who is a patient there."""
    patients = staff.dropna(subset=["person_id"])[["staff_id", "facility_id", "person_id"]]
    pairs = staff[["staff_id", "facility_id"]].merge(
        patients, on="facility_id", suffixes=("", "_patient")
    )
    pairs = pairs[pairs["staff_id"] != pairs["staff_id_patient"]]
    hit = pairs[rng.random(len(pairs)) < rate]
    n = len(hit)
    rows.add(hit["staff_id"], hit["person_id"], _day_time(rng, start, days, n), 0, "coworker",
             next_incident + np.arange(n))  # fmt: skip
    return {"eligible": len(pairs), "committed": n}, next_incident + n


def prominent(rows, staff, patients, vip, rate, start, days, rng, next_incident):
    """Staff of facilities that treat a prominent patient who look that patient up."""
    treated = patients[patients["person_id"].isin(vip)][["facility_id", "person_id"]]
    pairs = staff[["staff_id", "facility_id"]].merge(treated, on="facility_id")
    hit = pairs[rng.random(len(pairs)) < rate]
    n = len(hit)
    rows.add(hit["staff_id"], hit["person_id"], _day_time(rng, start, days, n), 0, "prominent",
             next_incident + np.arange(n))  # fmt: skip
    return {"eligible": len(pairs), "committed": n}, next_incident + n


def _draw_patients(patients, facility, n, rng):
    """For each employee, ``n[i]`` distinct random patients of ``facility[i]`` (fewer if it has
    fewer): (row of the employee, person_id) arrays."""
    keys = patients["facility_id"].to_numpy()
    lo, hi = np.searchsorted(keys, facility, "left"), np.searchsorted(keys, facility, "right")
    n = np.minimum(n, hi - lo)
    row = np.repeat(np.arange(len(facility)), n)
    # Distinct draws within each facility: from a random start, a stride coprime with the
    # facility's patient count visits distinct rows.
    size = hi - lo
    first = np.floor(rng.random(len(facility)) * np.maximum(size, 1)).astype(np.int64)
    stride = _coprime_stride(size)
    rank = np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
    offset = (first[row] + rank * stride[row]) % np.maximum(size[row], 1)
    return row, patients["person_id"].to_numpy()[lo[row] + offset]


def _coprime_stride(size):
    """A stride coprime with each size (large primes; 1 where all of them divide it)."""
    stride = np.ones(len(size), np.int64)
    for prime in (1_299_709, 104_729, 7_919):
        stride = np.where(np.gcd(prime, size) == 1, prime, stride)
    return stride


def leavers(rows, staff, patients, rate, start, rng, next_incident):
    """Employees who look up and export dozens of records in their last two weeks."""
    leaving = staff.dropna(subset=["leave_date"])
    chosen = leaving[rng.random(len(leaving)) < rate]
    want = rng.integers(20, 101, len(chosen))
    row, who = _draw_patients(patients, chosen["facility_id"].to_numpy(), want, rng)
    m = len(row)
    end = chosen["leave_date"].to_numpy("datetime64[s]").astype(np.int64)[row]
    t = end - rng.integers(0, 14, m) * _SEC_DAY + (rng.uniform(8, 18, m) * 3600).astype(np.int64)
    action = rng.choice(4, m, p=[0.7, 0.0, 0.1, 0.2])
    incident = next_incident + row
    rows.add(
        chosen["staff_id"].to_numpy()[row], who, np.maximum(t, start), action, "leaver", incident
    )
    committed = len(np.unique(row))
    return {"eligible": len(leaving), "committed": committed}, next_incident + len(chosen)


def credentials(rows, staff, patients, workstations, rate, start, days, rng, next_incident):
    """A credential used by someone else, one night, from another department's workstation."""
    chosen = staff[rng.random(len(staff)) < rate].reset_index(drop=True)
    # A workstation of another department of the same facility, where there is one.
    ws = workstations.sort_values(["facility_id", "workstation_id"])
    pairs = chosen[["staff_id", "facility_id", "department"]].merge(
        ws, on="facility_id", suffixes=("", "_ws")
    )
    pairs = pairs[pairs["department"] != pairs["department_ws"]]
    pairs = pairs.iloc[rng.permutation(len(pairs))].drop_duplicates("staff_id")
    chosen = chosen.merge(
        pairs[["staff_id", "workstation_id"]], on="staff_id", suffixes=("_own", "")
    )
    want = rng.integers(5, 31, len(chosen))
    row, who = _draw_patients(patients, chosen["facility_id"].to_numpy(), want, rng)
    m = len(row)
    night = start + rng.integers(0, days, len(chosen)) * _SEC_DAY
    night = night + (rng.uniform(0.5, 5, len(chosen)) * 3600).astype(np.int64)
    t = night[row] + rng.integers(0, 5400, m)
    action = np.where(rng.random(m) < 0.3, 3, 0)
    station = chosen["workstation_id"].to_numpy()[row]
    staff_ids = chosen["staff_id"].to_numpy()[row]
    rows.add(staff_ids, who, t, action, "credential", next_incident + row, station)
    committed = len(np.unique(row))
    return {"eligible": len(staff), "committed": committed}, next_incident + len(chosen)
