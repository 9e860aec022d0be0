"""Calibration statistics: what the dataset cards compare with the public figures.

Each function is called as ``f(tables, **args)`` with ``tables`` a mapping of table names to
DataFrames (a built dataset's tables) and returns one number, in the unit of the figure it is
compared with (percent for shares, years for life expectancy, per person for rates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "admissions_per_person",
    "bmi_share",
    "exposure_years",
    "in_hospital_death_pct",
    "life_expectancy",
    "mean_cost",
    "mean_length_of_stay",
    "prevalence",
    "readmission_pct",
    "share",
    "share_aged",
    "sex_ratio",
    "visits_per_person",
]


def _ages(frame, min_age, max_age):
    age = frame["age"].to_numpy()
    keep = age >= min_age
    if max_age is not None:
        keep &= age <= max_age
    return keep


def share_aged(tables, *, min_age: int = 0, max_age: int | None = None,
               table: str = "population") -> float:  # fmt: skip
    """Percent of people aged ``min_age`` to ``max_age`` (inclusive) on 1 January."""
    return float(100 * _ages(tables[table], min_age, max_age).mean())


def sex_ratio(tables, *, table: str = "population") -> float:
    """Males per 100 females."""
    sex = tables[table]["sex"].astype("string").to_numpy()
    return float(100 * (sex == "M").sum() / (sex == "F").sum())


def share(tables, *, column: str, value, min_age: int = 0, table: str = "population") -> float:
    """Percent of people aged ``min_age`` and over whose ``column`` equals ``value``."""
    frame = tables[table]
    keep = _ages(frame, min_age, None)
    values = frame[column].to_numpy()[keep]
    if isinstance(value, str):
        values = pd.Series(values).astype("string").to_numpy()
    return float(100 * (values == value).mean())


def prevalence(tables, *, condition: str, min_age: int = 0, max_age: int | None = None,
               sex: str | None = None, table: str = "population") -> float:  # fmt: skip
    """Percent with ``condition`` among people of the ages (and sex) given."""
    frame = tables[table]
    keep = _ages(frame, min_age, max_age)
    if sex is not None:
        keep &= frame["sex"].astype("string").to_numpy() == sex
    return float(100 * frame[condition].to_numpy()[keep].mean())


def bmi_share(tables, *, low: float, high: float = np.inf, min_age: int = 18,
              table: str = "population") -> float:  # fmt: skip
    """Percent of people aged ``min_age`` and over with ``low <= BMI < high``."""
    frame = tables[table]
    bmi = frame["bmi"].to_numpy()[_ages(frame, min_age, None)]
    return float(100 * ((bmi >= low) & (bmi < high)).mean())


def exposure_years(population: pd.DataFrame, start=None, end=None) -> np.ndarray:
    """Years each person is alive and observed between ``start`` and ``end`` (default: the year).

    The population's year is the one on whose 1 January ages are counted.
    """
    year = int(_year(population))
    start = pd.Timestamp(start if start is not None else f"{year}-01-01")
    end = pd.Timestamp(end if end is not None else f"{year + 1}-01-01")
    death = population["death_date"].to_numpy("datetime64[ms]")
    stop = np.where(np.isnat(death), np.datetime64(end, "ms"), death)
    stop = np.minimum(stop, np.datetime64(end, "ms"))
    days = (stop - np.datetime64(start, "ms")) / np.timedelta64(1, "D")
    return np.clip(days, 0, None) / 365.25


def _year(population: pd.DataFrame) -> int:
    born = population["birth_date"].to_numpy("datetime64[Y]").astype(np.int64) + 1970
    return int(np.median(born + population["age"].to_numpy() + 1)) if len(born) else 2020


def life_expectancy(tables, *, sex: str | None = None, table: str = "population") -> float:
    """Period life expectancy at birth from the deaths and person-years of the population.

    Age is that on 1 January (the deaths of each age fall over a Lexis parallelogram), single
    years 0-99 and an open interval 100+. ``m_x`` is deaths over person-years, ``q_x =
    m_x / (1 + m_x / 2)`` (deaths spread evenly over the year), and the open interval lives
    ``l_100 / m_100`` years.
    """
    frame = tables[table]
    if sex is not None:
        frame = frame[frame["sex"].astype("string") == sex]
    age = np.minimum(frame["age"].to_numpy(np.int64), 100)
    died = frame["died"].to_numpy(bool)
    full = pd.Timestamp(f"{_year(frame) + 1}-01-01") - pd.Timestamp(f"{_year(frame)}-01-01")
    exposure = exposure_years(frame) * 365.25 / full.days
    deaths = np.bincount(age, died, 101)
    years = np.bincount(age, exposure, 101)
    m = np.divide(deaths, years, out=np.zeros(101), where=years > 0)
    q = np.minimum(m[:100] / (1 + m[:100] / 2), 1.0)
    lx = np.concatenate([[1.0], np.cumprod(1 - q)])
    open_years = lx[-1] / m[100] if m[100] > 0 else 0.0
    return float((lx[:-1] * (1 - q / 2)).sum() + open_years)


# --------------------------------------------------------------------------- clinical


def _encounters(tables, kinds):
    enc = tables["encounters"]
    kind = enc["encounter_type"].astype("string").to_numpy()
    return enc[np.isin(kind, kinds)]


def _person_years(tables) -> float:
    return float(tables["person_years"]["person_years"].sum())


def visits_per_person(tables) -> float:
    """Outpatient and emergency visits per person-year (the NHC's visits per resident)."""
    n = len(_encounters(tables, ["outpatient", "emergency"]))
    return n / _person_years(tables)


def admissions_per_person(tables, *, per: float = 1.0) -> float:
    """Admissions per person-year (times ``per``, for example 100)."""
    return per * len(_encounters(tables, ["inpatient"])) / _person_years(tables)


def mean_length_of_stay(tables) -> float:
    """Mean length of stay of admissions, days."""
    return float(_encounters(tables, ["inpatient"])["length_of_stay"].mean())


def mean_cost(tables, *, kind: str) -> float:
    """Mean cost per encounter of ``kind`` (outpatient visits include emergency), yuan."""
    kinds = ["outpatient", "emergency"] if kind == "outpatient" else [kind]
    return float(_encounters(tables, kinds)["cost_yuan"].mean())


def readmission_pct(tables) -> float:
    """Percent of index admissions (alive at discharge) readmitted within 30 days."""
    out = tables["outcomes"]
    index = ~out["is_readmission"].to_numpy(bool) & ~out["died_in_hospital"].to_numpy(bool)
    return float(100 * out["readmitted_30d"].to_numpy(bool)[index].mean())


def in_hospital_death_pct(tables) -> float:
    """Percent of admissions ending in death in hospital."""
    return float(100 * tables["outcomes"]["died_in_hospital"].mean())
