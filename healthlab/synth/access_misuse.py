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


def _coded(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for missing) and the distinct values of a column, fast for a categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), pd.Index(uniques)


def _keys(staff, patients, columns) -> tuple[np.ndarray, np.ndarray]:
    """One int64 key per staff row and per patient row: the facility and ``columns`` values."""
    key_s = staff["facility_id"].to_numpy(np.int64)
    key_p = patients["facility_id"].to_numpy(np.int64)
    for column in columns:
        codes_s, values_s = _coded(staff[column])
        codes_p, values_p = _coded(patients[column])
        universe = pd.Index(values_s.astype(object).append(values_p.astype(object)).unique())
        width = max(1, int(len(universe) + 1).bit_length())
        # Shared codes, 0 for missing.
        map_s = np.append(universe.get_indexer(values_s.astype(object)) + 1, 0)
        map_p = np.append(universe.get_indexer(values_p.astype(object)) + 1, 0)
        key_s = (key_s << width) | map_s[codes_s]
        key_p = (key_p << width) | map_p[codes_p]
    return key_s, key_p


def curiosity(rows, staff, patients, rate, columns, kind, start, days, rng, next_incident):
    """Employees who look up 1-3 patients of their facility who match them on ``columns``."""
    key_s, key_p = _keys(staff, patients, columns)
    chosen = np.flatnonzero(rng.random(len(staff)) < rate)
    order = np.argsort(key_p, kind="stable")
    sorted_keys = key_p[order]
    lo = np.searchsorted(sorted_keys, key_s[chosen], "left")
    count = np.searchsorted(sorted_keys, key_s[chosen], "right") - lo
    row = np.repeat(chosen, count)
    rank = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    person = patients["person_id"].to_numpy(np.int64)[order[np.repeat(lo, count) + rank]]
    own = staff["person_id"].to_numpy(np.int64, na_value=-1)[row]
    pairs = pd.DataFrame({"staff_id": staff["staff_id"].to_numpy()[row], "person_id": person})
    pairs = pairs[person != own]
    # Staff whose facility has a patient who matches them (their own record included).
    at = np.minimum(np.searchsorted(sorted_keys, key_s), max(len(sorted_keys) - 1, 0))
    eligible = int((sorted_keys[at] == key_s).sum()) if len(sorted_keys) else 0
    k = np.zeros(int(staff["staff_id"].max()) + 1 if len(staff) else 1, np.int64)
    k[staff["staff_id"].to_numpy()[chosen]] = rng.integers(1, 4, len(chosen))
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
    return {"eligible": eligible, "committed": committed}, next_incident + committed


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
    # Eligible: staff of a facility with a workstation of another department.
    depts = workstations.groupby("facility_id")["department"].nunique()
    eligible = int(depts.reindex(staff["facility_id"].to_numpy(), fill_value=0).gt(1).sum())
    return {"eligible": eligible, "committed": committed}, next_incident + len(chosen)
