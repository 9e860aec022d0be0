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


def leavers(rows, staff, patients, rate, start, rng, next_incident):
    """Employees who look up and export dozens of records in their last two weeks."""
    leaving = staff.dropna(subset=["leave_date"])
    chosen = leaving[rng.random(len(leaving)) < rate]
    parts = []
    for i, (sid, fac, leave) in enumerate(
        chosen[["staff_id", "facility_id", "leave_date"]].itertuples(index=False)
    ):
        lo = np.searchsorted(patients["facility_id"].to_numpy(), fac, "left")
        hi = np.searchsorted(patients["facility_id"].to_numpy(), fac, "right")
        n = min(int(rng.integers(20, 101)), hi - lo)
        if n == 0:
            continue
        who = patients["person_id"].to_numpy()[lo + rng.choice(hi - lo, n, replace=False)]
        end = pd.Timestamp(leave).as_unit("s").value // 10**9
        t = (
            end
            - rng.integers(0, 14, n) * _SEC_DAY
            + (rng.uniform(8, 18, n) * 3600).astype(np.int64)
        )
        action = rng.choice(4, n, p=[0.7, 0.0, 0.1, 0.2])
        parts.append((np.full(n, sid), who, np.maximum(t, start), action, next_incident + i))
    for sid, who, t, action, incident in parts:
        rows.add(sid, who, t, action, "leaver", np.full(len(sid), incident))
    return {"eligible": len(leaving), "committed": len(parts)}, next_incident + len(chosen)


def credentials(rows, staff, patients, workstations, rate, start, days, rng, next_incident):
    """A credential used by someone else, one night, from another department's workstation."""
    chosen = staff[rng.random(len(staff)) < rate]
    keys = patients["facility_id"].to_numpy()
    ws = workstations.sort_values(["facility_id", "workstation_id"])
    ws_fac = ws["facility_id"].to_numpy()
    used = []
    for i, (sid, fac, dept) in enumerate(
        chosen[["staff_id", "facility_id", "department"]].itertuples(index=False)
    ):
        lo, hi = np.searchsorted(keys, fac, "left"), np.searchsorted(keys, fac, "right")
        w_lo, w_hi = np.searchsorted(ws_fac, fac, "left"), np.searchsorted(ws_fac, fac, "right")
        mine = ws.iloc[w_lo:w_hi]
        foreign = mine[mine["department"] != dept]["workstation_id"].to_numpy()
        if hi == lo or len(foreign) == 0:
            continue
        n = min(int(rng.integers(5, 31)), hi - lo)
        who = patients["person_id"].to_numpy()[lo + rng.choice(hi - lo, n, replace=False)]
        night = start + int(rng.integers(0, days)) * _SEC_DAY + int(rng.uniform(0.5, 5) * 3600)
        t = night + np.sort(rng.integers(0, 5400, n))
        action = np.where(rng.random(n) < 0.3, 3, 0)
        station = np.full(n, foreign[rng.integers(len(foreign))])
        used.append(sid)
        rows.add(
            np.full(n, sid), who, t, action, "credential", np.full(n, next_incident + i), station
        )
    return {"eligible": len(staff), "committed": len(used)}, next_incident + len(chosen)
