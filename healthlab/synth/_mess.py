"""Realistic mess: missing values, duplicated rows, miscoded dates, unit slips.

The mess is drawn from its own stream, after the clean records are made, so the same seed with
``mess=False`` gives exactly the clean version of the same records: a student can be graded
on finding what was spoiled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import rates
from healthlab.synth import _params as P


def check_mess(mess) -> dict[str, float]:
    """Rates from ``mess``: True or None (the defaults), False or 0 (none), or a dict of some."""
    return rates(mess, "mess", P.MESS)


def _miscode(dates: pd.Series, pick: np.ndarray) -> pd.Series:
    """Swap day and month where the day can be a month; else swap the year's last two digits."""
    d = dates.iloc[pick]
    year, month, day = d.dt.year.to_numpy(), d.dt.month.to_numpy(), d.dt.day.to_numpy()
    swap = (day <= 12) & (day != month)
    new_year = np.where(swap, year, year // 100 * 100 + (year % 10) * 10 + (year // 10) % 10)
    new_month = np.where(swap, day, month)
    new_day = np.where(swap, month, np.minimum(day, 28))
    fixed = pd.to_datetime(
        pd.DataFrame({"year": new_year, "month": new_month, "day": new_day})
    ).astype(dates.dtype)
    out = dates.copy()
    out.iloc[pick] = fixed.to_numpy()
    return out


def apply(tables: dict[str, pd.DataFrame], rates: dict, rng: np.random.Generator) -> dict:
    """Spoil the tables of one block at the given rates (returns new frames)."""
    if not any(rates.values()):
        return tables
    enc, diag, obs = tables["encounters"], tables["diagnoses"], tables["observations"]
    n = len(enc)
    u = rng.random((3, n))
    if rates["missing"]:
        cost = enc["cost_yuan"].to_numpy(copy=True)
        cost[u[0] < rates["missing"]] = np.nan
        enc = enc.assign(cost_yuan=cost)
        value = obs["value"].to_numpy(copy=True)
        value[rng.random(len(obs)) < rates["missing"]] = np.nan
        obs = obs.assign(value=value)
    if rates["miscoded_date"]:
        pick = np.flatnonzero(u[1] < rates["miscoded_date"])
        if len(pick):
            enc = enc.assign(admit_date=_miscode(enc["admit_date"], pick))
    if rates["unit_slip"]:
        levels = list(obs["loinc"].cat.categories)
        code = obs["loinc"].cat.codes.to_numpy()
        slip = rng.random(len(obs)) < rates["unit_slip"]
        value = obs["value"].to_numpy(copy=True)
        glucose = slip & (code == levels.index(P.LOINC["glucose"][0]))
        creatinine = slip & (code == levels.index(P.LOINC["creatinine"][0]))
        value[glucose] = np.round(value[glucose] * 18.0, 0)  # mmol/L written as mg/dL
        value[creatinine] = np.round(value[creatinine] / 88.4, 2)  # umol/L written as mg/dL
        obs = obs.assign(value=value)
    if rates["duplicate"]:
        dup = u[2] < rates["duplicate"]
        if dup.any():
            ids = enc["encounter_id"].to_numpy()[dup]
            rows = np.sort(np.concatenate([np.arange(n), np.flatnonzero(dup)]))
            enc = enc.iloc[rows].reset_index(drop=True)
            extra = diag["encounter_id"].isin(ids).to_numpy()
            rows = np.sort(np.concatenate([np.arange(len(diag)), np.flatnonzero(extra)]))
            diag = diag.iloc[rows].reset_index(drop=True)
    return {**tables, "encounters": enc, "diagnoses": diag, "observations": obs}
