"""A small city's hospital systems, for examples, tests and benchmarks of ``healthlab.sharing``.

:func:`make_city_systems` draws a city's residents and a few years of their encounters,
diagnoses and lab results with a deliberately simple model, then hands them to
:func:`healthlab.synth.systems.make_hospital_systems`, which splits them across hospital
systems with their own schemas and identifier noise. The clinical model is only what the
sharing methods need (ages, visit kinds, common ICD-10 codes, lab values in SI units with a
few out-of-range entries and a few codes outside the vocabulary); the case studies use the
calibrated population and clinical generators instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.synth._blocks import blocks, check_seed

__all__ = ["make_city_clinical", "make_city_systems"]

_ICD = np.array(["I10", "E11.9", "E78.5", "J06.9", "J18.9", "I25.1", "I63.9", "K29.7", "M54.5",
                 "N18.3", "J44.9", "I48.9", "Z00.0", "A09", "C34.9", "Q21.1"])  # fmt: skip
_ICD_P = np.array([18, 12, 8, 14, 5, 6, 4, 6, 6, 3, 4, 3, 6, 3, 1, 1], float)
#: LOINC, SI unit, mean, sd of the lab items drawn.
_LABS = (("2345-7", "mmol/L", 6.0, 1.5), ("4548-4", "%", 6.2, 1.0),
         ("2093-3", "mmol/L", 4.8, 0.9), ("2160-0", "umol/L", 80.0, 20.0),
         ("718-7", "g/L", 135.0, 15.0), ("8480-6", "mmHg", 132.0, 18.0))  # fmt: skip
#: Share of lab values entered wrongly (a value 100 times too large).
P_WRONG_VALUE = 0.002


def make_city_clinical(n_people: int, *, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Residents of one city and their encounters, diagnoses and lab results.

    Parameters
    ----------
    n_people : int
        Residents.
    seed : int
        Seed of the random draws (drawn in fixed blocks of people).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``population`` (``person_id``, ``sex``, ``birth_date``, ``province``, ``district``),
        ``encounters`` (``encounter_id``, ``person_id``, ``date``, ``encounter_type``),
        ``diagnoses`` (``encounter_id``, ``icd10``) and ``observations`` (``encounter_id``,
        ``loinc``, ``value``, ``unit``).

    Examples
    --------
    >>> c = make_city_clinical(50, seed=1)
    >>> sorted(c), len(c["population"])
    (['diagnoses', 'encounters', 'observations', 'population'], 50)
    """
    seed = check_seed(seed)
    if isinstance(n_people, bool) or not isinstance(n_people, int) or n_people < 1:
        raise InvalidParameterError(f"n_people must be a positive integer, got {n_people!r}")
    parts = [_block(lo, hi, rng) for lo, hi, rng in blocks(n_people, seed, "sharing-city")]
    out = {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}
    out["encounters"]["encounter_id"] = np.arange(1, len(out["encounters"]) + 1)
    enc_of = out["encounters"]["encounter_id"].to_numpy()
    for k in ("diagnoses", "observations"):
        out[k]["encounter_id"] = enc_of[out[k].pop("row").to_numpy()]
        out[k] = out[k][["encounter_id", *[c for c in out[k] if c != "encounter_id"]]]
    return out


def _block(lo, hi, rng):
    n = hi - lo
    pid = np.arange(lo + 1, hi + 1)
    birth = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 31_000, n), unit="D")
    pop = pd.DataFrame({"person_id": pid, "sex": np.where(rng.random(n) < 0.5, "F", "M"),
                        "birth_date": birth, "province": "Jiangxi",
                        "district": np.char.add("D", rng.integers(1, 11, n).astype(str))},
                       )  # fmt: skip
    k = rng.poisson(2.0, n) + 1
    who = np.repeat(pid, k)
    m = len(who)
    date = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1826, m), unit="D")
    u = rng.random(m)
    kind = np.where(u < 0.8, "outpatient", np.where(u < 0.9, "emergency", "inpatient"))
    enc = pd.DataFrame({"person_id": who, "date": date, "encounter_type": kind})
    row = np.arange(m) + 0  # encounter row within the block
    dx = pd.DataFrame({"row": row, "icd10": rng.choice(_ICD, m, p=_ICD_P / _ICD_P.sum())})
    n_lab = rng.integers(0, 3, m)
    lab_row = np.repeat(row, n_lab)
    item = rng.integers(0, len(_LABS), len(lab_row))
    mean = np.array([x[2] for x in _LABS])[item]
    sd = np.array([x[3] for x in _LABS])[item]
    value = np.round(np.abs(rng.normal(mean, sd)), 1)
    value = np.where(rng.random(len(value)) < P_WRONG_VALUE, value * 100, value)
    obs = pd.DataFrame({"row": lab_row, "loinc": np.array([x[0] for x in _LABS])[item],
                        "value": value, "unit": np.array([x[1] for x in _LABS])[item]})  # fmt: skip
    return {"population": pop, "encounters": enc, "diagnoses": dx, "observations": obs}


def make_city_systems(n_people: int, *, n_systems: int = 3, noise=None, seed: int = 0, out=None):
    """Hospital systems of a city of ``n_people`` residents (see the module notes).

    Parameters
    ----------
    n_people : int
        Residents; about 1.3 patient records per resident are written across the systems.
    n_systems : int
        Systems (1 to 4).
    noise : dict or 0, optional
        Identifier error rates, as for ``make_hospital_systems``.
    seed : int
        Seed of the random draws.
    out : path-like, optional
        Folder for the databases (a new temporary folder when omitted).

    Returns
    -------
    healthlab.synth.systems.HospitalSystems
        ``paths``, ``truth`` and the other truths.

    Examples
    --------
    >>> hs = make_city_systems(200, seed=0)
    >>> sorted(hs.paths)
    ['renmin', 'xianyi', 'zhongxin']
    """
    from healthlab.synth.systems import make_hospital_systems

    seed = check_seed(seed)
    clinical = make_city_clinical(n_people, seed=seed)
    population = clinical.pop("population")
    return make_hospital_systems(
        clinical, population=population, n_systems=n_systems, noise=noise, seed=seed, out=out
    )
